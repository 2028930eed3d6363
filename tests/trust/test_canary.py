"""The canary: a recognisable API key is put through the wizard, every form and error
paths, and is then searched for everywhere the site could keep or repeat it."""

import http.client
import io
import logging
import pickle
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import gunicorn
import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.utils.html import escape

from registry.secrets import PASTED_KEY_MESSAGE, mask_key
from tests.key_service import forwards_to

# Matches OpenRouter's key format, so the wizard's check says it looks right.
CANARY = "sk-or-v1-" + "ca11ab1e" * 8
# The masked form shows the first 6 characters; anything after them must never appear.
SECRET_PART = CANARY[6:]

PLACES_SEARCHED = (
    "every table of the database (a full dump)",
    "the session store",
    "every configured cache",
    "the log output at DEBUG level, as our handlers write it",
    "every response body, header and redirect URL",
)


@pytest.fixture
def debug_log_output():
    """Route the handlers we configure into a buffer, at DEBUG level, for one test."""
    buffer = io.StringIO()
    loggers = [logging.getLogger(), logging.getLogger("django")]
    handlers = {
        handler
        for logger in loggers
        for handler in logger.handlers
        if type(handler) is logging.StreamHandler
    }
    saved = [(handler, handler.stream) for handler in handlers]
    levels = [(logger, logger.level) for logger in loggers]
    for handler in handlers:
        handler.setStream(buffer)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield buffer
    for handler, stream in saved:
        handler.setStream(stream)
    for logger, level in levels:
        logger.setLevel(level)


def cache_contents():
    chunks = []
    for alias in caches:
        backend = caches[alias]
        store = getattr(backend, "_cache", None)
        assert store is not None, f"cannot inspect cache {alias!r}; add a way to here"
        for key, value in store.items():
            chunks.append(
                key.encode() + b"=" + (value if isinstance(value, bytes) else pickle.dumps(value))
            )
    return b"\n".join(chunks)


class Recorder:
    """A Client whose every response is kept, to search afterwards."""

    def __init__(self, **defaults):
        self.client = Client(**defaults)
        self.responses = []

    def __getattr__(self, method):
        def call(*args, **kwargs):
            response = getattr(self.client, method)(*args, **kwargs)
            self.responses.append(response)
            return response

        return call

    def everything_sent(self):
        parts = []
        for response in self.responses:
            parts.append(response.content.decode(errors="replace"))
            parts.extend(f"{name}: {value}" for name, value in response.items())
            parts.extend(morsel.OutputString() for morsel in response.cookies.values())
        return "\n".join(parts)


def put_canary_everywhere(visitor):
    """Every place a visitor could type or paste a key."""
    wizard = "/setup/6/?p=openrouter"
    checked = visitor.post(wizard, {"api_key": CANARY})
    assert checked.status_code == 200
    assert escape(mask_key(CANARY)) in checked.content.decode()
    # htmx, a provider whose format it does not match, and one with spaces around it.
    visitor.post(wizard, {"api_key": CANARY}, headers={"HX-Request": "true"})
    visitor.post("/setup/6/?p=groq", {"api_key": f"  {CANARY}  "})
    # Error paths: an unknown provider, a provider-less step, a key in a URL, a key too long.
    assert visitor.post("/setup/6/?p=no-such-provider", {"api_key": CANARY}).status_code in (
        200,
        302,
        303,
        404,
    )
    visitor.post("/setup/6/", {"api_key": CANARY})
    visitor.post(wizard, {"api_key": CANARY * 20})

    # A key anywhere in a URL is refused before any view, cache or redirect sees it.
    in_urls = [
        f"/providers/{CANARY}/",
        f"/providers/{CANARY}",
        f"/?q={CANARY}",
        f"/?q={CANARY}{'x' * 40}",
        f"/?sort={CANARY}",
        f"/?audience={CANARY}",
        f"/?difficulty={CANARY}",
        f"/compare/?p={CANARY}",
        f"/compare/?p=openrouter&p=groq&p=deepseek&p=xai&p={CANARY}",
        f"/setup/?api_key={CANARY}",
        f"/setup/6/?difficulty=9&api_key={CANARY}",
    ]
    for url in in_urls:
        assert visitor.get(url).status_code == 400
        assert visitor.get(url, headers={"HX-Request": "true"}).status_code == 400
    visitor.get("/", {"q": CANARY, "free": "on"}, headers={"HX-Request": "true"})

    # Every free-text form: each refuses it with a message that says why.
    refused = [
        visitor.post("/providers/openrouter/rate/", {"rating": 5, "comment": CANARY}),
        visitor.post("/providers/openrouter/tips/", {"text": f"my key {CANARY} works"}),
        visitor.post(
            "/providers/openrouter/issues/",
            {"category": "key_rejected", "broken_link": "", "details": CANARY},
        ),
        visitor.post(
            "/suggest/",
            {"name": "Acme", "website": "https://acme.example", "reason": CANARY},
        ),
        visitor.post(
            "/setup/7/?p=openrouter",
            {
                "success": "yes",
                "minutes": 5,
                "stars": 5,
                "felt_difficulty": 1,
                "comment": CANARY,
                "share": "on",
            },
        ),
    ]
    return refused


def test_canary_key_is_found_nowhere(default_providers, debug_log_output, database_text):
    visitor = Recorder(REMOTE_ADDR="203.0.113.50", HTTP_USER_AGENT="CanaryBrowser/1.0")
    put_canary_everywhere(visitor)

    found = {
        "database": SECRET_PART in database_text(),
        "session store": Session.objects.exists(),
        "cache": SECRET_PART.encode() in cache_contents(),
        "logs": SECRET_PART in debug_log_output.getvalue(),
        "responses": SECRET_PART in visitor.everything_sent(),
    }
    assert found == dict.fromkeys(found, False), PLACES_SEARCHED
    # The error path for the key in a URL was logged, redacted.
    assert "[redacted]" in debug_log_output.getvalue()


def test_a_one_click_key_is_found_nowhere(
    default_providers, key_service, debug_log_output, database_text, settings
):
    """The key a provider creates in the one-click flow (OAuth PKCE, against the stand-in
    service on loopback) is treated as a typed key: shown masked, and kept nowhere, whether
    no one receives it or a host receiver does, and on the failure paths too."""
    key_service.key = CANARY
    visitor = Recorder(REMOTE_ADDR="203.0.113.52", HTTP_USER_AGENT="CanaryBrowser/1.0")
    start = "/setup/create-key/?p=openrouter&free=0"

    def walk():
        callback = key_service.sign_in(forwards_to(visitor.post(start)))
        return visitor.get(callback)

    shown = walk()
    assert shown.status_code == 200
    assert escape(mask_key(CANARY)) in shown.content.decode()
    visitor.get("/setup/6/?p=openrouter", headers={"HX-Request": "true"})
    settings.BYOK_API_KEY_RECEIVER = "tests.onboarding.test_one_click_key.receive_key"
    assert walk().status_code == 200
    settings.BYOK_API_KEY_RECEIVER = "tests.onboarding.test_wizard_key.broken_receiver"
    assert walk().status_code == 200
    settings.BYOK_API_KEY_RECEIVER = None
    key_service.answer = "timeout"
    assert walk().status_code == 504

    found = {
        "database": SECRET_PART in database_text(),
        "session store": Session.objects.exists(),
        "cache": SECRET_PART.encode() in cache_contents(),
        "logs": SECRET_PART in debug_log_output.getvalue(),
        "responses": SECRET_PART in visitor.everything_sent(),
        "cookies": any(SECRET_PART in m.value for m in visitor.client.cookies.values()),
    }
    assert found == dict.fromkeys(found, False), PLACES_SEARCHED


def test_key_shaped_text_is_refused_everywhere(default_providers):
    visitor = Recorder(REMOTE_ADDR="203.0.113.51", HTTP_USER_AGENT="CanaryBrowser/1.0")
    refused = put_canary_everywhere(visitor)
    for response in refused:
        assert response.status_code == 200
        assert escape(PASTED_KEY_MESSAGE) in response.content.decode()
    from registry.models import IssueReport, ProTip, ProviderSuggestion, Rating, Review

    assert not ProTip.objects.filter(from_community=True).exists()
    for model in (Review, IssueReport, ProviderSuggestion, Rating):
        assert not model.objects.exists(), model.__name__


def test_no_key_receiver_by_default(settings):
    assert settings.BYOK_API_KEY_RECEIVER is None


# --- a live gunicorn with gunicorn.conf.py: what reaches its access and error logs ---------

ROOT = Path(__file__).resolve().parents[2]
# One canary per channel, so a failure says which one leaked.
CANARIES = {
    channel: f"sk-or-v1-{tag * 8}"
    for channel, tag in {
        "query": "c0ffee01",
        "path": "c0ffee02",
        "user-agent": "c0ffee03",
        "referer": "c0ffee04",
        "form body": "c0ffee05",
        "request line": "c0ffee06",
        "header": "c0ffee07",
    }.items()
}


def production_env(tmp_path, static_root, base):
    return {
        **base,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain http on loopback
        "DJANGO_STATIC_ROOT": str(static_root),
        "GUNICORN_ACCESS_LOG": str(tmp_path / "access.log"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_server(transactional_db, default_providers, tmp_path, test_database_env):
    """gunicorn as the README deploys it (production settings, -c gunicorn.conf.py), on
    loopback; yields (port, access log, error log)."""
    static_root = tmp_path / "static"
    env = production_env(tmp_path, static_root, test_database_env())
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "byok_site.wsgi", "-c", "gunicorn.conf.py"]
    # gunicorn 25.1+ opens a control socket in $HOME, shared with any other gunicorn there.
    no_control_socket = ["--no-control-socket"] if gunicorn.version_info >= (25, 1) else []
    error_log = tmp_path / "error.log"
    with open(error_log, "wb") as stderr:
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "--workers", "1", *no_control_socket],
            cwd=ROOT,
            env=env,
            stdout=stderr,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, error_log.read_text()
                try:
                    if http_request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            yield port, tmp_path / "access.log", error_log
        finally:
            server.terminate()
            server.wait(timeout=30)


def http_request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw_request(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_no_canary_reaches_gunicorns_logs(gunicorn_server):
    port, access_log, error_log = gunicorn_server
    key = CANARIES
    browser = {
        "User-Agent": f"Mozilla/5.0 (pasted {key['user-agent']})",
        "Referer": f"https://elsewhere.example/?key={key['referer']}",
        "X-Api-Key": key["header"],
    }
    answers = [
        http_request(port, "GET", f"/?q={key['query']}", headers=browser),
        http_request(port, "GET", f"/?q={key['query']}&free=on", headers={"HX-Request": "true"}),
        http_request(port, "GET", f"/compare/?p={key['query']}", headers=browser),
        http_request(port, "GET", f"/setup/6/?p=openrouter&api_key={key['query']}"),
        http_request(port, "GET", f"/providers/{key['path']}/", headers=browser),
        http_request(port, "GET", f"/providers/{key['path']}"),
        http_request(port, "GET", "/providers/openrouter/", headers=browser),
    ]
    assert [status for status, _, _ in answers] == [400] * 6 + [200]

    # The wizard's key check is the one place a key is meant to go: in a POST body.
    page = http_request(port, "GET", "/setup/6/?p=openrouter")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page[2]).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", page[1]["Set-Cookie"]).group(1)
    checked = http_request(
        port,
        "POST",
        "/setup/6/?p=openrouter",
        body=urlencode({"csrfmiddlewaretoken": token, "api_key": key["form body"]}),
        headers={
            **browser,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Origin": f"http://127.0.0.1:{port}",
        },
    )
    assert checked[0] == 200 and b"It matches the format" in checked[2]

    # Item 1 of issue 11, live: a form in another charset is the site's 400, with its CSP.
    for path in ("/healthz", "/providers/openrouter/rate/"):
        status, headers, body = http_request(
            port,
            "POST",
            path,
            body=b"rating=5&comment=caf%E9",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=latin-1",
                "Cookie": "csrftoken=" + "a" * 32,
            },
        )
        assert status == 400, body
        assert b"character encoding other than UTF-8" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]

    # Requests gunicorn itself refuses: a malformed request line, one too long.
    # gunicorn logs the first as "Invalid HTTP request line: 'GET /?q=<canary>'" (and
    # repeats it in its own bare 400 page to that client; it has no setting for that page).
    malformed = raw_request(port, f"GET /?q={key['request line']}\r\n\r\n".encode())
    assert malformed.startswith(b"HTTP/1.1 400")
    too_long = raw_request(
        port, f"GET /?q={key['request line']}&pad={'x' * 5000} HTTP/1.1\r\n\r\n".encode()
    )
    assert too_long.startswith(b"HTTP/1.1 414")

    sent = b"".join(body + repr(headers).encode() for _, headers, body in answers)
    for channel, canary in CANARIES.items():
        assert canary[6:].encode() not in sent, f"{channel} canary echoed in a response"

    # The one worker writes each access log line after its response: wait for the last
    # request it answered (the charset POST), not a guess of how long that takes.
    last = '"POST /providers/openrouter/rate/ HTTP/1.1" 400'
    deadline = time.monotonic() + 10
    while last not in access_log.read_text():
        assert time.monotonic() < deadline, f"gunicorn never logged {last}"
        time.sleep(0.05)
    logs = {"access log": access_log.read_text(), "error log": error_log.read_text()}
    for name, text in logs.items():
        for channel, canary in CANARIES.items():
            assert canary[6:] not in text, f"the {channel} canary is in gunicorn's {name}"
    access = logs["access log"]
    assert '"GET / HTTP/1.1" 400' in access  # the path, without its query string
    assert '"GET /providers/[redacted]/ HTTP/1.1" 400' in access
    assert '"POST /setup/6/ HTTP/1.1" 200' in access
    assert "Mozilla" not in access and "elsewhere.example" not in access
    assert "127.0.0.1" not in access  # no client address either
    assert "Invalid HTTP request line: 'GET /?q=[redacted]'" in logs["error log"]
    assert "Traceback" not in logs["error log"]


# --- the JSON API: a canary key in every place a client can put one, and a real API
# client token, searched for afterwards. The token may appear once: in the admin page that
# issues it. ------------------------------------------------------------------------------


def put_canary_through_the_api(host, token):
    auth = {"Authorization": f"Bearer {token}"}
    for url in (
        f"/api/v1/providers?q={CANARY}",
        f"/api/v1/providers/{CANARY}",
        f"/api/v1/providers/{CANARY}/history",
        f"/api/v1/models/{CANARY}",
        f"/api/v1/snapshots/{CANARY}.json",
    ):
        assert host.get(url).status_code == 400
        assert host.get(url, headers=auth).status_code == 400
    ratings = "/api/v1/providers/openrouter/ratings"
    refused = [
        host.post(ratings, {"rating": 5, "comment": CANARY}, content_type="application/json"),
        host.post(ratings, {"rating": 5, CANARY: 1}, content_type="application/json"),
        host.post(
            ratings,
            {"rating": 5},
            content_type="application/json",
            headers={**auth, "X-End-User": CANARY},
        ),
        host.post(
            ratings,
            {"rating": 5},
            content_type="application/json",
            headers={"Authorization": f"Bearer {CANARY}"},
        ),
        host.get("/api/v1/providers", headers={"Authorization": f"Bearer {CANARY}"}),
    ]
    assert [response.status_code for response in refused] == [400, 400, 400, 401, 401]
    # The token at work: reads, a counted rating, a refusal, a rating over its quota.
    assert host.get("/api/v1/providers", headers=auth).status_code == 200
    assert host.get("/api/v1/statistics", headers=auth).status_code == 200
    assert (
        host.post(
            ratings,
            {"rating": 5},
            content_type="application/json",
            headers={**auth, "X-End-User": "user-1"},
        ).status_code
        == 201
    )
    assert (
        host.post(ratings, {"rating": 9}, content_type="application/json", headers=auth).status_code
        == 400
    )
    assert (
        host.post(
            "/api/v1/providers/groq/ratings",
            {"rating": 4},
            content_type="application/json",
            headers={**auth, "X-End-User": "user-2"},
        ).status_code
        == 429
    )


def test_canary_and_token_through_the_api_are_found_nowhere(
    default_providers, debug_log_output, database_text
):
    from django.contrib.auth.models import User

    maintainer = Client()
    maintainer.force_login(User.objects.create_superuser("m", "m@example.com", "pw-not-used"))
    issued = maintainer.post(
        "/admin/api/apitoken/add/", {"name": "Canary host", "contact": "", "daily_quota": "1"}
    )
    token = re.search(r'value="(byok_[0-9a-f]{48})"', issued.content.decode()).group(1)
    host = Recorder(REMOTE_ADDR="203.0.113.60", HTTP_USER_AGENT="CanaryHost/1.0")
    put_canary_through_the_api(host, token)
    # The maintainer's pages after issuing it: the list, the token, the admin's history.
    after = Recorder()
    after.client = maintainer
    from api.models import ApiToken

    change = f"/admin/api/apitoken/{ApiToken.objects.get().pk}/change/"
    for page in ("/admin/api/apitoken/", change, "/admin/"):
        after.get(page)

    for secret in (SECRET_PART, token[6:]):
        found = {
            "database": secret in database_text(),
            "cache": secret.encode() in cache_contents(),
            "logs": secret in debug_log_output.getvalue(),
            "responses": secret in host.everything_sent() + after.everything_sent(),
        }
        assert found == dict.fromkeys(found, False), PLACES_SEARCHED
