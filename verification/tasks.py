"""The verification jobs on huey's scheduler: the same functions as the management
commands (check_providers, snapshot_registry, detect_alerts), on a timetable.

- every minute, the checks that are due (verification.health.due_providers): every link
  once a day, every API every 15 minutes, and at once any URL never checked; then the
  detector, when something was checked;
- nightly at 00:10 UTC, yesterday's snapshot, old check rows pruned, then the detector;
- hourly, the detector on recent events.

A job that is still running when its next tick comes (a long link run) is skipped, not
started twice: each kind of work holds its own lock.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from registry.models import Provider

from . import alerts, health, history
from .models import CheckKind

log = logging.getLogger("verification")

LOCKS = {
    CheckKind.LINKS: HUEY.lock_task("verification-links"),
    CheckKind.API: HUEY.lock_task("verification-api"),
}


def _check(kind, providers):
    lock = LOCKS[kind]
    if lock.is_locked() or not providers:
        return None
    with lock:
        run = health.run_checks(kind, providers)
        log.info("%s check: %s", kind, run.summary)
        if not run.offline:
            alerts.detect()
        return run


@db_periodic_task(crontab())
def check_due_links():
    _check(CheckKind.LINKS, health.due_providers(CheckKind.LINKS))


@db_periodic_task(crontab())
def probe_due_apis():
    _check(CheckKind.API, health.due_providers(CheckKind.API))


@db_task()
def check_providers(kind, provider_ids=None):
    """On demand (the admin, a deploy script, CI): check these providers now."""
    providers = Provider.objects.published()
    if provider_ids is not None:
        providers = providers.filter(provider_id__in=provider_ids)
    return _check(kind, list(providers)) is not None


@db_periodic_task(crontab(minute="10", hour="0"))
def nightly_snapshot():
    rows = history.snapshot()
    history.prune()
    opened, resolved = alerts.detect()
    log.info("snapshot: %d rows; alerts: %d opened, %d resolved", rows, opened, resolved)


@db_periodic_task(crontab(minute="30"))
def hourly_alerts():
    alerts.detect()
