"""Step 6: the API key is checked, shown only masked, handed to a configured host receiver,
and otherwise found nowhere: not in the database, the session, the logs, a URL or a page."""

import logging
import re

import pytest
from django.urls import reverse

HTMX = {"HX-Request": "true"}
# Matches OpenRouter's pattern ^sk-or-(v1-)?[A-Za-z0-9]{20,}$ and is unique enough to search for.
CANARY = "sk-or-v1-CanaryKey7f3a9c2e5b8d1f4a6c9e2b5d8f1a4c7e"
MASKED = "sk-or-…"


def key_url(provider_id="openrouter", **params):
    query = "&".join(f"{name}={value}" for name, value in {"p": provider_id, **params}.items())
    return f"{reverse('onboarding:setup-step', args=[6])}?{query}"


RECEIVED = []


def receive_key(request, provider, api_key):
    """A host project's receiver, as BYOK_API_KEY_RECEIVER would name it."""
    RECEIVED.append((request.method, provider.provider_id, api_key))


def broken_receiver(request, provider, api_key):
    raise RuntimeError(f"could not store {api_key}")


@pytest.fixture(autouse=True)
def _no_receiver(settings):
    settings.BYOK_API_KEY_RECEIVER = None
    RECEIVED.clear()


def test_key_form_is_a_post_form_with_a_password_field(client, default_providers):
    html = client.get(key_url()).content.decode()

    form = re.search(r"<form [^>]*id=\"key-form\"[^>]*>", html).group(0)
    assert 'method="post"' in form
    assert "hx-post=" in form
    field = re.search(r"<input [^>]*name=\"api_key\"[^>]*>", html).group(0)
    assert 'type="password"' in field
    assert 'autocomplete="off"' in field
    assert "value=" not in field
    assert re.search(r'<label for="id_api_key"[^>]*>Your API key', html)
    assert 'export OPENROUTER_API_KEY="&lt;your key&gt;"' in html
    assert "Skip: rate your experience" in html


def test_a_matching_key_looks_right_and_is_shown_only_masked(client, default_providers):
    response = client.post(key_url(), {"api_key": f"  {CANARY}\n"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "✅ Looks right" in html
    assert "It matches the format of OpenRouter keys." in html
    assert f'<code class="masked-key">{MASKED}</code>' in html
    assert CANARY not in html
    assert CANARY[:10] not in html
    assert 'export OPENROUTER_API_KEY="&lt;your key&gt;"' in html
    assert "Rate your experience" in html


@pytest.mark.parametrize(
    ("provider_id", "key", "hint"),
    [
        (
            "openrouter",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "OpenRouter keys start with sk-or-.",
        ),
        (
            "anthropic",
            "sk-or-v1-abcdefghijklmnopqrstuvwxyz0123",
            "Anthropic (Claude) keys start with sk-ant-.",
        ),
        ("huggingface", "hf_short", "Hugging Face keys start with hf_."),
        (
            "github-models",
            "gho_abcdefghijklmnopqrstuvwxyz",
            "keys start with ghp_ or github_pat_.",
        ),
        ("mistral", "not a key at all, with spaces", "Check that you copied all of it."),
    ],
)
def test_a_key_in_the_wrong_format_gets_a_clear_verdict(
    client, default_providers, provider_id, key, hint
):
    html = client.post(key_url(provider_id), {"api_key": key}).content.decode()

    assert "❌ Doesn't match the expected format" in html
    assert hint in html
    assert key not in html


def test_a_provider_without_a_known_format_says_it_cannot_check(client, default_providers):
    html = client.post(key_url("togetherai"), {"api_key": "abcdef0123456789abcdef"}).content
    html = html.decode()

    assert "Can't check this format" in html
    assert "We have no key format on file for" in html
    assert "abcdef0123456789abcdef" not in html


def test_a_short_key_is_not_even_partly_shown(client, default_providers):
    html = client.post(key_url(), {"api_key": "sk-or-abc"}).content.decode()

    assert "sk-or-abc" not in html
    assert "(too short to show)" in html


def test_an_empty_key_asks_for_one_or_to_skip(client, default_providers):
    response = client.post(key_url(), {"api_key": "   "})

    assert response.status_code == 200
    assert "Paste your key to check it, or skip this step." in response.content.decode()


def test_an_overlong_key_is_refused_without_echoing_it(client, default_providers):
    key = "sk-or-" + "x" * 600

    html = client.post(key_url(), {"api_key": key}).content.decode()

    assert "longer than any API key we know" in html
    assert "x" * 50 not in html


def test_the_key_is_nowhere_after_the_check(client, default_providers, caplog, database_text):
    caplog.set_level(logging.DEBUG)

    response = client.post(key_url(), {"api_key": CANARY})
    htmx_response = client.post(key_url(), {"api_key": CANARY}, headers=HTMX)
    next_page = client.get(key_url().replace("/6/", "/7/"))

    for page in (response, htmx_response, next_page):
        assert CANARY not in page.content.decode()
        assert CANARY not in str(page.headers)
    assert CANARY not in database_text()  # sessions, events, everything
    assert all(CANARY not in str(value) for value in client.session.values())
    assert CANARY not in caplog.text
    assert "no-store" in response.headers["Cache-Control"]
    assert "api_key" not in response.headers.get("HX-Push-Url", "")


def test_the_key_never_reaches_a_url(client, default_providers):
    html = client.get(key_url()).content.decode()

    form = re.search(r"<form [^>]*id=\"key-form\"[^>]*>", html).group(0)
    assert 'method="post"' in form
    # A GET with a key in the query string is ignored, not checked.
    response = client.get(key_url(api_key=CANARY))
    assert "Looks right" not in response.content.decode()


def test_the_htmx_verdict_is_a_fragment_kept_out_of_the_history_cache(client, default_providers):
    response = client.post(key_url(), {"api_key": CANARY}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert "✅ Looks right" in html
    assert 'hx-history="false"' in html
    assert "HX-Push-Url" not in response.headers  # the URL stays the step's GET address


def test_the_key_is_a_sensitive_post_parameter(rf, default_providers):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.views.debug import SafeExceptionReporterFilter

    from onboarding.wizard import steps as wizard

    request = rf.post(key_url(), {"api_key": CANARY})
    request.htmx = False
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True
    wizard.step(request, 6)

    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleansed["api_key"] != CANARY
    assert set(cleansed["api_key"]) == {"*"}


def test_a_configured_receiver_gets_the_key(client, default_providers, settings):
    settings.BYOK_API_KEY_RECEIVER = f"{__name__}.receive_key"

    html = client.post(key_url(), {"api_key": CANARY}).content.decode()

    assert RECEIVED == [("POST", "openrouter", CANARY)]
    assert "The application hosting this wizard received the key." in html
    assert "The application that hosts this wizard also receives it" in html
    assert CANARY not in html


def test_no_receiver_by_default_and_none_for_an_empty_form(client, default_providers, settings):
    client.post(key_url(), {"api_key": CANARY})
    settings.BYOK_API_KEY_RECEIVER = f"{__name__}.receive_key"
    client.post(key_url(), {"api_key": ""})
    client.get(key_url())

    assert RECEIVED == []


def test_a_failing_receiver_is_reported_without_the_key(
    client, default_providers, settings, caplog
):
    settings.BYOK_API_KEY_RECEIVER = f"{__name__}.broken_receiver"
    caplog.set_level(logging.DEBUG)

    response = client.post(key_url(), {"api_key": CANARY})

    html = response.content.decode()
    assert response.status_code == 200
    assert "could not take the key" in html
    assert "✅ Looks right" in html
    assert CANARY not in html
    assert CANARY not in caplog.text
    assert "RuntimeError" in caplog.text


def test_step_6_measures_the_time_for_step_7(client, default_providers):
    from onboarding.wizard.state import sign_start

    token = sign_start(__import__("time").time() - 9 * 60 - 30)

    html = client.get(key_url(t=token, m=3)).content.decode()  # m: from an earlier walk

    next_url = re.search(r'class="wizard-next"[^>]*href="([^"]+)"', html).group(1)
    assert "m=10" in next_url
    assert next_url.startswith("/setup/7/?")
