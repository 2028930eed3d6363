import json

from django.core.management.base import BaseCommand, CommandError

from registry.interchange import RegistryFileError, import_registry_data


class Command(BaseCommand):
    help = (
        "Import providers from a JSON registry file in the seed's format. All or nothing: "
        "one bad provider means nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--only-missing",
            action="store_true",
            help="Skip providers that already exist instead of replacing their data.",
        )

    def handle(self, path, only_missing=False, **options):
        try:
            with open(path, encoding="utf-8") as registry_file:
                data = json.load(registry_file)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text.") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg})."
            ) from None
        except RecursionError:
            raise CommandError(f"{path} is nested too deeply to be a registry file.") from None
        try:
            created, updated, skipped = import_registry_data(data, only_missing=only_missing)
        except RegistryFileError as error:
            raise CommandError(f"Nothing imported. {error}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path}: {len(created)} created, {len(updated)} updated, "
                f"{len(skipped)} skipped."
            )
        )
