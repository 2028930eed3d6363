"""Issue 12 on the server side: what the pages send, through Django's test client."""

import re

from django.urls import reverse

from registry.models import IssueReport, Provider

HX = {"HX-Request": "true"}


def step_url(step, query=""):
    return reverse("onboarding:setup-step", args=[step]) + (f"?{query}" if query else "")


# --- item 1 and 6: where the thank-you goes, and no second rating form --------------------


def test_a_no_js_thank_you_is_shown_in_its_form_not_the_banner(client, default_providers):
    response = client.post("/providers/deepseek/rate/", {"rating": "4"})
    assert response["Location"] == "/providers/deepseek/#rate-form"
    html = client.get(response["Location"]).content.decode()
    rate = html[html.index('<section id="rate-form"') : html.index('<section id="tip-form"')]
    assert "Thank you! Your rating counts now." in rate
    assert "<form" not in rate  # the daily limit would refuse a second rating
    banner = re.search(r'<section class="messages"[^>]*>(.*?)</section>', html, re.S)
    assert banner is None or "Thank you" not in banner.group(1)
    # Said once: the next visit is the plain page again, with the form.
    assert (
        'action="/providers/deepseek/rate/"' in client.get("/providers/deepseek/").content.decode()
    )


def test_an_htmx_answer_fills_the_live_region_out_of_band(client, default_providers):
    html = client.post("/providers/deepseek/rate/", {}, headers=HX).content.decode()
    assert (
        '<div id="announcer" hx-swap-oob="innerHTML">Not sent: Choose from 1 to 5 stars.</div>'
        in html
    )
    html = client.post("/providers/deepseek/rate/", {"rating": "5"}, headers=HX).content.decode()
    assert (
        '<div id="announcer" hx-swap-oob="innerHTML">Thank you! Your rating counts now.</div>'
        in html
    )
    page = client.get("/providers/deepseek/").content.decode()
    assert '<div id="announcer" class="visually-hidden" role="status"' in page  # waiting
    assert "hx-swap-oob" not in page


# --- item 6: the issue form --------------------------------------------------------------


def test_the_issue_form_has_no_preselected_category(client, default_providers):
    html = client.get("/providers/openrouter/").content.decode()
    select = re.search(r'<select name="category".*?</select>', html, re.S).group(0)
    assert re.search(r'<option value="" selected>Choose one…</option>', select)
    response = client.post("/providers/openrouter/issues/", {"details": "It broke"})
    assert "Choose what went wrong." in response.content.decode()
    assert not IssueReport.objects.exists()
    assert 'class="broken-link-field"' in html


# --- item 2: step 1's count ----------------------------------------------------------------


def test_the_match_count_follows_the_filters(client, default_providers):
    url = reverse("onboarding:setup-matches")
    everyone = Provider.objects.published().count()
    html = client.get(url, {"free": "0"}, headers=HX).content.decode()
    assert html.strip() == f"<p>{everyone} providers match these filters.</p>"
    narrow = Provider.objects.published().matching(free=True, difficulty=1, min_trust=90).count()
    html = client.get(url, {"difficulty": "1", "min_trust": "90"}, headers=HX).content.decode()
    assert str(narrow) in html or "No provider matches" in html
    assert "Correct the filters" in client.get(url, {"min_trust": "x"}, headers=HX).content.decode()
    # Without htmx it is step 1 with the same filters.
    response = client.get(url, {"free": "0", "api": "x"})
    assert response.status_code == 302 and response["Location"] == step_url(1, "free=0")


def test_step_1_has_an_update_button_for_no_js(client, default_providers):
    html = client.get(step_url(1)).content.decode()
    assert re.search(
        r'<button type="submit" class="secondary no-js-only" formaction="/setup/1/">', html
    )
    assert 'hx-get="/setup/matches/"' in html


# --- item 3: step 3 ------------------------------------------------------------------------


def test_step_3_preselects_the_most_trusted_and_compares_the_picks(client, default_providers):
    best = list(Provider.objects.published().most_trusted().values_list("provider_id", flat=True))
    html = client.get(step_url(3, "free=0")).content.decode()
    ticked = re.findall(r'name="c" id="compare-([a-z0-9-]+)"[^>]*checked', html)
    assert ticked == best[:4]
    html = client.get(step_url(3, "free=0&c=groq&c=xai"), headers=HX).content.decode()
    assert re.findall(r'<strong class="compare-name">([^<]+)</strong>', html) == ["Groq", "xAI"]
    response = client.get(step_url(3, "free=0&c=groq&c=xai"), headers=HX)
    assert response["HX-Push-Url"] == "/setup/3/?free=0&c=groq&c=xai"
    one = client.get(step_url(3, "free=0&c=groq")).content.decode()
    assert "Pick at least 2 providers" in one
    five = client.get(step_url(3, "free=0&" + "&".join(f"c={i}" for i in best[:5]))).content
    assert b"You can compare 4 at once" in five


def test_the_wizards_table_has_no_links(client, default_providers):
    html = client.get(step_url(3, "free=0")).content.decode()
    table = html[html.index("<table") : html.index("</table>")]
    assert "<a " not in table


def test_a_free_tier_is_never_marked_best(client, default_providers):
    html = client.get("/compare/", {"p": ["huggingface", "anthropic"]}).content.decode()
    start = html.index('<th scope="row">Free tier</th>')
    row = html[start : html.index("</tr>", start)]
    assert "very limited" in row
    assert 'class="best"' not in row


# --- item 6: step 6 and step 7 ------------------------------------------------------------


def test_step_6_names_the_format_before_any_key(client, default_providers):
    html = client.get(step_url(6, "p=openrouter")).content.decode()
    assert (
        '<p class="wizard-key-format" id="api-key-format"><small>OpenRouter keys start with sk-or-.'
        in html
    )
    assert 'aria-describedby="api-key-format api-key-help"' in html


def test_step_7_lists_the_stars_from_5_to_1(client, default_providers):
    html = client.get(step_url(7, "p=openrouter")).content.decode()
    values = re.findall(r'<input type="radio" name="stars" value="(\d)"', html)
    assert values == ["5", "4", "3", "2", "1"]
    assert 'class="wizard-stars stars"' in html


# --- item 11 ---------------------------------------------------------------------------------


def test_the_icon_is_a_file_and_favicon_ico_finds_it(client, default_providers):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"


def test_step_2_cards_have_no_links_and_an_h2_above(client, default_providers):
    html = client.get(step_url(2)).content.decode()
    cards = html[html.index('<h2 class="wizard-cards-heading">') :]
    cards = cards[: cards.index('<nav class="wizard-nav"')]
    assert "<a " not in cards
    assert '<h3 id="card-title-openrouter">OpenRouter</h3>' in cards
