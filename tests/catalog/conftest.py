import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.sync import SNAPSHOT

FULL_CATALOGUE = Path(__file__).resolve().parents[3] / "shared" / "data" / "models-dev-api.json"


@pytest.fixture(scope="session")
def snapshot_data():
    """The shipped snapshot (the default providers' models), parsed once."""
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@pytest.fixture
def catalogue(snapshot_data):
    """A fresh copy of the shipped snapshot to modify."""
    return copy.deepcopy(snapshot_data)


@pytest.fixture
def full_catalogue_path():
    if not FULL_CATALOGUE.exists():
        pytest.skip(f"the full models.dev catalogue is not here ({FULL_CATALOGUE}): no ../shared")
    return FULL_CATALOGUE


@pytest.fixture
def write(tmp_path):
    """Write a catalogue (an object, or text) to a file; return its path as text."""
    counter = iter(range(1000))

    def write(data, name=None):
        path = tmp_path / (name or f"catalogue-{next(counter)}.json")
        text = data if isinstance(data, str) else json.dumps(data)
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def sync_models():
    """Run the real `sync_models` command; its output as text."""

    def run(*args):
        out = StringIO()
        call_command("sync_models", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    return run
