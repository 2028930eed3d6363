"""The registry version: what cached pages are keyed by, and the one way to move it.

Every write that changes what a public page shows (a counted rating or setup report, an
admin edit, moderation, an import) calls bump_registry_version() inside its own
transaction, so a reader sees either the old version with the old data or the new version
with the new data. Cached pages (onboarding/page_cache.py) are keyed by
registry_version(), read once per request.
"""

import time

from django.db import connections, router

from .models import RegistryVersion


def _table(connection):
    return connection.ops.quote_name(RegistryVersion._meta.db_table)


def registry_version():
    """The current version, as text for cache keys and ETags. Read on every cached page
    view, so it is one plain statement: building it with the ORM cost ten times more than
    running it."""
    connection = connections[router.db_for_read(RegistryVersion)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {_table(connection)} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    return str(row[0] if row else 0)


def bump_registry_version():
    """Mark every cached page stale. Call it in the transaction of the write it follows."""
    # An upsert: the row is made by the first bump, and again after a flush. A new row
    # starts at the clock in microseconds, above any value an earlier row reached, so a
    # version (and a page cached under it) never comes back.
    connection = connections[router.db_for_write(RegistryVersion)]
    table = _table(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, value) VALUES (1, %s) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET value = {table}.value + 1",
            [time.time_ns() // 1000],
        )
