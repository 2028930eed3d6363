"""POST setup reports and ratings: the forms' validation, key refusal, limits and burst
holding, as JSON; a refused submission changes nothing."""

import pytest
from django.test import Client

from registry.models import Rating, Review, SetupReport
from registry.secrets import PASTED_KEY_MESSAGE
from registry.voters import daily_salt

from .conftest import error_of, post_json

RATINGS = "/api/v1/providers/openrouter/ratings"
REPORTS = "/api/v1/providers/openrouter/setup-reports"
KEY = "sk-or-v1-" + "5ecre7" * 10


def test_a_setup_report_counts_as_the_seed_says(api, default_providers, counters_of):
    before = counters_of("openrouter")
    response = post_json(
        api, REPORTS, {"success": True, "setup_time_minutes": 3, "felt_difficulty": 1}
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "counted"
    after = counters_of("openrouter")
    assert after["total_users"] == before["total_users"] + 1
    assert after["active_users"] == before["active_users"] + 1
    assert after["setup_minutes_sum"] == before["setup_minutes_sum"] + 3
    assert after["felt_difficulty_count"] == before["felt_difficulty_count"] + 1
    event = SetupReport.objects.get()
    assert event.voter_key and not event.voter_key.startswith("api")  # its network's visitor


def test_a_failed_setup_with_only_the_required_field(api, default_providers, counters_of):
    before = counters_of("openrouter")
    assert post_json(api, REPORTS, {"success": False}).status_code == 201
    after = counters_of("openrouter")
    assert after["total_users"] == before["total_users"] + 1
    assert after["active_users"] == before["active_users"]


def test_a_rating_with_a_comment_waits_for_moderation(api, default_providers, counters_of):
    before = counters_of("openrouter")
    response = post_json(api, RATINGS, {"rating": 2, "comment": "  Slow today.  "})
    assert response.status_code == 201
    assert response.json()["comment"] == "pending"
    after = counters_of("openrouter")
    assert after["ratings_count"] == before["ratings_count"] + 1
    assert after["negative_reviews"] == before["negative_reviews"] + 1
    review = Review.objects.get()
    assert (review.text, review.status) == ("Slow today.", "pending")


def test_a_blank_comment_is_no_comment(api, default_providers):
    assert post_json(api, RATINGS, {"rating": 4, "comment": "   "}).json()["comment"] is None
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (RATINGS, {}, "rating"),
        (RATINGS, {"rating": 0}, "rating"),
        (RATINGS, {"rating": 6}, "rating"),
        (RATINGS, {"rating": "5"}, "rating"),
        (RATINGS, {"rating": 4.5}, "rating"),
        (RATINGS, {"rating": True}, "rating"),
        (RATINGS, {"rating": None}, "rating"),
        (RATINGS, {"rating": 5, "comment": 5}, "comment"),
        (RATINGS, {"rating": 5, "comment": "x" * 2001}, "comment"),
        (RATINGS, {"rating": 5, "comment": "a\x00b"}, "comment"),
        (RATINGS, {"rating": 5, "stars": 5}, "stars"),
        (REPORTS, {}, "success"),
        (REPORTS, {"success": "yes"}, "success"),
        (REPORTS, {"success": 1}, "success"),
        (REPORTS, {"success": True, "setup_time_minutes": -1}, "setup_time_minutes"),
        (REPORTS, {"success": True, "setup_time_minutes": 1441}, "setup_time_minutes"),
        (REPORTS, {"success": True, "setup_time_minutes": "3"}, "setup_time_minutes"),
        (REPORTS, {"success": True, "felt_difficulty": 5}, "felt_difficulty"),
        (REPORTS, {"success": True, "felt_difficulty": "easy"}, "felt_difficulty"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    api, default_providers, counters_of, database_text, url, body, field
):
    daily_salt()  # the day's salt (and upkeep) is made by its first submission, counted or not
    before = database_text()
    message = error_of(post_json(api, url, body), 400, "invalid_input", field)
    assert message.startswith(f"{field}:")
    assert database_text() == before


@pytest.mark.parametrize("body", [b" ", b"{", b"[1, 2]", b'"rating"', b"\xff\xfe", b"null"])
def test_a_body_that_is_not_a_json_object_is_a_400(api, default_providers, database_text, body):
    daily_salt()
    before = database_text()
    response = api.post(RATINGS, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_json", "invalid_input")
    assert database_text() == before


def test_a_body_that_is_not_json_is_a_415(api, default_providers, database_text):
    daily_salt()
    before = database_text()
    error_of(api.post(RATINGS, {"rating": 5}), 415, "unsupported_media_type", "Content-Type")
    response = api.post(RATINGS, "rating=5", content_type="text/plain")
    error_of(response, 415, "unsupported_media_type", "Content-Type")
    assert database_text() == before


def test_a_pasted_key_is_refused_and_never_repeated(api, default_providers, database_text):
    response = post_json(api, RATINGS, {"rating": 5, "comment": f"my key is {KEY}"})
    message = error_of(response, 400, "invalid_input", "comment")
    assert PASTED_KEY_MESSAGE in message
    # Nor as a field name of its own.
    named = post_json(api, RATINGS, {"rating": 5, KEY: 1})
    error_of(named, 400, "invalid_input", None)
    for answer in (response, named):
        assert KEY[6:] not in answer.content.decode()
    assert KEY[6:] not in database_text()
    assert not Rating.objects.exists()


def test_an_unknown_provider_is_a_404(api, default_providers, make_provider):
    error_of(
        post_json(api, "/api/v1/providers/nope/ratings", {"rating": 5}), 404, "unknown_provider"
    )
    make_provider("draft", is_published=False)
    response = post_json(api, "/api/v1/providers/draft/setup-reports", {"success": True})
    error_of(response, 404, "unknown_provider")
    assert not SetupReport.objects.exists()


def test_one_rating_per_visitor_then_the_network_limit(settings, default_providers, counters_of):
    settings.REGISTRY_NETWORK_DAILY_LIMIT = 2
    visitors = [Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=f"App/{n}") for n in range(3)]
    assert post_json(visitors[0], RATINGS, {"rating": 5}).status_code == 201
    again = post_json(visitors[0], RATINGS, {"rating": 5})
    error_of(again, 429, "already_submitted")
    assert 0 < int(again["Retry-After"]) <= 86401
    assert post_json(visitors[1], RATINGS, {"rating": 4}).status_code == 201
    before = counters_of("openrouter")
    error_of(post_json(visitors[2], RATINGS, {"rating": 3}), 429, "network_limit")
    assert counters_of("openrouter") == before
    assert Rating.objects.count() == 2


def test_the_daily_cap_across_providers(settings, default_providers):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    client = Client(REMOTE_ADDR="192.0.2.20")
    assert post_json(client, RATINGS, {"rating": 5}).status_code == 201
    refused = post_json(client, "/api/v1/providers/groq/ratings", {"rating": 5})
    error_of(refused, 429, "daily_limit")


def test_a_burst_is_held_not_counted(settings, default_providers, counters_of):
    settings.REGISTRY_BURST_MIN_SUBMISSIONS = 2
    settings.REGISTRY_NETWORK_DAILY_LIMIT = 100
    for n in range(2):
        client = Client(REMOTE_ADDR=f"192.0.2.{30 + n}")
        assert post_json(client, RATINGS, {"rating": 5}).status_code == 201
    before = counters_of("openrouter")
    held = post_json(Client(REMOTE_ADDR="192.0.2.40"), RATINGS, {"rating": 1})
    assert held.status_code == 202
    assert held.json()["status"] == "held" and "review" in held.json()["message"]
    assert counters_of("openrouter") == before
    assert Rating.objects.held().count() == 1
    detail = Client(REMOTE_ADDR="192.0.2.41").get("/api/v1/providers/openrouter").json()
    assert detail["held_submissions"] == 1
