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
from django.db import transaction
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


# Each event table's contribution to the counters, per provider and day. (When held
# events arrive with the trust-integrity work, these querysets keep counted ones only.)
def _setup_deltas(since):
    return (
        SetupReport.objects.filter(day__gte=since)
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
        Rating.objects.filter(day__gte=since)
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


def _row(pk, day, counters, extra):
    return DailySnapshot(
        provider_id=pk,
        day=day,
        trust_score=scoring.trust_score(**{f: counters[f] for f in TRUST_FIELDS}).total,
        **counters,
        **extra,
    )


def _write(rows):
    """Upsert snapshot rows. A row without probe data for its day (probes older than the
    kept rows) or without an observed link state keeps what an earlier run stored."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row.api_probes is not None, row.links_broken is not None)].append(row)
    for (has_api, has_links), group in groups.items():
        fields = [*COUNTER_FIELDS, "trust_score"]
        fields += ["api_probes", "api_up"] if has_api else []
        fields += ["links_broken"] if has_links else []
        DailySnapshot.objects.bulk_create(
            group,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["provider", "day"],
            update_fields=fields,
        )


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
            first[row["provider"]] = min(first[row["provider"]], row["day"])
    return first


def snapshot(day=None, days=1):
    """Write the snapshots of the `days` days ending with `day` (default: yesterday, the
    last whole day). Returns the number of rows written."""
    end = day or yesterday()
    start = end - timedelta(days=days - 1)
    counters = {
        row.pop("pk"): row for row in Provider.objects.values("pk", *COUNTER_FIELDS).iterator()
    }
    first_day = _first_days()
    # The link state is a live fact: it is the end of a day only for yesterday and today.
    links = _links_broken_now() if end >= yesterday() else None
    setups, ratings = DayStream(_setup_deltas(start)), DayStream(_rating_deltas(start))
    probes = DayStream(_probe_days(start))
    _subtract(counters, setups.through(end))
    _subtract(counters, ratings.through(end))
    probes.through(end)
    written, batch = 0, []
    with transaction.atomic():
        for offset in range(days):
            current = end - timedelta(days=offset)
            uptime = {row["provider"]: row for row in probes.on(current)}
            for pk, values in counters.items():
                if current < first_day[pk]:
                    continue
                extra = {}
                if pk in uptime:
                    extra.update(api_probes=uptime[pk]["api_probes"], api_up=uptime[pk]["api_up"])
                if links is not None and current == end:
                    extra["links_broken"] = links.get(pk, 0)
                batch.append(_row(pk, current, dict(values), extra))
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
