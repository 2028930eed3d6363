"""backup_registry writes a consistent snapshot that restores to the same registry."""

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from registry.interchange import export_registry_data
from registry.services import add_feedback, record_user_signup
from registry.voters import Voter

ROOT = Path(__file__).resolve().parents[2]


def voter(name):
    """A web submitter for the services' abuse limits: its own visitor, network and range."""
    return Voter(visitor=name, network=f"{name}/network", range=f"{name}/range")


def without_timestamp(data):
    return {key: value for key, value in data.items() if key != "last_updated"}


@pytest.fixture
def registry_with_events(transactional_db, default_providers):
    record_user_signup("openrouter", True, 7, voter=voter("a"))
    record_user_signup("deepseek", False, voter=voter("a"))
    add_feedback("openrouter", 5, "Worked first time.", voter=voter("a"))
    add_feedback("groq", 2, voter=voter("b"))


def test_backup_file_is_private(registry_with_events, tmp_path):
    target = tmp_path / "registry.backup"
    call_command("backup_registry", str(target), verbosity=0)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["registry.backup"]  # no partial left


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backup API")
def test_sqlite_backup_restores_to_the_same_registry(registry_with_events, tmp_path):
    target = tmp_path / "registry.sqlite3"
    call_command("backup_registry", str(target), verbosity=0)

    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()

    # Restoring an SQLite backup means serving from the copied file: do that in a fresh
    # process and compare what it exports with the live registry, counters included.
    restored_export = tmp_path / "restored.json"
    env = {**os.environ, "SQLITE_PATH": str(target)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "export_registry", str(restored_export)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    restored = json.loads(restored_export.read_text())
    assert without_timestamp(restored) == without_timestamp(export_registry_data())
    assert restored["providers"]["openrouter"]["counters"]["ratings_count"] > 0


def test_dump_of_backup_equals_dump_of_live_database(registry_with_events, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("table-for-table comparison applies to the SQLite file copy")
    target = tmp_path / "registry.sqlite3"
    call_command("backup_registry", str(target), verbosity=0)
    connection.ensure_connection()
    live = list(connection.connection.iterdump())
    copy = sqlite3.connect(target)
    assert list(copy.iterdump()) == live
    copy.close()


def test_json_backup_restores_with_import_registry(registry_with_events, tmp_path, settings):
    if connection.vendor == "sqlite":
        pytest.skip("PostgreSQL backups are JSON exports")
    from registry.models import Provider

    target = tmp_path / "registry.json"
    call_command("backup_registry", str(target), verbosity=0)
    before = without_timestamp(export_registry_data())
    Provider.objects.all().delete()
    call_command("import_registry", str(target), verbosity=0)
    assert without_timestamp(export_registry_data()) == before


def test_backup_to_missing_folder_is_a_clear_error(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup_registry", str(tmp_path / "nope" / "backup"), verbosity=0)
