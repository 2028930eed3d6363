"""registry.client.RemoteRegistry against a live server (real HTTP on loopback): the
seed's usage examples unchanged, every method, and every error as the seed's exceptions."""

import datetime
import enum
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry import client as remote
from registry.client import RemoteRegistry
from registry.models import Provider, Review, today
from tests.seed_examples import (
    BASIC_USAGE,
    BASIC_USAGE_OUTPUT,
    RECORD_USER_FEEDBACK,
    over_http,
    run,
)


@pytest.fixture
def registry(live_server, default_providers):
    return RemoteRegistry(live_server.url)


def test_the_seeds_examples_run_unchanged(live_server, default_providers, monkeypatch):
    monkeypatch.setenv("BYOK_REGISTRY_URL", live_server.url)
    before = Provider.objects.get(provider_id="openrouter")
    namespace = {}
    assert run(over_http(BASIC_USAGE), namespace) == BASIC_USAGE_OUTPUT
    assert run(RECORD_USER_FEEDBACK, namespace) == ""
    after = Provider.objects.get(provider_id="openrouter")
    assert after.total_users == before.total_users + 1
    assert after.active_users == before.active_users + 1
    assert after.ratings_count == before.ratings_count + 1
    assert Review.objects.get().text == "Super easy setup! Worked first time."


def test_providers_carry_the_seeds_field_names(registry):
    (openrouter, deepseek) = registry.get_recommended_providers()
    assert openrouter.provider_id == "openrouter" and deepseek.provider_id == "deepseek"
    assert openrouter.star_rating == pytest.approx(4.8)
    assert (openrouter.active_users, openrouter.total_users) == (980, 1250)
    assert openrouter.success_rate == pytest.approx(94.5, abs=0.05)
    assert openrouter.difficulty == 1 and openrouter.has_free_tier is True
    assert openrouter.status == "highly_recommended"
    assert openrouter.signup_url == "https://openrouter.ai/auth/signup"
    assert "Beginners" in openrouter.recommended_for
    assert deepseek.caution_flags and deepseek.requires_approval


class SeedDifficulty(enum.Enum):  # the seed's ProviderDifficulty
    EASY = "easy"
    MODERATE = "moderate"


@pytest.mark.parametrize("difficulty", [1, "easy", "Easy", SeedDifficulty.EASY])
def test_difficulty_max_as_the_seed_writes_it(registry, difficulty):
    found = registry.get_recommended_providers(
        free_only=False, min_trust_score=0, difficulty_max=difficulty
    )
    assert found and all(provider.difficulty == 1 for provider in found)


def test_every_read(registry):
    everyone = registry.providers()
    assert len(everyone) == Provider.objects.published().count() == 17
    assert registry.providers(free=True, sort="users")[0].provider_id == "openrouter"
    groq = registry.get_provider("groq")
    assert groq.has_data is False and groq.get_trust_score() == 0.0 and groq.star_rating == 0.0
    assert groq.data["trust_score"] is None  # the JSON says "no data", not 0
    assert registry.get_provider("openrouter").pro_tips
    assert registry.statistics()["providers"] == 17
    assert set(registry.get_registry_file()) >= {"providers", "user_stats", "last_updated"}
    yesterday = today() - datetime.timedelta(days=1)
    assert registry.get_snapshot(yesterday)["snapshot_day"] == yesterday.isoformat()


def test_reads_see_writes_at_once(registry):
    assert registry.get_provider("groq").ratings_count == 0
    assert registry.add_feedback("groq", 4) == "counted"
    assert registry.get_provider("groq").ratings_count == 1  # the ETag moved: not the old answer


def test_errors_are_the_seeds(registry, settings):
    with pytest.raises(remote.UnknownProviderError) as unknown:
        registry.get_provider("no-such-provider")
    assert unknown.value.provider_id == "no-such-provider"
    assert isinstance(unknown.value, LookupError)
    with pytest.raises(remote.UnknownProviderError):
        registry.add_feedback("no-such-provider", 5)
    with pytest.raises(remote.InvalidSubmissionError) as invalid:
        registry.add_feedback("openrouter", 9)
    assert invalid.value.field == "rating" and isinstance(invalid.value, ValueError)
    with pytest.raises(remote.InvalidSubmissionError) as key:
        registry.add_feedback("openrouter", 5, comment="sk-or-v1-" + "ab12" * 16)
    assert key.value.field == "comment" and "looks like an API key" in key.value.message
    with pytest.raises(remote.InvalidSubmissionError) as minutes:
        registry.record_user_signup("openrouter", True, setup_time_minutes=-3)
    assert minutes.value.field == "setup_time_minutes"
    with pytest.raises(remote.InvalidSubmissionError):
        registry.record_user_signup("openrouter", True, setup_time_minutes=float("nan"))
    registry.record_user_signup("openrouter", False)
    with pytest.raises(remote.AlreadySubmittedError) as again:
        registry.record_user_signup("openrouter", True)
    assert isinstance(again.value, remote.SubmissionLimitError)
    assert again.value.retry_after > 0


def test_token_flows(registry, live_server, issue_token):
    token, value = issue_token(daily_quota=1)
    host = RemoteRegistry(live_server.url, token=value, end_user="user-1")
    assert value not in repr(host)
    assert host.add_feedback("deepseek", 5) == "counted"
    with pytest.raises(remote.TokenQuotaError) as quota:
        RemoteRegistry(live_server.url, token=value, end_user="user-2").add_feedback("groq", 5)
    assert isinstance(quota.value, remote.DailyLimitError) and quota.value.retry_after > 0
    token.revoked_at = token.created_at
    token.save()
    with pytest.raises(remote.TokenError) as revoked:
        host.get_recommended_providers()
    assert revoked.value.code == "token_revoked"
    with pytest.raises(remote.TokenError):
        RemoteRegistry(live_server.url, token="byok_" + "1" * 48).statistics()


def test_read_limit(registry, settings):
    settings.API_READS_PER_MINUTE = 1
    registry.statistics()
    with pytest.raises(remote.ReadLimitError) as limited:
        registry.statistics()
    assert 0 < limited.value.retry_after <= 60


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def test_a_registry_that_does_not_answer_times_out(silent_port):
    slow = RemoteRegistry(f"http://127.0.0.1:{silent_port}", timeout=0.3)
    with pytest.raises(remote.RegistryUnavailableError):
        slow.get_recommended_providers()
    with pytest.raises(remote.RegistryUnavailableError):
        slow.add_feedback("openrouter", 5)


def test_nothing_listening_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(remote.RegistryUnavailableError):
        RemoteRegistry(f"http://127.0.0.1:{port}", timeout=2).statistics()


class NotTheApi(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(self.path.strip("/").split("?")[0].rsplit("/", 1)[-1] or 500))
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>a proxy's page</html>")

    def log_message(self, *args):
        pass


@pytest.fixture
def not_the_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotTheApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("status", [200, 404, 502])
def test_an_answer_that_is_not_the_apis_json_is_unavailable(not_the_api, status):
    # A proxy's error page, or a page that is not the API: /api/v1/statistics/<status>
    odd = RemoteRegistry(not_the_api)
    with pytest.raises(remote.RegistryUnavailableError):
        odd._get(f"/statistics/{status}")


def test_only_http_addresses():
    with pytest.raises(ValueError, match="http"):
        RemoteRegistry("file:///etc/passwd")
