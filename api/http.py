"""The API's HTTP policy, in one place: limits, ETags, caching and CORS.

Each operation is wrapped (django-ninja's decorate_view, before its input is parsed):
- `versioned_read` for reads of the live registry: the read limit, then an ETag from the
  registry version and the date (registry.versioning; the date because "issues reported"
  counts the last 30 days), 304 to If-None-Match, and the whole response cached by that
  version, as onboarding.page_cache does for pages;
- `dated_read` for the dated snapshots, whose views set their own ETag and caching: a
  snapshot never changes;
- `write` for submissions: JSON bodies only, and from another origin only with a token.
Errors are JSON (api.errors) and never cached.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag, url_has_allowed_host_and_scheme

from registry import limits
from registry.models import DailyQuota
from registry.versioning import registry_version
from registry.voters import network_key

from .errors import error_response
from .tokens import TokenRefused, bearer_token

EXPOSED_HEADERS = "ETag, Retry-After"


def _seconds_to_next_minute():
    now = timezone.now()
    return 60 - now.second


class ReadLeases:
    """This process's share of each read-limit bucket: reads are taken from the database a
    lease at a time (registry.limits.take_reads), then spent here one by one. A lease is a
    twelfth of the minute's limit (10 of a network's 120, 50 of a token's 600), at most
    100. The database stays the only judge, so a minute's limit is never exceeded; with W
    workers a client may be refused about W/12 of its limit early, held by other workers.
    Writing one bucket row per read made every read a write, and on SQLite the workers
    waited on each other's write lock: a 304 ran at a third of the floor."""

    SHARE = 12
    MOST = 100

    def __init__(self):
        self._left = {}
        self._minute = None

    def take(self, key, per_minute):
        connection = connections[router.db_for_write(DailyQuota)]
        if connection.in_atomic_block:  # (a test's transaction: nothing kept that may roll back)
            return limits.take_reads(key, per_minute, 1)
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._left, self._minute = {}, minute
        bucket = (connection.alias, connection.settings_dict["NAME"], key, per_minute)
        left = self._left.get(bucket, 0)
        if left == 0:
            lease = max(1, min(per_minute // self.SHARE, self.MOST))
            if limits.take_reads(key, per_minute, lease):
                left = lease
            elif limits.take_reads(key, per_minute, 1):  # the last few of the minute
                left = 1
            else:
                return False
        self._left[bucket] = left - 1
        return True


_read_leases = ReadLeases()


def _guard(request):
    """The token (or None) of a read, or an error response: a refused token, or this
    minute's reads used up."""
    try:
        token = bearer_token(request)
    except TokenRefused as refused:
        return None, error_response(
            refused.status, refused.code, refused.message, field=refused.field
        )
    if token is not None:
        key, per_minute = f"token:{token.pk}", settings.API_TOKEN_READS_PER_MINUTE
    else:
        key, per_minute = network_key(request), settings.API_READS_PER_MINUTE
    if not _read_leases.take(key, per_minute):
        wait = _seconds_to_next_minute()
        return token, error_response(
            429,
            "read_limit",
            f"At most {per_minute} reads a minute "
            f"{'per token' if token else 'per network without a token'}: "
            f"try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    return token, None


def _allow_any_origin(response):
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _cache_key(version, day, request):
    parts = (version, day, request.path, request.META.get("QUERY_STRING", ""))
    # md5 for a short key of any URL length, not for security.
    return "api-read:" + hashlib.md5("|".join(parts).encode()).hexdigest()  # noqa: S324


def versioned_read(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        _, refused = _guard(request)
        if refused is not None:
            return _allow_any_origin(refused)
        version, day = registry_version(), timezone.now().date().isoformat()
        etag = quote_etag(f"{version}-{day}")
        response = None
        if "HTTP_IF_NONE_MATCH" in request.META:
            response = get_conditional_response(request, etag=etag)
        if response is None:
            key = _cache_key(version, day, request)
            cached = cache.get(key)
            if cached is not None:
                content, content_type = cached
                response = HttpResponse(content, content_type=content_type)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200:
                    cache.set(key, (response.content, response["Content-Type"]))
        if response.status_code in (200, 304):
            response["ETag"] = etag
            response["Cache-Control"] = f"public, max-age={settings.API_CACHE_SECONDS}"
        return _allow_any_origin(response)

    return wrapper


def dated_read(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        _, refused = _guard(request)
        return _allow_any_origin(refused or view(request, *args, **kwargs))

    return wrapper


def write(view):
    """A submission: a JSON body, and from a page of another site only with a token
    (CORS lets such a page send one only with Authorization; this holds for the rest)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        bears_token = "HTTP_AUTHORIZATION" in request.META
        origin = request.META.get("HTTP_ORIGIN")
        if (
            origin
            and not bears_token
            and not url_has_allowed_host_and_scheme(
                origin, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            return error_response(
                403,
                "cross_origin_needs_token",
                "A page of another site may send submissions only with an API token.",
                field="Origin",
            )
        if request.content_type != "application/json":
            return error_response(
                415,
                "unsupported_media_type",
                "Send the body as JSON (Content-Type: application/json).",
                field="Content-Type",
            )
        response = view(request, *args, **kwargs)
        response.setdefault("Cache-Control", "no-store")
        return _allow_any_origin(response) if bears_token else response

    return wrapper
