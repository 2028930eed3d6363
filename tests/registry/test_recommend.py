"""registry.services.recommend(needs): providers ranked by fit, then trust, with reasons;
and the wizard asking for the needs at step 1 and ranking steps 2 and 3 by them."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Offering
from registry.models import Provider
from registry.recommend import Needs
from registry.services import recommend, record_user_signup


def ids(recommendations, fitting=True):
    return [r.provider.provider_id for r in recommendations if r.fits or not fitting]


def by_id(recommendations):
    return {r.provider.provider_id: r for r in recommendations}


def test_no_needs_is_the_most_trusted_order(default_providers):
    recommendations = recommend(Needs())
    assert all(r.fits for r in recommendations)
    expected = list(
        Provider.objects.published().most_trusted().values_list("provider_id", flat=True)
    )
    assert ids(recommendations) == expected


def test_a_family_keeps_the_providers_that_serve_it_first(default_providers):
    llama = set(
        Offering.objects.rateable()
        .filter(model__family="llama")
        .values_list("catalog_provider__provider__provider_id", flat=True)
    )
    assert len(llama) >= 3
    recommendations = recommend(Needs(model="llama"))
    fitting = ids(recommendations)
    assert set(fitting) == llama
    assert [r.fits for r in recommendations] == sorted(
        (r.fits for r in recommendations), reverse=True
    )  # those that fit come first, then the rest, never dropped
    assert len(recommendations) == Provider.objects.published().count()
    # Within the fitting ones, the trust order holds.
    order = list(Provider.objects.published().most_trusted().values_list("provider_id", flat=True))
    assert fitting == [p for p in order if p in llama]


def test_reasons_say_why_in_plain_words(default_providers):
    for _ in range(3):
        record_user_signup("groq", True, 3)
    groq = by_id(recommend(Needs(model="llama", tool_calling=True)))["groq"]
    assert groq.fits
    assert groq.reasons[0].startswith("serves Llama")
    assert "tool calling" in groq.reasons
    assert "100% of setups worked" in groq.reasons
    openrouter = by_id(recommend(Needs(model="llama")))["openrouter"]
    assert any(reason.endswith("from 1,000 people") for reason in openrouter.reasons)


def test_a_budget_and_free_only(default_providers):
    cheap = recommend(Needs(model="llama", max_monthly_cost=Decimal("0.50")))
    for r in cheap:
        if r.fits:
            assert r.offering.monthly_cost is not None and r.offering.monthly_cost <= Decimal("0.5")
    generous = recommend(Needs(model="llama", max_monthly_cost=Decimal("1000")))
    assert len(ids(generous)) >= len(ids(cheap))
    free = recommend(Needs(model="llama", free_only=True))
    for r in free:
        if r.fits:
            assert r.offering.is_free
            assert r.reasons[0].endswith("free")


def test_api_uptime_is_a_reason_with_the_verification_app(default_providers):
    from verification.models import CheckRun, HealthCheck, Target

    groq = Provider.objects.get(provider_id="groq")
    run = CheckRun.objects.create(kind="api")
    now = timezone.now()
    HealthCheck.objects.bulk_create(
        HealthCheck(
            run=run,
            provider=groq,
            target=Target.API,
            url="https://api.groq.com/openai/v1/models",
            checked_at=now - timedelta(hours=n),
            method="GET",
            ok=n != 3,
        )
        for n in range(10)
    )
    assert "90.0% API uptime" in by_id(recommend(Needs(model="llama")))["groq"].reasons


def test_recommend_costs_three_queries_whatever_the_providers(
    default_providers, django_assert_num_queries
):
    with django_assert_num_queries(3):  # providers, offerings, uptime
        recommend(Needs(model="llama", tool_calling=True))


def test_the_wizard_asks_for_needs_and_ranks_by_them(default_providers):
    page = Client().get("/setup/1/").text
    assert 'name="family"' in page and 'name="tools"' in page and 'name="budget"' in page
    response = Client().get("/setup/2/", {"free": "0", "family": "llama", "tools": "on"})
    assert response.status_code == 200
    cards = re.findall(
        r'<article class="provider-card" id="card-([a-z0-9-]+)".*?</article>', response.text, re.S
    )
    fits = [
        "Fits your needs" in card
        for card in re.findall(r'<article class="provider-card".*?</article>', response.text, re.S)
    ]
    assert fits and fits == sorted(fits, reverse=True)
    assert "Fits your needs:</strong> serves Llama" in response.text
    assert cards  # every match is still listed
    # The needs travel to the next steps in the URL.
    assert "family=llama" in response.text and "tools=on" in response.text


@pytest.mark.parametrize("budget", ["-1", "abc", "1000000"])
def test_a_bad_budget_is_a_message_not_a_500(default_providers, budget):
    response = Client().get("/setup/1/", {"budget": budget})
    assert response.status_code == 200
    assert "errorlist" in response.text


# --- browse: the same needs, as an optional block ---------------------------------------


def cards_of(page):
    """(provider id, whether its card says it fits) for each card, in page order."""
    cards = re.findall(
        r'<article class="provider-card" id="card-([a-z0-9-]+)"(.*?)</article>', page, re.S
    )
    return [(provider_id, "Fits your needs" in body) for provider_id, body in cards]


def serving(family):
    """The published providers that serve a tool-calling model of `family`, from the rows."""
    return set(
        Offering.objects.rateable()
        .filter(model__family=family, model__tool_call=True)
        .values_list("catalog_provider__provider__provider_id", flat=True)
    )


def test_browse_offers_the_needs_block_closed_until_asked(default_providers):
    page = Client().get("/").text
    assert re.search(r'<details class="needs-disclosure">\s*<summary>What do you need', page)
    assert 'name="family"' in page and 'name="tools"' in page and 'name="budget"' in page
    assert "Fits your needs" not in page and "what you need" not in page
    asked = Client().get("/", {"family": "command-r"}).text
    assert '<details class="needs-disclosure" open>' in asked
    # Asked, with filters that match nobody: the need stays in view, beside the way out.
    nobody = Client().get("/", {"family": "command-r", "q": "no-such-provider"}).text
    assert "No provider matches these filters." in nobody
    assert '<details class="needs-disclosure" open>' in nobody


def test_browse_lists_who_serves_the_need_first_in_the_chosen_order(default_providers):
    expected = serving("command-r")
    assert 1 < len(expected) < Provider.objects.published().count()
    response = Client().get("/", {"family": "command-r", "tools": "on", "sort": "users"})
    assert response.status_code == 200
    cards = cards_of(response.text)
    assert len(cards) == Provider.objects.published().count()  # needs rank, they filter none
    fitting = [provider_id for provider_id, fits in cards if fits]
    assert set(fitting) == expected
    assert [fits for _, fits in cards] == [True] * len(expected) + [False] * (
        len(cards) - len(expected)
    )
    # Within each group, the chosen sort: most active users first.
    users = dict(Provider.objects.values_list("provider_id", "active_users"))
    assert [users[p] for p in fitting] == sorted((users[p] for p in fitting), reverse=True)
    assert f"{len(expected)} serve what you need, listed first." in response.text
    assert "Does not serve what you asked for." in response.text


def test_browse_needs_work_under_htmx_and_stay_in_the_url(default_providers):
    response = Client().get(
        "/", {"family": "command-r", "tools": "on", "budget": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert {p for p, fits in cards_of(response.text) if fits} == serving("command-r")
    assert response["HX-Push-Url"] == "/?family=command-r&tools=on"


def test_browse_says_so_when_nothing_serves_the_need(default_providers):
    # Nobody serves a Claude model for nothing a month.
    response = Client().get("/", {"family": "claude-sonnet", "budget": "0"})
    assert response.status_code == 200
    assert not any(fits for _, fits in cards_of(response.text))
    assert "None of them serves what you need yet" in response.text


@pytest.mark.parametrize("budget", ["-1", "abc", "1000000"])
def test_browse_reports_a_bad_budget_and_still_lists(default_providers, budget):
    response = Client().get("/", {"budget": budget})
    assert response.status_code == 200
    assert "Some filters were ignored" in response.text
    assert len(cards_of(response.text)) == Provider.objects.published().count()
