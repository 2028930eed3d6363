"""What the provider page shows of the registry's own checks, as inclusion tags:

    {% load provider_health %}
    {% provider_alerts provider %}       open alerts, and the issue reports since they began
    {% provider_link_states provider %}  each curated link: checked when, working or not
    {% provider_uptime provider %}       API uptime for 24 h, 7 d, 30 d and a 90-day bar
    {% provider_history provider %}      trust score and success rate over 30/90/365 days

Each costs one query (alerts with reports: two), whatever the days of history: states,
one aggregate of the probes of the last 30 days, and the snapshots of the last 365 days
are each read once per page and shared between the tags. Charts are drawn here as SVG
coordinates and classes (no inline style or script: the CSP stays strict), each with a
text equivalent. The provider page is cached whole; "checked 3 h ago" is at most the
cache timeout (300 s) old.
"""

from datetime import timedelta

from django import template
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.timesince import timesince

from registry.models import IssueReport
from verification.health import probe_url
from verification.models import LINK_FIELDS, DailySnapshot, HealthCheck, State, Target

register = template.Library()

HISTORY_WINDOWS = (30, 90, 365)
BAR_DAYS = 90
UP_AT = 99.0  # a day with at least this share of probes up is "up"
DOWN_BELOW = 75.0  # under this share it is "down"; in between, "degraded"
SPARK_WIDTH, SPARK_HEIGHT = 120, 36
MIN_SPAN = {"trust": 10.0, "success": 10.0}  # points: small wobbles stay flat
BAR_CELL, BAR_GAP, BAR_HEIGHT = 3, 1, 24


def _memo(provider, name, compute):
    """Compute once per provider object, so the tags on one page share their queries."""
    store = provider.__dict__.setdefault("_health", {})
    if name not in store:
        store[name] = compute()
    return store[name]


def _states(provider):
    return _memo(provider, "states", lambda: {s.target: s for s in provider.health.all()})


# --- alerts ---------------------------------------------------------------------------


@register.inclusion_tag("verification/_alerts.html")
def provider_alerts(provider):
    alerts = list(provider.alerts.open().order_by("opened_at"))
    reports = []
    since = None
    if alerts:
        since = min(alert.since for alert in alerts)
        counts = (
            IssueReport.objects.approved()
            .filter(provider=provider, created_at__gte=since)
            .values("category")
            .annotate(n=Count("pk"))
            .order_by("-n", "category")
        )
        labels = dict(IssueReport._meta.get_field("category").choices)
        reports = [{"label": labels[row["category"]], "count": row["n"]} for row in counts]
    return {"alerts": alerts, "reports": reports, "since": since}


@register.filter
def since_day(moment):
    """How people say when: "today", "yesterday", "Tuesday" within the week, else a date."""
    if not moment:
        return ""
    day = timezone.localtime(moment).date()
    days = (timezone.localdate() - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return day.strftime("%A")
    return f"{day.day} {day.strftime('%b %Y')}"


@register.filter
def ago(moment):
    """ "just now", "5 minutes ago", "3 hours ago": one unit is enough for a check time."""
    if not moment:
        return "never"
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"


# --- links ----------------------------------------------------------------------------


@register.inclusion_tag("verification/_link_states.html")
def provider_link_states(provider):
    states = _states(provider)
    links = []
    for target, field in LINK_FIELDS.items():
        url = getattr(provider, field)
        if not url:
            continue
        state = states.get(target)
        if state is not None and state.url != url:
            state = None  # checked under an old URL: this one is not checked yet
        links.append({"target": Target(target), "url": url, "state": state})
    return {"links": links, "State": State}


# --- API uptime -----------------------------------------------------------------------


def _percent(up, total):
    return up / total * 100 if total else None


def _uptime(provider):
    def compute():
        now = timezone.now()
        windows = {"24 hours": 1, "7 days": 7, "30 days": 30}
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        aggregates = {}
        for days in windows.values():
            since = Q(checked_at__gte=now - timedelta(days=days))
            aggregates[f"{days}_total"] = Count("pk", filter=since)
            aggregates[f"{days}_up"] = Count("pk", filter=since & Q(ok=True))
        aggregates["today_total"] = Count("pk", filter=Q(checked_at__gte=midnight))
        aggregates["today_up"] = Count("pk", filter=Q(checked_at__gte=midnight, ok=True))
        aggregates["latency"] = Avg(
            "latency_ms", filter=Q(checked_at__gte=now - timedelta(days=1), ok=True)
        )
        row = HealthCheck.objects.filter(
            provider=provider, target=Target.API, checked_at__gte=now - timedelta(days=30)
        ).aggregate(**aggregates)
        return {
            "windows": [
                {
                    "label": label,
                    "percent": _percent(row[f"{days}_up"], row[f"{days}_total"]),
                    "probes": row[f"{days}_total"],
                }
                for label, days in windows.items()
            ],
            "today": (row["today_up"], row["today_total"]),
            "latency": row["latency"],
        }

    return _memo(provider, "uptime", compute)


def _snapshots(provider):
    def compute():
        since = timezone.localdate() - timedelta(days=max(HISTORY_WINDOWS))
        return list(
            DailySnapshot.objects.filter(provider=provider, day__gte=since)
            .order_by("day")
            .only(
                "day",
                "trust_score",
                "setup_reports",
                "setup_successes",
                "ratings_count",
                "api_probes",
                "api_up",
            )
        )

    return _memo(provider, "snapshots", compute)


def day_class(percent):
    if percent is None:
        return "none"
    if percent >= UP_AT:
        return "up"
    return "down" if percent < DOWN_BELOW else "degraded"


def uptime_bar(snapshots, today_counts, today):
    """The last BAR_DAYS days as SVG cells, oldest first, with a one-line summary."""
    by_day = {s.day: _percent(s.api_up or 0, s.api_probes) for s in snapshots}
    by_day[today] = _percent(*today_counts)
    cells, tally = [], {"up": 0, "degraded": 0, "down": 0, "none": 0}
    for offset in range(BAR_DAYS):
        day = today - timedelta(days=BAR_DAYS - 1 - offset)
        percent = by_day.get(day)
        kind = day_class(percent)
        tally[kind] += 1
        cells.append(
            {
                "x": offset * (BAR_CELL + BAR_GAP),
                "kind": kind,
                "day": day,
                "percent": percent,
            }
        )
    return {
        "cells": cells,
        "tally": tally,
        "width": BAR_DAYS * (BAR_CELL + BAR_GAP) - BAR_GAP,
        "cell_width": BAR_CELL,
        "height": BAR_HEIGHT,
    }


@register.inclusion_tag("verification/_uptime.html")
def provider_uptime(provider):
    if not provider.api_base_url:
        return {"provider": provider, "probed": False}
    state = _states(provider).get(Target.API)
    url = probe_url(provider.api_base_url)
    if state is not None and state.url != url:
        state = None
    uptime = _uptime(provider)
    return {
        "provider": provider,
        "probed": True,
        "url": url,
        "state": state,
        "State": State,
        "windows": uptime["windows"],
        "latency": uptime["latency"],
        "bar": uptime_bar(_snapshots(provider), uptime["today"], timezone.localdate()),
        "thresholds": {"up": UP_AT, "down": DOWN_BELOW},
    }


# --- history charts -------------------------------------------------------------------


def sparkline(values, *, min_span):
    """SVG coordinates for a series, oldest first: polylines, with a gap for each None,
    and a dot for a point that stands alone."""
    present = [v for v in values if v is not None]
    chart = {"segments": [], "dots": [], "width": SPARK_WIDTH, "height": SPARK_HEIGHT}
    if len(present) < 2:
        return chart
    low, high = min(present), max(present)
    if high - low < min_span:  # centre a flat line instead of magnifying noise
        middle = (high + low) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    step, pad = SPARK_WIDTH / (len(values) - 1), 2
    scale = (SPARK_HEIGHT - 2 * pad) / (high - low)
    runs, run = [], []
    for i, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append((round(i * step, 1), round(pad + (high - value) * scale, 1)))
    if run:
        runs.append(run)
    for run in runs:
        if len(run) == 1:
            chart["dots"].append({"x": run[0][0], "y": run[0][1]})
        else:
            chart["segments"].append(" ".join(f"{x},{y}" for x, y in run))
    return chart


def trend_text(start, end, days, unit):
    """ "down 8.2 points in 30 days (81.0 to 72.8)": the chart in words."""
    if start is None or end is None:
        return "not enough history yet"
    change = end - start
    values = f"{start:.1f}{unit} to {end:.1f}{unit}"
    if abs(change) < 0.05:
        return f"unchanged in {days} days, at {end:.1f}{unit}"
    direction = "up" if change > 0 else "down"
    return f"{direction} {abs(change):.1f} points in {days} days ({values})"


def _trust(snapshot):
    return snapshot.trust_score if snapshot.has_community_data else None


def _success(snapshot):
    return snapshot.success_rate


@register.inclusion_tag("verification/_history.html")
def provider_history(provider):
    today = timezone.localdate()
    snapshots = _snapshots(provider)
    has_data = provider.setup_reports or provider.ratings_count
    current = {
        "trust": provider.get_trust_score() if has_data else None,
        "success": provider.success_rate if provider.setup_reports else None,
    }
    metrics = []
    for name, label, unit, value in (
        ("trust", "Trust score", "", _trust),
        ("success", "Success rate", "%", _success),
    ):
        charts = []
        for window in HISTORY_WINDOWS:
            first = today - timedelta(days=window)
            by_day = {s.day: value(s) for s in snapshots if s.day >= first}
            series = [by_day.get(first + timedelta(days=i)) for i in range(window)]
            series.append(current[name])  # the chart ends now, with the page's figure
            known = [(i, v) for i, v in enumerate(series) if v is not None]
            if len(known) >= 2:
                start_index, start = known[0]
                text = trend_text(start, current[name], window - start_index, unit)
            else:
                text = "not enough history yet"
            charts.append(
                {
                    "window": window,
                    "chart": sparkline(series, min_span=MIN_SPAN[name]),
                    "text": text,
                }
            )
        metrics.append({"name": name, "label": label, "charts": charts})
    return {"provider": provider, "metrics": metrics, "has_history": bool(snapshots)}
