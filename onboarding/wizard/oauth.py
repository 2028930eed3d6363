"""One-click keys: "Create a key for me" in the wizard, for providers whose sign-in hands the
visitor a key through OAuth PKCE (OpenRouter's, https://openrouter.ai/docs/oauth).

1. The visitor presses the button (a POST, with CSRF). We make a random verifier and a
   state, keep them in a short-lived signed cookie, and send the visitor on to
   ``{auth_url}?callback_url=…&code_challenge=…&code_challenge_method=S256`` (a page that
   forwards at once: see to_provider.html for why not a 303).
2. The provider sends the visitor back to the callback URL, which names the state in its
   path, with ``?code=``.
3. The state must match the cookie's (no one can hand the visitor a code of their own);
   we POST the code and the verifier to the provider's keys endpoint and get the key.
4. The key is treated exactly as a key typed in step 6: checked against the provider's
   format, shown masked with its export line, handed to BYOK_API_KEY_RECEIVER if one is
   configured, and otherwise discarded. It is never stored, logged, cached, put in a URL,
   a cookie or the session.

The cookie is the flow's only state, for at most FLOW_MAX_AGE seconds, and is deleted when
the visitor comes back: the site otherwise sets no session for visitors. Which providers
have such a flow, and their endpoints, is configuration (settings.BYOK_ONE_CLICK_KEYS):
another provider with the same kind of flow is one more entry there, not code.
"""

import base64
import hashlib
import http.client
import json
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from registry.models import Provider

from . import steps
from .forms import KEY_MAX_LENGTH
from .keys import take_key
from .state import WizardState

logger = logging.getLogger(__name__)

COOKIE = "byok_key_flow"
COOKIE_SALT = "onboarding.wizard.oauth"
FLOW_MAX_AGE = 10 * 60  # seconds to sign in at the provider and come back
STATE_BYTES = 12  # hex in the callback's path: never mistaken for a key (byok_site/middleware)
CODE_MAX_LENGTH = 1000
ANSWER_MAX_BYTES = 64 * 1024
DEFAULT_TIMEOUT = 10.0  # seconds


@dataclass(frozen=True)
class KeyFlow:
    """One provider's configured flow (an entry of settings.BYOK_ONE_CLICK_KEYS)."""

    auth_url: str
    keys_url: str
    key_field: str = "key"  # where the keys endpoint's JSON answer puts the key
    timeout: float = DEFAULT_TIMEOUT


def flow_for(provider_id):
    """The provider's one-click flow, or None when it has none."""
    entry = getattr(settings, "BYOK_ONE_CLICK_KEYS", {}).get(provider_id)
    if not entry:
        return None
    return KeyFlow(
        auth_url=entry["auth_url"],
        keys_url=entry["keys_url"],
        key_field=entry.get("key_field", "key"),
        timeout=float(entry.get("timeout", getattr(settings, "BYOK_ONE_CLICK_TIMEOUT", 10))),
    )


def code_challenge(verifier):
    """RFC 7636 S256: base64url(SHA-256(verifier)), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _cookie_path():
    return reverse("onboarding:setup")


def _auth_redirect(flow, callback_url, challenge):
    separator = "&" if urlsplit(flow.auth_url).query else "?"
    query = urlencode(
        {"callback_url": callback_url, "code_challenge": challenge, "code_challenge_method": "S256"}
    )
    return f"{flow.auth_url}{separator}{query}"


# --- 1. the button -------------------------------------------------------------------------


@require_POST
@sensitive_variables("verifier")
def start(request):
    """Begin the flow for the wizard's chosen provider (`p` and the rest of the wizard's
    state in the query string, as on every step)."""
    state = WizardState.from_query(request.GET)
    provider = Provider.objects.published().filter(provider_id=state.provider_id).first()
    flow = flow_for(state.provider_id) if provider else None
    if flow is None:
        return _problem_page(
            request,
            "No one-click key here",
            "This provider cannot create a key from here. Go back to the setup wizard and "
            "use its sign-up links instead.",
            status=404,
        )
    verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 allows 43 to 128
    flow_state = secrets.token_hex(STATE_BYTES)
    callback = request.build_absolute_uri(
        reverse("onboarding:create-key-callback", args=[flow_state])
    )
    response = render(
        request,
        "onboarding/wizard/to_provider.html",
        {
            "provider": provider,
            "auth_url": _auth_redirect(flow, callback, code_challenge(verifier)),
            "minutes": FLOW_MAX_AGE // 60,
        },
    )
    add_never_cache_headers(response)
    cookie = {"v": verifier, "s": flow_state, "p": provider.provider_id, "q": state.params()}
    response.set_signed_cookie(
        COOKIE,
        json.dumps(cookie),
        salt=COOKIE_SALT,
        max_age=FLOW_MAX_AGE,
        path=_cookie_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        # Lax: sent when the provider's page sends the visitor back (a top-level GET).
        samesite="Lax",
    )
    return response


# --- 2 and 3. back from the provider ---------------------------------------------------------


# GET only: a HEAD (a link checker, a prefetch) must not spend the visitor's one-time code.
@require_GET
@sensitive_variables("flow", "code", "api_key")
def callback(request, state):
    """The provider sends the visitor back here with `?code=`: exchange it for the key and
    show step 6 as for a key typed there. Whatever happens, the flow's cookie is deleted:
    a code is good once, and so is this page."""
    flow = _read_cookie(request)
    if flow is None:
        response = _problem_page(
            request,
            "This key creation has expired",
            "We have no key creation in progress for this browser: it was finished already, "
            f"or started more than {FLOW_MAX_AGE // 60} minutes ago, or in another browser. "
            "Go back to the setup wizard and start it again.",
            status=400,
        )
        return _finish(response)
    wizard = WizardState.from_query(_query(flow["q"]))
    provider = Provider.objects.published().filter(provider_id=flow["p"]).first()
    key_flow = flow_for(flow["p"]) if provider else None
    if key_flow is None:
        response = _problem_page(
            request,
            "No one-click key here",
            "That provider cannot create a key from here any more. Go back to the setup "
            "wizard and use its sign-up links instead.",
            status=404,
        )
        return _finish(response)
    name = provider.provider_name
    code = request.GET.get("code", "")

    def refused(problem, status):
        return _finish(
            steps.render_key_step(request, wizard, provider, problem=problem, status=status)
        )

    if not secrets.compare_digest(state, flow["s"]):
        # Not the visitor's own flow: someone else's link, or an older attempt.
        return refused(
            "This sign-in was not the one started in this browser, so we did not use it. "
            "Start again below.",
            400,
        )
    if not code or len(code) > CODE_MAX_LENGTH:
        return refused(
            f"{name} sent no sign-in code back (was the sign-in cancelled?). Start again below.",
            400,
        )
    try:
        api_key = exchange(key_flow, code, flow["v"])
    except ExchangeFailed as failure:
        logger.warning("One-click key for %s failed: %s", provider.provider_id, failure)
        return refused(failure.message(name, key_flow), 504 if failure.kind == "timeout" else 502)
    outcome = take_key(request, provider, api_key, created=True)
    del api_key
    return _finish(steps.render_key_step(request, wizard, provider, outcome=outcome))


def _read_cookie(request):
    """The flow in the visitor's cookie, or None when it is missing, forged or expired."""
    try:
        value = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=FLOW_MAX_AGE)
        flow = json.loads(value)
    except (KeyError, signing.BadSignature, ValueError):
        return None
    if not isinstance(flow, dict) or not all(
        isinstance(flow.get(name), str) for name in ("v", "s", "p")
    ):
        return None
    if not isinstance(flow.get("q"), dict):
        return None
    return flow


def _query(params):
    query = QueryDict(mutable=True)
    query.update({str(name): str(value) for name, value in params.items()})
    return query


def _finish(response):
    """Every answer of the callback: the flow's cookie deleted, nothing cached. (The page's
    address holds the code; the site's Referrer-Policy, same-origin, sends it to no other
    site, and "no-referrer" here would make the page's own forms fail their CSRF check:
    Chromium then sends "Origin: null".)"""
    response.delete_cookie(COOKIE, path=_cookie_path(), samesite="Lax")
    add_never_cache_headers(response)
    return response


def _problem_page(request, title, reason, *, status):
    response = render(request, "400.html", {"title": title, "reason": reason}, status=status)
    add_never_cache_headers(response)
    return response


# --- the exchange ------------------------------------------------------------------------------


class ExchangeFailed(Exception):
    """The keys endpoint gave no key. `kind`: timeout, unreachable, refused, unreadable."""

    def __init__(self, kind, status=None):
        super().__init__(kind if status is None else f"{kind} (HTTP {status})")
        self.kind = kind
        self.status = status

    def message(self, name, flow):
        """What the visitor reads. Never the endpoint's own text: it could repeat anything."""
        again = "Start again below, or create a key on its site and paste it."
        if self.kind == "timeout":
            return f"{name} did not answer within {flow.timeout:g} seconds. {again}"
        if self.kind == "unreachable":
            return f"We could not reach {name} to collect your key. {again}"
        if self.kind == "unreadable":
            return f"{name} answered, but with no key we could read. {again}"
        if self.status == 403:
            return (
                f"{name} did not accept the sign-in (HTTP 403): it may have expired, been "
                f"used already or been cancelled. {again}"
            )
        if self.status == 400:
            return f"{name} refused the request for your key (HTTP 400). {again}"
        return f"{name} could not create your key (HTTP {self.status}). {again}"


@sensitive_variables("code", "verifier", "body", "answer", "key")
def exchange(flow, code, verifier):
    """POST the code and the verifier to the provider's keys endpoint; return the key.

    One request, no redirect followed (the code and the verifier go to the configured
    endpoint only) and no proxy, with the flow's timeout; the answer is read up to
    ANSWER_MAX_BYTES. Raises ExchangeFailed."""
    parts = urlsplit(flow.keys_url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    body = json.dumps(
        {"code": code, "code_verifier": verifier, "code_challenge_method": "S256"}
    ).encode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname, parts.port, timeout=flow.timeout)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        answer = response.read(ANSWER_MAX_BYTES + 1)
    except TimeoutError:
        raise ExchangeFailed("timeout") from None
    except (OSError, http.client.HTTPException):
        raise ExchangeFailed("unreachable") from None
    finally:
        connection.close()
    if response.status != 200:
        raise ExchangeFailed("refused", response.status)
    try:
        key = json.loads(answer)[flow.key_field]
    except (ValueError, KeyError, TypeError):
        raise ExchangeFailed("unreadable") from None
    if not isinstance(key, str) or not key.strip() or len(key.strip()) > KEY_MAX_LENGTH:
        raise ExchangeFailed("unreadable")
    return key.strip()
