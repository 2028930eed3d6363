import json

from django.core.management.base import BaseCommand, CommandError

from registry.files import write_private_file_atomically
from registry.interchange import export_registry_data


class Command(BaseCommand):
    help = (
        "Export every provider to a JSON registry file (seed format), readable by owner only. "
        "The file is replaced whole or not at all; a symbolic link at PATH is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        # Serialised in full before any file is touched: an error here changes nothing.
        text = json.dumps(export_registry_data(), indent=2, ensure_ascii=False) + "\n"
        try:
            write_private_file_atomically(path, text)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from None
        self.stdout.write(self.style.SUCCESS(f"Exported the registry to {path} (mode 600)."))
