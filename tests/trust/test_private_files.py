"""export_registry and backup_registry write through registry.files: private from creation,
replaced whole or not at all, and never through a symbolic link."""

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["export_registry", "backup_registry"]


@pytest.fixture
def registry(transactional_db, default_providers):
    """The default providers, committed: SQLite's backup API waits for an open transaction."""


def leftovers(folder, *expected):
    return sorted(p.name for p in folder.iterdir() if p.name not in expected)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_file_is_replaced_whole_and_private(registry, tmp_path, command):
    target = tmp_path / "registry.out"
    target.write_text("the previous file")
    os.chmod(target, 0o644)
    call_command(command, str(target), verbosity=0)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() != b"the previous file"
    assert leftovers(tmp_path, "registry.out") == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symlink_at_the_destination_is_refused_and_its_target_untouched(
    registry, tmp_path, command
):
    precious = tmp_path / "precious.txt"
    precious.write_text("not yours to overwrite")
    os.chmod(precious, 0o644)
    link = tmp_path / "registry.json"
    link.symlink_to(precious)

    with pytest.raises(CommandError, match="symbolic link"):
        call_command(command, str(link), verbosity=0)

    assert precious.read_text() == "not yours to overwrite"
    assert stat.S_IMODE(precious.stat().st_mode) == 0o644
    assert link.is_symlink() and link.resolve() == precious
    assert leftovers(tmp_path, "precious.txt", "registry.json") == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_dangling_symlink_does_not_create_its_target(registry, tmp_path, command):
    link = tmp_path / "registry.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(CommandError, match="symbolic link"):
        call_command(command, str(link), verbosity=0)
    assert not (tmp_path / "elsewhere.json").exists()
    assert leftovers(tmp_path, "registry.json") == []


def test_a_folder_at_the_destination_is_a_clear_error(registry, tmp_path):
    (tmp_path / "registry.json").mkdir()
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_registry", str(tmp_path / "registry.json"), verbosity=0)
    assert leftovers(tmp_path, "registry.json") == []


def test_an_export_that_fails_midway_leaves_the_previous_file(
    registry, tmp_path, test_database_env
):
    target = tmp_path / "registry.json"
    call_command("export_registry", str(target), verbosity=0)
    good = target.read_bytes()
    assert len(good) > 16_384

    def limit_file_size():
        # A real full-disk condition for this process only: a write past 8 KiB fails with
        # EFBIG (Python ignores SIGXFSZ, so the process lives to report it).
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    result = subprocess.run(
        [sys.executable, "manage.py", "export_registry", str(target)],
        cwd=ROOT,
        env=test_database_env(),
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "Cannot write" in result.stderr and "File too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == good
    json.loads(good)
    assert leftovers(tmp_path, "registry.json") == []
