"""sync_models through the real command: the shipped snapshot and modified copies of it.

Every test reads the database afterwards; "writes nothing" is checked on the SQL the
command sent, not only on row counts."""

import datetime
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import CatalogProvider, Model, ModelAlias, Offering, OfferingStatus, Price
from catalog.sync import load_snapshot, scheduled_sync
from registry.models import RegistryVersion
from registry.versioning import registry_version as cache_version

pytestmark = pytest.mark.django_db(transaction=False)

ROOT = Path(__file__).resolve().parents[2]
GROQ_LLAMA = ("groq", "llama-3.3-70b-versatile")
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def offering(catalog_id, model_id):
    return Offering.objects.select_related("current_price", "model").get(
        catalog_provider__catalog_id=catalog_id, provider_model_id=model_id
    )


def table_counts():
    return {
        "providers": CatalogProvider.objects.count(),
        "models": Model.objects.count(),
        "offerings": Offering.objects.count(),
        "prices": Price.objects.count(),
    }


def writes_in(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


def listing(data, catalog_id, model_id):
    return data["providers"][catalog_id]["models"][model_id]


def test_the_shipped_snapshot_syncs_into_an_empty_database(
    catalogue, write, sync_models, default_providers
):
    # default_providers already loaded the snapshot (only what was missing); start over.
    Offering.objects.all().delete()
    Model.objects.all().delete()
    CatalogProvider.objects.all().delete()
    path = write(catalogue)

    out = sync_models(path)

    listings = sum(len(p["models"]) for p in catalogue["providers"].values())
    priced = sum(
        1 for p in catalogue["providers"].values() for m in p["models"].values() if "cost" in m
    )
    assert table_counts()["offerings"] == listings == 775
    assert Price.objects.count() == priced
    assert Offering.objects.filter(current_price__isnull=False).count() == priced
    # Every catalogue provider is linked to the registry's provider of the same id.
    assert CatalogProvider.objects.filter(provider__isnull=True).count() == 0
    assert f"Offerings: {listings} added" in out
    assert "models.dev at commit f3fc692" in out
    price = offering(*GROQ_LLAMA).current_price
    assert (price.input, price.output) == (Decimal("0.59"), Decimal("0.79"))
    assert price.valid_from == datetime.date(2024, 12, 6)  # the listing's last_updated
    assert price.source == "models.dev at commit f3fc692"


def test_syncing_the_same_file_again_writes_nothing(catalogue, write, sync_models, db):
    path = write(catalogue)
    sync_models(path)
    before, version = table_counts(), cache_version()

    with CaptureQueriesContext(connection) as queries:
        out = sync_models(path)

    assert writes_in(queries.captured_queries) == []
    assert "No changes: nothing written." in out
    assert table_counts() == before
    assert cache_version() == version


def test_a_changed_price_is_a_new_dated_row_and_the_old_one_stays(
    catalogue, write, sync_models, db
):
    sync_models(write(catalogue))
    old = offering(*GROQ_LLAMA).current_price
    entry = listing(catalogue, *GROQ_LLAMA)
    entry["cost"]["input"] = 0.65
    entry["last_updated"] = "2025-03-01"
    version = cache_version()

    out = sync_models(write(catalogue))

    rows = list(offering(*GROQ_LLAMA).prices.order_by("valid_from"))
    assert [(r.input, r.output) for r in rows] == [
        (Decimal("0.59"), Decimal("0.79")),
        (Decimal("0.65"), Decimal("0.79")),
    ]
    assert rows[0].pk == old.pk and rows[0].valid_from == old.valid_from  # never overwritten
    assert rows[1].valid_from == datetime.date(2025, 3, 1)
    assert rows[1].observed_at >= old.observed_at
    assert offering(*GROQ_LLAMA).current_price == rows[1]
    assert "price groq / llama-3.3-70b-versatile: input $0.59 → $0.65" in out
    assert "Prices: 1 new rows." in out
    assert "2 rows were written (1 inserted, 1 updated)" in out
    assert cache_version() != version  # cached pages showing the old price are stale now


def test_a_price_changed_without_a_new_date_is_still_the_current_one(
    catalogue, write, sync_models, db
):
    sync_models(write(catalogue))
    listing(catalogue, *GROQ_LLAMA)["cost"]["output"] = 0.99  # last_updated unchanged
    sync_models(write(catalogue))
    assert offering(*GROQ_LLAMA).current_price.output == Decimal("0.99")


def test_a_removed_model_is_retired_not_deleted_and_can_come_back(
    catalogue, write, sync_models, db
):
    sync_models(write(catalogue))
    removed = catalogue["providers"]["groq"]["models"].pop("llama-3.3-70b-versatile")

    out = sync_models(write(catalogue))

    row = offering(*GROQ_LLAMA)
    assert row.status == OfferingStatus.RETIRED and row.retired_at is not None
    assert row.prices.count() == 1
    assert "retired: groq / llama-3.3-70b-versatile" in out
    assert Offering.objects.listed().filter(pk=row.pk).exists() is False

    catalogue["providers"]["groq"]["models"]["llama-3.3-70b-versatile"] = removed
    out = sync_models(write(catalogue))
    row = offering(*GROQ_LLAMA)
    assert (row.status, row.retired_at) == (OfferingStatus.ACTIVE, None)
    assert "listed again: groq / llama-3.3-70b-versatile" in out


def test_providers_missing_from_the_file_are_left_alone(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    only_groq = {"providers": {"groq": catalogue["providers"]["groq"]}}
    out = sync_models(write(only_groq))
    assert "0 retired" in out
    assert Offering.objects.filter(status=OfferingStatus.RETIRED).count() == 0


def test_a_new_provider_model_joins_its_model(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    llama = offering(*GROQ_LLAMA).model
    served = llama.offerings.count()
    entry = json.loads(json.dumps(listing(catalogue, *GROQ_LLAMA)))
    entry.update(id="meta-llama/Llama-3.3-70B-Instruct-Turbo", name="Llama 3.3 70B Turbo")
    entry["cost"] = {"input": 0.88, "output": 0.88}
    catalogue["providers"]["groq"]["models"][entry["id"]] = entry

    out = sync_models(write(catalogue))

    new = offering("groq", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert new.model == llama
    assert llama.offerings.count() == served + 1
    assert new.current_price.input == Decimal("0.88")
    assert "new offering: groq / meta-llama/Llama-3.3-70B-Instruct-Turbo" in out


def test_dry_run_prints_the_changes_and_writes_nothing(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    listing(catalogue, *GROQ_LLAMA)["cost"]["input"] = 0.5
    catalogue["providers"]["groq"]["models"].pop("qwen/qwen3-32b")
    before, version = table_counts(), cache_version()

    with CaptureQueriesContext(connection) as queries:
        out = sync_models(write(catalogue), "--dry-run")

    assert writes_in(queries.captured_queries) == []
    assert table_counts() == before and cache_version() == version
    assert offering(*GROQ_LLAMA).current_price.input == Decimal("0.59")
    assert "price groq / llama-3.3-70b-versatile: input $0.59 → $0.5" in out
    assert "retired: groq / qwen/qwen3-32b" in out
    # A price row, and three updates: the offering's current price, the retired offering,
    # and qwen3-32b's model, whose capabilities come from its remaining listings.
    assert "Dry run: nothing written; 4 rows would be written (1 inserted, 3 updated)" in out


def test_maintainer_edits_survive_a_sync(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    row = offering(*GROQ_LLAMA)
    model = row.model
    model.name, model.curated_fields = "Llama 3.3 70B (curated)", ["name"]
    model.save()
    row.status, row.curated_fields = OfferingStatus.DEPRECATED, ["status"]
    row.save()
    entry = listing(catalogue, *GROQ_LLAMA)
    entry["status"] = "beta"
    entry["limit"]["context"] = 65536
    for other in catalogue["providers"].values():
        for listed in other["models"].values():
            listed["name"] = "Renamed by the catalogue"

    sync_models(write(catalogue))

    row = offering(*GROQ_LLAMA)
    assert row.model.name == "Llama 3.3 70B (curated)"
    assert row.status == OfferingStatus.DEPRECATED  # curated: the catalogue's beta ignored
    assert row.context_limit == 65536  # not curated: updated
    catalogue["providers"]["groq"]["models"].pop("llama-3.3-70b-versatile")
    sync_models(write(catalogue))
    assert offering(*GROQ_LLAMA).status == OfferingStatus.DEPRECATED  # and never retired


def test_a_maintainer_price_stays_current_until_the_catalogue_changes(
    catalogue, write, sync_models, db
):
    path = write(catalogue)
    sync_models(path)
    row = offering(*GROQ_LLAMA)
    mine = Price.objects.create(
        offering=row,
        input=Decimal("0.55"),
        output=Decimal("0.75"),
        valid_from=datetime.date.today(),
        source="maintainer: Groq's pricing page",
        observed_at=timezone.now(),
        by_maintainer=True,
    )
    Offering.objects.refresh_current_prices([row.pk])

    assert "No changes" in sync_models(path)
    assert offering(*GROQ_LLAMA).current_price == mine

    listing(catalogue, *GROQ_LLAMA)["cost"]["input"] = 0.61
    listing(catalogue, *GROQ_LLAMA)["last_updated"] = "2099-01-01"  # future: read as today
    sync_models(write(catalogue))
    current = offering(*GROQ_LLAMA).current_price
    assert (current.input, current.by_maintainer) == (Decimal("0.61"), False)
    assert current.valid_from == datetime.date.today()
    assert Price.objects.filter(pk=mine.pk).exists()


def test_an_alias_regroups_listings_and_a_hand_placed_offering_stays(
    catalogue, write, sync_models, db
):
    sync_models(write(catalogue))
    groq = offering(*GROQ_LLAMA)
    target = offering("deepinfra", "meta-llama/Llama-3.3-70B-Instruct-Turbo").model
    other = Model.objects.create(model_id="my-llama", group_key="my-llama", name="My Llama")
    ModelAlias.objects.create(key=groq.model.group_key, model=other)
    pinned = offering("groq", "llama-3.1-8b-instant")
    pinned.model, pinned.curated_fields = target, ["model"]
    pinned.save()

    out = sync_models(write(catalogue))

    assert offering(*GROQ_LLAMA).model == other
    assert f"regrouped: groq / llama-3.3-70b-versatile → {other.model_id}" in out
    assert offering("groq", "llama-3.1-8b-instant").model == target


def test_free_variants_and_zero_prices(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    free = offering("openrouter", "meta-llama/llama-3.3-70b-instruct:free")
    assert free.is_free_variant and free.is_free
    assert free.model == offering(*GROQ_LLAMA).model
    assert Offering.objects.free().filter(pk=free.pk).exists()
    assert not Offering.objects.free().filter(pk=offering(*GROQ_LLAMA).pk).exists()


# --- bad input: all or nothing, and the message says where -----------------------------


def assert_refused(sync_models, path, *expected):
    before, version = table_counts(), cache_version()
    with pytest.raises(CommandError) as error:
        sync_models(path)
    message = str(error.value)
    assert message.startswith("Nothing synced.")
    for text in expected:
        assert text in message
    assert table_counts() == before and cache_version() == version
    return message


def test_a_malformed_file_is_refused_with_its_line(write, sync_models, db):
    assert_refused(sync_models, write('{"providers": {"groq": '), "is not valid JSON (line 1")
    assert_refused(sync_models, write("[1, 2, 3]"), "must hold a JSON object of providers")
    assert_refused(sync_models, write("{}"), "lists no providers")
    assert_refused(sync_models, write('{"x": NaN}'), "NaN is not a number")
    missing = str(Path(write("{}")).with_name("missing.json"))
    assert_refused(sync_models, missing, "Cannot read", "No such file or directory")
    (Path(write("{}")).parent / "latin1.json").write_bytes(b'{"\xe9": 1}')
    latin1 = str(Path(write("{}")).parent / "latin1.json")
    assert_refused(sync_models, latin1, "is not UTF-8 text")


def test_wrong_types_are_named_by_provider_model_and_field(catalogue, write, sync_models, db):
    sync_models(write(catalogue))
    entry = listing(catalogue, *GROQ_LLAMA)
    entry["cost"]["input"] = "cheap"
    entry["limit"]["context"] = -5
    entry["tool_call"] = "yes"
    listing(catalogue, "groq", "qwen/qwen3-32b")["modalities"] = {"input": ["smell"]}
    catalogue["providers"]["openai"]["models"] = ["gpt-4o"]
    listing(catalogue, "anthropic", "claude-sonnet-4-5")["cost"]["output"] = 1e9
    listing(catalogue, "anthropic", "claude-sonnet-4-5")["status"] = "sunset"

    message = assert_refused(
        sync_models,
        write(catalogue),
        "provider 'groq', model 'llama-3.3-70b-versatile', field 'cost.input': must be a number",
        "field 'limit.context': must be a whole number of tokens",
        "provider 'groq', model 'llama-3.3-70b-versatile', field 'tool_call': must be true or",
        "provider 'groq', model 'qwen/qwen3-32b', field 'modalities.input': must be a list of",
        "provider 'openai', field 'models': must be an object of models",
        "model 'claude-sonnet-4-5', field 'cost.output': must be a number of dollars",
        "model 'claude-sonnet-4-5', field 'status': must be one of alpha, beta, deprecated",
    )
    assert message.count("\n- ") == 7
    assert offering(*GROQ_LLAMA).current_price.input == Decimal("0.59")


def test_one_bad_listing_means_nothing_is_written(catalogue, write, sync_models, db):
    catalogue["providers"]["newcomer"] = {
        "id": "newcomer",
        "name": "Newcomer",
        "env": [],
        "models": {"good": {"id": "good", "name": "Good", "cost": {"input": 1, "output": 2}}},
    }
    listing(catalogue, *GROQ_LLAMA)["release_date"] = 20241206
    assert_refused(
        sync_models,
        write(catalogue),
        "field 'release_date': must be a date like 2025-01-31 or 2025-01",
    )
    assert not Model.objects.exists()


def test_an_impossible_date_is_a_warning_not_a_refusal(catalogue, write, sync_models, db):
    listing(catalogue, *GROQ_LLAMA)["release_date"] = "2025-25-11"  # as in the real catalogue
    out = sync_models(write(catalogue))
    assert (
        "Warning: provider 'groq', model 'llama-3.3-70b-versatile', field 'release_date': "
        "2025-25-11 is not a real date; treated as unknown" in out
    )
    assert offering(*GROQ_LLAMA).current_price is not None


def test_a_hostile_file_is_refused_cleanly(write, sync_models, settings, db, catalogue):
    deep = "[" * 200_000 + "]" * 200_000
    assert_refused(sync_models, write(deep), "nested too deeply")

    settings.MODELS_SYNC_MAX_BYTES = 100_000
    assert_refused(sync_models, write(catalogue), "larger than the 100,000-byte limit")

    settings.MODELS_SYNC_MAX_BYTES = 64 * 1024 * 1024
    huge_name = {"p": {"id": "p", "models": {"m": {"id": "m", "name": "x" * 10_000}}}}
    assert_refused(sync_models, write(huge_name), "field 'name': must be at most 200")
    nested_cost = {"p": {"models": {"m": {"cost": {"input": [[[[1]]]]}}}}}
    assert_refused(sync_models, write(nested_cost), "model 'm', field 'cost.input'")
    control = {"p": {"models": {"m\u0000": {"name": "ok"}}}}
    assert_refused(sync_models, write(control), "must not contain control characters")
    bad_provider = {"../../etc": {"models": {}}}
    assert_refused(sync_models, write(bad_provider), "must be lowercase letters")


def test_html_in_names_is_stored_as_text_and_shown_escaped(write, sync_models, client, db):
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    data = {
        "evil": {
            "id": "evil",
            "name": hostile,
            "models": {
                "evil-model": {
                    "id": "evil-model",
                    "name": hostile,
                    "family": "<b>fam</b>",
                    "cost": {"input": 1, "output": 1},
                }
            },
        }
    }
    sync_models(write(data))
    model = Model.objects.get(model_id="evil-model")
    assert model.name == hostile
    for url in ("/models/", f"/models/{model.model_id}/", "/models/?q=script"):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_the_command_never_shows_a_traceback(tmp_path):
    """The real manage.py in a child process: a bad file is a one-line error and exit 1.
    (It fails before the database is touched, so no migrated database is needed.)"""
    path = tmp_path / "broken.json"
    path.write_text('{"groq": {"models": {"x": {"cost": {"input": "free"}}}}}')
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_models", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SQLITE_PATH": str(tmp_path / "unused.sqlite3"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "CommandError: Nothing synced. provider 'groq', model 'x', field 'cost.input': "
        "must be a number" in result.stderr
    )


# --- the shipped snapshot and the full catalogue --------------------------------------


def test_load_default_providers_adds_the_snapshot_once_and_keeps_edits(default_providers):
    assert Offering.objects.count() == 775
    row = offering(*GROQ_LLAMA)
    row.name, row.curated_fields = "edited", ["name"]
    row.save()
    row.current_price.delete()
    before = table_counts()

    summary = load_snapshot()

    assert not summary.changed
    assert table_counts() == before
    assert offering(*GROQ_LLAMA).name == "edited"


def test_the_full_catalogue_syncs_and_resyncs_without_writing(full_catalogue_path, sync_models, db):
    out = sync_models(str(full_catalogue_path))
    assert Offering.objects.count() == 5276
    assert CatalogProvider.objects.count() == 147
    assert "Warning: provider 'scaleway', model 'qwen3-embedding-8b'" in out
    with CaptureQueriesContext(connection) as queries:
        assert "No changes: nothing written." in sync_models(str(full_catalogue_path))
    assert writes_in(queries.captured_queries) == []


def test_the_daily_job_syncs_only_when_a_url_is_set(settings, db):
    settings.MODELS_SYNC_URL = None
    assert scheduled_sync() is None
    assert RegistryVersion.objects.count() == 0 and not Offering.objects.exists()
