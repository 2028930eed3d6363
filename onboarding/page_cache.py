"""Whole GET pages cached by the registry version, with each visitor's own values put in.

Browse, compare, the provider page and wizard step 1 are the same bytes for every visitor
until the registry changes, except for a value or two that belong to one visitor: the
CSRF token of a page with POST forms, the wizard's signed start time. Those are rendered
as a placeholder (a "slot"), cached with it, and replaced in every response.
"""

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse

# Stands for the visitor's CSRF token in a cached page. Slots are plain URL-safe words, so
# they read the same in HTML, in an encoded query string and in a header.
CSRF_SLOT = "csrf-slot-3f9c1e7a"


def cached_page(request, version, render, *, slots=None, path=None):
    """The response of `render()`, cached by `version`, the htmx headers and `path`
    (default: the request's full path).

    `slots` maps each placeholder the rendered page contains to a function giving this
    visitor's value; they are replaced in the body and the headers (HX-Push-Url) of every
    response, cached or fresh. A slot's value must need no escaping in HTML or URLs.

    Only the view's own headers are kept (content type, Vary, HX-Push-Url): the middleware
    adds the security headers (and the CSRF cookie) to a cached response as to a fresh one.
    A visitor with a pending message, or a response that set a cookie or made a CSRF token
    itself, is served fresh and not cached."""
    slots = slots or {}
    if len(messages.get_messages(request)):
        return _fill(render().render(), slots)
    htmx = request.htmx
    key = (
        "whole-page:"
        + hashlib.md5(  # noqa: S324 (a cache key, not security)
            f"{version}|{bool(htmx)}|{bool(htmx and htmx.history_restore_request)}|"
            f"{path or request.get_full_path()}".encode()
        ).hexdigest()
    )
    cached = cache.get(key)
    if cached is None:
        response = render().render()
        if not response.cookies and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            cache.set(key, (response.status_code, dict(response.items()), response.content))
    else:
        status, headers, content = cached
        response = HttpResponse(content, status=status, headers=headers)
    return _fill(response, slots)


def _fill(response, slots):
    for slot, value in slots.items():
        value = value()
        response.content = response.content.replace(slot.encode(), value.encode())
        for header, text in response.items():
            if slot in text:
                response[header] = text.replace(slot, value)
    return response
