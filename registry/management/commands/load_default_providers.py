import json
from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.sync import load_snapshot
from registry.interchange import import_registry_data

DEFAULTS = Path(__file__).resolve().parents[2] / "data" / "default_providers.json"


class Command(BaseCommand):
    help = (
        "Add the default providers that are missing. Idempotent: providers already in the "
        "database, and every maintainer edit to them, are left untouched."
    )

    def handle(self, *args, **options):
        data = json.loads(DEFAULTS.read_text(encoding="utf-8"))
        created, _, skipped = import_registry_data(data, only_missing=True)
        self.stdout.write(
            f"Default providers: {len(created)} added, {len(skipped)} already present."
        )
        models = load_snapshot()  # their models and prices (catalog), also only what is missing
        self.stdout.write(
            f"Default models: {models.models_added} models, {models.offerings_added} "
            f"offerings and {models.prices_added} prices added."
        )
