"""Daily history: one DailySnapshot per provider per day, from the event rows.

A day's counters are today's counters minus every counted event after that day, so the
nightly snapshot and a backfill of a year are the same computation, and running either
twice writes the same rows (an upsert on provider and day).

The backfill streams: one grouped query per event table, ordered by day, newest first,
is read a chunk at a time while the counters are walked back one day at a time; snapshot
rows are written in batches. Memory holds one set of counters per provider, never the
events.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from registry import scoring
from registry.interchange import COUNTER_FIELDS
from registry.models import Provider, Rating, SetupReport, today

from .health import mark_changed
from .models import CheckRun, DailySnapshot, HealthCheck, HealthState, State, Target

WRITE_BATCH = 5000
READ_CHUNK = 5000
TRUST_FIELDS = (
    "ratings_count",
    "ratings_sum",
    "setup_reports",
    "setup_successes",
    "active_users",
    "positive_reviews",
    "negative_reviews",
)


def yesterday():
    return today() - timedelta(days=1)


# Each event table's contribution to the counters, per provider and day: counted events
# only (held and discarded ones are not in the counters).
def _setup_deltas(since):
    return (
        SetupReport.objects.counted()
        .filter(day__gte=since)
        .values("day", "provider")
        .annotate(
            total_users=Count("pk"),
            setup_reports=Count("pk"),
            active_users=Count("pk", filter=Q(success=True)),
            setup_successes=Count("pk", filter=Q(success=True)),
            setup_minutes_sum=Sum("minutes", default=0),
            setup_minutes_count=Count("minutes"),
            felt_difficulty_sum=Sum("felt_difficulty", default=0),
            felt_difficulty_count=Count("felt_difficulty"),
        )
        .order_by("-day", "provider")
    )


def _rating_deltas(since):
    return (
        Rating.objects.counted()
        .filter(day__gte=since)
        .values("day", "provider")
        .annotate(
            ratings_count=Count("pk"),
            ratings_sum=Sum("stars", default=0),
            positive_reviews=Count("pk", filter=Q(stars__gte=4)),
            negative_reviews=Count("pk", filter=Q(stars__lte=2)),
        )
        .order_by("-day", "provider")
    )


def _probe_days(since):
    return (
        HealthCheck.objects.filter(target=Target.API, checked_at__date__gte=since)
        .annotate(day=TruncDate("checked_at"))
        .values("day", "provider")
        .annotate(api_probes=Count("pk"), api_up=Count("pk", filter=Q(ok=True)))
        .order_by("-day", "provider")
    )


class DayStream:
    """Rows of a queryset ordered by day, newest first, handed out one day at a time."""

    def __init__(self, queryset):
        self._rows = queryset.iterator(chunk_size=READ_CHUNK)
        self._next = next(self._rows, None)

    def through(self, day):
        """The rows of the days after `day` (not handed out yet)."""
        return self._take(lambda row: row["day"] > day)

    def on(self, day):
        return self._take(lambda row: row["day"] == day)

    def _take(self, wanted):
        rows = []
        while self._next is not None and wanted(self._next):
            rows.append(self._next)
            self._next = next(self._rows, None)
        return rows


def _subtract(counters, rows):
    for row in rows:
        running = counters.get(row["provider"])
        if running is not None:  # a provider deleted since keeps no history
            for name in COUNTER_FIELDS:
                running[name] -= row.get(name, 0)


# A snapshot row as _write() takes it; the last three may be None (not known that day).
COLUMNS = (
    "provider_id",
    "day",
    *COUNTER_FIELDS,
    "trust_score",
    "trust_lower_bound",
    "api_probes",
    "api_up",
    "links_broken",
)


class TrustScores:
    """scoring.trust_score() and trust_lower_bound() of each snapshot row, computed again
    only when a provider's inputs changed since the day after (most providers see no
    event on most days). The lower bound uses the registry mean of today: the one a past
    day's page used is not kept."""

    def __init__(self, stars_priors):
        self._last = {}
        self._priors = stars_priors

    def of(self, pk, counters):
        """(score, lower bound)."""
        inputs = tuple(counters[name] for name in TRUST_FIELDS)
        last = self._last.get(pk)
        if last is None or last[0] != inputs:
            named = dict(zip(TRUST_FIELDS, inputs, strict=True))
            last = self._last[pk] = (
                inputs,
                (
                    scoring.trust_score(**named).total,
                    scoring.trust_lower_bound(
                        stars_prior=self._priors.get(pk, scoring.DEFAULT_STARS_PRIOR), **named
                    ).total,
                ),
            )
        return last[1]


def _write(rows):
    """Upsert snapshot rows (tuples in COLUMNS order) on provider and day. A row without
    probe data for its day (probes older than the kept rows) or without an observed link
    state keeps what an earlier run stored there.

    Hand-written INSERT ... ON CONFLICT DO UPDATE: bulk_create spent 80% of a year's
    backfill building its SQL. SQLite runs one statement over all rows (executemany);
    PostgreSQL takes one array per column through unnest(), one statement a batch, as one
    statement a row kept the server busy parsing them."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row[-2] is not None, row[-1] is not None)].append(row)
    connection = connections[router.db_for_write(DailySnapshot)]
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(DailySnapshot._meta.db_table)} "
        f"({', '.join(quote(c) for c in COLUMNS)}) "
    )
    postgresql = connection.vendor == "postgresql"
    if postgresql:  # column types from the model, not from any input
        types = [DailySnapshot._meta.get_field(c).db_type(connection) for c in COLUMNS]
        rows_sql = f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)})"  # noqa: S608
    else:
        rows_sql = f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    for (has_api, has_links), group in groups.items():
        updated = [*COUNTER_FIELDS, "trust_score", "trust_lower_bound"]
        updated += ["api_probes", "api_up"] if has_api else []
        updated += ["links_broken"] if has_links else []
        sql = (
            f"{insert}{rows_sql} ON CONFLICT ({quote('provider_id')}, {quote('day')}) "
            "DO UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated)
        )
        with connection.cursor() as cursor:
            if postgresql:
                cursor.execute(sql, [list(column) for column in zip(*group, strict=True)])
            else:
                cursor.executemany(sql, group)


def _links_broken_now():
    broken = (
        HealthState.objects.exclude(target=Target.API)
        .filter(state__in=[State.BROKEN, State.MOVED])
        .values("provider")
        .annotate(n=Count("pk"))
    )
    return {row["provider"]: row["n"] for row in broken}


def _first_days():
    """Each provider's first day of history: its first event, or the day it was added."""
    first = {
        row["pk"]: row["created_at"].date()
        for row in Provider.objects.values("pk", "created_at").iterator()
    }
    for model in (SetupReport, Rating):
        earliest = model.objects.values("provider").annotate(day=Min("day")).order_by()
        for row in earliest:
            if row["provider"] in first:
                first[row["provider"]] = min(first[row["provider"]], row["day"])
    return first


def snapshot(day=None, days=1):
    """Write the snapshots of the `days` days ending with `day` (default: yesterday, the
    last whole day). Returns the number of rows written."""
    end = day or yesterday()
    start = end - timedelta(days=days - 1)
    counters, priors = {}, {}
    for row in Provider.objects.values("pk", "stars_prior", *COUNTER_FIELDS).iterator():
        priors[row["pk"]] = row.pop("stars_prior")
        counters[row.pop("pk")] = row
    first_day = _first_days()
    # The link state is a live fact: it is the end of a day only for yesterday and today.
    links = _links_broken_now() if end >= yesterday() else None
    setups, ratings = DayStream(_setup_deltas(start)), DayStream(_rating_deltas(start))
    probes = DayStream(_probe_days(start))
    _subtract(counters, setups.through(end))
    _subtract(counters, ratings.through(end))
    probes.through(end)
    written, batch, trust = 0, [], TrustScores(priors)
    adapt = connections[router.db_for_write(DailySnapshot)].ops.adapt_datefield_value
    with transaction.atomic():
        for offset in range(days):
            current = end - timedelta(days=offset)
            uptime = {row["provider"]: row for row in probes.on(current)}
            seen_links = links if current == end else None
            for pk, values in counters.items():
                if current < first_day.get(pk, current):  # (added during the run)
                    continue
                probed = uptime.get(pk, {})
                batch.append(
                    (
                        pk,
                        adapt(current),
                        *(values[name] for name in COUNTER_FIELDS),
                        *trust.of(pk, values),
                        probed.get("api_probes"),
                        probed.get("api_up"),
                        None if seen_links is None else seen_links.get(pk, 0),
                    )
                )
            if len(batch) >= WRITE_BATCH:
                _write(batch)
                written, batch = written + len(batch), []
            _subtract(counters, setups.on(current))
            _subtract(counters, ratings.on(current))
        _write(batch)
        written += len(batch)
        mark_changed(counters)
    return written


def prune(now=None):
    """Delete check rows older than VERIFICATION_KEEP_DAYS (snapshots are kept)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VERIFICATION_KEEP_DAYS)
    HealthCheck.objects.filter(checked_at__lt=cutoff).delete()
    CheckRun.objects.filter(started_at__lt=cutoff).delete()
