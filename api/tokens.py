"""API client tokens on requests: `Authorization: Bearer byok_...`.

A token-bearing request is its token's for every limit (registry.voters.token_voter): reads
count per token, submissions against the token's daily quota, and `X-End-User` (the host
application's opaque name for its user) keeps "one rating per visitor per provider per
day" meaningful. A request without a token is its network's, like a form on the site.
"""

from registry.secrets import looks_like_secret
from registry.voters import token_voter, voter_for

from .models import ApiToken, token_digest

END_USER_HEADER = "X-End-User"
END_USER_MAX = 200


class TokenRefused(Exception):
    def __init__(self, status, code, message, field="Authorization"):
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(message)


def bearer_token(request):
    """The ApiToken a request bears, None without an Authorization header, or TokenRefused.
    The header's value is never repeated."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise TokenRefused(
            401, "invalid_token", "Send the token as: Authorization: Bearer <token>."
        )
    token = ApiToken.objects.filter(digest=token_digest(value)).first()
    if token is None:
        raise TokenRefused(401, "invalid_token", "This API token is not known to the registry.")
    if not token.is_active:
        raise TokenRefused(
            401, "token_revoked", "This API token was revoked: ask the maintainers for a new one."
        )
    return token


def end_user(request):
    hint = request.headers.get(END_USER_HEADER, "")
    if len(hint) > END_USER_MAX or not hint.isprintable():
        raise TokenRefused(
            400,
            "invalid_input",
            f"{END_USER_HEADER} must be printable text of at most {END_USER_MAX} characters.",
            END_USER_HEADER,
        )
    if looks_like_secret(hint):
        raise TokenRefused(
            400,
            "invalid_input",
            f"{END_USER_HEADER} looks like a key: send an opaque id for your user, never a key.",
            END_USER_HEADER,
        )
    return hint


def voter_of(request, token):
    """Who a submission is from, for registry.services' limits."""
    if token is None:
        return voter_for(request)
    return token_voter(token.pk, token.daily_quota, end_user(request))
