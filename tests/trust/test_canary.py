"""The canary: a recognisable API key is put through the wizard, every form and error
paths, and is then searched for everywhere the site could keep or repeat it."""

import io
import logging
import pickle

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.utils.html import escape

from registry.secrets import PASTED_KEY_MESSAGE, mask_key

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
    assert visitor.get(f"/providers/{CANARY}/").status_code == 404
    visitor.post(wizard, {"api_key": CANARY * 20})

    # The browse search box, as a page and as an htmx swap.
    visitor.get("/", {"q": CANARY})
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
