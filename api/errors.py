"""The API's errors: always JSON, `{"code": ..., "message": ..., "field": ...}`.

`code` is stable (clients branch on it), `message` is for people, and `field` names the
input that was refused (a body field, a query parameter or a header) when there is one.
A message never repeats what the client sent: it could be a pasted key.
"""

import re

from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers

from registry.secrets import looks_like_secret

# The message for each status when no view said more (api.middleware.api_edge).
GENERIC = {
    400: ("bad_request", "The request could not be used."),
    401: ("invalid_token", "This request needs a valid API token."),
    403: ("forbidden", "This request is not allowed."),
    404: ("not_found", "There is nothing at this address in the API. See /api/v1/docs."),
    405: ("method_not_allowed", "This address does not take that method. See /api/v1/docs."),
    406: ("not_acceptable", "The API answers in JSON only."),
    413: ("too_large", "The request is too large."),
    415: ("unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
    429: ("too_many_requests", "Too many requests: wait a little and try again."),
    500: ("server_error", "Something went wrong on our side. Please try again later."),
}

FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,39}")


def safe_field(name):
    """A field name fit to repeat in an error, or None: an unknown name is the client's
    own text, and could be anything."""
    if isinstance(name, str) and FIELD_NAME.fullmatch(name) and not looks_like_secret(name):
        return name
    return None


def error_response(status, code, message, *, field=None, headers=None):
    response = JsonResponse(
        {"code": code, "message": message, "field": field}, status=status, headers=headers
    )
    add_never_cache_headers(response)
    return response


def generic_error(status):
    code, message = GENERIC.get(status, GENERIC[500] if status >= 500 else GENERIC[400])
    return error_response(status, code, message)


class Refusal(Exception):
    """Raised by an endpoint for a clear error: answered as error_response(...)."""

    def __init__(self, status, code, message, *, field=None, headers=None):
        self.status, self.code, self.message = status, code, message
        self.field, self.headers = field, headers
        super().__init__(message)

    def response(self):
        return error_response(
            self.status, self.code, self.message, field=self.field, headers=self.headers
        )
