"""One check of raw request input, before any view, cache, redirect or form sees it.

Three kinds of input are refused here with the site's 400 page, so that no view has to
remember them:

- A form body declared in a charset other than UTF-8. Django refuses to decode it, and
  then its error views re-run the CSRF check, which reads the body again: every such POST
  was a 500 with a 48 KB traceback, on every URL.
- A NUL character in the path, a query parameter or a form field. PostgreSQL rejects NUL in
  text, so a lookup by it was a 500 there (and a 404 on SQLite).
- Anything key-shaped (registry.secrets) in the path or a query parameter. A key in a URL
  would otherwise reach pages, the Location and HX-Push-Url headers, the page cache, and
  the logs of every proxy on the way. The refusal never repeats the value, and it is sent
  with Cache-Control: no-store. Keys belong in the wizard's POST form only.

It sits inside django-csp's middleware (so the refusal carries the site's CSP) and before
everything that reads the body or echoes the URL: sessions, CommonMiddleware's
APPEND_SLASH redirect, CSRF and the views.

Also here: the 308 that keeps a POST to an address without its slash, and django-csp's and
Django's messages middleware as the site uses them, which the JSON API passes by cheaply
(its answers carry their own policy, and it shows no messages).
"""

import codecs
import re

from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import is_valid_path
from django.utils.cache import add_never_cache_headers

from api.middleware import API_PREFIX
from registry.secrets import looks_like_secret

FORM_URLENCODED = "application/x-www-form-urlencoded"

# Query parameters whose values the site signs itself: the wizard's start time (t) and its
# result (done). Their signatures are random-looking by design; the views use a value
# only once its signature verifies, so an unsigned one is never echoed.
SIGNED_PARAMETERS = frozenset({"t", "done"})

# The one-click key's callback (onboarding/wizard/oauth.py) receives the provider's one-time
# authorization code as `code`, random-looking by design. Exempt there only: the view sends
# it nowhere but the provider's configured keys endpoint, in a POST body, never shows or
# logs it, and the code is worth nothing without the verifier, which never leaves this
# server and the visitor's signed cookie.
ONE_CLICK_CALLBACK = re.compile(r"/setup/create-key/[0-9a-f]+/\Z")

REFUSALS = {
    "charset": (
        "We could not read that form",
        "It was sent in a character encoding other than UTF-8, which this site does not "
        "accept. Go back, reload the page and send it again.",
    ),
    "nul": (
        "We could not use that request",
        "The address or the form contained a NUL character (%00), which no page here "
        "accepts. Go back and try again without it.",
    ),
    "key": (
        "That address contained an API key",
        "That address contained something that looks like an API key, so we did not use "
        "it. Never put a key in a URL: addresses end up in browser history, server logs "
        "and shared links. If it was a real key, revoke it in your provider's dashboard "
        "and make a new one.",
    ),
}


# The stable codes of the JSON API's refusals.
API_CODES = {"charset": "invalid_charset", "nul": "nul_character", "key": "key_in_url"}


def refuse_unusable_input(get_response):
    def middleware(request):
        problem = unusable_input(request)
        if problem is None:
            return get_response(request)
        title, reason = REFUSALS[problem]
        if request.path_info.startswith("/api/"):
            # The JSON API's clients get its JSON error (api/errors.py), not a page.
            response = JsonResponse(
                {"code": API_CODES[problem], "message": reason, "field": None}, status=400
            )
        else:
            response = render(request, "400.html", {"title": title, "reason": reason}, status=400)
        add_never_cache_headers(response)
        return response

    return middleware


def unusable_input(request):
    """Why the request must be refused ("charset", "nul" or "key"), or None. The body is
    read only once the URL has passed, and never in a charset Django would refuse."""
    if request.method == "POST" and request.content_type == FORM_URLENCODED:
        charset = request.content_params.get("charset")
        if charset is not None:
            if not _is_utf8(charset):
                return "charset"
            request.encoding = "utf-8"  # "utf8", "UTF_8": what Django's own check expects
    has_query = bool(request.META.get("QUERY_STRING"))
    if "\x00" in request.path_info or (has_query and _has_nul(request.GET)):
        return "nul"
    exempt = SIGNED_PARAMETERS
    if ONE_CLICK_CALLBACK.search(request.path_info):
        exempt = SIGNED_PARAMETERS | {"code"}
    if looks_like_secret(request.path_info) or (
        has_query
        and any(
            looks_like_secret(name) or (name not in exempt and _any_secret(values))
            for name, values in request.GET.lists()
        )
    ):
        return "key"
    if request.method == "POST" and _has_nul(request.POST):
        return "nul"
    return None


def _is_utf8(charset):
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


def _has_nul(query):
    return any(
        "\x00" in name or any("\x00" in value for value in values) for name, values in query.lists()
    )


def _any_secret(values):
    return any(looks_like_secret(value) for value in values)


def keep_posts_with_the_slash(get_response):
    """A form posted to an address without its trailing slash (/providers/x/rate) goes on
    to the slashed one with its method and body (308). CommonMiddleware's APPEND_SLASH
    would raise a RuntimeError under DEBUG (a 500), and otherwise answer 301, after which
    the browser sends a GET and the form is lost."""

    def middleware(request):
        path = request.path_info
        if settings.APPEND_SLASH and request.method == "POST" and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                return HttpResponsePermanentRedirect(
                    request.get_full_path(force_append_slash=True), preserve_request=True
                )
        return get_response(request)

    return middleware


class SitePolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, except that a response which already carries a policy keeps
    it without the site's being built: django-csp builds the policy (~45 us) before it looks
    whether the response has one, and the API's JSON answers all carry their own
    (api.middleware)."""

    def process_response(self, request, response):
        if CSP_HEADER in response:
            return response
        return super().process_response(request, response)


class MessagesForPages(MessageMiddleware):
    """Django's messages, for pages only. The JSON API never shows one, and preparing the
    storage (a cookie signer and a session reader) cost every API request ~30 us, a
    quarter of the /healthz floor."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)
