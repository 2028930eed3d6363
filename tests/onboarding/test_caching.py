"""Cached fragments never show stale figures.

Pages are rendered, then changed through every write path a visitor or maintainer has
(a rating, a setup report, admin edits, moderation), then rendered again: the change shows
at once. The per-process cache is cleared around each test (tests/conftest.py), as a fresh worker
would be.
"""

import re
import time

import pytest

from onboarding.wizard.state import START_TOKEN, read_start, sign_start
from registry.models import (
    Audience,
    IssueCategory,
    Moderation,
    Provider,
    RegistryVersion,
    Review,
)
from registry.services import add_feedback, record_user_signup, report_issue
from registry.versioning import bump_registry_version, registry_version
from registry.voters import Voter

HX = {"HX-Request": "true"}


def voter(name):
    """A web submitter for the services' abuse limits: its own visitor, network and range."""
    return Voter(visitor=name, network=f"{name}/network", range=f"{name}/range")


@pytest.fixture
def providers(default_providers):
    return Provider.objects.published()


def provider(provider_id="deepseek"):
    return Provider.objects.get(provider_id=provider_id)


def card(html, provider_id):
    start = html.index(f'id="card-{provider_id}"')
    return html[start : html.index("</article>", start)]


def figures(html):
    start = html.index('id="provider-figures"')
    return html[start : html.index("</section>", start)]


def rate(client, provider_id, stars, user_agent, **headers):
    return client.post(
        f"/providers/{provider_id}/rate/",
        {"rating": stars, "comment": ""},
        headers={"User-Agent": user_agent, **headers},
    )


def test_a_rating_shows_at_once_on_every_page(client, providers):
    before = provider()
    pages = {
        "browse": "/",
        "fragment": "/?sort=trust",
        "provider": "/providers/deepseek/",
        "compare": "/compare/?p=deepseek&p=groq",
    }
    for url in pages.values():  # rendered and cached
        client.get(url)
        client.get(url, headers=HX)
    assert f"from {before.ratings_count} ratings" in client.get(pages["provider"]).text

    assert rate(client, "deepseek", 1, "visitor-a").status_code == 302
    after = provider()
    assert after.ratings_count == before.ratings_count + 1
    assert after.get_trust_score() != before.get_trust_score()

    new_score = f"{after.get_trust_score():.1f}"
    new_stars = f"{after.star_rating:.1f}/5"
    assert new_score in card(client.get(pages["browse"]).text, "deepseek")
    assert new_score in card(client.get(pages["fragment"], headers=HX).text, "deepseek")
    page = client.get(pages["provider"]).text
    assert f"from {after.ratings_count} ratings" in figures(page)
    assert f"<strong>{new_score}</strong> of 100" in page  # the breakdown's total
    compare = client.get(pages["compare"]).text
    assert f"{new_stars} ({after.ratings_count})" in compare


def test_the_htmx_rating_response_carries_the_new_figures(client, providers):
    client.get("/providers/deepseek/")  # figures cached
    response = rate(client, "deepseek", 5, "visitor-b", **HX)
    assert response.status_code == 200
    after = provider()
    assert 'id="provider-figures"' in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert f"from {after.ratings_count} ratings" in response.text


def test_a_setup_report_shows_at_once(client, providers):
    before = provider()
    client.get("/providers/deepseek/")
    record_user_signup("deepseek", True, 12)
    assert f"of {before.setup_reports + 1} setup reports" in client.get("/providers/deepseek/").text


def test_the_stats_poll_is_not_modified_until_a_write(client, providers):
    first = client.get("/stats/", headers=HX)
    assert first.status_code == 200
    etag = first["ETag"]
    again = client.get("/stats/", headers={**HX, "If-None-Match": etag})
    assert again.status_code == 304

    record_user_signup("openrouter", True)
    changed = client.get("/stats/", headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    active = sum(Provider.objects.published().values_list("active_users", flat=True))
    assert f'data-stat="active-users">{active}<' in changed.text


def test_the_full_stats_page_has_no_etag(client, providers):
    # It carries the visitor's CSRF token: never "not modified" for someone else's copy.
    assert "ETag" not in client.get("/stats/")


def test_approving_a_review_in_admin_shows_it(admin_client, providers):
    add_feedback("deepseek", 5, "Approval came within a day.")
    assert "Approval came within a day." not in admin_client.get("/providers/deepseek/").text
    review = Review.objects.get()
    admin_client.post(
        "/admin/registry/review/", {"action": "approve", "_selected_action": [review.pk]}
    )
    assert "Approval came within a day." in admin_client.get("/providers/deepseek/").text


def test_approving_issue_reports_in_admin_shows_the_caution(admin_client, providers):
    for n in range(3):
        report_issue("groq", IssueCategory.RATE_LIMITS, f"429s, report {n}")
    assert "Issues reported" not in card(admin_client.get("/").text, "groq")
    assert "Issues reported" not in admin_client.get("/providers/groq/").text
    admin_client.post(
        "/admin/registry/issuereport/",
        {
            "action": "approve",
            "_selected_action": list(provider("groq").issue_reports.values_list("pk", flat=True)),
        },
    )
    assert "Issues reported" in card(admin_client.get("/").text, "groq")
    assert "Issues reported: 3 approved reports" in admin_client.get("/providers/groq/").text


def test_rejecting_in_admin_hides_it_again(admin_client, providers):
    add_feedback("deepseek", 4, "Worth it.")
    Review.objects.update(status=Moderation.APPROVED)
    bump_registry_version()
    assert "Worth it." in admin_client.get("/providers/deepseek/").text
    review = Review.objects.get()
    admin_client.post(
        "/admin/registry/review/", {"action": "reject", "_selected_action": [review.pk]}
    )
    assert "Worth it." not in admin_client.get("/providers/deepseek/").text


def test_editing_a_provider_and_its_inlines_in_admin_shows_at_once(
    admin_client, make_provider, admin_provider_form
):
    newco = make_provider("newco", provider_name="Newco AI")
    newco.setup_steps.create(text="Create an account.")
    assert "Create an account." in admin_client.get("/providers/newco/").text
    assert "Newco AI" in admin_client.get("/").text
    url = f"/admin/registry/provider/{newco.pk}/change/"
    data = admin_provider_form(newco, provider_name="Newco Cloud")
    data["setup_steps-0-text"] = "A freshly curated first step."
    response = admin_client.post(url, data)
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.text)
    assert "Newco Cloud" in card(admin_client.get("/").text, "newco")
    page = admin_client.get("/providers/newco/").text
    assert "Newco Cloud" in page
    assert "A freshly curated first step." in page
    assert "Create an account." not in page


def test_renaming_an_audience_in_admin_shows_at_once(admin_client, providers):
    audience = provider("groq").recommended_for.first()
    admin_client.get("/providers/groq/")
    admin_client.get("/")
    response = admin_client.post(
        f"/admin/registry/audience/{audience.pk}/change/",
        {"name": "Renamed audience", "slug": audience.slug},
    )
    assert response.status_code == 302
    assert "Renamed audience" in admin_client.get("/providers/groq/").text
    assert "Renamed audience" in admin_client.get("/").text  # the filter's choices
    assert Audience.objects.filter(name="Renamed audience").exists()


def add_newco_in_admin(admin_client, make_provider, admin_provider_form):
    """Add a provider the way maintainers do: the admin's add form (built from a provider
    that is never saved)."""
    data = admin_provider_form(make_provider("newco", provider_name="Newco AI", save=False))
    response = admin_client.post("/admin/registry/provider/add/", data)
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.text)
    return Provider.objects.get(provider_id="newco")


def test_a_new_provider_shows_at_once(admin_client, providers, make_provider, admin_provider_form):
    assert "Newco AI" not in admin_client.get("/?q=newco").text
    admin_client.get("/")
    add_newco_in_admin(admin_client, make_provider, admin_provider_form)
    assert "Newco AI" in admin_client.get("/?q=newco").text
    assert f"{providers.count()} providers" in admin_client.get("/").text


def test_cached_pages_keep_each_visitors_csrf_token(providers, client_factory):
    tokens = []
    visitors = client_factory(2)
    for visitor in visitors:  # the second visitor gets the page from the cache
        html = visitor.get("/providers/deepseek/").text
        form_tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
        header_token = re.search(r"x-csrftoken\": \"([^\"]+)\"", html).group(1)
        assert len(form_tokens) == 1  # the same token in the three forms
        assert "csrf-slot" not in html
        tokens.append((form_tokens, header_token))
    assert tokens[0][0].isdisjoint(tokens[1][0])
    assert tokens[0][1] != tokens[1][1]
    # The token in the cached page is the visitor's own: a plain form POST is accepted.
    (form_token,) = tokens[1][0]
    response = visitors[1].post(
        "/providers/deepseek/rate/", {"rating": 4, "csrfmiddlewaretoken": form_token}
    )
    assert response.status_code == 302


@pytest.fixture
def client_factory():
    from django.test import Client

    return lambda n: [Client(enforce_csrf_checks=True) for _ in range(n)]


def test_a_bound_form_is_never_cached(client, providers):
    # A rating with an error shows the visitor's own comment back; the next visitor's
    # blank form must not.
    response = client.post(
        "/providers/deepseek/rate/", {"comment": "my own words"}, headers={"User-Agent": "c"}
    )
    assert "my own words" in response.text
    assert "my own words" not in client.get("/providers/deepseek/").text


def count_hint(html):
    return re.search(r'class="wizard-count-hint"[^>]*>\s*<p>(.*?)</p>', html).group(1)


def test_wizard_step_1_counts_a_new_or_hidden_provider_at_once(
    admin_client, providers, make_provider, admin_provider_form
):
    before = count_hint(admin_client.get("/setup/1/?free=0").text)
    assert f"{providers.count()} providers match" in before
    newco = add_newco_in_admin(admin_client, make_provider, admin_provider_form)
    assert f"{providers.count()} providers match" in count_hint(
        admin_client.get("/setup/1/?free=0").text
    )
    data = admin_provider_form(newco)
    del data["is_published"]
    response = admin_client.post(f"/admin/registry/provider/{newco.pk}/change/", data)
    assert response.status_code == 302
    assert count_hint(admin_client.get("/setup/1/?free=0").text) == before


def test_wizard_step_1_keeps_each_visits_own_start_token(client, providers):
    first = re.search(r'name="t" value="([^"]+)"', client.get("/setup/1/").text).group(1)
    running = re.search(r'name="t" value="([^"]+)"', client.get(f"/setup/1/?t={first}").text).group(
        1
    )
    assert running == first
    assert "Cost" in client.get("/setup/1/").text  # the cached fields are still there


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_cached_wizard_step_1_puts_in_each_visitors_own_start_time(
    client, providers, headers, django_assert_num_queries
):
    earlier, later = sign_start(time.time() - 600), sign_start(time.time() - 60)
    client.get(f"/setup/1/?free=0&t={earlier}", headers=headers)
    for mine, theirs in [(later, earlier), (earlier, later)]:
        with django_assert_num_queries(1):  # the registry version: served from the cache
            response = client.get(f"/setup/1/?free=0&t={mine}", headers=headers)
        page = response.text
        # In the hidden field and every link to steps 1 to 3, never anyone else's.
        assert page.count(f"t={mine}") >= 3
        assert f'name="t" value="{mine}"' in page
        assert theirs not in page and START_TOKEN.placeholder not in page
        if headers:
            assert response["HX-Push-Url"] == f"/setup/1/?free=0&t={mine}"
    # Without a start time, each visit gets a fresh, valid one.
    token = re.search(r'name="t" value="([^"]+)"', client.get("/setup/1/?free=0").text).group(1)
    assert read_start(token) is not None


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?free=on",
        "/compare/?p=groq&p=deepseek",
        "/stats/",
        "/setup/1/",
        "/setup/2/",
        "/setup/3/",
        "/setup/4/?p=groq",
        "/setup/5/?p=groq",
    ],
)
def test_pages_without_a_post_form_make_no_csrf_token(client, providers, url):
    # The same bytes for every visitor: no token, no cookie, no Vary: Cookie.
    response = client.get(url)
    assert response.status_code == 200
    assert "csrftoken" not in response.cookies
    assert "x-csrftoken" not in response.text
    assert "csrfmiddlewaretoken" not in response.text
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize(
    "url", ["/providers/groq/", "/suggest/", "/setup/6/?p=groq", "/setup/7/?p=groq"]
)
def test_pages_with_a_post_form_carry_the_token_for_htmx(client, providers, url):
    response = client.get(url)
    assert "csrftoken" in response.cookies
    header = re.search(r"hx-headers='\{\"x-csrftoken\": \"([^\"]+)\"\}'", response.text)
    assert header
    assert "csrfmiddlewaretoken" in response.text


def test_a_key_step_reached_by_htmx_from_a_tokenless_page_can_post(providers):
    from django.test import Client

    visitor = Client(enforce_csrf_checks=True)
    assert "csrftoken" not in visitor.get("/setup/5/?p=groq").cookies
    fragment = visitor.get("/setup/6/?p=groq", headers=HX).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fragment).group(1)
    response = visitor.post(
        "/setup/6/?p=groq", {"csrfmiddlewaretoken": token, "api_key": "gsk_" + "a" * 52}, headers=HX
    )
    assert response.status_code == 200


def test_a_whole_cached_page_still_gets_the_security_headers(client, providers):
    fresh = client.get("/compare/?p=groq&p=deepseek")
    cached = client.get("/compare/?p=groq&p=deepseek")
    assert cached.content == fresh.content
    for header in ("Content-Security-Policy", "X-Frame-Options", "Content-Type", "Vary"):
        assert cached[header] == fresh[header]


def test_a_cached_fragment_keeps_its_pushed_url_and_never_stands_in_for_the_page(client, providers):
    page = client.get("/?free=on&sort=trust").text
    fragment = client.get("/?free=on&sort=trust", headers=HX)
    assert fragment["HX-Push-Url"] == "/?free=on"
    again = client.get("/?free=on&sort=trust", headers=HX)
    assert again["HX-Push-Url"] == "/?free=on"
    assert again.content == fragment.content
    assert "<html" not in again.text
    assert client.get("/?free=on&sort=trust").text == page


def test_a_pending_message_is_shown_and_never_cached(client, providers):
    client.get("/")  # the page without a message is cached
    response = client.post(
        "/suggest/",
        {"name": "Newco", "website": "https://newco.example", "reason": "Fast and free."},
        headers={"User-Agent": "m"},
        follow=False,
    )
    assert response.status_code == 302
    with_message = client.get("/").text
    assert "awaits review" in with_message
    assert "awaits review" not in client.get("/").text


def test_the_registry_version_moves_with_every_bump_even_after_a_flush(providers):
    before = registry_version()
    add_feedback("groq", 5, voter=voter("a" * 64))
    after_rating = registry_version()
    assert after_rating != before
    RegistryVersion.objects.all().delete()  # as after `flush`: the next bump makes the row
    bump_registry_version()
    assert registry_version() not in (before, after_rating)
