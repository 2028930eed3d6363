from django.core.management.base import BaseCommand, CommandError

from catalog.catalogue import CatalogueError
from catalog.sync import sync_source


class Command(BaseCommand):
    help = (
        "Sync models, offerings and prices from a catalogue in models.dev's api.json format "
        "(a file path or an https URL). All or nothing: one bad value means nothing is "
        "written. A changed price is a new dated row; a vanished offering is retired."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a file path or an https:// URL")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would change; write nothing"
        )

    def handle(self, source, dry_run=False, verbosity=1, **options):
        try:
            summary = sync_source(source, dry_run=dry_run)
        except CatalogueError as error:
            raise CommandError(f"Nothing synced. {error}") from None
        if verbosity:
            style = self.style.SUCCESS if not dry_run else self.style.WARNING
            lines = summary.lines(all_changes=verbosity > 1)
            self.stdout.write("\n".join(lines[:-1]))
            self.stdout.write(style(lines[-1]))
