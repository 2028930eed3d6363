"""Key-shaped text is recognised, refused in free text and redacted from logs."""

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.secrets import (
    PASTED_KEY_MESSAGE,
    RedactSecretsFilter,
    looks_like_secret,
    mask_key,
    redact,
)

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


# --- obfuscated keys: what the detector reads after normalising ---------------------------

CANARY = "sk-or-v1-" + "ca11ab1e" * 8
UNPREFIXED = "Xq7" + "aB3dE5fG7hJ9kL2m" * 2  # 35 characters of mixed case and digits


def every_character_apart(text, between):
    return between.join(text)


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def over_lines(text, width, indent=""):
    return "\n".join(indent + text[i : i + width] for i in range(0, len(text), width))


OBFUSCATED = {
    "zero-width space between every character": every_character_apart(CANARY, "\u200b"),
    "zero-width joiner and non-joiner": every_character_apart(CANARY, "\u200d\u200c"),
    "soft hyphen between every character": every_character_apart(CANARY, "\u00ad"),
    "word joiner and BOM": every_character_apart(CANARY, "\u2060\ufeff"),
    "bidi marks": every_character_apart(CANARY, "\u200e\u200f"),
    "combining grapheme joiner": every_character_apart(CANARY, "\u034f"),
    "Hangul filler": every_character_apart(CANARY, "\u3164"),
    "fullwidth characters": fullwidth(CANARY),
    "fullwidth with zero-width spaces": every_character_apart(fullwidth(CANARY), "\u200b"),
    "mathematical bold letters": "".join(
        chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in CANARY
    ),
    "split over lines of 16": over_lines(CANARY, 16),
    "split over lines of 5, indented": over_lines(CANARY, 5, indent="    "),
    "split over CRLF lines": over_lines(CANARY, 12).replace("\n", "\r\n"),
    "split over lines after prose": "my key is " + over_lines(CANARY, 20) + "\nthanks",
    "unprefixed, split over lines": "use\n" + over_lines(UNPREFIXED, 9) + "\nas the key",
    "control characters between": every_character_apart(CANARY, "\x07"),
}


@pytest.mark.parametrize("name", sorted(OBFUSCATED))
def test_obfuscated_keys_are_recognised(name):
    text = OBFUSCATED[name]
    assert looks_like_secret(text)
    assert looks_like_secret(f"Great provider! {text} works for me.")


@pytest.mark.parametrize("name", sorted(OBFUSCATED))
def test_obfuscated_keys_are_redacted_whole(name):
    redacted = redact(f"got {OBFUSCATED[name]} from the form")
    assert "[redacted]" in redacted
    assert not looks_like_secret(redacted)
    assert "ca11ab1e" not in redacted and "aB3dE5fG" not in redacted


NOT_KEYS = {
    "prose": "Sign up took two minutes; the free tier gives 50 requests a day at 20/minute.",
    "prose with numbers over lines": "Limited at 20\nrequests per minute, 200 per day\nfor v1",
    "URL with a path and query": "https://openrouter.ai/docs/api-reference/authentication?x=1",
    "GitHub commit link": "Fixed in https://github.com/openai/openai-python/commit/"
    "3f9a7c1e5b2d8a4f6c0e9b7d1a3c5e7f9b1d3a5c",
    "git commit hash": "Broke after 3f9a7c1e5b2d8a4f6c0e9b7d1a3c5e7f9b1d3a5c, reverted.",
    "UUID request id": "Support asked for request id 550e8400-e29b-41d4-a716-446655440000.",
    "upper-case UUID": "org 550E8400-E29B-41D4-A716-446655440000 was suspended",
    "labelled sha256 digest": "Image sha256:"
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 is the fixed one",
    "env var names": "export OPENROUTER_API_KEY=... or GOOGLE_GENERATIVE_AI_API_KEY",
    "long snake_case identifier": "set OPENAI_ORGANIZATION_ID_FOR_BILLING_PURPOSES in .env",
    "code snippet": (
        "from openai import OpenAI\n"
        "client = OpenAI(\n"
        '    base_url="https://openrouter.ai/api/v1",\n'
        '    api_key=os.environ["OPENROUTER_API_KEY"],\n'
        ")\n"
        'print(client.models.list().data[0].id)  # e.g. "meta-llama/llama-3.1-8b-instruct"\n'
    ),
    "curl with a bearer variable": 'curl -H "Authorization: Bearer $GROQ_API_KEY" '
    "https://api.groq.com/openai/v1/models",
    "numbered steps": "1. Open the dashboard\n2. Click Keys\n3. Create\n4. Copy it once",
    "bulleted model list": "Free models:\n- llama-3.1-8b\n- mistral-7b-instruct\n- gemma-2-9b",
    "a column of bare model names": "These worked:\nmistral-7b\ngemma-2-9b\nqwen-2-72b\n"
    "phi-3-mini\nllama-3-70b\ndeepseek-coder-33b",
    "a column of numbers": "Latency (ms):\n120\n340\n95\n1200\n88\n420\n77\n365\n990\n123",
    "long hyphenated model ids": "mistralai-mixtral-8x22b-instruct-v0-1 or "
    "nvidia-llama-3-1-nemotron-70b-instruct-hf-2024-10 on the free tier",
    "model ids with dates": "claude-3-5-sonnet-20241022 and gpt-4o-2024-08-06 both work",
    "fullwidth prose": fullwidth("free tier is very limited, only 20 requests a day"),
    "Japanese": "\u7121\u6599\u67a0\u306f\u9650\u3089\u308c\u3066\u3044\u307e\u3059 1\u65e520",
    "emoji and joiners": "Works great \U0001f469\u200d\U0001f4bb\U0001f44d\U0001f3fd on free",
    "Keys start with sk- over a line break": "Keys start with sk-\nand are shown once.",
    "base64 of a short word": "The header is Basic dXNlcjpwYXNz, which is user:pass.",
    "IPv6 address": "Blocked from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 for an hour",
}


@pytest.mark.parametrize("name", sorted(NOT_KEYS))
def test_ordinary_text_urls_hashes_and_code_are_not_keys(name):
    text = NOT_KEYS[name]
    assert not looks_like_secret(text)
    assert redact(text) == text


def test_bare_hex_of_key_length_still_counts_as_a_key():
    # Decided: 32- and 64-character hex is what some providers issue as keys (Azure-style,
    # legacy Together AI), so it is refused; 40-character lowercase hex is a git hash.
    assert looks_like_secret("key " + "a3f9" * 8)
    assert looks_like_secret("key " + "a3f9" * 16)
    assert not looks_like_secret("commit " + "a3f9" * 10)
    assert looks_like_secret("commit " + "A3F9" * 10)


@given(st.text(max_size=300))
def test_redacted_text_never_looks_like_a_key(text):
    assert not looks_like_secret(redact(text))


@given(
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    between=st.sampled_from(["", "\u200b", "\u00ad", "\ufeff", "\u2060"]),
)
def test_a_key_anywhere_is_recognised_and_redacted(before, after, between):
    text = f"{before} {between.join(CANARY)} {after}"
    assert looks_like_secret(text)
    assert "ca11ab1e" not in redact(text)


@pytest.mark.parametrize("name", sorted(OBFUSCATED))
def test_an_obfuscated_key_is_refused_as_a_tip_over_http(client, default_providers, name):
    from django.utils.html import escape

    from registry.models import ProTip

    response = client.post("/providers/openrouter/tips/", {"text": OBFUSCATED[name]})
    assert response.status_code == 200
    assert escape(PASTED_KEY_MESSAGE) in response.content.decode()
    assert not ProTip.objects.filter(from_community=True).exists()


def test_log_filter_redacts_an_obfuscated_key():
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "Not Found: /providers/%s/", (fullwidth(CANARY),), None
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "Not Found: /providers/[redacted]/"


def test_text_shorter_than_any_key_is_skipped_safely():
    try:  # the width of a pattern, as the regex engine computes it
        from re import _parser
    except ImportError:  # Python 3.10
        import sre_parse as _parser

    from registry.secrets import SECRET_RE, SHORTEST_KEY, SPLIT_SECRET_RE

    for pattern in (SECRET_RE, SPLIT_SECRET_RE):
        assert _parser.parse(pattern.pattern).getwidth()[0] == SHORTEST_KEY
    assert looks_like_secret("sk-or-" + "a1" * 4)  # exactly SHORTEST_KEY characters
    assert not looks_like_secret("sk-or-" + "a1b2c3d")
