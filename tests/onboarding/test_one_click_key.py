"""The one-click key (OAuth PKCE) through the real views, against a stand-in key service on
loopback (tests/key_service.py): the redirect, the callback, the exchange and its failures,
the state and the cookie."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from onboarding.wizard.oauth import COOKIE, code_challenge
from tests.key_service import forwards_to

RECEIVED = []


def receive_key(request, provider, api_key):
    """A host project's receiver, as BYOK_API_KEY_RECEIVER would name it."""
    RECEIVED.append((provider.provider_id, api_key))


@pytest.fixture(autouse=True)
def _no_receiver(settings):
    settings.BYOK_API_KEY_RECEIVER = None
    RECEIVED.clear()


START = reverse("onboarding:create-key") + "?p=openrouter&free=0"


def start(client, url=START):
    response = client.post(url)
    assert response.status_code == 200, response.content
    return response


def sign_in(client, key_service, url=START):
    """Press the button, sign in at the stand-in; the callback URL it sends us back to."""
    return key_service.sign_in(forwards_to(start(client, url)))


def test_step_5_offers_the_button_for_openrouter_only(client, default_providers, key_service):
    html = client.get(reverse("onboarding:setup-step", args=[5]) + "?p=openrouter").content.decode()
    form = re.search(r'<form method="post" action="([^"]+)">', html)
    assert form and form.group(1).replace("&amp;", "&") == (
        reverse("onboarding:create-key") + "?p=openrouter"
    )
    assert "Create a key for me" in html
    other = client.get(reverse("onboarding:setup-step", args=[5]) + "?p=groq").content.decode()
    assert "Create a key for me" not in other


def test_the_button_redirects_to_the_provider_with_an_s256_challenge(
    client, default_providers, key_service
):
    response = start(client)
    location = urlsplit(forwards_to(response))
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{key_service.url}/auth"
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert set(query) == {"callback_url", "code_challenge", "code_challenge_method"}
    assert query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"http://testserver/setup/create-key/[0-9a-f]{24}/", query["callback_url"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
    # The verifier is in a signed, short-lived, HttpOnly cookie for /setup/ only; no session.
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 600 and cookie["path"] == "/setup/"
    flow = json.loads(cookie.value.rsplit(":", 2)[0])  # "value:timestamp:signature"
    assert code_challenge(flow["v"]) == query["code_challenge"]
    assert query["callback_url"].endswith(f"/{flow['s']}/")
    assert flow["q"] == {"free": "0", "p": "openrouter"}
    assert not Session.objects.exists()
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_whole_flow_gives_step_6_with_the_key_masked(client, default_providers, key_service):
    callback = sign_in(client, key_service)
    assert "code=" in callback
    response = client.get(callback)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Step 6 of 7" in html
    assert "OpenRouter created a key for you." in html
    assert "It matches the format of OpenRouter keys." in html
    assert '<code class="masked-key">sk-or-…</code>' in html
    assert 'export OPENROUTER_API_KEY="&lt;your key&gt;"' in html
    assert "this one was discarded" in html
    assert key_service.key[6:] not in html
    # The stand-in checked the verifier against the challenge: a real PKCE exchange.
    method, path, body = key_service.requests[-1]
    assert (method, path) == ("POST", "/api/v1/auth/keys")
    assert set(body) == {"code", "code_verifier", "code_challenge_method"}
    # The wizard goes on with the filters it had; the cookie is gone; nothing cached.
    assert 'href="/setup/7/?free=0&amp;p=openrouter' in html
    assert response.cookies[COOKIE]["max-age"] == 0
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # the code goes to no other site
    assert not Session.objects.exists()


def test_the_key_goes_to_a_configured_receiver(client, default_providers, key_service, settings):
    settings.BYOK_API_KEY_RECEIVER = f"{__name__}.receive_key"
    html = client.get(sign_in(client, key_service)).content.decode()
    assert len(RECEIVED) == 1
    assert RECEIVED[0] == ("openrouter", key_service.key)
    assert "The application hosting this wizard received the key." in html
    assert key_service.key[6:] not in html


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (400, 502, "OpenRouter refused the request for your key (HTTP 400)."),
        (403, 502, "OpenRouter did not accept the sign-in (HTTP 403)"),
        (405, 502, "OpenRouter could not create your key (HTTP 405)."),
        (500, 502, "OpenRouter could not create your key (HTTP 500)."),
        ("timeout", 504, "OpenRouter did not answer within 0.5 seconds."),
        ("no key", 502, "OpenRouter answered, but with no key we could read."),
    ],
)
def test_the_key_services_failures_are_explained(
    client, default_providers, key_service, settings, answer, status, message
):
    settings.BYOK_API_KEY_RECEIVER = f"{__name__}.receive_key"
    key_service.answer = answer
    response = client.get(sign_in(client, key_service))
    assert response.status_code == status
    html = response.content.decode()
    assert message in html
    assert "Create a key for me again" in html  # and the paste form is still there
    assert 'name="api_key"' in html
    assert response.cookies[COOKIE]["max-age"] == 0
    assert RECEIVED == []


def test_an_unreachable_key_service_is_explained(client, default_providers, key_service, settings):
    callback = sign_in(client, key_service)
    key_service.stop()
    response = client.get(callback)
    assert response.status_code == 502
    assert "We could not reach OpenRouter to collect your key." in response.content.decode()


def test_a_code_is_good_once(client, default_providers, key_service):
    callback = sign_in(client, key_service)
    assert client.get(callback).status_code == 200
    again = client.get(callback)  # a refresh, or the link used twice
    assert again.status_code == 400
    assert "This key creation has expired" in again.content.decode()


def test_someone_elses_code_is_not_used(client, default_providers, key_service):
    """Login CSRF: a link to our callback with the attacker's own code, sent to a visitor
    whose own flow is under way, is refused by the state before any exchange."""
    attacker = type(client)()
    attackers_callback = sign_in(attacker, key_service)
    sign_in(client, key_service)  # the visitor's own flow
    exchanges = len([r for r in key_service.requests if r[0] == "POST"])
    response = client.get(attackers_callback)
    assert response.status_code == 400
    assert "not the one started in this browser" in response.content.decode()
    assert len([r for r in key_service.requests if r[0] == "POST"]) == exchanges


def test_a_callback_without_a_flow_or_code_is_a_clear_400(client, default_providers, key_service):
    url = reverse("onboarding:create-key-callback", args=["ab" * 12])
    response = client.get(url + "?code=x")
    assert response.status_code == 400
    assert "We have no key creation in progress for this browser" in response.content.decode()

    callback = sign_in(client, key_service)
    response = client.get(callback.split("?")[0])  # back without a code (cancelled)
    assert response.status_code == 400
    assert "OpenRouter sent no sign-in code back" in response.content.decode()


def test_a_forged_cookie_is_no_flow(client, default_providers, key_service):
    callback = sign_in(client, key_service)
    value = client.cookies[COOKIE].value
    client.cookies[COOKIE] = value.replace('"p": "openrouter"', '"p": "groq"')
    response = client.get(callback)
    assert response.status_code == 400
    assert "This key creation has expired" in response.content.decode()


def test_the_button_is_post_only_and_needs_a_provider_with_a_flow(
    client, default_providers, key_service
):
    assert client.get(START).status_code == 405
    response = client.post(reverse("onboarding:create-key") + "?p=groq")
    assert response.status_code == 404
    assert "cannot create a key from here" in response.content.decode()
    assert COOKIE not in response.cookies
    assert client.post(reverse("onboarding:create-key")).status_code == 404


def test_the_button_needs_the_csrf_token(default_providers, key_service):
    from django.test import Client

    assert Client(enforce_csrf_checks=True).post(START).status_code == 403


def test_only_the_callback_accepts_a_key_shaped_code(client, default_providers, key_service):
    shaped = "sk-or-v1-" + "a1b2c3d4" * 6
    assert client.get(f"/setup/6/?p=openrouter&code={shaped}").status_code == 400
    assert client.get(f"/?code={shaped}").status_code == 400
    callback = sign_in(client, key_service)
    assert client.get(callback).status_code == 200  # its code looks like a key too


def test_endpoints_must_be_https_outside_loopback(settings):
    from onboarding.checks import check_one_click_keys

    settings.BYOK_ONE_CLICK_KEYS = {
        "acme": {"auth_url": "https://acme.example/auth", "keys_url": "http://acme.example/k"}
    }
    assert [error.id for error in check_one_click_keys(None)] == ["onboarding.E003"]
    settings.BYOK_ONE_CLICK_KEYS = {
        "acme": {"auth_url": "https://acme.example/auth", "keys_url": "http://127.0.0.1:9/k"}
    }
    assert check_one_click_keys(None) == []


def test_a_second_provider_is_configuration(client, default_providers, key_service, settings):
    """Another provider with the same kind of flow: one more settings entry, no code."""
    settings.BYOK_ONE_CLICK_KEYS = {"groq": {**key_service.settings}}
    key_service.key = "gsk_" + "Z9y8X7w6V5u4" * 4
    html = client.get(reverse("onboarding:setup-step", args=[5]) + "?p=groq").content.decode()
    assert "Create a key for me" in html
    callback = sign_in(client, key_service, reverse("onboarding:create-key") + "?p=groq")
    html = client.get(callback).content.decode()
    assert "Groq created a key for you." in html
    assert '<code class="masked-key">gsk_Z9…</code>' in html


def test_a_head_request_does_not_spend_the_code(client, default_providers, key_service):
    callback = sign_in(client, key_service)
    assert client.head(callback).status_code == 405
    assert client.get(callback).status_code == 200
