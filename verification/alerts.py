"""Alerts on sudden changes: a few documented rules, and a detector that opens and resolves
alerts by itself.

A rule is a function `rule(now)` returning a Finding for every (provider pk, key) that
should have an open alert now; it is registered with `@rule("name")`. The detector opens
an alert for each new finding, refreshes the text of those still open, and resolves the
open alerts no rule found this time. A new rule (say, a sharp turn in free-tier answers)
is one more decorated function here, and nothing else changes.

The rules and their thresholds:

- success_drop: the setup success rate of the last 7 days falls clearly below the
  provider's own rate of the 30 days before: the upper end of its 95% Wilson interval is
  below the lower end of the baseline's. Needs at least 20 setup reports in the last
  7 days and 40 in the 30 days before.
- trust_drop: the trust score is more than 5 points below its value 7 days ago (from the
  daily snapshot), for a provider that had enough data for a status then.
- api_down: the API has not answered a probe for more than an hour.
- link_broken: a curated link is broken (3 failed checks in a row); one alert per link.
- free_tier_turn: the share of visitors who used the free tier and said it worked, over
  the last 7 days, falls clearly below the share of the 30 days before (Wilson intervals
  as for success_drop). Needs at least 10 answers in the last 7 days and 20 before.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format

from registry import scoring
from registry.models import FreeTierAnswer, Provider, Rating, SetupReport, today
from registry.scoring import wilson_bounds as wilson_interval

from .health import mark_changed
from .models import Alert, DailySnapshot, HealthState, State, Target

RECENT_DAYS = 7
BASELINE_DAYS = 30
MIN_RECENT_REPORTS = 20
MIN_BASELINE_REPORTS = 40
TRUST_DROP_POINTS = 5.0
TRUST_DROP_DAYS = 7
API_DOWN_AFTER = timedelta(hours=1)
FREE_TIER_MINIMUMS = (10, 20)  # answers in the last 7 days, and in the 30 before

RULES = {}


@dataclass(frozen=True)
class Finding:
    title: str
    detail: str
    since: object  # datetime: when the change began


def rule(name):
    def register(function):
        RULES[name] = function
        return function

    return register


def falls_clearly_below(
    recent_ok, recent, baseline_ok, baseline, minimums=(MIN_RECENT_REPORTS, MIN_BASELINE_REPORTS)
):
    """True when a recent share (successes of a total) is clearly below its baseline: its
    95% Wilson interval (registry.scoring's) lies wholly below the baseline's, with the
    minimum samples. Any rate of "it worked" answers can use it: setups, free-tier answers."""
    if recent < minimums[0] or baseline < minimums[1]:
        return False
    return wilson_interval(recent_ok, recent)[1] < wilson_interval(baseline_ok, baseline)[0]


def _when(moment):
    return date_format(timezone.localtime(moment), "j M Y, H:i e")


@rule("success_drop")
def success_drop(now):
    recent_start = now - timedelta(days=RECENT_DAYS)
    baseline_start = recent_start - timedelta(days=BASELINE_DAYS)
    recent, before = Q(created_at__gte=recent_start), Q(created_at__lt=recent_start)
    rows = (
        SetupReport.objects.counted()
        .filter(created_at__gte=baseline_start, provider__is_published=True)
        .values("provider")
        .annotate(
            recent=Count("pk", filter=recent),
            recent_ok=Count("pk", filter=recent & Q(success=True)),
            baseline=Count("pk", filter=before),
            baseline_ok=Count("pk", filter=before & Q(success=True)),
        )
        .order_by()
    )
    findings = {}
    for row in rows:
        counts = (row["recent_ok"], row["recent"], row["baseline_ok"], row["baseline"])
        if not falls_clearly_below(*counts):
            continue
        low, high = wilson_interval(row["recent_ok"], row["recent"])
        base_low, base_high = wilson_interval(row["baseline_ok"], row["baseline"])
        rate = row["recent_ok"] / row["recent"] * 100
        base = row["baseline_ok"] / row["baseline"] * 100
        findings[(row["provider"], "")] = Finding(
            title=f"Setup success fell to {rate:.0f}% in the last {RECENT_DAYS} days",
            detail=(
                f"{row['recent_ok']} of {row['recent']} setups succeeded in the last "
                f"{RECENT_DAYS} days ({rate:.1f}%, 95% interval {low * 100:.0f}-{high * 100:.0f}%)"
                f", against {row['baseline_ok']} of {row['baseline']} in the {BASELINE_DAYS} "
                f"days before ({base:.1f}%, {base_low * 100:.0f}-{base_high * 100:.0f}%)."
            ),
            since=recent_start,
        )
    return findings


@rule("trust_drop")
def trust_drop(now):
    then = today() - timedelta(days=TRUST_DROP_DAYS)
    before = {
        s.provider_id: s
        for s in DailySnapshot.objects.filter(day=then, provider__is_published=True).only(
            "provider_id", "trust_score", "setup_reports", "ratings_count"
        )
    }
    current = Provider.objects.filter(pk__in=before).values_list("pk", "trust_score")
    findings = {}
    for pk, score in current:
        old = before[pk]
        confident = scoring.is_confident(
            setup_reports=old.setup_reports, ratings_count=old.ratings_count
        )
        drop = old.trust_score - score
        if confident and drop > TRUST_DROP_POINTS:
            findings[(pk, "")] = Finding(
                title=f"Trust score down {drop:.1f} points in {TRUST_DROP_DAYS} days",
                detail=(
                    f"From {old.trust_score:.1f} on {date_format(then, 'j M Y')} "
                    f"to {score:.1f} now."
                ),
                since=datetime.combine(then, time.min, tzinfo=UTC),
            )
    return findings


@rule("api_down")
def api_down(now):
    down = HealthState.objects.filter(
        target=Target.API,
        state=State.BROKEN,
        failing_since__lte=now - API_DOWN_AFTER,
        provider__is_published=True,
    )
    return {
        (state.provider_id, ""): Finding(
            title=f"API not answering since {_when(state.failing_since)}",
            detail=(
                f"GET {state.url} has failed {state.failures} probes in a row; "
                f"the last: {state.last_outcome or state.get_last_error_kind_display()}."
            ),
            since=state.failing_since,
        )
        for state in down
    }


@rule("link_broken")
def link_broken(now):
    broken = HealthState.objects.filter(state=State.BROKEN, provider__is_published=True).exclude(
        target=Target.API
    )
    return {
        (state.provider_id, state.target): Finding(
            title=f"{state.get_target_display()} link broken",
            detail=(
                f"{state.url} has failed {state.failures} checks in a row since "
                f"{_when(state.failing_since)}; the last: {state.last_outcome}."
            ),
            since=state.failing_since,
        )
        for state in broken
    }


def detect(now=None):
    """Run every rule; open, refresh and resolve alerts. Returns (opened, resolved)."""
    now = now or timezone.now()
    findings = {
        (pk, name, key): finding
        for name, evaluate in RULES.items()
        for (pk, key), finding in evaluate(now).items()
    }
    opened = resolved = 0
    changed = set()
    with transaction.atomic():
        still_open = {(a.provider_id, a.rule, a.key): a for a in Alert.objects.open()}
        for (pk, name, key), finding in findings.items():
            alert = still_open.pop((pk, name, key), None)
            if alert is None:
                Alert.objects.create(
                    provider_id=pk,
                    rule=name,
                    key=key,
                    title=finding.title,
                    detail=finding.detail,
                    since=finding.since,
                    opened_at=now,
                    updated_at=now,
                )
                opened += 1
                changed.add(pk)
            elif (alert.title, alert.detail) != (finding.title, finding.detail):
                alert.title, alert.detail, alert.updated_at = finding.title, finding.detail, now
                alert.save(update_fields=["title", "detail", "updated_at"])
                changed.add(pk)
        for alert in still_open.values():  # no rule finds these any more
            alert.resolved_at = alert.updated_at = now
            alert.save(update_fields=["resolved_at", "updated_at"])
            resolved += 1
            changed.add(alert.provider_id)
        mark_changed(changed)
    return opened, resolved


@rule("free_tier_turn")
def free_tier_turn(now):
    recent_start = now - timedelta(days=RECENT_DAYS)
    baseline_start = recent_start - timedelta(days=BASELINE_DAYS)
    recent, before = Q(created_at__gte=recent_start), Q(created_at__lt=recent_start)
    worked = Q(free_tier=FreeTierAnswer.WORKED)
    rows = (
        Rating.objects.counted()
        .filter(created_at__gte=baseline_start, provider__is_published=True)
        .exclude(free_tier="")
        .values("provider")
        .annotate(
            recent=Count("pk", filter=recent),
            recent_ok=Count("pk", filter=recent & worked),
            baseline=Count("pk", filter=before),
            baseline_ok=Count("pk", filter=before & worked),
        )
        .order_by()
    )
    findings = {}
    for row in rows:
        counts = (row["recent_ok"], row["recent"], row["baseline_ok"], row["baseline"])
        if not falls_clearly_below(*counts, minimums=FREE_TIER_MINIMUMS):
            continue
        failed = row["recent"] - row["recent_ok"]
        findings[(row["provider"], "")] = Finding(
            title="Free tier reported not working",
            detail=(
                f"{failed} of {row['recent']} visitors who used the free tier in the last "
                f"{RECENT_DAYS} days said it did not work, against "
                f"{row['baseline'] - row['baseline_ok']} of {row['baseline']} in the "
                f"{BASELINE_DAYS} days before."
            ),
            since=recent_start,
        )
    return findings
