from django.core.management.base import BaseCommand

from verification import alerts
from verification.models import Alert


class Command(BaseCommand):
    help = (
        "Run the alert rules (success drop, trust drop, API down, broken link; see "
        "verification/alerts.py): open new alerts, resolve those that no longer hold."
    )

    def handle(self, *args, **options):
        opened, resolved = alerts.detect()
        if options["verbosity"]:
            still = Alert.objects.open().count()
            self.stdout.write(f"Alerts: {opened} opened, {resolved} resolved, {still} open.")
