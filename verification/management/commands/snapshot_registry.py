import datetime

from django.core.management.base import BaseCommand, CommandError

from registry.models import today
from verification import history

MAX_BACKFILL_DAYS = 3660


def parse_day(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--day must be a date like 2026-01-31, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Write the daily history: one row per provider for the day (default: yesterday, the "
        "last whole day, UTC). Idempotent. --backfill DAYS rebuilds the DAYS days ending "
        "with that day from the timestamped setup reports and ratings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", metavar="YYYY-MM-DD")
        parser.add_argument("--backfill", metavar="DAYS", type=int, default=None)

    def handle(self, *args, day=None, backfill=None, **options):
        when = parse_day(day) if day else history.yesterday()
        if when > today():
            raise CommandError("--day cannot be in the future.")
        days = 1 if backfill is None else backfill
        if not 1 <= days <= MAX_BACKFILL_DAYS:
            raise CommandError(f"--backfill must be from 1 to {MAX_BACKFILL_DAYS} days.")
        rows = history.snapshot(when, days)
        first = when - datetime.timedelta(days=days - 1)
        span = f"{first} to {when}" if days > 1 else str(when)
        if options["verbosity"]:
            self.stdout.write(f"Snapshots: {rows} rows for {span}.")
