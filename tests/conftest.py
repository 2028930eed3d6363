import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty page cache, as a fresh worker does: cached pages are
    keyed by the registry version, which each test's rolled-back database may repeat."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def default_providers(db):
    """The shipped default data, loaded the way `make run` loads it."""
    call_command("load_default_providers", verbosity=0)


@pytest.fixture
def database_text():
    """Every row of every table as text, like a full dump: where a stored secret would show."""

    def dump():
        lines = []
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
                lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
        return "\n".join(lines)

    return dump
