import re

import pytest

from registry.models import Audience, Provider
from registry.services import record_user_signup

HX = {"HX-Request": "true"}


def card_ids(response):
    return re.findall(
        r'<article class="provider-card" id="card-([a-z0-9-]+)"', response.content.decode()
    )


@pytest.fixture
def providers(default_providers):
    return Provider.objects.published()


def test_full_page_has_widget_filters_and_cards(client, providers):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'id="provider-stats-widget"' in html
    assert 'hx-trigger="every 30s"' in html
    assert 'hx-trigger="input changed delay:300ms, change from:(#filters select' in html
    assert 'hx-push-url="true"' in html
    assert 'action="/"' in html  # works without JavaScript too
    assert len(card_ids(response)) == providers.count()
    # Default order: by status, then lower bound. Anthropic's pinned "Use with Caution"
    # (81.7) no longer sorts above DeepSeek's "Recommended" (79.7).
    assert card_ids(response)[:2] == ["openrouter", "deepseek"]
    assert 'href="/suggest/"' in html


def test_card_shows_the_seed_provider_card(client, providers):
    html = client.get("/", {"q": "deepseek"}).content.decode()
    assert "79.7" in html
    assert "status-recommended" in html
    assert "★★★★☆" in html
    assert "88.2%" in html
    assert "🟡 Moderate" in html
    assert "~15 minutes" in html
    assert "⏳ Manual (1-2 days)" in html
    assert "🆓 Free Tier" in html
    assert "Geographic restrictions may apply" in html
    assert "Apply during off-peak hours" in html
    assert 'href="https://platform.deepseek.com/docs" target="_blank" rel="noopener"' in html
    assert 'href="/providers/deepseek/"' in html
    assert 'name="p" value="deepseek" form="compare-form"' in html


def test_low_confidence_and_premium_labels(client, providers):
    html = client.get("/").content.decode()
    groq = html[html.index('id="card-groq"') :]
    groq = groq[: groq.index("</article>")]
    # No data is not a score of 0.
    assert "No community data yet" in groq and "0.0" not in groq
    record_user_signup("groq", True, 4)
    html = client.get("/").content.decode()
    groq = html[html.index('id="card-groq"') :]
    groq = groq[: groq.index("</article>")]
    assert "new: not enough data yet (1 report, 0 ratings)" in groq
    assert "is-tentative" in groq  # shown muted
    anthropic = html[html.index('id="card-anthropic"') :]
    anthropic = anthropic[: anthropic.index("</article>")]
    assert "🔒 Premium Only" in anthropic
    assert "Use with Caution" in anthropic


def test_htmx_request_gets_only_the_results(client, providers):
    response = client.get("/", {"free": "on"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="results"')
    assert "anthropic" not in card_ids(response)
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(client, providers):
    response = client.get("/", {"free": "on"}, headers={**HX, "HX-History-Restore-Request": "true"})
    assert b"<html" in response.content


@pytest.mark.parametrize(
    ("params", "included", "excluded"),
    [
        ({"free": "on"}, "openrouter", "anthropic"),
        ({"instant": "on"}, "openrouter", "deepseek"),
        ({"difficulty": "1"}, "anthropic", "huggingface"),
        ({"difficulty": "3"}, "huggingface", None),
        ({"min_score": "85"}, "openrouter", "deepseek"),
        ({"q": "Deep"}, "deepseek", "openrouter"),
    ],
)
def test_filters(client, providers, params, included, excluded):
    ids = card_ids(client.get("/", params))
    assert included in ids
    if excluded:
        assert excluded not in ids


def test_min_score_keeps_only_scores_at_or_above(client, providers):
    ids = card_ids(client.get("/", {"min_score": "70"}))
    expected = [p.provider_id for p in Provider.objects.published() if p.get_trust_score() >= 70]
    assert sorted(ids) == sorted(expected)
    assert len(ids) >= 2


def test_audience_filter(client, providers):
    audience = Audience.objects.get(name="Code generation")
    ids = card_ids(client.get("/", {"audience": audience.slug}))
    assert ids
    assert set(ids) == set(audience.providers.values_list("provider_id", flat=True))


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("trust", "openrouter"),
        ("rating", "openrouter"),
        ("setup", "openrouter"),
        ("users", "openrouter"),
    ],
)
def test_sorts(client, providers, sort, first):
    ids = card_ids(client.get("/", {"sort": sort}))
    assert ids[0] == first


def test_sort_by_setup_time_puts_unknown_times_last(client, providers):
    ids = card_ids(client.get("/", {"sort": "setup"}))
    assert ids[:4] == ["openrouter", "anthropic", "deepseek", "huggingface"]


def test_sort_by_users(client, providers):
    ids = card_ids(client.get("/", {"sort": "users"}))
    assert ids[:4] == ["openrouter", "anthropic", "huggingface", "deepseek"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"difficulty": "9"}, "Maximum difficulty must be 1 (Easy) to 4 (Expert)"),
        ({"difficulty": "abc"}, "Maximum difficulty must be 1 (Easy) to 4 (Expert)"),
        ({"min_score": "abc"}, "Minimum trust score must be a number from 0 to 100."),
        ({"min_score": "101"}, "less than or equal to 100"),
        ({"audience": "<script>"}, "There is no such audience; choose one from the list."),
        ({"sort": "price"}, "Sort by trust, rating, setup time or users."),
    ],
)
def test_bad_parameters_give_a_message_not_a_500(client, providers, params, message):
    for headers in ({}, HX):
        response = client.get("/", params, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Some filters were ignored" in html
        assert message in html
        # The bad filter is ignored; the list still shows.
        assert len(card_ids(response)) == providers.count()


def test_bad_filter_is_ignored_but_good_ones_apply(client, providers):
    ids = card_ids(client.get("/", {"difficulty": "9", "free": "on"}))
    assert "anthropic" not in ids
    assert "openrouter" in ids


@pytest.mark.parametrize("page", ["abc", "0", "999", "-1", "1.5"])
def test_bad_page_numbers_fall_back(client, providers, page):
    response = client.get("/", {"page": page})
    assert response.status_code == 200
    assert card_ids(response)


def test_empty_result_says_which_filter_to_relax(client, providers):
    response = client.get("/", {"free": "on", "q": "anthropic"})
    assert response.status_code == 200
    html = response.content.decode()
    assert card_ids(response) == []
    assert "No provider matches these filters." in html
    assert "Try relaxing a filter" in html
    # Dropping "free tier only" brings Anthropic back; the link keeps the other filter.
    assert '<a href="/?q=anthropic">Remove “free tier only”</a>: 1 provider' in html
    assert 'href="/?free=on">Remove the name search</a>' in html


def test_empty_result_when_no_single_filter_is_to_blame(client, providers):
    html = client.get("/", {"q": "zzz-nothing"}).content.decode()
    assert "No provider matches these filters." in html
    assert "Clear all filters" in html


def test_pagination_keeps_filters(client, make_provider):
    for n in range(30):
        make_provider(f"extra-{n:02d}", has_free_tier=True)
    make_provider("paid")
    response = client.get("/", {"free": "on"})
    html = response.content.decode()
    assert len(card_ids(response)) == 24
    assert "30 providers match your filters, page 1 of 2." in html
    assert 'href="?free=on&amp;page=2"' in html
    assert 'hx-get="?free=on&amp;page=2"' in html
    page2 = client.get("/", {"free": "on", "page": "2"})
    assert len(card_ids(page2)) == 6
    assert "paid" not in card_ids(page2)
    assert set(card_ids(response)).isdisjoint(card_ids(page2))


def test_unpublished_providers_are_hidden(client, providers):
    Provider.objects.filter(provider_id="groq").update(is_published=False)
    assert "groq" not in card_ids(client.get("/"))


def test_post_not_allowed(client, db):
    assert client.post("/").status_code == 405
