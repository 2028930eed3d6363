"""Benchmark: rebuild 365 days of history for 1,000 providers from 1,000,000 ratings and
200,000 setup reports (bench/datagen.py's "events" scale). Prints the time and the peak
memory of the backfill, then of a second run (which must write the same rows).

    .venv/bin/python bench/backfill.py [--days 365]

A throwaway SQLite file by default; with DATABASE_URL set, that database is flushed and
used instead.
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="byok-bench-backfill-"))
    # Production settings, as the nightly job runs: no query log of DEBUG in the figures.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "byok_site.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    }
    env.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    os.environ.update(env)

    def manage(*command):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)

    manage("migrate", "-v", "0")
    if env.get("DATABASE_URL"):
        manage("flush", "--noinput", "-v", "0")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "datagen.py"), "--scale", "events"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    data = json.loads(out.strip().splitlines()[-1])
    print(
        f"data: {data['providers']} providers, {data['rating_rows']} ratings, "
        f"{data['setup_report_rows']} setup reports ({time.perf_counter() - started:.1f} s)"
    )

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import BigIntegerField, Count, F, Sum
    from django.db.models.functions import Cast, Round

    from verification.history import snapshot
    from verification.models import DailySnapshot

    print(f"database: {connection.vendor}; backfilling {args.days} days")

    def checksum():
        # Whole numbers only: a float SUM depends on the order rows are read in.
        return DailySnapshot.objects.aggregate(
            rows=Count("pk"), reports=Sum("setup_reports"), stars=Sum("ratings_sum"),
            trust=Sum(Cast(Round(F("trust_score") * 10), BigIntegerField())),
            successes=Sum(F("setup_successes") * F("day__day")),
        )  # fmt: skip

    # First run: the time and the process's peak memory (RSS). Second run: the same rows
    # again, under tracemalloc (slower) for the peak of Python's own allocations.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = snapshot(days=args.days)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = checksum()
    print(
        f"  first run: {rows} snapshot rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s); "
        f"process peak RSS {rss / 1024:.0f} MiB ({rss_before / 1024:.0f} MiB before)"
    )
    tracemalloc.start()
    started = time.perf_counter()
    again = snapshot(days=args.days)
    traced = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    same = checksum() == first
    print(
        f"  second run: {again} rows in {traced:.1f} s under tracemalloc; peak Python memory "
        f"{peak / 2**20:.1f} MiB; table {'unchanged' if same else 'CHANGED'} (idempotent)"
    )
    print(f"  rows stored: {first['rows']} (one per provider per day of its history)")
    summary = {
        "database": connection.vendor,
        "days": args.days,
        "rows": rows,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(rss / 1024),
        "peak_python_mb": round(peak / 2**20, 1),
        "idempotent": same,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
