"""Django admin for maintainers: curation with inlines, moderation, read-only events."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from registry.models import (
    Audience,
    IssueCategory,
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
)
from registry.services import add_feedback, record_user_signup, report_issue


def inline_management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def provider_form(**overrides):
    audience, _ = Audience.objects.get_or_create(name="Beginners", slug="beginners")
    data = {
        "provider_name": "Newco AI",
        "provider_id": "newco",
        "description": "A new provider.",
        "is_published": "on",
        "website_url": "https://newco.example/",
        "signup_url": "https://newco.example/signup",
        "api_key_url": "https://newco.example/keys",
        "documentation_url": "https://newco.example/docs",
        "difficulty": "1",
        "requires_approval": "",
        "approval_note": "",
        "has_free_tier": "on",
        "free_tier_note": "rate-limited",
        "key_env_var": "NEWCO_API_KEY",
        "key_pattern": "^nc-[a-z0-9]{20}$",
        "recommended_for": [str(audience.pk)],
        "last_verified": "2026-01-31",
        "status_pin": "",
        "status_pin_reason": "",
        **inline_management("setup_steps", 2),
        "setup_steps-0-position": "0",
        "setup_steps-0-text": "Create an account.",
        "setup_steps-1-position": "1",
        "setup_steps-1-text": "Create a key.",
        **inline_management("pro_tips", 1),
        "pro_tips-0-position": "0",
        "pro_tips-0-text": "Set a spending limit first.",
        "pro_tips-0-status": Moderation.APPROVED,
        **inline_management("common_issues", 1),
        "common_issues-0-position": "0",
        "common_issues-0-problem": "401 on first call",
        "common_issues-0-solution": "Wait a minute for the key to activate.",
        **inline_management("caution_flags", 1),
        "caution_flags-0-position": "0",
        "caution_flags-0-text": "Young company.",
    }
    data.update(overrides)
    return data


ADD_URL = "/admin/registry/provider/add/"


def test_changelist_shows_scores_status_and_confidence(admin_client, default_providers):
    add_feedback("openrouter", 5, "Pending review")
    response = admin_client.get("/admin/registry/provider/")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Trust score", "Status", "Confidence", "Pending"):
        assert heading in html
    for text in ("OpenRouter", "92.3", "Highly Recommended", "Use with Caution (pinned)"):
        assert text in html
    assert "low: not enough data yet" in html


def test_changelist_query_count_does_not_grow_with_providers(
    admin_client, make_provider, django_assert_max_num_queries
):
    make_provider("one")
    with django_assert_max_num_queries(20) as few:
        admin_client.get("/admin/registry/provider/")
    for n in range(15):
        make_provider(f"more{n}")
        record_user_signup(f"more{n}", True)
        report_issue(f"more{n}", IssueCategory.OTHER, "Slow")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get("/admin/registry/provider/")


def test_changelist_search_and_filters(admin_client, default_providers):
    response = admin_client.get("/admin/registry/provider/", {"q": "deepseek"})
    assert "DeepSeek" in response.content.decode()
    assert "OpenRouter" not in response.content.decode()
    response = admin_client.get("/admin/registry/provider/", {"has_free_tier__exact": "0"})
    assert "Anthropic (Claude)" in response.content.decode()
    assert "OpenRouter" not in response.content.decode()


def test_staff_can_curate_a_provider_with_inlines(admin_client):
    response = admin_client.post(ADD_URL, provider_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    p = Provider.objects.get(provider_id="newco")
    assert p.has_free_tier and p.difficulty == 1
    assert [s.text for s in p.setup_steps.all()] == ["Create an account.", "Create a key."]
    tip = p.pro_tips.get()
    assert (tip.text, tip.status, tip.from_community) == (
        "Set a spending limit first.",
        Moderation.APPROVED,
        False,
    )
    assert p.common_issues.get().solution == "Wait a minute for the key to activate."
    assert p.caution_flags.get().text == "Young company."
    assert [a.name for a in p.recommended_for.all()] == ["Beginners"]


def test_edit_page_shows_the_score_breakdown_read_only(admin_client, default_providers):
    p = Provider.objects.get(provider_id="openrouter")
    response = admin_client.get(f"/admin/registry/provider/{p.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "92.3" in html and "980 active / 1250 total users" in html
    assert 'name="total_users"' not in html  # counters are not editable here


def test_curated_tips_default_to_approved(admin_client):
    html = admin_client.get(ADD_URL).content.decode()
    assert 'name="pro_tips-0-status"' in html
    tip_select = html.split('name="pro_tips-0-status"', 1)[1].split("</select>", 1)[0]
    assert 'value="approved" selected' in tip_select


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "http://newco.example/signup", "ftp://newco.example/", "not a url"],
)
def test_links_must_be_https(admin_client, url):
    response = admin_client.post(ADD_URL, provider_form(signup_url=url))
    assert response.status_code == 200
    assert "signup_url" in response.context["adminform"].form.errors
    assert not Provider.objects.exists()


def test_pinned_status_needs_a_reason(admin_client):
    response = admin_client.post(ADD_URL, provider_form(status_pin="avoid"))
    assert response.status_code == 200
    assert "status_pin_reason" in response.context["adminform"].form.errors
    assert not Provider.objects.exists()

    response = admin_client.post(
        ADD_URL, provider_form(status_pin="avoid", status_pin_reason="Keys revoked.")
    )
    assert response.status_code == 302
    assert Provider.objects.get().status_pin_reason == "Keys revoked."


@pytest.mark.parametrize("pattern", ["^nc-(unclosed", "^(a|aa)+$", "^[a-z]+[a-z]+$"])
def test_a_key_pattern_outside_the_grammar_is_refused_on_its_field(admin_client, pattern):
    # ^(a|aa)+$ kept a worker busy for 30 s on one 61-character key: never accepted now.
    response = admin_client.post(ADD_URL, provider_form(key_pattern=pattern))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["key_pattern"]
    assert "^prefix[characters]{min,max}$" in errors["key_pattern"][0]
    assert not Provider.objects.exists()


def test_a_bad_inline_row_saves_nothing(admin_client):
    response = admin_client.post(ADD_URL, provider_form(**{"setup_steps-1-text": "x" * 301}))
    assert response.status_code == 200
    assert not Provider.objects.exists()


@pytest.fixture
def submissions(default_providers):
    add_feedback("openrouter", 5, "Great")
    add_feedback("deepseek", 2, "Slow approval")
    add_feedback("groq", 4, "Fast")
    report_issue("groq", IssueCategory.RATE_LIMITS, "429s all day")
    ProviderSuggestion.objects.create(name="Newco", website="https://newco.example", reason="x")


def test_moderation_shows_the_number_pending(admin_client, submissions):
    response = admin_client.get("/admin/registry/review/")
    assert "Reviews: 3 pending" in response.content.decode()


@pytest.mark.parametrize(
    ("action", "status"), [("approve", Moderation.APPROVED), ("reject", Moderation.REJECTED)]
)
def test_bulk_moderation(admin_client, submissions, action, status):
    chosen = list(Review.objects.filter(rating__gte=4).values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/registry/review/", {"action": action, "_selected_action": chosen}
    )
    assert response.status_code == 302
    assert set(Review.objects.filter(status=status).values_list("pk", flat=True)) == set(chosen)
    assert Review.objects.filter(status=Moderation.PENDING).count() == 1

    for model in (IssueReport, ProviderSuggestion):
        url = reverse(f"admin:registry_{model._meta.model_name}_changelist")
        pks = list(model.objects.values_list("pk", flat=True))
        admin_client.post(url, {"action": action, "_selected_action": pks})
        assert set(model.objects.values_list("status", flat=True)) == {status}


def test_community_tips_are_moderated_too(admin_client, default_providers):
    from registry.services import submit_tip

    tip = submit_tip("groq", "Batch big jobs.")
    admin_client.post(
        "/admin/registry/protip/", {"action": "approve", "_selected_action": [tip.pk]}
    )
    tip.refresh_from_db()
    assert tip.status == Moderation.APPROVED
    assert ProTip.objects.filter(from_community=True, status=Moderation.APPROVED).count() == 1


@pytest.mark.parametrize("model", [SetupReport, Rating])
def test_event_rows_cannot_be_added_or_edited(admin_client, default_providers, model):
    record_user_signup("openrouter", True, 3)
    add_feedback("openrouter", 5)
    event = model.objects.get()
    name = model._meta.model_name

    assert admin_client.get(f"/admin/registry/{name}/").status_code == 200
    assert admin_client.get(f"/admin/registry/{name}/add/").status_code == 403
    change = admin_client.get(f"/admin/registry/{name}/{event.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert admin_client.post(f"/admin/registry/{name}/{event.pk}/change/", {}).status_code == 403
    assert model.objects.count() == 1
    # Deleting one is allowed, and takes its counts off (tests/trust/test_trust_integrity.py).


@pytest.mark.parametrize("url", ["/admin/", "/admin/registry/provider/", ADD_URL])
def test_non_staff_are_sent_to_login(client, db, url):
    assert client.get(url).status_code == 302
    user = User.objects.create_user("visitor", password="pw-not-used")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.post(ADD_URL, {"provider_name": "Sneaky"})
    assert response.status_code == 302
    assert not Provider.objects.exists()


def test_a_visitors_website_is_plain_text_in_the_admin(admin_client, db):
    # A pending suggestion's URL is whatever a visitor typed: never a link a maintainer
    # could click by mistake, in the list or in the change form.
    url = "https://phish.example/login?next=admin"
    suggestion = ProviderSuggestion.objects.create(name="Newco", website=url, reason="x")
    pages = [
        admin_client.get("/admin/registry/providersuggestion/"),
        admin_client.get(f"/admin/registry/providersuggestion/{suggestion.pk}/change/"),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "https://phish.example/login?next=admin" in html
        assert 'href="https://phish.example' not in html
        assert "phish.example" not in " ".join(re.findall(r"<a\b[^>]*>", html))
