"""import_registry survives arbitrary files: a clear CommandError or a clean import.

Whatever the input, there is never a traceback, and a rejected file changes nothing.
"""

import copy
import json
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Offering, Price
from registry.interchange import export_registry_data

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "registry" / "data" / "default_providers.json"
VALID = json.loads(DEFAULT_FILE.read_text())
PROVIDER_IDS = sorted(VALID["providers"])
FIELDS = sorted({field for entry in VALID["providers"].values() for field in entry})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "javascript:alert(1)", "https://", "http://x.org", "easy"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_registries(draw):
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        provider_id = draw(st.sampled_from(PROVIDER_IDS))
        entry = data["providers"].get(provider_id)
        if not isinstance(entry, dict):
            continue
        field = draw(st.sampled_from([*FIELDS, "counters"]))
        if draw(st.booleans()):
            entry[field] = draw(json_values)
        else:
            entry.pop(field, None)
    return data


registry_files = (
    mutated_registries().map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=200)
    | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
)


def snapshot():
    """The registry as exported, and how many catalogue rows there are: these files carry
    no catalogue, so its rows stand for it (exporting it twice per example cost 30 s)."""
    data = export_registry_data()
    data.pop("last_updated")
    data.pop("catalog", None)
    return data, Offering.objects.count(), Price.objects.count()


@settings(
    max_examples=100,  # each imports and exports the registry: about 0.15 s an example
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=registry_files)
def test_import_never_crashes_and_rejects_atomically(default_providers, tmp_path, content):
    path = tmp_path / "registry.json"
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    before = snapshot()
    try:
        call_command("import_registry", str(path), verbosity=0)
    except CommandError as error:
        assert str(error)
        assert snapshot() == before
