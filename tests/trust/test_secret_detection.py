"""Key-shaped text is recognised, refused in free text and redacted from logs."""

import logging

import pytest

from registry.secrets import RedactSecretsFilter, looks_like_secret, mask_key, redact

KEYS = [
    "sk-proj-4fG7hJ2kL9mN3pQ8rS1tU6vW",
    "sk-ant-api03-AbCdEf123456GhIjKl",
    "sk-or-v1-0123456789abcdef0123456789abcdef",
    "hf_AbCdEfGhIjKlMnOpQrStUv",
    "gsk_AbCdEfGhIjKlMnOpQrStUv12",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStU",
    "xai-AbCdEfGhIjKlMnOp1234",
    "3f9a7c1e5b2d8a4f6c0e9b7d1a3c5e7f",  # unprefixed hex key
]

ORDINARY = [
    "The free tier is very limited, expect 401 errors on the first day.",
    "Use https://openrouter.ai/keys to make a key, then set OPENROUTER_API_KEY.",
    "Keys start with sk- and are shown once.",
    "Rate limited at 20 requests/minute; top up $5 to lift it.",
    "",
]


@pytest.mark.parametrize("key", KEYS)
def test_keys_are_recognised_alone_and_inside_text(key):
    assert looks_like_secret(key)
    assert looks_like_secret(f"my key is {key}, does it work?")
    assert key not in redact(f"my key is {key}, does it work?")


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_advice_is_not_mistaken_for_a_key(text):
    assert not looks_like_secret(text)


def test_mask_shows_only_the_first_six_characters():
    assert mask_key("sk-or-v1-0123456789abcdef") == "sk-or-…"


def test_log_filter_redacts_messages_arguments_and_exceptions():
    key = KEYS[2]
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (key,), None)
    RedactSecretsFilter().filter(record)
    assert key not in record.getMessage()
    assert "[redacted]" in record.getMessage()

    try:
        raise ValueError(f"bad key {key}")
    except ValueError as error:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, (ValueError, error, None)
        )
    RedactSecretsFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert key not in formatted


def test_configured_handlers_carry_the_filter():
    # pytest adds its own capture handlers; look at the stream handlers we configured.
    handlers = [
        handler
        for logger in (logging.getLogger(), logging.getLogger("django"))
        for handler in logger.handlers
        if type(handler) is logging.StreamHandler
    ]
    assert len(handlers) == 2
    assert all(any(isinstance(f, RedactSecretsFilter) for f in h.filters) for h in handlers)
