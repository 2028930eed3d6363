"""The catalog's job on huey's scheduler: the daily models.dev sync, the same function as
`manage.py sync_models` (catalog.sync.scheduled_sync), when MODELS_SYNC_URL is set."""

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from .sync import scheduled_sync

log = logging.getLogger("catalog")
SYNC_LOCK = HUEY.lock_task("catalog-sync")


@db_periodic_task(crontab(hour="3", minute="30"))
def sync_models_daily():
    """Daily at 03:30 UTC; skipped while a sync still runs, and without a URL."""
    if SYNC_LOCK.is_locked():
        return None
    with SYNC_LOCK:
        summary = scheduled_sync()
        if summary is not None:
            log.info("models sync: %s", summary)
        return summary
