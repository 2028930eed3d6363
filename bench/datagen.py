"""Benchmark data at three scales, with bulk inserts (never one ORM call per row).

    python bench/datagen.py --scale default|providers|events   # into the configured database
    python bench/datagen.py --counts                            # counter/event totals as JSON
    python bench/datagen.py --explain                           # the default order's plan

default    the default providers (load_default_providers)
providers  + synthetic providers up to 1,000, each with curated steps, cautions, common
           issues, tips and audiences; their counters are seeded as if imported
events     the 1,000 providers + 1,000,000 ratings + 200,000 setup reports; the counters
           of the synthetic providers are exactly the sums of their events, the default
           providers' counters are their seed plus their events

The database comes from the same environment as the site (SQLITE_PATH or DATABASE_URL).
The last line printed is a JSON summary that bench/run.py reads.
"""

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "byok_site.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402

from registry.models import (  # noqa: E402
    Audience,
    CautionFlag,
    CommonIssue,
    EventStatus,
    Moderation,
    ProTip,
    Provider,
    Rating,
    SetupReport,
    SetupStep,
)
from registry.services import refresh_stars_prior  # noqa: E402

PROVIDERS = 1_000
RATINGS = 1_000_000
SETUP_REPORTS = 200_000
EVENT_DAYS = 365
SYNTHETIC_PREFIX = "bench-"
BATCH = 100_000
COUNTED = EventStatus.COUNTED.value

AUDIENCES = [
    "Beginners", "Developers", "Free tier users", "Fast setup", "Research use",
    "Code generation", "Enterprise use", "Multiple model access", "Self-hosted models",
    "Premium users only", "Advanced reasoning tasks", "Students", "Startups",
    "Privacy-conscious users", "Local-first tools", "Data science", "Agents and tool use",
    "Long-context work", "Low latency apps", "Batch processing",
]  # fmt: skip
WORDS = [
    "Nimbus", "Quanta", "Lumen", "Vertex", "Cobalt", "Helix", "Orbit", "Pylon", "Sable",
    "Tensor", "Umbra", "Vesta", "Warp", "Zephyr", "Aurora", "Boreal", "Cinder", "Delta",
    "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Larch",
]  # fmt: skip


def seeded_counters(rng):
    """Plausible, varied counters for a provider imported without its events."""
    ratings = rng.randint(0, 2000)
    reports = rng.randint(0, 1500)
    successes = int(reports * rng.uniform(0.4, 0.99))
    active = int(successes * rng.uniform(0.5, 1.0))
    reviews = int(ratings * rng.uniform(0.1, 0.4))
    positive = int(reviews * rng.uniform(0.2, 0.95))
    return {
        "ratings_count": ratings,
        "ratings_sum": int(ratings * rng.uniform(1.5, 4.9)) if ratings else 0,
        "setup_reports": reports,
        "setup_successes": successes,
        "total_users": reports + rng.randint(0, 300),
        "active_users": active,
        "setup_minutes_sum": reports * rng.randint(2, 40),
        "setup_minutes_count": reports,
        "positive_reviews": positive,
        "negative_reviews": reviews - positive,
    }


def make_providers(rng, *, seed_counters):
    start = Provider.objects.count()
    Audience.objects.bulk_create(
        [Audience(name=n, slug=n.lower().replace(" ", "-")) for n in AUDIENCES],
        ignore_conflicts=True,
    )
    audiences = list(Audience.objects.values_list("pk", flat=True))
    providers = []
    for i in range(PROVIDERS - start):
        slug = f"{SYNTHETIC_PREFIX}{i:04d}"
        host = f"https://{slug}.example.com"
        counters = seeded_counters(rng) if seed_counters else {}
        providers.append(
            Provider(
                provider_id=slug,
                provider_name=f"{rng.choice(WORDS)} {rng.choice(WORDS)} AI {i:04d}",
                description=f"Synthetic benchmark provider {i}: "
                + " ".join(rng.choices(WORDS, k=25)).lower(),
                website_url=host + "/",
                signup_url=host + "/signup",
                api_key_url=host + "/keys",
                documentation_url=host + "/docs",
                difficulty=rng.randint(1, 4),
                requires_approval=rng.random() < 0.2,
                has_free_tier=rng.random() < 0.5,
                key_env_var=f"BENCH_{i:04d}_API_KEY",
                key_pattern=r"^bk-[A-Za-z0-9]{32}$",
                last_verified=date.today() - timedelta(days=rng.randint(0, 400)),
                **counters,
                baseline=counters,  # as if imported: the seeded figures are the baseline
            )
        )
    Provider.objects.bulk_create(providers, batch_size=500)
    pks = list(
        Provider.objects.filter(provider_id__startswith=SYNTHETIC_PREFIX).values_list(
            "pk", flat=True
        )
    )
    steps, cautions, issues, tips, links = [], [], [], [], []
    through = Provider.recommended_for.through
    for pk in pks:
        for n in range(rng.randint(3, 7)):
            steps.append(SetupStep(provider_id=pk, position=n, text=f"Step {n + 1}: do it."))
        for n in range(rng.choice([0, 0, 1, 2, 3])):
            cautions.append(CautionFlag(provider_id=pk, position=n, text=f"Caution {n + 1}."))
        for n in range(rng.randint(1, 4)):
            issues.append(
                CommonIssue(
                    provider_id=pk, position=n, problem=f"Error {400 + n}", solution="Retry."
                )
            )
        for n in range(rng.randint(1, 4)):
            tips.append(
                ProTip(provider_id=pk, position=n, text=f"Tip {n + 1}.", status=Moderation.APPROVED)
            )
        for audience in rng.sample(audiences, rng.randint(1, 4)):
            links.append(through(provider_id=pk, audience_id=audience))
    for model, rows in [
        (SetupStep, steps),
        (CautionFlag, cautions),
        (CommonIssue, issues),
        (ProTip, tips),
        (through, links),
    ]:
        model.objects.bulk_create(rows, batch_size=5000)


def table(model, *fields):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers from the models, quoted; values are parameters.
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def spread(rng, total, weights):
    """Split total events over providers in proportion to weights (sums exactly)."""
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in rng.sample(range(len(counts)), total - sum(counts)):
        counts[i] += 1
    return counts


def make_events(rng):
    pks = list(Provider.objects.order_by("pk").values_list("pk", flat=True))
    # A long tail: a few providers get most events. The defaults (lowest pks) lead.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(pks))]
    today = date.today()
    days = [(today - timedelta(days=d)).isoformat() for d in range(EVENT_DAYS)]
    counters = defaultdict(lambda: defaultdict(int))

    def when():
        day = rng.choice(days)
        s = rng.randrange(86400)
        return day, f"{day} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

    def voter():
        return f"{rng.getrandbits(256):064x}"  # distinct per provider and day

    def ratings():
        for pk, n in zip(pks, spread(rng, RATINGS, weights), strict=True):
            mean = rng.uniform(1.5, 4.9)
            odds = [1 / (1 + abs(s - mean)) ** 3 for s in range(1, 6)]
            stars = rng.choices(range(1, 6), odds, k=n)
            c = counters[pk]
            c["ratings_count"] += n
            c["ratings_sum"] += sum(stars)
            c["positive_reviews"] += sum(1 for s in stars if s >= 4)
            c["negative_reviews"] += sum(1 for s in stars if s <= 2)
            for s in stars:
                yield (pk, s, "", COUNTED, voter(), *when())

    def reports():
        for pk, n in zip(pks, spread(rng, SETUP_REPORTS, weights), strict=True):
            rate, typical, hard = rng.uniform(0.4, 0.99), rng.randint(2, 40), rng.randint(1, 4)
            c = counters[pk]
            for _ in range(n):
                success = rng.random() < rate
                minutes = None
                if rng.random() < 0.7:
                    minutes = min(int(rng.expovariate(1 / typical)), 1440)
                felt = max(1, min(4, hard + rng.randint(-1, 1))) if rng.random() < 0.5 else None
                c["total_users"] += 1
                c["setup_reports"] += 1
                if success:
                    c["active_users"] += 1
                    c["setup_successes"] += 1
                if minutes is not None:
                    c["setup_minutes_sum"] += minutes
                    c["setup_minutes_count"] += 1
                if felt is not None:
                    c["felt_difficulty_sum"] += felt
                    c["felt_difficulty_count"] += 1
                yield (pk, success, minutes, felt, COUNTED, voter(), *when())

    # Raw inserts get no model defaults: every NOT NULL column is named.
    rating_sql = table(
        Rating, "provider", "stars", "free_tier", "status", "voter_key", "day", "created_at"
    )
    report_sql = table(
        SetupReport,
        "provider",
        "success",
        "minutes",
        "felt_difficulty",
        "status",
        "voter_key",
        "day",
        "created_at",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, rows in [(rating_sql, ratings()), (report_sql, reports())]:
            while batch := list(islice(rows, BATCH)):
                cursor.executemany(sql, batch)
        names = sorted({name for c in counters.values() for name in c})
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(n)} = {quote(n)} + %s" for n in names)
        cursor.executemany(
            f"UPDATE {quote(Provider._meta.db_table)} SET {sets} WHERE id = %s",  # noqa: S608
            [[counters[pk][n] for n in names] + [pk] for pk in counters],
        )


def counts():
    """Totals that must move together: counters and event rows."""
    return {
        "ratings_count": Provider.objects.aggregate(n=Sum("ratings_count"))["n"] or 0,
        "rating_rows": Rating.objects.count(),
        "setup_reports": Provider.objects.aggregate(n=Sum("setup_reports"))["n"] or 0,
        "setup_report_rows": SetupReport.objects.count(),
    }


def check_synthetic():
    """At the events scale, synthetic providers' counters must equal their events."""
    synthetic = Provider.objects.filter(provider_id__startswith=SYNTHETIC_PREFIX)
    counters = synthetic.aggregate(r=Sum("ratings_count"), s=Sum("setup_reports"))
    rows = (
        Rating.objects.filter(provider__in=synthetic).count(),
        SetupReport.objects.filter(provider__in=synthetic).count(),
    )
    return (counters["r"], counters["s"]) == rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["default", "providers", "events"])
    parser.add_argument("--counts", action="store_true", help="print totals as JSON")
    parser.add_argument(
        "--explain", action="store_true", help="the default order's query plan, as JSON"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.counts:
        print(json.dumps(counts()))
        return
    if args.explain:
        # Browse's first page in the default "most trusted" order, and the provider page's
        # free-tier answers for the provider with the most ratings.
        from onboarding.views import free_tier_ratings

        page = Provider.objects.published().most_trusted()[:24]
        answers = free_tier_ratings(Provider.objects.order_by("-ratings_count").first())
        print(json.dumps({"plan": page.explain(), "free_tier_plan": answers.explain()}))
        return
    if not args.scale:
        parser.error("give --scale or --counts")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    call_command("load_default_providers", verbosity=0)
    if args.scale in ("providers", "events"):
        make_providers(rng, seed_counters=args.scale == "providers")
    if args.scale == "events":
        make_events(rng)
    refresh_stars_prior()  # as the first submission of each day does
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    summary = {
        "scale": args.scale,
        "providers": Provider.objects.count(),
        **counts(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.scale == "events":
        summary["synthetic_counters_match_events"] = check_synthetic()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
