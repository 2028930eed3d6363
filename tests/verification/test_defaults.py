"""Provider.api_base_url: filled for the default providers from models.dev's `api`, and
once, by its migration, for databases that had the default providers already."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from registry.models import Provider, https_only

MODELS_DEV_API = Path(__file__).resolve().parents[3] / "shared" / "data" / "models-dev-api.json"
BEFORE = ("registry", "0005_key_pattern_linear_grammar")
AFTER = ("registry", "0006_provider_api_base_url")


@pytest.mark.skipif(not MODELS_DEV_API.exists(), reason="models.dev reference data not found")
def test_default_api_addresses_come_from_models_dev(default_providers):
    reference = json.loads(MODELS_DEV_API.read_text())["providers"]
    for provider in Provider.objects.all():
        api = reference.get(provider.provider_id, {}).get("api", "")
        assert provider.api_base_url == api.rstrip("/"), provider.provider_id
        if provider.api_base_url:
            https_only(provider.api_base_url)
    assert Provider.objects.exclude(api_base_url="").count() >= 6


def test_load_default_providers_leaves_a_cleared_api_address_alone(default_providers):
    Provider.objects.filter(provider_id="openrouter").update(api_base_url="")
    call_command("load_default_providers", verbosity=0)
    assert Provider.objects.get(provider_id="openrouter").api_base_url == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_existing_default_providers_once():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps.get_model("registry", "Provider")
        for provider_id in ("openrouter", "mine"):
            old.objects.create(
                provider_id=provider_id, provider_name=provider_id,
                signup_url="https://x.example/s", api_key_url="https://x.example/k",
                documentation_url="https://x.example/d",
            )  # fmt: skip
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("registry", "Provider")
        filled = dict(new.objects.values_list("provider_id", "api_base_url"))
        assert filled == {"openrouter": "https://openrouter.ai/api/v1", "mine": ""}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
