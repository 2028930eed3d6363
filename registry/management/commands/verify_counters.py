from django.core.management.base import BaseCommand, CommandError

from registry.models import Provider
from registry.services import counter_differences, repair_counters


class Command(BaseCommand):
    help = (
        "Check that every provider's counters equal its baseline (the imported or seeded "
        "figures) plus its counted events. With --repair, set any that differ, one "
        "transaction per provider."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix the counters that differ.")

    def handle(self, *args, repair=False, **options):
        differences = counter_differences()
        checked = Provider.objects.count()
        if not differences:
            self.stdout.write(
                self.style.SUCCESS(f"All {checked} providers: counters = baseline + events.")
            )
            return
        for provider_id, wrong in sorted(differences.items()):
            if repair:
                wrong = repair_counters(provider_id) or wrong
            details = ", ".join(
                f"{name} {stored} -> {expected}"
                if repair
                else f"{name} is {stored}, baseline + events make {expected}"
                for name, (stored, expected) in wrong.items()
            )
            self.stdout.write(f"{provider_id}: {'repaired ' if repair else ''}{details}")
        if repair:
            self.stdout.write(self.style.SUCCESS(f"Repaired {len(differences)} provider(s)."))
        else:
            raise CommandError(
                f"{len(differences)} of {checked} providers differ. "
                "Run verify_counters --repair to fix them."
            )
