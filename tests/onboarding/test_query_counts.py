"""Queries per page are pinned, and the same with 5 and with 200 providers.

Each provider gets curated rows (steps, cautions, tips, issues, audiences) and community
rows (ratings, reviews, issue reports), so a per-card or per-row query would show up as a
count that grows with the number of providers.

Each page is counted twice: the first request renders everything (a cache miss), the
second finds its rendered fragments cached for the registry's version (a hit).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import (
    Audience,
    CautionFlag,
    CommonIssue,
    IssueCategory,
    IssueReport,
    Moderation,
    ProTip,
    Rating,
    Review,
    SetupStep,
)

# Browse: registry version, audience choices, model families (the needs block), stats
# widget (totals, top 3), page count, page rows (with their recent issue counts), caution
# flags, top tips.
BROWSE_QUERIES = 9
BROWSE_CACHED = 1  # the registry version: the whole page is cached
# Provider page: registry version, provider (with its recent issue count), steps,
# cautions, issues, audiences, tips, reviews, issue reports, held submissions, its
# models and prices (catalog), then the registry's own checks (verification): open
# alerts, link states, daily snapshots. A provider with an API address and open alerts
# costs two more (tests/verification/test_history.py).
PROVIDER_PAGE_QUERIES = 14
PROVIDER_PAGE_CACHED = 1  # the registry version: the whole page is cached
# Compare: registry version, providers (with their recent issue counts), cautions, top
# tips, audiences, addable list.
COMPARE_QUERIES = 6
COMPARE_CACHED = 1  # the registry version: the whole page is cached


def build_registry(make_provider, count):
    audiences = [
        Audience.objects.create(slug=f"audience-{i}", name=f"Audience {i}") for i in range(3)
    ]
    since = timezone.now() - timedelta(days=2)
    for n in range(count):
        provider = make_provider(
            f"provider-{n:03d}",
            provider_name=f"Provider {n:03d}",
            has_free_tier=n % 2 == 0,
            difficulty=1 + n % 4,
            requires_approval=n % 3 == 0,
            total_users=100 + n,
            active_users=50 + n,
            setup_reports=40,
            setup_successes=30 + n % 10,
            setup_minutes_sum=400,
            setup_minutes_count=40,
            ratings_count=20,
            ratings_sum=60 + n % 40,
            positive_reviews=10,
            negative_reviews=n % 5,
        )
        provider.recommended_for.set(audiences[: 1 + n % 3])
        SetupStep.objects.bulk_create(
            [SetupStep(provider=provider, position=i, text=f"Step {i}") for i in range(3)]
        )
        CautionFlag.objects.bulk_create(
            [CautionFlag(provider=provider, position=i, text=f"Caution {i}") for i in range(2)]
        )
        CommonIssue.objects.bulk_create(
            [
                CommonIssue(provider=provider, position=i, problem=f"P{i}", solution=f"S{i}")
                for i in range(2)
            ]
        )
        ProTip.objects.bulk_create(
            [
                ProTip(provider=provider, position=i, text=f"Tip {i}", status=Moderation.APPROVED)
                for i in range(3)
            ]
            + [ProTip(provider=provider, position=9, text="Pending tip")]
        )
        Rating.objects.bulk_create([Rating(provider=provider, stars=4) for _ in range(3)])
        Review.objects.bulk_create(
            [
                Review(provider=provider, rating=5, text="Great", status=Moderation.APPROVED),
                Review(provider=provider, rating=1, text="Pending"),
            ]
        )
        IssueReport.objects.bulk_create(
            [
                IssueReport(
                    provider=provider,
                    category=IssueCategory.RATE_LIMITS,
                    details="429s",
                    status=Moderation.APPROVED,
                    created_at=since,
                )
                for _ in range(3 if n % 2 else 1)
            ]
        )


@pytest.fixture(params=[5, 200], ids=["5-providers", "200-providers"])
def registry(request, make_provider):
    build_registry(make_provider, request.param)
    return request.param


def test_browse_queries_do_not_grow(client, registry, django_assert_num_queries):
    query = {"sort": "rating", "audience": "audience-0"}
    # +1: a chosen audience is validated against the list.
    with django_assert_num_queries(BROWSE_QUERIES + 1):
        response = client.get("/", query)
    assert response.status_code == 200
    cards = response.content.decode().count('class="provider-card"')
    assert cards == min(registry, 24)
    with django_assert_num_queries(BROWSE_CACHED):  # nothing is validated on a hit
        cached = client.get("/", query)
    assert cached.content.decode().count('class="provider-card"') == cards


def test_browse_fragment_queries(client, registry, django_assert_num_queries):
    # The htmx fragment has no stats widget or filter form: four queries fewer.
    query, htmx = {"free": "on", "page": "1"}, {"HX-Request": "true"}
    with django_assert_num_queries(BROWSE_QUERIES - 4):
        response = client.get("/", query, headers=htmx)
    assert response.status_code == 200
    assert b"<html" not in response.content
    with django_assert_num_queries(BROWSE_CACHED):
        assert client.get("/", query, headers=htmx).content == response.content


def test_browse_empty_result_queries_are_bounded(client, registry, django_assert_num_queries):
    # No rows to prefetch, plus one COUNT per active filter for the "relax a filter" hints.
    with django_assert_num_queries(BROWSE_QUERIES - 3 + 2):
        response = client.get("/", {"q": "no such provider", "free": "on"})
    assert b"Try relaxing a filter" in response.content
    with django_assert_num_queries(BROWSE_CACHED):
        client.get("/", {"q": "no such provider", "free": "on"})


def test_provider_page_queries_do_not_grow(client, registry, django_assert_num_queries):
    with django_assert_num_queries(PROVIDER_PAGE_QUERIES):
        response = client.get("/providers/provider-003/")
    assert response.status_code == 200
    assert b"Issues reported" in response.content  # odd providers have 3 recent reports
    with django_assert_num_queries(PROVIDER_PAGE_CACHED):
        assert b"Issues reported" in client.get("/providers/provider-003/").content


def test_compare_queries_do_not_grow(client, registry, django_assert_num_queries):
    ids = ["provider-000", "provider-001", "provider-002", "provider-003"]
    with django_assert_num_queries(COMPARE_QUERIES - 1):  # four chosen: no "add" list
        response = client.get("/compare/", {"p": ids})
    assert response.status_code == 200
    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get("/compare/", {"p": ids[:2]})
    assert response.status_code == 200
    assert response.content.decode().count('class="best"') > 0
    with django_assert_num_queries(COMPARE_CACHED):
        cached = client.get("/compare/", {"p": ids[:2]})
    assert cached.content.decode().count('class="best"') == response.content.decode().count(
        'class="best"'
    )


def test_stats_poll_queries_do_not_grow(client, registry, django_assert_num_queries):
    htmx = {"HX-Request": "true"}
    with django_assert_num_queries(3):  # registry version, totals, top 3
        response = client.get("/stats/", headers=htmx)
    with django_assert_num_queries(1):  # registry version: 304 Not Modified
        again = client.get("/stats/", headers={**htmx, "If-None-Match": response["ETag"]})
    assert again.status_code == 304


# Wizard step 1 is cached whole by registry version and query (the start token is put in
# per response): version, audience choices and count on a miss, the version alone on a
# hit. A chosen audience adds its validation query to a miss (a hit validates nothing).
WIZARD_STEP_1_QUERIES = 4  # + the model families of the needs
WIZARD_STEP_1_CACHED = 1
# Steps 2 and 3: the matches, their cautions, audiences and top tips.
WIZARD_MATCHES_QUERIES = 4
# Step 4: the chosen provider, its steps, tips, common issues and cautions.
WIZARD_TIPS_QUERIES = 5
# Steps 5 to 7: the chosen provider.
WIZARD_PROVIDER_QUERIES = 1


def test_wizard_queries_do_not_grow(client, registry, django_assert_num_queries):
    with django_assert_num_queries(WIZARD_STEP_1_QUERIES):
        first = client.get("/setup/1/")
    with django_assert_num_queries(WIZARD_STEP_1_CACHED):
        again = client.get("/setup/1/")
    count_hint = re.compile(rb'<div id="match-count" class="wizard-count-hint".*?</div>', re.S)
    assert count_hint.search(again.content).group() == count_hint.search(first.content).group()
    filtered = {"free": "0", "difficulty": "2", "min_trust": "10", "audience": "audience-1"}
    with django_assert_num_queries(WIZARD_STEP_1_QUERIES + 1):
        assert client.get("/setup/1/", filtered).status_code == 200
    with django_assert_num_queries(WIZARD_STEP_1_CACHED):  # nothing is validated on a hit
        assert client.get("/setup/1/", filtered).status_code == 200

    for step in (2, 3):
        with django_assert_num_queries(WIZARD_MATCHES_QUERIES):
            assert client.get(f"/setup/{step}/", {"free": "0"}).status_code == 200
    # Nothing matches: no rows to prefetch, one COUNT per filter that could be relaxed.
    with django_assert_num_queries(1 + 2):
        response = client.get("/setup/2/", {"min_trust": "100"})
    assert b"relax" in response.content.lower()

    chosen = {"p": "provider-001"}
    with django_assert_num_queries(WIZARD_TIPS_QUERIES):
        assert client.get("/setup/4/", chosen).status_code == 200
    for step in (5, 6):
        with django_assert_num_queries(WIZARD_PROVIDER_QUERIES):
            assert client.get(f"/setup/{step}/", chosen).status_code == 200
    # Step 7: and the models of the provider a visitor may rate.
    with django_assert_num_queries(WIZARD_PROVIDER_QUERIES + 1):
        assert client.get("/setup/7/", chosen).status_code == 200
