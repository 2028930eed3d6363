from django.core.management.base import BaseCommand

from api import snapshots


class Command(BaseCommand):
    help = (
        "Store yesterday's dated registry snapshot (/api/v1/snapshots/<day>.json) if it is "
        "not stored yet. A stored snapshot is never rewritten. Runs nightly on the worker."
    )

    def handle(self, *args, **options):
        snapshot = snapshots.take_yesterday()
        if options["verbosity"]:
            self.stdout.write(
                f"Snapshot of {snapshot.day}: {snapshot.providers} providers, "
                f"{snapshot.size:,} bytes of JSON, sha256 {snapshot.sha256[:12]}…"
            )
