"""API client tokens: issued in the admin and shown once, stored as a hash, limited per
token with its own quota, attributed for review, revocable."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.models import ApiToken, token_digest
from registry.models import Rating, SetupReport

from .conftest import error_of, post_json

RATINGS = "/api/v1/providers/openrouter/ratings"


@pytest.fixture
def maintainer(db):
    client = Client()
    client.force_login(User.objects.create_superuser("m", "m@example.com", "pw-not-used"))
    return client


def issue_in_admin(maintainer, name="Acme Host", quota="5"):
    return maintainer.post(
        "/admin/api/apitoken/add/", {"name": name, "contact": "ops@acme", "daily_quota": quota}
    )


def test_a_token_is_shown_once_and_stored_only_as_a_hash(maintainer, database_text):
    response = issue_in_admin(maintainer)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    value = re.search(r'value="(byok_[0-9a-f]{48})"', response.content.decode()).group(1)
    assert "shown only this once" in response.content.decode()
    token = ApiToken.objects.get()
    assert token.digest == token_digest(value) and token.daily_quota == 5
    assert token.shown_as == value[:6] + "…"
    assert value[6:] not in database_text()
    for page in (
        "/admin/api/apitoken/",
        f"/admin/api/apitoken/{token.pk}/change/",
    ):
        assert value[6:] not in maintainer.get(page).content.decode()
    # Every token is new: issuing another gives another.
    again = issue_in_admin(maintainer, name="Other")
    assert value not in again.content.decode()


def test_a_token_is_limited_per_token_not_per_network(settings, default_providers, issue_token):
    settings.REGISTRY_NETWORK_DAILY_LIMIT = 1
    settings.REGISTRY_RANGE_DAILY_LIMIT = 1
    token, value = issue_token(daily_quota=10)
    server = Client(REMOTE_ADDR="198.51.100.99")  # one server, many users
    auth = {"Authorization": f"Bearer {value}"}
    for user in ("u1", "u2", "u3"):
        response = post_json(server, RATINGS, {"rating": 4}, **auth, **{"X-End-User": user})
        assert response.status_code == 201, response.content
        assert response["Access-Control-Allow-Origin"] == "*"
    # The per-visitor rule holds per end user...
    again = post_json(server, RATINGS, {"rating": 4}, **auth, **{"X-End-User": "u1"})
    error_of(again, 429, "already_submitted")
    # ...and the same network without the token is still its own network.
    assert post_json(server, RATINGS, {"rating": 4}).status_code == 201
    assert post_json(Client(REMOTE_ADDR="198.51.100.98"), RATINGS, {"rating": 4}).status_code == 429
    # Its events carry the token's id (for review), never the end user's name.
    keys = list(
        Rating.objects.filter(voter_key__startswith=f"api{token.pk}:").values_list(
            "voter_key", flat=True
        )
    )
    assert len(keys) == 3 and len(set(keys)) == 3
    assert all(len(key) == 64 and "u1" not in key for key in keys)


def test_without_an_end_user_the_token_is_one_visitor(default_providers, issue_token):
    _, value = issue_token()
    auth = {"Authorization": f"Bearer {value}"}
    client = Client(REMOTE_ADDR="198.51.100.5")
    assert post_json(client, RATINGS, {"rating": 5}, **auth).status_code == 201
    error_of(post_json(client, RATINGS, {"rating": 5}, **auth), 429, "already_submitted")
    # Another address with the same token is the same visitor: the token is its network.
    other = Client(REMOTE_ADDR="203.0.113.77")
    error_of(post_json(other, RATINGS, {"rating": 5}, **auth), 429, "already_submitted")


def test_the_tokens_quota_is_its_own(default_providers, issue_token, counters_of):
    _, value = issue_token(daily_quota=2)
    auth = {"Authorization": f"Bearer {value}"}
    client = Client(REMOTE_ADDR="198.51.100.6")
    assert (
        post_json(client, RATINGS, {"rating": 5}, **auth, **{"X-End-User": "a"}).status_code == 201
    )
    report = "/api/v1/providers/groq/setup-reports"
    assert (
        post_json(client, report, {"success": True}, **auth, **{"X-End-User": "b"}).status_code
        == 201
    )
    before = counters_of("deepseek")
    refused = post_json(
        client, "/api/v1/providers/deepseek/ratings", {"rating": 5}, **auth, **{"X-End-User": "c"}
    )
    message = error_of(refused, 429, "token_quota")
    assert "quota of 2" in message and int(refused["Retry-After"]) > 0
    assert counters_of("deepseek") == before
    # Another token has a quota of its own.
    _, other = issue_token(name="Other")
    assert (
        post_json(
            client,
            "/api/v1/providers/deepseek/ratings",
            {"rating": 5},
            Authorization=f"Bearer {other}",
        ).status_code
        == 201
    )


def test_a_revoked_token_is_refused(maintainer, default_providers, issue_token):
    token, value = issue_token()
    auth = {"Authorization": f"Bearer {value}"}
    client = Client(REMOTE_ADDR="198.51.100.8")
    assert client.get("/api/v1/statistics", headers=auth).status_code == 200
    response = maintainer.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active
    error_of(client.get("/api/v1/statistics", headers=auth), 401, "token_revoked", "Authorization")
    refused = post_json(client, RATINGS, {"rating": 5}, **auth)
    error_of(refused, 401, "token_revoked", "Authorization")
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "header", ["Bearer byok_" + "0" * 48, "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "Bearer  "]
)
def test_an_unknown_or_malformed_token_is_a_401(api, default_providers, header):
    error_of(
        api.get("/api/v1/providers", headers={"Authorization": header}),
        401,
        "invalid_token",
        "Authorization",
    )
    response = post_json(api, RATINGS, {"rating": 5}, Authorization=header)
    error_of(response, 401, "invalid_token", "Authorization")
    assert header.split()[-1] not in response.content.decode() or header.split()[-1] == "Bearer"


def test_an_end_user_that_looks_like_a_key_is_refused(default_providers, issue_token):
    _, value = issue_token()
    response = post_json(
        Client(),
        RATINGS,
        {"rating": 5},
        Authorization=f"Bearer {value}",
        **{"X-End-User": "sk-or-v1-" + "ab" * 30},
    )
    error_of(response, 400, "invalid_input", "X-End-User")
    assert "abab" not in response.content.decode()


def test_reads_with_a_token_are_limited_per_token(settings, default_providers, issue_token):
    settings.API_READS_PER_MINUTE = 1
    settings.API_TOKEN_READS_PER_MINUTE = 2
    _, value = issue_token()
    auth = {"Authorization": f"Bearer {value}"}
    client = Client(REMOTE_ADDR="198.51.100.9")
    assert client.get("/api/v1/").status_code == 200  # the network's one read
    assert client.get("/api/v1/", headers=auth).status_code == 200
    assert client.get("/api/v1/", headers=auth).status_code == 200
    message = error_of(client.get("/api/v1/", headers=auth), 429, "read_limit")
    assert "per token" in message


def test_the_admin_counts_a_tokens_submissions_today(maintainer, default_providers, issue_token):
    token, value = issue_token()
    post_json(
        Client(),
        "/api/v1/providers/groq/setup-reports",
        {"success": True},
        Authorization=f"Bearer {value}",
    )
    assert SetupReport.objects.filter(voter_key__startswith=f"api{token.pk}:").count() == 1
    page = maintainer.get("/admin/api/apitoken/").content.decode()
    assert ">1</td>" in page
