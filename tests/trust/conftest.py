import pytest
from django.db import connection


def dump_database():
    """Every row of every table, as text: what a full database dump would contain."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(lines)


@pytest.fixture
def database_text():
    return dump_database
