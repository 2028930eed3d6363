"""static/js/search-guard.js in Chromium: a key typed or pasted into the browse search box
is never sent (no request carries it, htmx's nor a plain submit), the field says why, and
ordinary searches and the wizard's key check still work. Its detector is registry.secrets'
own, ported: the same patterns, the same answers."""

import random
import re
from pathlib import Path

from playwright.sync_api import expect

from registry import secrets

ROOT = Path(__file__).resolve().parents[2]
CANARY = "sk-or-v1-" + "ca11ab1e" * 8
SECRET_PART = CANARY[6:]


def record_requests(page):
    sent = []
    page.on("request", lambda request: sent.append(request.url + " " + (request.post_data or "")))
    return sent


def test_a_pasted_key_is_not_sent_and_the_field_says_why(page, default_providers, screenshot):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    sent = record_requests(page)
    search = page.get_by_label("Name")

    search.fill(CANARY)  # a paste: one input event
    alert = page.get_by_role("alert").filter(has_text="looks like an API key")
    expect(alert).to_be_visible()
    expect(search).to_have_attribute("aria-invalid", "true")
    page.wait_for_timeout(800)  # past htmx's 300 ms delay: a request would have gone
    screenshot(page, "browse-key-refused-1280")

    search.press("Enter")  # a plain submit
    page.wait_for_timeout(500)
    assert SECRET_PART not in page.url
    assert not [url for url in sent if SECRET_PART in url], sent

    # Typed quickly, character by character, with other filters around it.
    search.fill("")
    page.get_by_label("Free tier only").check()
    search.press_sequentially(f"my key {CANARY}", delay=5)
    page.wait_for_timeout(800)
    assert not [url for url in sent if SECRET_PART in url], sent

    # An ordinary search still goes out, and the message goes away.
    search.fill("deep")
    expect(page).to_have_url(re.compile(r"q=deep"))
    expect(alert).to_have_count(0)
    expect(search).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#card-deepseek")).to_be_visible()
    assert any("q=deep" in url for url in sent)
    assert errors == []


def test_the_wizards_key_field_still_posts_its_key(page, default_providers):
    page.goto("/setup/6/?p=openrouter")
    sent = record_requests(page)
    page.locator("#id_api_key").fill(CANARY)
    page.get_by_role("button", name="Check the format").click()
    expect(page.locator(".wizard-verdict").get_by_text("It matches the format")).to_be_visible()
    # In the POST body only, never in a URL.
    assert any(SECRET_PART in entry.split(" ", 1)[1] for entry in sent)
    assert not [entry for entry in sent if SECRET_PART in entry.split(" ", 1)[0]]


PATTERNS = ["SECRET_RE", "SPLIT_SECRET_RE", "PREFIXED_RE", "GIT_HASH_RE", "DIGEST_LABEL_RE"]
PATTERNS += ["HEX_RE", "TOKEN_LINE_RE"]


def test_the_script_carries_the_detectors_patterns_verbatim():
    script = (ROOT / "static" / "js" / "search-guard.js").read_text()
    for name in PATTERNS:
        found = re.search(rf'var {name} = new RegExp\((?:"\^" \+ )?String\.raw`([^`]*)`', script)
        assert found, name
        assert found.group(1) == getattr(secrets, name).pattern, name
    assert secrets.DIGEST_LABEL_RE.flags & re.IGNORECASE
    assert re.search(r'var DIGEST_LABEL_RE = new RegExp\(.*, "i"\);', script)


def samples():
    """Keys, disguised keys, prose, and random mixtures of key characters, invisible
    characters, fullwidth letters and line breaks (seeded: the same every run)."""
    fixed = [
        CANARY,
        "\u200b".join(CANARY),
        "".join(chr(ord(c) + 0xFEE0) for c in CANARY),
        "\n".join(CANARY[i : i + 9] for i in range(0, len(CANARY), 9)),
        "Xq7aB3dE5fG7hJ9kL2maB3dE5fG7hJ9kL2m",
        "3f9a7c1e5b2d8a4f6c0e9b7d1a3c5e7f9b1d3a5c",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "550e8400-e29b-41d4-a716-446655440000",
        "mistralai-mixtral-8x22b-instruct-v0-1",
        "The free tier is very limited, expect 401 errors on the first day.",
        "Keys start with sk-\nand are shown once.",
    ]
    pieces = ["sk-", "or-", "v1-", "hf_", "gsk_", "a1B2", "c3d4e5f6", "-", "_", " ", "\n", "\r\n"]
    pieces += ["\u200b", "\u00ad", "\ufeff", "\uff41", "\uff11", "\u3164", "x" * 20, "9" * 10]
    rng = random.Random(11)
    mixed = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(400)]
    return fixed + mixed


def test_the_script_and_the_server_agree(page, db):
    page.goto("/")
    texts = samples()
    in_browser = page.evaluate("texts => texts.map(t => window.BYOK.looksLikeSecret(t))", texts)
    on_server = [secrets.looks_like_secret(text) for text in texts]
    disagree = [text for text, a, b in zip(texts, in_browser, on_server, strict=True) if a != b]
    assert disagree == []
    assert sum(on_server) > 50 and len(texts) - sum(on_server) > 50  # both answers occur
