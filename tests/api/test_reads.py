"""Every read endpoint: status, shape, filters, paging, no-data nulls, and what is hidden."""

import pytest

from registry import services
from registry.models import IssueReport, Moderation, ProTip, Provider, Review

from .conftest import error_of


def ids(response):
    return [item["provider_id"] for item in response.json()["items"]]


def test_index_lists_the_endpoints(api, db):
    data = api.get("/api/v1/").json()
    assert data["openapi"] == "/api/v1/openapi.json"
    assert data["endpoints"]["providers"] == "/api/v1/providers"


def test_providers_most_trusted_first_with_the_seed_figures(api, default_providers):
    response = api.get("/api/v1/providers")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == Provider.objects.published().count()
    assert ids(response)[0] == "openrouter"
    openrouter = data["items"][0]
    assert openrouter["trust_score"] == 92.3
    assert openrouter["star_rating"] == pytest.approx(4.8)
    assert openrouter["active_users"] == 980 and openrouter["total_users"] == 1250
    assert openrouter["status"] == {"value": "highly_recommended", "label": "Highly Recommended"}
    assert openrouter["flags"] == ["free_tier"]
    assert openrouter["links"]["signup_url"] == "https://openrouter.ai/auth/signup"
    assert openrouter["trust_lower_bound"] <= 92.3 <= openrouter["trust_upper_bound"]


def test_no_data_is_null_not_zero(api, default_providers):
    groq = next(p for p in api.get("/api/v1/providers?q=groq").json()["items"])
    assert groq["has_data"] is False
    assert groq["trust_score"] is None and groq["star_rating"] is None
    assert groq["success_rate"] is None and groq["avg_setup_time_minutes"] is None
    assert "new" in groq["flags"] and groq["status"]["value"] == "new"


def test_the_browse_filters_and_sorts(api, default_providers):
    expected = Provider.objects.published().matching(free=True, difficulty=2).most_trusted()
    response = api.get("/api/v1/providers?free=true&difficulty=2&limit=100")
    assert ids(response) == [p.provider_id for p in expected.stably()]
    assert all(item["has_free_tier"] for item in response.json()["items"])
    by_users = ids(api.get("/api/v1/providers?sort=users&limit=3"))
    assert by_users == ["openrouter", "anthropic", "huggingface"]
    assert ids(api.get("/api/v1/providers?q=deepseek")) == ["deepseek"]
    assert ids(api.get("/api/v1/providers?min_trust=90")) == ["openrouter"]
    assert ids(api.get("/api/v1/providers?instant=true&q=deepseek")) == []


def test_pages_neither_repeat_nor_skip(api, make_provider):
    for n in range(7):  # one name for all: only the id breaks the tie
        make_provider(f"twin-{n}", provider_name="Twin")
    walked = []
    for offset in range(0, 7, 2):
        page = api.get(f"/api/v1/providers?limit=2&offset={offset}").json()
        assert page["count"] == 7 and page["offset"] == offset
        walked += [item["provider_id"] for item in page["items"]]
    assert walked == sorted(walked) and len(set(walked)) == 7


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("difficulty=5", "difficulty"),
        ("difficulty=hard", "difficulty"),
        ("min_trust=101", "min_trust"),
        ("min_trust=nan", "min_trust"),
        ("sort=price", "sort"),
        ("free=maybe", "free"),
        ("audience=Not%20A%20Slug", "audience"),
        (f"q={'x' * 101}", "q"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api, db, query, field):
    error_of(api.get(f"/api/v1/providers?{query}"), 400, "invalid_input", field)


def test_unpublished_providers_are_not_exposed(api, make_provider):
    make_provider("draft", is_published=False)
    assert ids(api.get("/api/v1/providers")) == []
    error_of(api.get("/api/v1/providers/draft"), 404, "unknown_provider")
    assert "draft" not in api.get("/api/v1/registry.json").json()["providers"]


def test_one_provider_has_every_figure(api, default_providers):
    provider = Provider.objects.get(provider_id="openrouter")
    ProTip.objects.create(provider=provider, text="Community tip", status=Moderation.APPROVED)
    ProTip.objects.create(provider=provider, text="Pending tip", from_community=True)
    Review.objects.create(provider=provider, rating=5, text="Lovely", status=Moderation.APPROVED)
    Review.objects.create(provider=provider, rating=1, text="Unmoderated")
    IssueReport.objects.create(
        provider=provider, category="rate_limits", details="429s", status=Moderation.APPROVED
    )
    data = api.get("/api/v1/providers/openrouter").json()
    assert data["trust_score"] == 92.3
    assert [term["name"] for term in data["trust_terms"]] == [
        "Star rating",
        "Success rate",
        "User adoption",
        "Positive sentiment",
    ]
    assert sum(term["points"] for term in data["trust_terms"]) == pytest.approx(92.3, abs=0.05)
    assert data["counters"]["ratings_count"] == provider.ratings_count
    assert "Community tip" in data["pro_tips"] and "Pending tip" not in data["pro_tips"]
    assert [r["text"] for r in data["reviews"]] == ["Lovely"]
    assert data["issue_reports"][0]["category"]["value"] == "rate_limits"
    assert data["recent_issue_reports"] == 1
    assert data["setup_steps"] and data["common_issues"][0]["problem"]
    assert {c["target"]["value"] for c in data["link_checks"]} >= {"signup", "api_key", "docs"}
    assert all(c["state"]["value"] == "unchecked" for c in data["link_checks"])
    assert data["held_submissions"] == 0 and data["open_alerts"] == 0


def test_a_pinned_status_says_why(api, default_providers):
    anthropic = api.get("/api/v1/providers/anthropic").json()
    assert anthropic["status"]["value"] == "caution" and anthropic["pinned"] is True
    assert "free tier" in anthropic["pin_reason"].lower()
    assert anthropic["flags"][0] == "premium_only"


def test_recommendations_are_the_seeds(api, default_providers):
    response = api.get("/api/v1/recommendations")
    data = response.json()
    assert (data["free_only"], data["min_trust_score"], data["difficulty_max"]) == (
        True,
        70.0,
        None,
    )
    assert ids(response) == ["openrouter", "deepseek"]
    local = services.get_recommended_providers(free_only=False, min_trust_score=0, difficulty_max=1)
    remote = ids(
        api.get("/api/v1/recommendations?free_only=false&min_trust_score=0&difficulty_max=1")
    )
    assert remote == [p.provider_id for p in local]


def test_statistics_are_the_widgets(api, default_providers):
    data = api.get("/api/v1/statistics").json()
    figures = Provider.objects.published().statistics()
    assert data["providers"] == figures["providers"] == 17
    assert data["active_users"] == figures["active_users"]
    assert data["average_success_rate"] == pytest.approx(figures["average_success_rate"])
    assert [p["provider_id"] for p in data["top"]] == [p.provider_id for p in figures["top"]]


def test_history_and_alerts(api, default_providers):
    from datetime import timedelta

    from django.utils import timezone

    from verification import history
    from verification.models import Alert

    Provider.objects.update(created_at=timezone.now() - timedelta(days=10))
    history.snapshot(days=3)  # yesterday and the two days before
    provider = Provider.objects.get(provider_id="deepseek")
    Alert.objects.create(provider=provider, rule="api_down", title="API down", since=timezone.now())
    Alert.objects.create(
        provider=provider,
        rule="link_broken",
        key="docs",
        title="Docs link broken",
        since=timezone.now() - timedelta(days=3),
        resolved_at=timezone.now() - timedelta(days=1),
    )
    days = api.get("/api/v1/providers/deepseek/history?days=2").json()
    assert len(days["items"]) == 1  # yesterday; the day before that is outside 2 days
    assert days["items"][0]["trust_score"] == provider.get_trust_score()
    assert days["items"][0]["success_rate"] == pytest.approx(provider.success_rate)
    assert len(api.get("/api/v1/providers/deepseek/history?days=5").json()["items"]) == 3
    open_alerts = api.get("/api/v1/providers/deepseek/alerts").json()["items"]
    assert [a["title"] for a in open_alerts] == ["API down"]
    every = api.get("/api/v1/providers/deepseek/alerts?state=all").json()["items"]
    assert {a["open"] for a in every} == {True, False}
    error_of(api.get("/api/v1/providers/deepseek/history?days=0"), 400, "invalid_input", "days")
    error_of(api.get("/api/v1/providers/nope/alerts"), 404, "unknown_provider")


def test_models_and_offerings(api, default_providers):
    page = api.get("/api/v1/models?q=deepseek&limit=5").json()
    assert page["count"] >= 1 and page["items"]
    model_id = page["items"][0]["model_id"]
    model = api.get(f"/api/v1/models/{model_id}").json()
    assert model["offerings"]
    offering = model["offerings"][0]
    assert offering["price"] is None or isinstance(offering["price"]["input"], (str, type(None)))
    free = api.get("/api/v1/models?free=true&limit=100").json()
    assert all(isinstance(item["model_id"], str) for item in free["items"])
    error_of(api.get("/api/v1/models/no-such-model"), 404, "unknown_model")


def test_the_registry_file_is_the_export(api, default_providers):
    from registry.interchange import export_registry_data

    served = api.get("/api/v1/registry.json").json()
    exported = export_registry_data()
    assert set(served) == {"providers", "user_stats", "last_updated", "catalog"}
    assert served["providers"] == exported["providers"]
    assert served["catalog"]["models"] == exported["catalog"]["models"]
