"""The nightly snapshot on huey's scheduler; also `manage.py freeze_snapshot`."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import snapshots

log = logging.getLogger("api")


# 00:05 UTC: right after the day ends (before verification's 00:10 history job), so the
# curated facts in it are minutes old at most.
@db_periodic_task(crontab(minute="5", hour="0"))
def nightly_registry_snapshot():
    snapshot = snapshots.take_yesterday()
    log.info(
        "registry snapshot of %s: %d providers, %d bytes",
        snapshot.day,
        snapshot.providers,
        snapshot.size,
    )
