from django.core.management.base import BaseCommand

from registry.models import Provider
from registry.scoring import Status

COLUMNS = ("Provider", "Trust", "Range", "Status", "Confidence", "Stars", "Success", "Users")
NO_DATA = "no data yet"


class Command(BaseCommand):
    help = (
        "Print every provider with its trust score and range, most trusted first (the seed's "
        "registry test)."
    )

    def handle(self, *args, **options):
        providers = Provider.objects.published().most_trusted()
        rows = [
            (
                p.provider_name,
                f"{p.get_trust_score():.1f}" if p.has_data else NO_DATA,
                f"{p.trust_low.total:.1f}-{p.trust_high.total:.1f}" if p.has_data else "",
                Status(p.status).label + (" (pinned)" if p.is_pinned else ""),
                "ok" if p.is_confident else "low",
                f"{p.star_rating:.1f}" if p.ratings_count else "-",
                f"{p.success_rate:.1f}%" if p.setup_reports else "-",
                f"{p.active_users:,} / {p.total_users:,}",
            )
            for p in providers
        ]
        if not rows:
            self.stdout.write("No providers yet. Run: python manage.py load_default_providers")
            return
        widths = [max(len(str(row[i])) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        numeric = {1, 2, 5, 6, 7}

        def line(row):
            cells = [
                cell.rjust(width) if i in numeric else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            return "  ".join(cells).rstrip()

        self.stdout.write(line(COLUMNS))
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write(
            f"\n{len(rows)} providers, most trusted first: by status, then by the lower end of "
            "the range (how high the score is with the data we have). Users are active / total."
        )
