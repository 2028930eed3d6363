"""The registry export carries models, offerings and prices; older files still import."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import CatalogProvider, Model, ModelAlias, Offering, OfferingStatus, Price
from registry.models import Provider


def export(path):
    call_command("export_registry", str(path), verbosity=0)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["last_updated"]
    return data


def curate(default_providers):
    groq = Offering.objects.get(provider_model_id="llama-3.3-70b-versatile")
    groq.status, groq.retired_at = OfferingStatus.RETIRED, timezone.now()
    groq.curated_fields = ["status"]
    groq.save()
    Price.objects.create(
        offering=groq,
        input=Decimal("0.123456"),
        output=Decimal("0"),
        valid_from=datetime.date(2026, 1, 2),
        source="maintainer",
        observed_at=timezone.now(),
        by_maintainer=True,
    )
    Offering.objects.refresh_current_prices([groq.pk])
    ModelAlias.objects.create(key="my-llama-key", model=groq.model)
    model = groq.model
    model.name, model.curated_fields = "Llama 3.3 70B", ["name"]
    model.save()


def test_export_import_export_round_trips_the_catalogue(default_providers, tmp_path):
    curate(default_providers)
    first = export(tmp_path / "first.json")
    assert len(first["catalog"]["models"]) == Model.objects.count()
    llama = first["catalog"]["models"]["llama-3.3-70b"]
    assert llama["aliases"] == ["my-llama-key"]
    groq = next(o for o in llama["offerings"] if o["provider"] == "groq")
    assert groq["prices"][-1]["input"] == "0.123456"  # a decimal string, never a float

    for table in (Offering, Model, CatalogProvider, Provider):
        table.objects.all().delete()
    call_command("import_registry", str(tmp_path / "first.json"), verbosity=0)

    assert export(tmp_path / "second.json") == first
    groq = Offering.objects.get(provider_model_id="llama-3.3-70b-versatile")
    assert groq.current_price.input == Decimal("0.123456") and groq.current_price.by_maintainer
    assert groq.catalog_provider.provider.provider_id == "groq"


def test_an_older_file_without_a_catalogue_leaves_it_alone(default_providers, tmp_path):
    data = export(tmp_path / "full.json")
    del data["catalog"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    before = (Model.objects.count(), Offering.objects.count(), Price.objects.count())
    call_command("import_registry", str(old), verbosity=0)
    assert (Model.objects.count(), Offering.objects.count(), Price.objects.count()) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda o, m: o["prices"][0].update(input=0.59),
            "offering 1, price 1, input: must be a decimal string",
        ),
        (
            lambda o, m: o["prices"][0].update(input="-1"),
            "offering 1, price 1: Prices cannot be negative.",
        ),
        (lambda o, m: o.update(status="gone"), "field 'status'"),
        (lambda o, m: o.update(provider="nowhere"), "'nowhere' is not in the catalog's providers"),
        (lambda o, m: m.update(release_date="soon"), "field 'release_date': must be a date"),
        (lambda o, m: m.update(name="x" * 500), "field 'name'"),
    ],
)
def test_a_bad_catalogue_means_nothing_is_imported(default_providers, tmp_path, change, message):
    data = export(tmp_path / "full.json")
    model = data["catalog"]["models"]["llama-3.3-70b"]
    change(model["offerings"][0], model)
    data["providers"]["groq"]["provider_name"] = "Renamed"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="Nothing imported") as error:
        call_command("import_registry", str(bad), verbosity=0)
    assert "catalog, model 'llama-3.3-70b'" in str(error.value)
    assert message in str(error.value)
    assert Provider.objects.get(provider_id="groq").provider_name == "Groq"
