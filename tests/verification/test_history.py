"""Daily history: snapshots rebuilt from events, idempotent, and charted on the page with
a fixed number of queries however many days there are."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry import scoring
from registry.interchange import COUNTER_FIELDS
from registry.models import Provider
from verification.models import (
    CheckKind,
    CheckRun,
    DailySnapshot,
    HealthCheck,
    HealthState,
    State,
    Target,
)

TRUST_INPUTS = (
    "ratings_count",
    "ratings_sum",
    "setup_reports",
    "setup_successes",
    "active_users",
    "positive_reviews",
    "negative_reviews",
)


def snapshot(*args):
    call_command("snapshot_registry", *args, verbosity=0)


def rows(provider=None):
    queryset = DailySnapshot.objects.order_by("provider", "day")
    if provider is not None:
        queryset = queryset.filter(provider=provider)
    return list(
        queryset.values("day", "trust_score", "api_probes", "links_broken", *COUNTER_FIELDS)
    )


@pytest.fixture
def imported(make_provider, aged):
    """A provider imported 12 days ago with seeded counters (its baseline)."""
    provider = make_provider()
    Provider.objects.filter(pk=provider.pk).update(
        total_users=10, setup_reports=10, setup_successes=6, active_users=6,
        ratings_count=4, ratings_sum=14, positive_reviews=2, negative_reviews=1,
    )  # fmt: skip
    aged(provider, 12)
    return Provider.objects.get(pk=provider.pk)


def test_backfill_rebuilds_every_day_from_the_events(imported, plant):
    plant(imported, 9, reports=5, successes=5, ratings=3, stars=5)
    plant(imported, 5, reports=4, successes=1, ratings=2, stars=1)
    plant(imported, 2, reports=3, successes=3)
    plant(imported, 0, reports=2, successes=0, ratings=1, stars=3)  # today: not in yesterday's
    snapshot("--backfill", "15")
    today = timezone.localdate()
    history = {row["day"]: row for row in rows()}
    # From the day the provider was added (12 days ago) to yesterday.
    assert sorted(history) == [today - timedelta(days=d) for d in range(12, 0, -1)]
    baseline = {"setup_reports": 10, "setup_successes": 6, "ratings_count": 4, "ratings_sum": 14}
    expected = dict(baseline)
    planted = {9: (5, 5, 3, 15), 5: (4, 1, 2, 2), 2: (3, 3, 0, 0)}
    for days_ago in range(12, 0, -1):
        if days_ago in planted:
            reports, successes, ratings, stars = planted[days_ago]
            expected["setup_reports"] += reports
            expected["setup_successes"] += successes
            expected["ratings_count"] += ratings
            expected["ratings_sum"] += stars
        row = history[today - timedelta(days=days_ago)]
        assert {name: row[name] for name in expected} == expected, days_ago
        assert row["total_users"] == row["setup_reports"]
        assert row["trust_score"] == scoring.trust_score(**{f: row[f] for f in TRUST_INPUTS}).total
    # Yesterday's snapshot plus today's events are today's counters.
    now = Provider.objects.values(*COUNTER_FIELDS).get(pk=imported.pk)
    yesterday = history[today - timedelta(days=1)]
    assert now["setup_reports"] == yesterday["setup_reports"] + 2
    assert now["ratings_sum"] == yesterday["ratings_sum"] + 3


def test_snapshots_are_idempotent(imported, plant):
    plant(imported, 3, reports=5, successes=4, ratings=2)
    snapshot("--backfill", "10")
    first = rows()
    snapshot("--backfill", "10")
    snapshot()  # the nightly job: yesterday again
    assert rows() == first
    assert DailySnapshot.objects.count() == 10


def test_nightly_snapshot_keeps_uptime_and_link_state(imported, serve, plant):
    server = serve("127.0.0.2")
    Provider.objects.filter(pk=imported.pk).update(
        api_base_url=server.url("/v1"),
        documentation_url=server.url("/missing"),
        signup_url=server.url("/ok"),
        api_key_url=server.url("/ok"),
        website_url=server.url("/ok"),
    )
    for _ in range(3):
        call_command("check_providers", verbosity=0)
    yesterday = timezone.localdate() - timedelta(days=1)
    HealthCheck.objects.filter(target=Target.API).update(
        checked_at=timezone.now() - timedelta(days=1)
    )
    assert HealthState.objects.get(target=Target.DOCS).state == State.BROKEN
    snapshot()
    row = DailySnapshot.objects.get(day=yesterday)
    assert (row.api_probes, row.api_up, row.links_broken) == (3, 3, 1)
    # A later backfill, after the probe rows were pruned, keeps what the night saw.
    HealthCheck.objects.all().delete()
    snapshot("--backfill", "5", "--day", str(yesterday - timedelta(days=1)))
    snapshot("--backfill", "5")
    row.refresh_from_db()
    assert (row.api_probes, row.api_up, row.links_broken) == (3, 3, 1)
    older = DailySnapshot.objects.get(day=yesterday - timedelta(days=1))
    assert older.links_broken is None  # link state is not known for past days


def test_prune_deletes_old_check_rows_only(make_provider, settings):
    from verification.history import prune

    provider = make_provider()
    old = timezone.now() - timedelta(days=settings.VERIFICATION_KEEP_DAYS + 1)
    run = CheckRun.objects.create(kind=CheckKind.API, started_at=old)
    fresh = CheckRun.objects.create(kind=CheckKind.API)
    for checked_run, when in ((run, old), (fresh, timezone.now())):
        HealthCheck.objects.create(
            run=checked_run, provider=provider, target=Target.API, url="https://a.example/",
            checked_at=when, method="GET", ok=True,
        )  # fmt: skip
    prune()
    assert list(CheckRun.objects.all()) == [fresh]
    assert HealthCheck.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "yesterday"], "--day must be a date like 2026-01-31"),
        (["--day", "2999-01-01"], "--day cannot be in the future"),
        (["--backfill", "0"], "--backfill must be from 1 to"),
    ],
)
def test_bad_arguments_get_a_clear_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        snapshot(*args)


def test_history_charts_say_what_they_show(make_provider, aged, plant, client):
    provider = make_provider()
    aged(provider, 40)
    # Good setups and ratings 35 days ago, then a run of failures 3 days ago.
    plant(provider, 35, reports=40, successes=38, ratings=12, stars=5)
    plant(provider, 3, reports=30, successes=3, ratings=10, stars=1)
    snapshot("--backfill", "40")
    provider = Provider.objects.get(pk=provider.pk)
    now = provider.get_trust_score()
    thirty = DailySnapshot.objects.get(
        provider=provider, day=timezone.localdate() - timedelta(days=30)
    )
    html = client.get("/providers/acme/").content.decode()
    assert (
        f"<strong>30 days:</strong> down {thirty.trust_score - now:.1f} points in 30 days "
        f"({thirty.trust_score:.1f} to {now:.1f})"
    ) in html
    # The longer windows start where the history does: the first day with community data.
    assert (
        f"<strong>90 days:</strong> down {thirty.trust_score - now:.1f} points in 35 days" in html
    )
    assert (
        f"<strong>30 days:</strong> down {95 - provider.success_rate:.1f} points in 30 days "
        f"(95.0% to {provider.success_rate:.1f}%)"
    ) in html
    assert html.count('<polyline points="') == 6
    assert 'aria-labelledby="history-trust-30"' in html and 'id="history-trust-30"' in html


def test_a_provider_with_no_history_says_so(make_provider, client):
    make_provider()
    assert "No history yet" in client.get("/providers/acme/").content.decode()


def history_of(provider, days):
    today = timezone.localdate()
    DailySnapshot.objects.bulk_create(
        DailySnapshot(
            provider=provider, day=today - timedelta(days=d),
            trust_score=50 + d % 7, api_probes=96, api_up=96 - d % 3,
            **{name: 100 + d for name in COUNTER_FIELDS},
        )
        for d in range(1, days + 1)
    )  # fmt: skip


# The provider page's queries (tests/onboarding/test_query_counts.py) plus ours: open
# alerts, the issue reports since they began, link and API states, the probes of the
# last 30 days (one aggregate), the snapshots of the last 365 days.
PAGE_QUERIES = 11 + 5


@pytest.mark.parametrize("days", [10, 365])
def test_page_queries_do_not_grow_with_days_of_history(
    serve, make_provider, plant, client, days, django_assert_num_queries
):
    from verification.models import Alert

    server = serve("127.0.0.2")
    provider = make_provider(base=server.base, api=server.url("/v1"))
    plant(provider, 0, reports=3, successes=2, ratings=2)
    history_of(provider, days)
    call_command("check_providers", verbosity=0)
    Alert.objects.create(provider=provider, rule="trust_drop", title="t", since=timezone.now())
    cache.clear()
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get("/providers/acme/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<rect ") == 90 and html.count("<polyline") == 6
    with django_assert_num_queries(1):  # cached whole: the registry version only
        client.get("/providers/acme/")
