import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from registry.interchange import COUNTER_FIELDS
from registry.models import Provider


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


@pytest.fixture
def make_provider(db):
    """Provider.objects.create with the required curated fields filled in."""

    def make(provider_id="acme", **fields):
        fields.setdefault("provider_name", provider_id.title())
        fields.setdefault("signup_url", f"https://{provider_id}.example/signup")
        fields.setdefault("api_key_url", f"https://{provider_id}.example/keys")
        fields.setdefault("documentation_url", f"https://{provider_id}.example/docs")
        return Provider.objects.create(provider_id=provider_id, **fields)

    return make


@pytest.fixture
def provider(make_provider):
    return make_provider("acme", provider_name="Acme AI", has_free_tier=True)


@pytest.fixture
def counters_of(db):
    """Every community counter of a provider, fresh from the database."""

    def read(provider_id):
        return Provider.objects.filter(provider_id=provider_id).values(*COUNTER_FIELDS).get()

    return read
