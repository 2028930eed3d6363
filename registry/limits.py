"""Abuse limits without identity, enforced by the database: daily quotas and bursts.

Every web submission carries a registry.voters.Voter. Per provider and day:
- one rating and one setup report per visitor (a unique constraint on the event rows);
- at most REGISTRY_NETWORK_DAILY_LIMIT of each per network, and
  REGISTRY_RANGE_DAILY_LIMIT per range (DailyQuota);
and at most REGISTRY_DAILY_SUBMISSION_CAP submissions of any kind per network, across
providers. Quotas are taken by one conditional upsert inside the submission's transaction,
so concurrent requests cannot both take the last slot, and a refused or failed submission
uses up nothing.

Bursts: when a provider's submissions in the current and previous clock hour reach
REGISTRY_BURST_MIN_SUBMISSIONS and REGISTRY_BURST_FACTOR times its usual two-hour count
over the week before (counted submissions only), new submissions for it are held, not
counted, until a maintainer releases or discards them in the admin.

Calls from the Python API (no Voter) are trusted host code: no quotas, no burst rule.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from .models import DailyQuota, ProviderHour, today

BURST_BASELINE_DAYS = 7
# Tallies older than the burst rule's week (and a day to spare) are deleted each day;
# quotas after two days, with the salts their keys were made with.
HOURS_KEPT = timedelta(days=BURST_BASELINE_DAYS + 1)
QUOTA_DAYS_KEPT = 2


class QuotaExceeded(Exception):
    def __init__(self, daily_cap):
        self.daily_cap = daily_cap  # True: the network's cap across providers
        super().__init__()


def _caps(voter):
    """(daily cap, per-network limit, per-range limit): the settings, or for an API client
    token (registry.voters.token_voter) its own daily quota in their place."""
    if voter.quota is not None:
        return voter.quota, voter.quota, voter.quota
    return (
        settings.REGISTRY_DAILY_SUBMISSION_CAP,
        settings.REGISTRY_NETWORK_DAILY_LIMIT,
        settings.REGISTRY_RANGE_DAILY_LIMIT,
    )


def _quota_rows(voter, kind, provider_pk):
    daily_cap, network_limit, range_limit = _caps(voter)
    rows = [(f"day:{voter.network}", daily_cap)]
    if kind is not None:
        rows += [
            (f"{kind}:{provider_pk}:network:{voter.network}", network_limit),
            (f"{kind}:{provider_pk}:range:{voter.range}", range_limit),
        ]
    return rows


def take_quotas(voter, kind=None, provider_pk=None):
    """One more submission for this voter today: the network's daily cap, and for a rating
    or setup report (`kind`) of a provider, its network and range quotas. Raises
    QuotaExceeded when any is used up. Must run inside the submission's transaction."""
    rows = _quota_rows(voter, kind, provider_pk)
    if any(cap < 1 for _, cap in rows):
        raise QuotaExceeded(daily_cap=rows[0][1] < 1)
    if _take(rows) != len(rows):
        raise QuotaExceeded(daily_cap=_daily_cap_is_full(rows[0]))


def _take(rows, amount=1):
    """`amount` more uses of each (bucket, cap) today; returns how many rows had room."""
    connection = connections[router.db_for_write(DailyQuota)]
    table = connection.ops.quote_name(DailyQuota._meta.db_table)
    day = connection.ops.adapt_datefield_value(today())
    # One upsert for every quota: a new row starts at `amount`; an existing one adds it
    # only while that stays within the cap this statement carries (`excluded.cap`, the
    # setting now), and otherwise changes nothing, so fewer rows change than were given.
    # Written by hand: building the ORM statements cost more than running them, on every
    # submission.
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [value for bucket, cap in rows for value in (bucket, day, amount, cap)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bucket, day, used, cap) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (bucket, day) DO UPDATE SET used = {table}.used + excluded.used, "
            f"cap = excluded.cap WHERE {table}.used + excluded.used <= excluded.cap",
            params,
        )
        return cursor.rowcount


def take_reads(key, per_minute, amount):
    """`amount` more reads of the JSON API this minute for `key` (a network's key, or an
    API client token's), all or none: False when fewer than `amount` of this minute's
    `per_minute` are left. A bucket per minute, in the same table as the daily quotas
    (forget_old deletes them); api.http takes them a few at a time."""
    if not 0 < amount <= per_minute:
        return False
    minute = timezone.now().strftime("%H%M")
    return _take([(f"read:{minute}:{key}", per_minute)], amount) == 1


def _daily_cap_is_full(daily_row):
    bucket, cap = daily_row
    used = DailyQuota.objects.filter(bucket=bucket, day=today()).values_list("used", flat=True)
    return (used.first() or 0) >= cap


def _this_hour():
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def is_burst(provider_pk):
    """Whether a new submission for this provider belongs to a burst (see above)."""
    hour = _this_hour()
    recent_start = hour - timedelta(hours=1)
    week_start = hour - timedelta(days=BURST_BASELINE_DAYS)
    connection = connections[router.db_for_read(ProviderHour)]
    table = connection.ops.quote_name(ProviderHour._meta.db_table)
    recent_from = connection.ops.adapt_datetimefield_value(recent_start)
    sums = (
        "COALESCE(SUM(CASE WHEN hour >= %s THEN submitted ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN hour < %s THEN counted ELSE 0 END), 0)"
    )
    sql = f"SELECT {sums} FROM {table} WHERE provider_id = %s AND hour >= %s"  # noqa: S608
    week_from = connection.ops.adapt_datetimefield_value(week_start)
    with connection.cursor() as cursor:
        cursor.execute(sql, [recent_from, recent_from, provider_pk, week_from])
        recent, earlier = cursor.fetchone()
    # The week before the window holds 7 x 24 - 1 hours: that many halves of two hours.
    usual = earlier / ((BURST_BASELINE_DAYS * 24 - 1) / 2)
    return recent >= max(
        settings.REGISTRY_BURST_MIN_SUBMISSIONS, settings.REGISTRY_BURST_FACTOR * usual
    )


def tally(provider_pk, *, counted):
    """Add a submission to this hour's tally of the provider (inside its transaction)."""
    connection = connections[router.db_for_write(ProviderHour)]
    table = connection.ops.quote_name(ProviderHour._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (provider_id, hour, submitted, counted) "  # noqa: S608
            f"VALUES (%s, %s, 1, %s) ON CONFLICT (provider_id, hour) DO UPDATE SET "
            f"submitted = {table}.submitted + 1, counted = {table}.counted + excluded.counted",
            [
                provider_pk,
                connection.ops.adapt_datetimefield_value(_this_hour()),
                1 if counted else 0,
            ],
        )


def forget_old(day):
    """Delete the quotas and tallies no limit reads any more."""
    DailyQuota.objects.filter(day__lt=day - timedelta(days=QUOTA_DAYS_KEPT)).delete()
    ProviderHour.objects.filter(hour__lt=timezone.now() - HOURS_KEPT).delete()
