import json
import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from registry.files import private_file_replacing
from registry.interchange import export_registry_data


class Command(BaseCommand):
    help = (
        "Write a consistent online snapshot of the registry to PATH (mode 600): a verified "
        "copy of the SQLite database, or the JSON registry export on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        target = Path(path)
        if not target.parent.is_dir():
            raise CommandError(f"Cannot write {path}: folder {target.parent} does not exist.")
        # Written beside the target and renamed, so a failed backup never leaves half a
        # file where a good one was.
        try:
            with private_file_replacing(target) as partial:
                if connection.vendor == "sqlite":
                    what = self.backup_sqlite(partial)
                else:
                    what = self.backup_json(partial)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from None
        self.stdout.write(self.style.SUCCESS(f"Backed up {what} to {path} (mode 600)."))

    def backup_sqlite(self, partial):
        # The backup API copies pages under SQLite's own locking, so writers may carry on
        # and the copy is still one consistent state.
        connection.ensure_connection()
        copy = sqlite3.connect(partial)
        try:
            connection.connection.backup(copy)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
        if verdict != "ok":
            raise CommandError(f"The copy failed its integrity check: {verdict}")
        return "the SQLite database (integrity check: ok)"

    def backup_json(self, partial):
        # One snapshot for every query of the export.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            data = export_registry_data()
        with open(partial, "w", encoding="utf-8") as backup_file:
            json.dump(data, backup_file, indent=2, ensure_ascii=False)
            backup_file.write("\n")
        return f"{len(data['providers'])} providers as a JSON registry export"
