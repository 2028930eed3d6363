"""The registry over HTTP: the seed's Python API for a host application on another machine.

    from registry.client import RemoteRegistry

    registry = RemoteRegistry("https://registry.example", token=None)
    for provider in registry.get_recommended_providers(free_only=True, min_trust_score=70.0):
        print(f"{provider.provider_name}: {provider.get_trust_score()}/100")
    registry.record_user_signup(provider_id="openrouter", success=True, setup_time_minutes=3)
    registry.add_feedback(provider_id="openrouter", rating=5, comment="Worked first time.")

The methods and their signatures are registry.services' (the seed's), and so are the
errors' names: UnknownProviderError, InvalidSubmissionError (with .field and .message),
SubmissionLimitError and its kinds (with .retry_after, in seconds). What only a network can
do wrong is RegistryUnavailableError. Standard library only, and no Django: a host
application needs nothing but this file. Every request has a timeout; reads remember their
ETag, so asking again for what has not changed costs a 304.

`get_registry()` is the seed's get_registry() for a remote registry: it reads the address
from BYOK_REGISTRY_URL (and a token from BYOK_REGISTRY_TOKEN), so the seed's examples run
with only their import changed to `from registry.client import get_registry`.

A token (issued by the registry's maintainers, see the README) makes submissions count
against the token's own daily quota instead of the server's network; `end_user` is an
opaque id of the person a submission is for, so each counts once per provider per day.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "byok-registry-client/1"
DIFFICULTIES = {"easy": 1, "moderate": 2, "advanced": 3, "expert": 4}


class RegistryError(Exception):
    """Base class of every error the remote registry answers with."""

    code = "error"

    def __init__(self, message, *, code=None, status=None):
        self.message = message
        self.code = code or self.code
        self.status = status
        super().__init__(message)


class RegistryUnavailableError(RegistryError):
    """No usable answer: a timeout, a refused connection, a 5xx, or a body that is not the
    API's JSON. Trying again later may work."""

    code = "unavailable"


class TokenError(RegistryError):
    """401: the token is not known, or was revoked."""


class RequestRefusedError(RegistryError):
    """Another refusal (403, 405, 415): a request this client should not have sent."""


class NotFoundError(RegistryError, LookupError):
    code = "not_found"


class UnknownProviderError(NotFoundError):
    code = "unknown_provider"

    def __init__(self, provider_id, message=None, **kwargs):
        self.provider_id = provider_id
        super().__init__(
            message or f"No provider with id {provider_id!r} in the registry.", **kwargs
        )


class InvalidSubmissionError(RegistryError, ValueError):
    code = "invalid_input"

    def __init__(self, field, message, **kwargs):
        self.field = field
        super().__init__(message, **kwargs)

    def __str__(self):
        return self.message


class SubmissionLimitError(RegistryError):
    """429: a limit refused it and nothing was counted. `retry_after`: seconds to wait."""

    code = "limit"

    def __init__(self, message, *, retry_after=None, **kwargs):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class AlreadySubmittedError(SubmissionLimitError):
    code = "already_submitted"


class NetworkLimitError(SubmissionLimitError):
    code = "network_limit"


class DailyLimitError(SubmissionLimitError):
    code = "daily_limit"


class TokenQuotaError(DailyLimitError):
    code = "token_quota"


class ReadLimitError(SubmissionLimitError):
    """Too many reads this minute."""

    code = "read_limit"


LIMITS = {
    kind.code: kind
    for kind in (
        AlreadySubmittedError,
        NetworkLimitError,
        DailyLimitError,
        TokenQuotaError,
        ReadLimitError,
    )
}


class RemoteProvider:
    """A provider as the API describes it, with the seed's field names.

    Like registry.models.Provider: star_rating and success_rate are 0.0 without data
    (`has_data` says whether there is any), get_trust_score() is the seed's score, and
    `status` is the status's value ("highly_recommended"). Everything the API sent is
    also in `.data`."""

    def __init__(self, data):
        self.data = data
        self.provider_id = data["provider_id"]
        self.provider_name = data["provider_name"]
        self.description = data.get("description", "")
        self.star_rating = data.get("star_rating") or 0.0
        self.success_rate = data.get("success_rate") or 0.0
        self.trust_score = data.get("trust_score")
        self.trust_lower_bound = data.get("trust_lower_bound")
        self.trust_upper_bound = data.get("trust_upper_bound")
        self.has_data = data.get("has_data", False)
        self.confident = data.get("confident", False)
        for name in (
            "ratings_count",
            "setup_reports",
            "total_users",
            "active_users",
            "positive_reviews",
            "negative_reviews",
        ):
            setattr(self, name, data.get(name, 0))
        self.avg_setup_time_minutes = data.get("avg_setup_time_minutes")
        self.difficulty = data["difficulty"]["value"]
        self.requires_approval = data.get("requires_approval", False)
        self.has_free_tier = data.get("has_free_tier", False)
        self.status = data["status"]["value"]
        self.pin_reason = data.get("pin_reason", "")
        self.flags = data.get("flags", [])
        self.caution_flags = data.get("caution_flags", [])
        self.recommended_for = [audience["label"] for audience in data.get("recommended_for", [])]
        for name, url in data.get("links", {}).items():
            setattr(self, name, url)
        self.common_issues = data.get("common_issues", [])
        self.pro_tips = data.get("pro_tips", [])
        self.setup_steps = data.get("setup_steps", [])

    def get_trust_score(self):
        return self.trust_score if self.trust_score is not None else 0.0

    def __repr__(self):
        return f"<RemoteProvider {self.provider_id}>"


def _difficulty(value):
    """The seed's difficulty_max: 1-4, a name ("moderate"), or an enum member of either."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in DIFFICULTIES:
        return DIFFICULTIES[value.strip().lower()]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return int(value)
    inner = getattr(value, "value", None)
    if inner is not None and inner is not value:
        return _difficulty(inner)
    raise InvalidSubmissionError(
        "difficulty_max", "use 1-4 or easy, moderate, advanced, expert.", code="invalid_input"
    )


class RemoteRegistry:
    """The seed's BYOKProviderRegistry, over the JSON API at `base_url`."""

    def __init__(self, base_url, token=None, *, end_user=None, timeout=DEFAULT_TIMEOUT):
        base = base_url.rstrip("/")
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise ValueError("base_url must be an http:// or https:// address.")
        self.base_url = base.removesuffix(API_PREFIX)
        self._token = token
        self.end_user = end_user
        self.timeout = timeout
        self._etags = {}  # url -> (etag, data): reads revalidated with If-None-Match

    def __repr__(self):  # never the token
        return f"RemoteRegistry({self.base_url!r}, token={'…' if self._token else None})"

    # --- the seed's methods ---------------------------------------------------------------

    def get_recommended_providers(self, free_only=True, min_trust_score=70.0, difficulty_max=None):
        """Confident providers that clear the filters, best trust score first."""
        query = {
            "free_only": "true" if free_only else "false",
            "min_trust_score": float(min_trust_score),
        }
        difficulty = _difficulty(difficulty_max)
        if difficulty is not None:
            query["difficulty_max"] = difficulty
        data = self._get("/recommendations", query)
        return [RemoteProvider(item) for item in data["items"]]

    def record_user_signup(
        self, provider_id, success, setup_time_minutes=None, *, felt_difficulty=None
    ):
        """One setup report. Returns "counted", or "held" when part of a burst."""
        body = {"success": success, "setup_time_minutes": setup_time_minutes}
        if felt_difficulty is not None:
            body["felt_difficulty"] = felt_difficulty
        return self._submit(provider_id, "setup-reports", body)["status"]

    def add_feedback(self, provider_id, rating, comment=None):
        """One star rating, with an optional comment that waits for moderation."""
        return self._submit(provider_id, "ratings", {"rating": rating, "comment": comment})[
            "status"
        ]

    # --- more of the registry -------------------------------------------------------------

    def providers(self, **filters):
        """Every published provider matching the browse filters (q, free, instant,
        difficulty, min_trust, audience, sort), in the API's pages."""
        found, offset = [], 0
        while True:
            page = self._get("/providers", {**filters, "limit": 100, "offset": offset})
            found += [RemoteProvider(item) for item in page["items"]]
            offset += len(page["items"])
            if not page["items"] or offset >= page["count"]:
                return found

    def get_provider(self, provider_id):
        path = f"/providers/{self._path_id(provider_id)}"
        return RemoteProvider(self._get(path, provider_id=provider_id))

    def statistics(self):
        return self._get("/statistics")

    def get_registry_file(self):
        """The whole registry in the seed's JSON format (providers, user_stats, last_updated)."""
        return self._get("/registry.json")

    def get_snapshot(self, day):
        """The registry as it stood at the end of `day` (a date or "YYYY-MM-DD")."""
        return self._get(f"/snapshots/{urllib.parse.quote(str(day))}.json")

    # --- HTTP -----------------------------------------------------------------------------

    @staticmethod
    def _path_id(provider_id):
        if not isinstance(provider_id, str) or not provider_id:
            raise UnknownProviderError(provider_id)
        return urllib.parse.quote(provider_id, safe="")

    def _headers(self):
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if self.end_user:
            headers["X-End-User"] = str(self.end_user)
        return headers

    def _get(self, path, query=None, provider_id=None):
        url = self.base_url + API_PREFIX + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = self._headers()
        remembered = self._etags.get(url)
        if remembered:
            headers["If-None-Match"] = remembered[0]
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) only)
        status, response_headers, data = self._send(request, provider_id)
        if status == 304 and remembered:
            return remembered[1]
        if response_headers.get("ETag"):
            self._etags[url] = (response_headers["ETag"], data)
        return data

    def _submit(self, provider_id, kind, body):
        url = f"{self.base_url}{API_PREFIX}/providers/{self._path_id(provider_id)}/{kind}"
        try:
            payload = json.dumps(body, allow_nan=False).encode()
        except (TypeError, ValueError):
            raise InvalidSubmissionError(None, "The submission cannot be sent as JSON.") from None
        request = urllib.request.Request(  # noqa: S310 (http(s) only: see __init__)
            url,
            data=payload,
            method="POST",
            headers={**self._headers(), "Content-Type": "application/json"},
        )
        return self._send(request, provider_id=provider_id)[2]

    def _send(self, request, provider_id=None):
        """(status, headers, JSON body) of a 2xx or 304; any other answer as its error."""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers, _json(response.read(), response.status)
        except urllib.error.HTTPError as answer:
            if answer.code == 304:
                return 304, answer.headers, None
            body = answer.read()
            answer.close()
            raise _error(answer.code, answer.headers, body, provider_id) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise RegistryUnavailableError(f"The registry did not answer: {reason}.") from None


def _json(body, status):
    try:
        return json.loads(body) if body else None
    except ValueError:
        raise RegistryUnavailableError(
            f"The registry answered {status} with something that is not JSON.", status=status
        ) from None


def _error(status, headers, body, provider_id):
    try:
        data = json.loads(body)
        code, message, field = data["code"], data["message"], data.get("field")
    except (ValueError, KeyError, TypeError):
        return RegistryUnavailableError(f"The registry answered {status}.", status=status)
    common = {"code": code, "status": status}
    if status == 429:
        retry = headers.get("Retry-After")
        kind = LIMITS.get(code, SubmissionLimitError)
        return kind(
            message, retry_after=int(retry) if retry and retry.isdigit() else None, **common
        )
    if status == 400:
        return InvalidSubmissionError(field, message, **common)
    if status == 401:
        return TokenError(message, **common)
    if status == 404:
        if code == "unknown_provider":
            return UnknownProviderError(provider_id, message, **common)
        return NotFoundError(message, **common)
    if status >= 500:
        return RegistryUnavailableError(message, **common)
    return RequestRefusedError(message, **common)


def get_registry():
    """A RemoteRegistry for BYOK_REGISTRY_URL (and BYOK_REGISTRY_TOKEN, if set)."""
    url = os.environ.get("BYOK_REGISTRY_URL")
    if not url:
        raise RuntimeError(
            "Set BYOK_REGISTRY_URL to the registry's address, e.g. https://registry.example"
        )
    return RemoteRegistry(url, token=os.environ.get("BYOK_REGISTRY_TOKEN") or None)
