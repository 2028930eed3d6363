"""The setup wizard's steps 1 to 5: pages, fragments, navigation, filters and bad links."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding.wizard.state import sign_start
from registry.models import Audience, Provider

HTMX = {"HX-Request": "true"}


def step_url(step, **params):
    url = reverse("onboarding:setup-step", args=[step])
    if params:
        url += "?" + "&".join(f"{name}={value}" for name, value in params.items())
    return url


def nav_links(html):
    """{"back": href, "next": href} from the wizard's Back/Next bar."""
    links = {}
    for name in ("back", "next"):
        match = re.search(rf'class="wizard-{name}"[^>]*href="([^"]+)"', html)
        links[name] = match.group(1).replace("&amp;", "&") if match else None
    return links


def query_of(url):
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


# --- every step, as a page and as an htmx fragment ----------------------------------------


@pytest.mark.parametrize("step", range(1, 8))
def test_every_step_is_a_full_page(client, default_providers, step):
    response = client.get(step_url(step, p="openrouter"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert f"Step {step} of 7" in html
    assert 'id="wizard"' in html
    assert 'href="/static/css/wizard.css"' in html
    assert f"Step {step} of 7" in re.search(r"<title>(.*?)</title>", html, re.S).group(1)


@pytest.mark.parametrize("step", range(1, 8))
def test_every_step_is_a_fragment_for_htmx(client, default_providers, step):
    response = client.get(step_url(step, p="openrouter"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<body" not in html
    assert html.lstrip().startswith("<title>")
    assert f"Step {step} of 7" in html
    assert 'id="wizard"' in html
    assert 'hx-target="this"' in html
    # The server names the URL the browser shows, so refresh and Back land on this step.
    pushed = response.headers["HX-Push-Url"]
    assert pushed.startswith(step_url(step))
    assert query_of(pushed)["p"] == "openrouter"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_whole_page(client, default_providers):
    response = client.get(
        step_url(4, p="openrouter"),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_setup_url_starts_at_step_1_and_keeps_the_query(client, default_providers):
    assert client.get("/setup/")["Location"] == "/setup/1/"
    assert client.get("/setup/?free=0&difficulty=2")["Location"] == "/setup/1/?free=0&difficulty=2"

    response = client.get("/setup/", follow=True)
    assert "Step 1 of 7" in response.content.decode()


# --- Back and Next carry the state --------------------------------------------------------


def test_step_1_starts_the_clock_in_a_signed_hidden_field(client, default_providers):
    html = client.get(step_url(1)).content.decode()

    token = re.search(r'name="t" value="([^"]+)"', html).group(1)
    started = int(token.split(".")[0])
    assert abs(started - time.time()) < 60
    assert 'action="/setup/2/"' in html
    assert 'hx-get="/setup/2/"' in html
    assert 'hx-push-url="true"' in html


def test_step_1_keeps_a_running_clock(client, default_providers):
    token = sign_start(time.time() - 600)

    html = client.get(step_url(1, t=token)).content.decode()

    assert f'name="t" value="{token}"' in html


def test_a_forged_clock_is_ignored(client, default_providers):
    forged = f"{int(time.time()) - 6000}:not-a-signature"

    response = client.get(step_url(1, t=forged))

    assert response.status_code == 200
    assert forged not in response.content.decode()


@pytest.mark.parametrize("step", range(2, 8))
def test_back_and_next_links_keep_filters_and_choice(client, default_providers, step):
    token = sign_start(time.time() - 60)

    html = client.get(step_url(step, free=0, difficulty=3, p="openrouter", t=token)).content
    links = nav_links(html.decode())

    assert links["back"].startswith(step_url(step - 1) + "?")
    back = query_of(links["back"])
    assert {name: back.get(name) for name in ("free", "difficulty", "p", "t")} == {
        "free": "0",
        "difficulty": "3",
        "p": "openrouter",
        "t": token,
    }
    if step in (2, 4, 5, 6):  # link steps; 1, 3 and 7 submit a form
        assert links["next"].startswith(step_url(step + 1) + "?")
        assert query_of(links["next"])["p"] == "openrouter"
        assert query_of(links["next"])["free"] == "0"


def test_links_are_htmx_swaps_with_a_real_href(client, default_providers):
    html = client.get(step_url(4, p="openrouter")).content.decode()

    for match in re.finditer(r"<a [^>]*hx-get=\"([^\"]+)\"[^>]*>", html):
        tag = match.group(0)
        assert f'href="{match.group(1)}"' in tag
        assert 'hx-push-url="true"' in tag


def test_progress_marks_the_current_step_and_links_the_reachable_ones(client, default_providers):
    without_choice = client.get(step_url(2)).content.decode()
    with_choice = client.get(step_url(5, p="deepseek")).content.decode()

    assert without_choice.count('aria-current="step"') == 1
    assert 'hx-get="/setup/1/' in without_choice
    assert 'hx-get="/setup/4/' not in without_choice  # no provider chosen yet
    assert 'hx-get="/setup/7/?p=deepseek' in with_choice


# --- step 1 to 3: filters, statistics, compare and choose ---------------------------------


def names_in(html):
    return set(re.findall(r'id="card-title-([a-z0-9-]+)"', html))


def test_step_2_shows_free_tier_matches_by_default(client, default_providers):
    html = client.get(step_url(2)).content.decode()

    shown = names_in(html)
    assert {"openrouter", "deepseek", "huggingface"} <= shown
    assert "anthropic" not in shown  # no free tier
    assert "Average success rate" in html
    assert html.index('id="card-title-openrouter"') < html.index('id="card-title-huggingface"')


def test_step_2_filters_by_cost_difficulty_trust_and_audience(client, default_providers):
    assert "anthropic" in names_in(client.get(step_url(2, free=0)).content.decode())

    easy = names_in(client.get(step_url(2, free=0, difficulty=1)).content.decode())
    assert "openrouter" in easy and "anthropic" in easy
    assert "deepseek" not in easy and "huggingface" not in easy

    trusted = names_in(client.get(step_url(2, min_trust=80)).content.decode())
    assert trusted == {"openrouter"}

    audience = Audience.objects.get(name="Code generation")
    coders = names_in(client.get(step_url(2, audience=audience.slug)).content.decode())
    assert coders == set(
        audience.providers.filter(has_free_tier=True).values_list("provider_id", flat=True)
    )
    assert "deepseek" in coders


def test_no_match_says_which_filter_to_relax(client, default_providers):
    html = client.get(step_url(2, min_trust=99, difficulty=1)).content.decode()

    assert "No provider matches all of your filters" in html
    assert "Lower the minimum trust score" in html
    assert "Allow a higher difficulty" in html
    assert 'class="wizard-next"' not in html  # nothing to go on with


def test_step_1_counts_the_matches_of_the_current_filters(client, default_providers):
    html = client.get(step_url(1, free=0)).content.decode()

    assert f"{Provider.objects.published().count()} providers match these filters" in html
    assert re.search(r'<input type="radio" name="free" value="0"[^>]*checked', html)


def test_step_3_compares_the_best_four_and_offers_every_match(client, default_providers):
    html = client.get(step_url(3, free=0, p="deepseek")).content.decode()

    table = html[html.index("<table") : html.index("</table>")]
    assert table.count('<th scope="col">') == 5  # "Figure" and four providers
    radios = re.findall(r'<input type="radio" name="p"[^>]*value="([a-z0-9-]+)"', html)
    assert len(radios) == Provider.objects.published().count()
    assert re.search(r'value="deepseek" required checked', html)
    assert 'action="/setup/4/"' in html
    # The chosen provider comes from the radios, not from a hidden field as well.
    assert 'type="hidden" name="p"' not in html


def test_steps_2_and_3_use_a_fixed_number_of_queries(client, default_providers):
    def queries(step):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(step_url(step, free=0)).status_code == 200
        return len(captured)

    before = {step: queries(step) for step in (2, 3)}
    template = Provider.objects.get(provider_id="openrouter")
    for n in range(25):
        template.pk = None
        template.provider_id = f"extra-{n}"
        template.save()
    after = {step: queries(step) for step in (2, 3)}

    assert after == before


# --- step 4 and 5: the chosen provider ----------------------------------------------------


def test_step_4_shows_setup_steps_tips_issues_and_cautions(client, default_providers):
    html = client.get(step_url(4, p="openrouter")).content.decode()

    assert "Before you sign up with OpenRouter" in html
    assert "Use :free suffix on model names for guaranteed free access" in html
    assert "Open the Keys page and create a key" in html
    assert "402 Payment Required on a paid model" in html
    assert "Add credits, or pick a model whose name ends in :free." in html

    cautious = client.get(step_url(4, p="deepseek")).content.decode()
    assert "Manual approval required (1-2 days)" in cautious


def test_step_5_links_open_in_a_new_tab(client, default_providers):
    html = client.get(step_url(5, p="openrouter")).content.decode()

    for url in (
        "https://openrouter.ai/auth/signup",
        "https://openrouter.ai/keys",
        "https://openrouter.ai/docs",
    ):
        tag = re.search(rf'<a [^>]*href="{re.escape(url)}"[^>]*>', html).group(0)
        assert 'target="_blank"' in tag
        assert 'rel="noopener"' in tag


def test_step_5_warns_about_manual_approval(client, default_providers):
    html = client.get(step_url(5, p="deepseek")).content.decode()

    assert "approves new accounts by hand" in html
    assert "Manual (1-2 days)" in html


# --- bad links never give a 500 -----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/setup/0/", "/setup/8/", "/setup/9/", "/setup/99999999999999999999/"]
)
def test_steps_outside_1_to_7_are_not_found(client, default_providers, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_post_is_refused_where_there_is_no_form_to_post(client, default_providers, step):
    assert client.post(step_url(step, p="openrouter")).status_code == 405


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"difficulty": "9"}, "Choose a difficulty from the list"),
        ({"difficulty": "hard"}, "Choose a difficulty from the list"),
        ({"min_trust": "abc"}, "Enter a whole number from 0 to 100."),
        ({"min_trust": "101"}, "less than or equal to 100"),
        ({"audience": "no-such-audience"}, "Choose an audience from the list."),
        ({"free": "maybe"}, "Select a valid choice"),
    ],
)
def test_bad_filters_are_explained_on_step_1(client, default_providers, params, message):
    direct = client.get(step_url(1, **params))
    assert direct.status_code == 200
    assert message in direct.content.decode()

    later = client.get(step_url(3, **params))
    assert later.status_code == 302
    assert later["Location"].startswith(step_url(1) + "?")
    followed = client.get(later["Location"])
    html = followed.content.decode()
    assert message in html
    assert "Some filters in that link were not valid" in html


def test_bad_filters_under_htmx_swap_in_step_1(client, default_providers):
    response = client.get(step_url(2, difficulty="9"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Step 1 of 7" in html
    assert "Some filters in that link were not valid" in html
    assert response.headers["HX-Push-Url"].startswith(step_url(1) + "?")


@pytest.mark.parametrize("step", [4, 5, 6, 7])
def test_later_steps_without_a_provider_go_back_to_step_3(client, default_providers, step):
    response = client.get(step_url(step, free=0), follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == step_url(3, free=0)
    assert "Step 3 of 7" in html
    assert "Choose a provider to continue." in html


@pytest.mark.parametrize("provider_id", ["nope", "%3Cscript%3E", "x" * 300])
def test_an_unknown_provider_goes_back_to_step_3(client, default_providers, provider_id):
    response = client.get(step_url(4, p=provider_id), follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Step 3 of 7" in html
    assert "The provider in that link is not in the registry." in html
    assert "<script>" not in html


def test_an_unpublished_provider_is_unknown(client, default_providers):
    Provider.objects.filter(provider_id="openrouter").update(is_published=False)

    response = client.get(step_url(5, p="openrouter"), follow=True)

    assert "The provider in that link is not in the registry." in response.content.decode()


def test_without_a_provider_under_htmx_step_3_swaps_in(client, default_providers):
    response = client.get(step_url(6), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Step 3 of 7" in html
    assert "Choose a provider to continue." in html
    assert response.headers["HX-Push-Url"] == step_url(3)


@pytest.mark.parametrize("minutes", ["abc", "-5", "1e999", ""])
def test_odd_minutes_in_the_link_are_ignored(client, default_providers, minutes):
    assert client.get(step_url(7, p="openrouter", m=minutes)).status_code == 200
