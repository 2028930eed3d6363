"""What the JSON API keeps: the client tokens maintainers issue, and the dated snapshots.

- ApiToken: a host application's token. Only its SHA-256 is stored; the token itself is
  shown once, when a maintainer issues it in the admin (api/admin.py).
- RegistrySnapshot: the registry's JSON as it stood at the end of one day, written once
  after the day is over (api/snapshots.py) and never changed.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

# "byok_" and 48 hex digits: 192 random bits, and key-shaped to registry.secrets, so a
# token pasted into a URL, a comment or a log line is refused or redacted like a key.
TOKEN_PREFIX = "byok_"  # noqa: S105 (a prefix, not a secret)
TOKEN_HEX_DIGITS = 48


def new_token():
    return TOKEN_PREFIX + secrets.token_hex(TOKEN_HEX_DIGITS // 2)


def token_digest(token):
    """The stored form of a token. A plain SHA-256 is enough for 192 random bits: there is
    nothing to guess, so no slow password hash is needed, and a lookup is one index probe."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_daily_quota():
    return settings.API_TOKEN_DAILY_QUOTA


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    name = models.CharField(
        max_length=100, help_text="The host application, as maintainers will know it."
    )
    contact = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who to ask about its submissions (a maintainer's note, never public).",
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, as every key is shown (registry.secrets.mask_key).
    shown_as = models.CharField("token", max_length=12, editable=False)
    daily_quota = models.PositiveIntegerField(
        default=default_daily_quota,
        validators=[MinValueValidator(1)],
        help_text="Ratings and setup reports a day, across providers, instead of the "
        "per-network limits.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API client token"

    def __str__(self):
        return self.name

    def issue(self):
        """Give this (unsaved) row a new token; returns it, the only time it exists whole."""
        token = new_token()
        self.digest = token_digest(token)
        self.shown_as = f"{token[:6]}…"
        return token

    @property
    def is_active(self):
        return self.revoked_at is None


class RegistrySnapshot(models.Model):
    """The registry export (registry.interchange) as it stood at the end of `day`, UTC.

    Insert-only: the unique day makes a second write fail, and nothing updates a row.
    Stored compressed (a year of daily copies of the catalogue is large); `sha256` is of
    the JSON itself, the ETag of /api/v1/snapshots/<day>.json."""

    day = models.DateField(unique=True)
    compressed_json = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(help_text="Bytes of JSON.")
    providers = models.PositiveIntegerField()
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"registry on {self.day}"
