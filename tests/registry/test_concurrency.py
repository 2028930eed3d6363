"""Concurrent writers in separate OS processes lose no counter and hit no lock error.

Each worker is a fresh Python process with its own database connection, pointed at the
test database (an SQLite file, or PostgreSQL's test database), so the database's own
locking is what is tested: nothing is shared in Python.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum

from registry.models import DailyQuota, Provider, Rating, SetupReport

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
CALLS = 100  # per process, each one add_feedback and one record_user_signup

WORKER = """
import json, os, sys, time
from django.conf import settings
settings.DATABASES["default"]["NAME"] = os.environ["BYOK_WORKER_DB_NAME"]
import django
django.setup()
from registry.services import (
    AlreadySubmittedError, DailyLimitError, add_feedback, record_user_signup,
)
from registry.voters import Voter

mode, worker, calls, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
providers = json.loads(os.environ["BYOK_WORKER_PROVIDERS"])
time.sleep(max(0.0, start_at - time.time()))  # start together, after the slow imports
began = time.perf_counter()
outcome = {"ok": 0, "already": 0, "limit": 0}
if mode == "counters":
    for i in range(calls):
        provider_id = providers[(worker + i) % len(providers)]
        add_feedback(provider_id, 1 + (worker * 7 + i) % 5)
        minutes = (worker + i) % 9 or None
        record_user_signup(provider_id, (worker + i) % 4 != 0, minutes)
        outcome["ok"] += 2
else:  # one voter key shared by every worker: one rating per provider, a daily cap
    order = providers[worker:] + providers[:worker]
    for provider_id in order:
        try:
            add_feedback(provider_id, 4, voter=Voter("shared-voter", "shared-net", "shared-range"))
            outcome["ok"] += 1
        except AlreadySubmittedError:
            outcome["already"] += 1
        except DailyLimitError:
            outcome["limit"] += 1
outcome["seconds"] = time.perf_counter() - began
print(json.dumps(outcome))
"""


def run_workers(mode, providers, *, calls=CALLS, extra_env=None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "byok_site.settings",
        "BYOK_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "BYOK_WORKER_PROVIDERS": json.dumps(providers),
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    start_at = time.time() + 1.5
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(n), str(calls), str(start_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert "database is locked" not in err
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results, time.time() - start_at  # wall time of the concurrent part


def totals_from_events(provider):
    setups = SetupReport.objects.filter(provider=provider).aggregate(
        reports=Count("pk"),
        successes=Count("pk", filter=Q(success=True)),
        minutes_sum=Sum("minutes", default=0),
        minutes_count=Count("minutes"),
    )
    ratings = Rating.objects.filter(provider=provider).aggregate(
        count=Count("pk"),
        total=Sum("stars", default=0),
        positive=Count("pk", filter=Q(stars__gte=4)),
        negative=Count("pk", filter=Q(stars__lte=2)),
    )
    return {
        "total_users": setups["reports"],
        "active_users": setups["successes"],
        "setup_reports": setups["reports"],
        "setup_successes": setups["successes"],
        "setup_minutes_sum": setups["minutes_sum"],
        "setup_minutes_count": setups["minutes_count"],
        "ratings_count": ratings["count"],
        "ratings_sum": ratings["total"],
        "positive_reviews": ratings["positive"],
        "negative_reviews": ratings["negative"],
    }


@pytest.fixture
def fresh_providers(transactional_db, make_provider):
    """Committed, so the worker processes see them."""
    return [make_provider(f"p{n}").provider_id for n in range(3)]


def test_no_lost_updates_under_concurrent_processes(fresh_providers):
    results, wall = run_workers("counters", fresh_providers)

    writes = sum(r["ok"] for r in results)
    assert writes == PROCESSES * CALLS * 2
    assert SetupReport.objects.count() == Rating.objects.count() == PROCESSES * CALLS
    for provider in Provider.objects.filter(provider_id__in=fresh_providers):
        expected = totals_from_events(provider)
        assert {name: getattr(provider, name) for name in expected} == expected
        assert provider.setup_reports > 0
    total = Provider.objects.aggregate(users=Sum("total_users"), ratings=Sum("ratings_count"))
    assert total == {"users": PROCESSES * CALLS, "ratings": PROCESSES * CALLS}
    print(
        f"\n{PROCESSES} processes x {CALLS} x (add_feedback + record_user_signup) = "
        f"{writes} writes on {connection.vendor} in {wall:.2f}s; lost updates: 0"
    )


def test_one_voter_key_cannot_beat_the_limits_by_racing(transactional_db, make_provider):
    providers = [make_provider(f"q{n}").provider_id for n in range(12)]

    results, _ = run_workers(
        "voter", providers, calls=0, extra_env={"REGISTRY_DAILY_SUBMISSION_CAP": "8"}
    )

    ok = sum(r["ok"] for r in results)
    assert ok == 8  # the cap, exactly
    assert sum(r["already"] + r["limit"] for r in results) == PROCESSES * 12 - 8
    assert DailyQuota.objects.get(bucket="day:shared-net").used == 8
    per_provider = Rating.objects.values("provider").annotate(n=Count("pk"))
    assert sorted(row["n"] for row in per_provider) == [1] * 8  # one rating per provider
    assert Provider.objects.aggregate(n=Sum("ratings_count"))["n"] == 8
