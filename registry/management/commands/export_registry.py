import json
import os

from django.core.management.base import BaseCommand, CommandError

from registry.interchange import export_registry_data


class Command(BaseCommand):
    help = "Export every provider to a JSON registry file (seed format), readable by owner only."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        text = json.dumps(export_registry_data(), indent=2, ensure_ascii=False) + "\n"
        try:
            # Created 600 from the start, so the data is never readable by others even briefly.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as registry_file:
                registry_file.write(text)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"Exported the registry to {path} (mode 600)."))
