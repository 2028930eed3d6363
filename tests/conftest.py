import os
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection


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


@pytest.fixture
def test_database_env():
    """A copy of os.environ with which a subprocess (manage.py, gunicorn) reaches the
    database this test runs on. Use it with transactional_db, so the data is committed."""

    def environment():
        env = {**os.environ}
        # The browser tests' conftest sets this for Playwright; a deployment never would.
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        database = connection.settings_dict
        if connection.vendor == "sqlite":
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(database["NAME"])
        else:
            user = quote(database["USER"] or "", safe="")
            password = quote(database["PASSWORD"] or "", safe="")
            env["DATABASE_URL"] = (
                f"postgres://{user}:{password}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            )
        return env

    return environment
