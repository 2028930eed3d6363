"""Link checks and API probes: which URLs to check, and what their results change.

`run_checks(kind)` checks the curated links (CheckKind.LINKS) or probes the APIs
(CheckKind.API) of published providers, records a row per result, moves each target's
HealthState, and marks the providers whose pages changed. When every host failed at the
network level the run is *offline*: it records only its CheckRun and changes nothing.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.models import Provider
from registry.versioning import bump_registry_version

from .checker import Job, check_all, host_of
from .models import (
    LINK_FIELDS,
    CheckKind,
    CheckRun,
    ErrorKind,
    HealthCheck,
    HealthState,
    State,
    Target,
)

LINK_FAILURES_TO_BREAK = 3  # a link is broken after this many failures in a row
API_FAILURES_TO_BREAK = 1  # an API is down from its first failed probe

STATE_FIELDS = [
    "url",
    "state",
    "failures",
    "failing_since",
    "last_checked_at",
    "last_ok_at",
    "last_status",
    "last_error_kind",
    "last_error",
    "latency_ms",
    "moved_to",
    "needs_review",
    "review_opened_at",
]


def mark_changed(provider_pks):
    """Cached pages of these providers are rendered afresh (the page cache is keyed by the
    registry version)."""
    if provider_pks:
        bump_registry_version()


def probe_url(api_base_url):
    return api_base_url.rstrip("/") + "/models"


def jobs_for(kind, providers):
    jobs = []
    for provider in providers:
        if kind == CheckKind.API:
            if provider.api_base_url:
                url = probe_url(provider.api_base_url)
                jobs.append(Job(key=(provider.pk, Target.API), url=url, method="GET"))
            continue
        for target, field in LINK_FIELDS.items():
            if url := getattr(provider, field):
                jobs.append(Job(key=(provider.pk, target), url=url))
    return jobs


def is_up(result):
    """An API probe: 200 or 401 (what a request without a key expects) is up; 5xx, a
    timeout or a connection error is down. Another answer below 500 (403, 404, 429) is a
    server that answered: up, with its status recorded."""
    if result.status is None or result.error_kind not in (ErrorKind.NONE, ErrorKind.HTTP):
        return False
    return result.status < 500


def succeeded(target, result):
    if target == Target.API:
        return is_up(result)
    return not result.error_kind


def is_offline(jobs, results):
    """True when every host of the run failed before any server answered."""
    answered = {}
    for job in jobs:
        host = host_of(job.url)
        answered[host] = answered.get(host, False) or not results[job.key].network_level
    return bool(answered) and not any(answered.values())


def run_checks(kind, providers=None):
    """Check `providers` (default: every published provider) and record what was seen."""
    providers = list(Provider.objects.published() if providers is None else providers)
    jobs = jobs_for(kind, providers)
    run = CheckRun(kind=kind, started_at=timezone.now(), targets=len(jobs))
    results, peak = check_all(jobs)
    run.finished_at = timezone.now()
    run.hosts = len({host_of(job.url) for job in jobs})
    run.peak_concurrency = peak
    run.failures = sum(
        1 for (_, target), result in results.items() if not succeeded(target, result)
    )
    run.offline = is_offline(jobs, results)
    if run.offline:
        kinds = sorted({r.error_kind for r in results.values()})
        run.summary = (
            f"Offline: all {run.hosts} hosts failed at the network level "
            f"({', '.join(kinds)}). Nothing was marked."
        )
    else:
        run.summary = f"{run.targets - run.failures} of {run.targets} answered as expected."
    with transaction.atomic():
        run.save()
        if not run.offline:
            changed = record(run, jobs, results)
            mark_changed(changed)
    return run


def _when(result):
    return datetime.fromtimestamp(result.checked_at, tz=UTC)


def record(run, jobs, results):
    """Result rows and state changes for one run; returns the providers touched."""
    urls = {job.key: job.url for job in jobs}
    HealthCheck.objects.bulk_create(
        [
            HealthCheck(
                run=run,
                provider_id=pk,
                target=target,
                url=urls[(pk, target)],
                checked_at=_when(result),
                method=result.method,
                status=result.status,
                final_url=result.final_url[:2000],
                redirects=result.redirects,
                latency_ms=result.latency_ms,
                error_kind=result.error_kind,
                error=result.error,
                ok=succeeded(target, result),
            )
            for (pk, target), result in results.items()
        ],
        batch_size=500,
    )
    pks = {pk for pk, _ in results}
    states = {
        (s.provider_id, s.target): s
        for s in HealthState.objects.filter(provider__in=pks, target__in={t for _, t in results})
    }
    new = []
    for key, result in results.items():
        state = states.get(key)
        if state is None:
            state = HealthState(provider_id=key[0], target=key[1], url=urls[key])
            new.append(state)
        advance(state, urls[key], result)
    HealthState.objects.bulk_create(new, batch_size=500)
    HealthState.objects.bulk_update(
        [s for s in states.values() if s.pk], STATE_FIELDS, batch_size=500
    )
    return pks


def advance(state, url, result):
    """Move one target's state by one result. A link breaks after three failures in a row
    and recovers on one success; a permanent redirect elsewhere is "moved". A broken or
    moved link asks maintainers to look, once per breakage."""
    if state.url != url:  # a maintainer changed the URL: its history starts again
        state.url, state.state, state.failures, state.failing_since = url, State.UNCHECKED, 0, None
        state.moved_to, state.needs_review, state.review_opened_at = "", False, None
    when = _when(result)
    is_api = state.target == Target.API
    state.last_checked_at = when
    state.last_status = result.status
    state.last_error_kind = result.error_kind
    state.last_error = result.error
    state.latency_ms = result.latency_ms
    if succeeded(state.target, result):
        state.failures, state.failing_since, state.last_ok_at = 0, None, when
        state.moved_to = "" if is_api else result.moved_to
        new = State.MOVED if state.moved_to else State.OK
    else:
        state.failures += 1
        state.failing_since = state.failing_since or when
        threshold = API_FAILURES_TO_BREAK if is_api else LINK_FAILURES_TO_BREAK
        new = State.BROKEN if state.failures >= threshold else State.FAILING
    if not is_api:
        if new in (State.BROKEN, State.MOVED) and state.state != new and not state.needs_review:
            state.needs_review, state.review_opened_at = True, when
        elif new == State.OK:
            state.needs_review, state.review_opened_at = False, None
    state.state = new


# --- what the periodic tasks check ------------------------------------------------------


def _interval(kind):
    if kind == CheckKind.API:
        return timedelta(minutes=settings.VERIFICATION_API_INTERVAL_MINUTES)
    return timedelta(hours=settings.VERIFICATION_LINK_INTERVAL_HOURS)


def due_providers(kind, now=None):
    """The providers a periodic tick should check now: all of them when the last full run
    is older than the interval (daily for links, 15 minutes for APIs), otherwise only
    those with a URL never checked (a new provider, a URL a maintainer changed). After an
    offline run nothing is due until the API interval has passed, so a machine without
    network tries again every 15 minutes, not every minute."""
    now = now or timezone.now()
    latest = CheckRun.objects.filter(kind=kind).order_by("-started_at").first()
    retry = timedelta(minutes=settings.VERIFICATION_API_INTERVAL_MINUTES)
    if latest is not None and latest.offline and latest.started_at > now - retry:
        return []
    providers = list(Provider.objects.published())
    if latest is None or latest.offline or latest.started_at <= now - _interval(kind):
        return providers
    checked = {
        (s.provider_id, s.target): s.url
        for s in HealthState.objects.filter(provider__in=providers).only(
            "provider_id", "target", "url"
        )
    }
    return [
        provider
        for provider in providers
        if any(checked.get(job.key) != job.url for job in jobs_for(kind, [provider]))
    ]
