import os
from urllib.parse import quote

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
    """Provider.objects.create with the required curated fields filled in (save=False: the
    Provider unsaved, say to fill an admin add form from)."""

    def make(provider_id="acme", *, save=True, **fields):
        fields.setdefault("provider_name", provider_id.title())
        fields.setdefault("signup_url", f"https://{provider_id}.example/signup")
        fields.setdefault("api_key_url", f"https://{provider_id}.example/keys")
        fields.setdefault("documentation_url", f"https://{provider_id}.example/docs")
        provider = Provider(provider_id=provider_id, **fields)
        if save:
            provider.save()
        return provider

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


@pytest.fixture
def admin_provider_form():
    """The admin form of a provider (saved: with its setup steps and audiences; unsaved: for
    the add form); `fields` win, and a value of None leaves a field out."""

    def form(provider, **fields):
        saved = provider.pk is not None
        steps = list(provider.setup_steps.all()) if saved else []
        data = {
            "provider_name": provider.provider_name,
            "provider_id": provider.provider_id,
            "description": provider.description,
            "is_published": "on" if provider.is_published else "",
            "website_url": provider.website_url,
            "signup_url": provider.signup_url,
            "api_key_url": provider.api_key_url,
            "documentation_url": provider.documentation_url,
            "difficulty": str(provider.difficulty),
            "approval_note": "",
            "free_tier_note": "",
            "key_env_var": "",
            "key_pattern": "",
            "last_verified": "",
            "status_pin": "",
            "status_pin_reason": "",
            "recommended_for": [str(a.pk) for a in provider.recommended_for.all()] if saved else [],
            "setup_steps-TOTAL_FORMS": str(len(steps)),
            "setup_steps-INITIAL_FORMS": str(len(steps)),
        }
        for i, step in enumerate(steps):
            data.update(
                {
                    f"setup_steps-{i}-id": str(step.pk),
                    f"setup_steps-{i}-provider": str(provider.pk),
                    f"setup_steps-{i}-position": str(step.position),
                    f"setup_steps-{i}-text": step.text,
                }
            )
        for prefix in ("pro_tips", "common_issues", "caution_flags"):
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        data.update(fields)
        return {k: v for k, v in data.items() if v is not None}

    return form


@pytest.fixture
def test_database_env():
    """A copy of os.environ with which a subprocess (manage.py, gunicorn) reaches the
    database this test runs on. Use it with transactional_db, so the data is committed."""

    def environment():
        env = {**os.environ}
        # The browser tests' conftest sets this for Playwright; a deployment never would.
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        # Not the development queue's file: the process enqueues nothing.
        env["HUEY_STORAGE_URL"] = "memory://"
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


@pytest.fixture
def key_service(settings):
    """A stand-in OAuth PKCE key service on loopback (tests/key_service.py), configured as
    OpenRouter's one-click key flow. Its key is `key_service.key`."""
    from tests.key_service import KeyService

    service = KeyService(key="sk-or-v1-" + "0ne0c1ic" * 8).start()
    settings.BYOK_ONE_CLICK_KEYS = {"openrouter": service.settings}
    yield service
    service.stop()
