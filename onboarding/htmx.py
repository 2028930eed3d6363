"""Whole page or swappable partial: one rule and one Vary policy for every view.

htmx asks for a fragment with `HX-Request`; a history restore (`HX-History-Restore-Request`,
after the page left htmx's history cache) wants the whole page back although htmx sent it.
The view decides which partial, never the client.
"""

from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers

HTMX_HEADERS = ("HX-Request", "HX-History-Restore-Request")


def is_fragment(request):
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(request, template, partial, context, *, status=200):
    """`template`, or for an htmx request its `partial` ("page.html#partial")."""
    name = f"{template}#{partial}" if is_fragment(request) else template
    response = TemplateResponse(request, name, context, status=status)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, HTMX_HEADERS)
    return response
