"""Every Meta.constraints entry holds in the database, whatever the ORM is asked to write."""

import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from registry.interchange import COUNTER_FIELDS
from registry.models import (
    Audience,
    DailyQuota,
    IssueCategory,
    IssueReport,
    Provider,
    ProviderHour,
    Rating,
    Review,
    SetupReport,
    VoterSalt,
)


def refused(write):
    """True when the database refuses the write (and the test transaction lives on)."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


def update(provider, **fields):
    return lambda: Provider.objects.filter(pk=provider.pk).update(**fields)


# Each case: the constraint it breaks, and counter values that break it.
PROVIDER_VIOLATIONS = [
    ("active_within_total", dict(total_users=5, active_users=6)),
    ("successes_within_reports", dict(setup_reports=3, setup_successes=4)),
    (
        "setup_minutes_within_reports",
        dict(setup_reports=1, setup_minutes_count=2, setup_minutes_sum=2),
    ),
    (
        "setup_minutes_within_reports",
        dict(setup_reports=1, setup_minutes_count=1, setup_minutes_sum=24 * 60 + 1),
    ),
    ("setup_minutes_within_reports", dict(setup_minutes_count=0, setup_minutes_sum=1)),
    (
        "felt_difficulty_within_reports",
        dict(setup_reports=1, felt_difficulty_count=2, felt_difficulty_sum=2),
    ),
    (
        "felt_difficulty_within_reports",
        dict(setup_reports=1, felt_difficulty_count=1, felt_difficulty_sum=5),
    ),
    (
        "felt_difficulty_within_reports",
        dict(setup_reports=2, felt_difficulty_count=2, felt_difficulty_sum=1),
    ),
    ("ratings_sum_within_stars", dict(ratings_count=2, ratings_sum=1)),  # under 1 star
    ("ratings_sum_within_stars", dict(ratings_count=2, ratings_sum=11)),  # over 5 stars
    ("ratings_sum_within_stars", dict(ratings_count=0, ratings_sum=3)),
    (
        "reviews_within_ratings",
        dict(ratings_count=3, ratings_sum=9, positive_reviews=2, negative_reviews=2),
    ),
    ("reviews_within_ratings", dict(ratings_count=0, ratings_sum=0, positive_reviews=1)),
    ("difficulty_in_range", dict(difficulty=0)),
    ("difficulty_in_range", dict(difficulty=5)),
    ("status_pin_is_a_status", dict(status_pin="new", status_pin_reason="Because")),
    ("status_pin_is_a_status", dict(status_pin="great", status_pin_reason="Because")),
    ("pinned_status_has_reason", dict(status_pin="caution", status_pin_reason="")),
]


@pytest.mark.parametrize(("constraint", "values"), PROVIDER_VIOLATIONS)
def test_provider_constraints_refuse_impossible_counters(provider, constraint, values):
    assert refused(update(provider, **values)), constraint
    provider.refresh_from_db()
    assert provider.total_users == 0 and provider.status_pin == ""


@pytest.mark.parametrize("field", COUNTER_FIELDS)
def test_counters_are_never_negative(provider, field):
    assert refused(update(provider, **{field: -1}))


def test_valid_counters_at_the_edges_are_accepted(provider):
    edges = dict(
        total_users=10,
        active_users=10,
        setup_reports=10,
        setup_successes=10,
        setup_minutes_count=10,
        setup_minutes_sum=10 * 24 * 60,
        felt_difficulty_count=10,
        felt_difficulty_sum=40,
        ratings_count=10,
        ratings_sum=50,
        positive_reviews=6,
        negative_reviews=4,
        difficulty=4,
        status_pin="avoid",
        status_pin_reason="Keys stop working without notice.",
    )
    assert not refused(update(provider, **edges))
    assert not refused(update(provider, ratings_sum=10, felt_difficulty_sum=10, difficulty=1))


def test_large_counts_do_not_overflow_the_checks(provider):
    # ratings_count * 5 and count * 1440 are computed in 64 bits.
    big = 2_000_000_000
    assert not refused(
        update(
            provider,
            ratings_count=big,
            ratings_sum=5 * big,
            setup_reports=big,
            setup_minutes_count=big,
            setup_minutes_sum=1440 * big,
        )
    )


def test_provider_id_is_unique(make_provider, provider):
    assert refused(lambda: make_provider(provider.provider_id))


def test_audience_name_and_slug_are_unique(db):
    Audience.objects.create(name="Beginners", slug="beginners")
    assert refused(lambda: Audience.objects.create(name="Beginners", slug="other"))
    assert refused(lambda: Audience.objects.create(name="Other", slug="beginners"))


def test_rating_stars_are_one_to_five(provider):
    for stars in (0, 6):
        assert refused(lambda s=stars: Rating.objects.create(provider=provider, stars=s))
    for stars in (1, 5):
        assert not refused(lambda s=stars: Rating.objects.create(provider=provider, stars=s))


def test_review_rating_is_one_to_five(provider):
    for rating in (0, 6):
        assert refused(
            lambda r=rating: Review.objects.create(provider=provider, rating=r, text="Hi")
        )
    assert not refused(lambda: Review.objects.create(provider=provider, rating=3, text="Hi"))


def test_one_rating_per_voter_per_day(make_provider, provider):
    other = make_provider("other")
    Rating.objects.create(provider=provider, stars=4, voter_key="k1")
    assert refused(lambda: Rating.objects.create(provider=provider, stars=2, voter_key="k1"))
    # Another day, another provider, another voter: all fine.
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    assert not refused(
        lambda: Rating.objects.create(provider=provider, stars=2, voter_key="k1", day=yesterday)
    )
    assert not refused(lambda: Rating.objects.create(provider=other, stars=2, voter_key="k1"))
    assert not refused(lambda: Rating.objects.create(provider=provider, stars=2, voter_key="k2"))
    # The Python API has no voter key: it is not limited.
    for _ in range(3):
        assert not refused(lambda: Rating.objects.create(provider=provider, stars=5))


def test_one_setup_report_per_voter_per_day(provider):
    SetupReport.objects.create(provider=provider, success=True, voter_key="k1")
    assert refused(
        lambda: SetupReport.objects.create(provider=provider, success=False, voter_key="k1")
    )
    assert not refused(
        lambda: SetupReport.objects.create(provider=provider, success=False, voter_key="k2")
    )
    for _ in range(3):
        assert not refused(lambda: SetupReport.objects.create(provider=provider, success=True))


def test_setup_report_minutes_within_a_day(provider):
    assert refused(
        lambda: SetupReport.objects.create(provider=provider, success=True, minutes=24 * 60 + 1)
    )
    assert not refused(
        lambda: SetupReport.objects.create(provider=provider, success=True, minutes=24 * 60)
    )
    assert refused(
        lambda: SetupReport.objects.filter(provider=provider).update(minutes=-1)
    )  # positive field


def test_setup_report_felt_difficulty_in_range(provider):
    for felt in (0, 5):
        assert refused(
            lambda f=felt: SetupReport.objects.create(
                provider=provider, success=True, felt_difficulty=f
            )
        )
    assert not refused(
        lambda: SetupReport.objects.create(provider=provider, success=True, felt_difficulty=4)
    )


def test_broken_link_only_on_broken_link_reports(provider):
    assert refused(
        lambda: IssueReport.objects.create(
            provider=provider,
            category=IssueCategory.RATE_LIMITS,
            broken_link="docs",
            details="Docs moved",
        )
    )
    assert not refused(
        lambda: IssueReport.objects.create(
            provider=provider,
            category=IssueCategory.BROKEN_LINK,
            broken_link="docs",
            details="Docs moved",
        )
    )


def test_one_daily_quota_and_salt_per_day(db):
    DailyQuota.objects.create(bucket="k1", used=1, cap=3)
    assert refused(lambda: DailyQuota.objects.create(bucket="k1", used=1, cap=3))
    assert refused(lambda: DailyQuota.objects.filter(bucket="k1").update(used=-1))
    assert refused(lambda: DailyQuota.objects.filter(bucket="k1").update(used=4))
    VoterSalt.objects.create(day=datetime.date(2026, 1, 1), salt="a")
    assert refused(lambda: VoterSalt.objects.create(day=datetime.date(2026, 1, 1), salt="b"))


def test_a_free_tier_answer_is_one_of_the_answers(provider):
    assert not refused(lambda: Rating.objects.create(provider=provider, stars=4, free_tier=""))
    assert refused(lambda: Rating.objects.create(provider=provider, stars=4, free_tier="maybe"))


def test_one_hourly_tally_per_provider_and_hour(provider):
    hour = datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.UTC)
    ProviderHour.objects.create(provider=provider, hour=hour, submitted=1, counted=1)
    assert refused(lambda: ProviderHour.objects.create(provider=provider, hour=hour))


TESTED = {name for name, _ in PROVIDER_VIOLATIONS} | {
    "rating_stars_1_to_5",
    "review_rating_1_to_5",
    "one_rating_per_voter_per_day",
    "one_setup_report_per_voter_per_day",
    "setup_minutes_within_a_day",
    "setup_felt_difficulty_in_range",
    "broken_link_only_for_broken_link_reports",
    "one_quota_per_bucket_day",
    "quota_within_cap",
    "one_row_per_provider_hour",
    "rating_free_tier_is_an_answer",
}


def test_every_constraint_has_a_test():
    declared = {
        constraint.name
        for model in apps.get_app_config("registry").get_models()
        for constraint in model._meta.constraints
    }
    assert declared == TESTED
