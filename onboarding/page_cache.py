"""Whole GET pages cached by the registry version, with each visitor's own values put in.

Browse, compare, the provider page and wizard step 1 are the same bytes for every visitor
until the registry changes (registry.versioning), except for a value or two that belong to
one visitor: the CSRF token of a page with POST forms, the wizard's signed start time. The
view renders those as a Slot's placeholder; the page is cached with it, and every response,
cached or fresh, gets this visitor's value put in.
"""

import hashlib
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token

from registry.versioning import registry_version

from .htmx import is_fragment


@dataclass(frozen=True)
class Slot:
    """One visitor's value in a cached page. The placeholder is a plain URL-safe word, so it
    reads the same in HTML, an encoded query string and a header (HX-Push-Url); the value,
    `value(request)`, must need no escaping in any of them either."""

    placeholder: str
    value: object  # callable(request) -> str


# A page with POST forms carries the visitor's CSRF token: cached as this placeholder (the
# view passes it as the `csrf_token` context variable, which {% csrf_token %} and the htmx
# header read), and filled in per response.
CSRF_TOKEN = Slot("csrf-slot-3f9c1e7a", get_token)


def cached_page(*slots, ignore_params=()):
    """Cache a GET view's whole response by registry version, htmx headers and URL (without
    the query parameters in `ignore_params`, which must only feed a slot).

    Only the view's own headers are kept (content type, Vary, HX-Push-Url): the middleware
    adds the security headers (and the CSRF cookie) to a cached response as to a fresh one.
    A visitor with a pending message, or a response that set a cookie or made a CSRF token
    itself, is served fresh and not cached."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if len(messages.get_messages(request)):
                return _fill(request, view(request, *args, **kwargs).render(), slots)
            key = _key(request, ignore_params)
            cached = cache.get(key)
            if cached is None:
                response = view(request, *args, **kwargs).render()
                if not response.cookies and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
                    cache.set(key, (response.status_code, dict(response.items()), response.content))
            else:
                status, headers, content = cached
                response = HttpResponse(content, status=status, headers=headers)
            return _fill(request, response, slots)

        return wrapper

    return decorator


def _key(request, ignore_params):
    query = request.GET.copy()
    for name in ignore_params:
        query.pop(name, None)
    parts = (
        registry_version(),
        bool(request.htmx),
        is_fragment(request),
        request.path,
        query.urlencode(),
    )
    # md5 for a short key of any URL length, not for security.
    return "whole-page:" + hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()  # noqa: S324


def _fill(request, response, slots):
    for slot in slots:
        value = slot.value(request)
        response.content = response.content.replace(slot.placeholder.encode(), value.encode())
        for header, text in response.items():
            if slot.placeholder in text:
                response[header] = text.replace(slot.placeholder, value)
    return response
