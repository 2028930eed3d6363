"""registry.services: the seed's Python API and the counter rules of DESIGN.md."""

import pytest
from django.db import transaction
from django.db.models import F

from registry.models import (
    DailyQuota,
    Difficulty,
    IssueCategory,
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
)
from registry.services import (
    AlreadySubmittedError,
    DailyLimitError,
    InvalidSubmissionError,
    RegistryError,
    SubmissionLimitError,
    UnknownProviderError,
    _count_events,
    add_feedback,
    get_recommended_providers,
    get_registry,
    record_user_signup,
    report_issue,
    submit_tip,
    suggest_provider,
)
from registry.voters import Voter


def voter(name):
    """A web submitter for the services' abuse limits: its own visitor, network and range."""
    return Voter(visitor=name, network=f"{name}/network", range=f"{name}/range")


FAKE_KEY = "sk-or-v1-" + "a1b2c3d4" * 6

CONFIDENT = dict(
    total_users=100,
    active_users=100,
    setup_reports=100,
    setup_successes=100,
    ratings_count=100,
    ratings_sum=500,
    positive_reviews=100,
)


def snapshot():
    """Everything a submission could write: counters, event rows, submissions, caps."""
    return (
        list(Provider.objects.order_by("pk").values()),
        SetupReport.objects.count(),
        Rating.objects.count(),
        Review.objects.count(),
        ProTip.objects.count(),
        IssueReport.objects.count(),
        ProviderSuggestion.objects.count(),
        list(DailyQuota.objects.values_list("bucket", "used")),
    )


@pytest.fixture
def unchanged(db):
    """Asserts that the block wrote nothing at all."""

    class Unchanged:
        def __enter__(self):
            self.before = snapshot()

        def __exit__(self, *exc_info):
            assert snapshot() == self.before
            return False

    return Unchanged()


# --- record_user_signup -----------------------------------------------------------------


def test_successful_signup_with_minutes(provider, counters_of):
    record_user_signup("acme", True, 7)

    assert counters_of("acme") == {
        "total_users": 1,
        "active_users": 1,
        "setup_reports": 1,
        "setup_successes": 1,
        "setup_minutes_sum": 7,
        "setup_minutes_count": 1,
        "felt_difficulty_sum": 0,
        "felt_difficulty_count": 0,
        "ratings_count": 0,
        "ratings_sum": 0,
        "positive_reviews": 0,
        "negative_reviews": 0,
    }
    event = SetupReport.objects.get()
    assert (event.provider_id, event.success, event.minutes, event.voter_key) == (
        provider.pk,
        True,
        7,
        "",
    )
    assert event.created_at is not None and event.day is not None


def test_failed_signup_without_minutes(provider, counters_of):
    record_user_signup("acme", False)

    c = counters_of("acme")
    assert (c["total_users"], c["active_users"]) == (1, 0)
    assert (c["setup_reports"], c["setup_successes"]) == (1, 0)
    assert (c["setup_minutes_sum"], c["setup_minutes_count"]) == (0, 0)
    assert SetupReport.objects.get().success is False
    assert SetupReport.objects.get().minutes is None


def test_zero_minutes_is_a_timed_setup(provider, counters_of):
    record_user_signup("acme", True, setup_time_minutes=0)
    assert counters_of("acme")["setup_minutes_count"] == 1
    assert counters_of("acme")["setup_minutes_sum"] == 0


def test_felt_difficulty_is_counted(provider, counters_of):
    record_user_signup("acme", True, felt_difficulty=Difficulty.ADVANCED)
    record_user_signup("acme", True, felt_difficulty=1)
    c = counters_of("acme")
    assert (c["felt_difficulty_sum"], c["felt_difficulty_count"]) == (4, 2)
    provider.refresh_from_db()
    assert provider.felt_difficulty == 2


def test_derived_values_follow_the_events(provider):
    record_user_signup("acme", True, 3)
    record_user_signup("acme", True, 5)
    record_user_signup("acme", False, 10)
    record_user_signup("acme", False)
    add_feedback("acme", 5)
    add_feedback("acme", 4)
    add_feedback("acme", 3)
    add_feedback("acme", 1)

    provider.refresh_from_db()
    assert (provider.total_users, provider.active_users) == (4, 2)
    assert provider.success_rate == 50.0
    assert provider.avg_setup_time_minutes == 6.0
    assert provider.star_rating == 3.25
    assert (provider.positive_reviews, provider.negative_reviews) == (2, 1)
    # 3.25/5*30 + 0.5*40 + 2/100*15 + 2/3*15 = 19.5 + 20 + 0.3 + 10 = 49.8
    assert provider.get_trust_score() == 49.8
    assert Provider.objects.get(pk=provider.pk).trust_score == 49.8


# --- add_feedback -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "positive", "negative"),
    [(5, 1, 0), (4, 1, 0), (3, 0, 0), (2, 0, 1), (1, 0, 1)],
)
def test_rating_counts_and_sentiment(provider, counters_of, rating, positive, negative):
    add_feedback("acme", rating)

    c = counters_of("acme")
    assert (c["ratings_count"], c["ratings_sum"]) == (1, rating)
    assert (c["positive_reviews"], c["negative_reviews"]) == (positive, negative)
    assert c["total_users"] == 0 and c["setup_reports"] == 0
    assert Rating.objects.get().stars == rating
    assert not Review.objects.exists()


def test_a_comment_becomes_a_pending_review(provider):
    add_feedback("acme", 4, "  Worked first time.  ")

    review = Review.objects.get()
    assert (review.provider_id, review.rating, review.text) == (
        provider.pk,
        4,
        "Worked first time.",
    )
    assert review.status == Moderation.PENDING
    assert Rating.objects.count() == 1


# --- bad input: specific exceptions, nothing written ------------------------------------


@pytest.mark.parametrize("provider_id", ["nope", "", None, 42, "ACME", ["acme"]])
def test_unknown_provider_ids(provider, unchanged, provider_id):
    with unchanged:
        for call in (
            lambda: record_user_signup(provider_id, True, 3),
            lambda: add_feedback(provider_id, 5, "Nice"),
            lambda: submit_tip(provider_id, "A tip"),
            lambda: report_issue(provider_id, IssueCategory.OTHER, "Broken"),
        ):
            with pytest.raises(UnknownProviderError) as error:
                call()
            assert error.value.provider_id == provider_id
            assert repr(provider_id) in str(error.value)
            assert isinstance(error.value, (RegistryError, LookupError))


def test_unpublished_provider_is_unknown(make_provider, unchanged):
    make_provider("hidden", is_published=False)
    with unchanged, pytest.raises(UnknownProviderError):
        add_feedback("hidden", 5)


def test_a_provider_unpublished_after_the_lookup_counts_nothing(make_provider, unchanged):
    # add_feedback and record_user_signup look the provider up before their transaction
    # (outside SQLite's write lock). A maintainer may unpublish it in between: the counter
    # UPDATE checks again, and the whole submission, the daily cap's count included, is
    # rolled back.
    hidden = make_provider("hidden", is_published=False)
    counters = {"ratings_count": F("ratings_count") + 1}
    with unchanged, pytest.raises(UnknownProviderError), transaction.atomic():
        _count_events(
            hidden.pk,
            UnknownProviderError("hidden"),
            voter("voter-1"),
            [(Rating, hidden.pk, counters, {"stars": 5})],
        )
    assert not DailyQuota.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, -1, 3.5, 5.0, "5", "x", None, True, False, [5]])
def test_ratings_outside_one_to_five(provider, unchanged, rating):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        add_feedback("acme", rating, "A comment")
    assert error.value.field == "rating"
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("minutes", [-1, 24 * 60 + 1, 10**9, 2.5, "3", True])
def test_negative_or_absurd_minutes(provider, unchanged, minutes):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        record_user_signup("acme", True, minutes)
    assert error.value.field == "setup_time_minutes"


def test_a_whole_day_of_minutes_is_accepted(provider, counters_of):
    record_user_signup("acme", True, 24 * 60)
    assert counters_of("acme")["setup_minutes_sum"] == 24 * 60


@pytest.mark.parametrize("success", ["yes", 1, 0, None])
def test_success_must_be_a_bool(provider, unchanged, success):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        record_user_signup("acme", success)
    assert error.value.field == "success"


@pytest.mark.parametrize("felt", [0, 5, "x", 2.5, True])
def test_felt_difficulty_out_of_range(provider, unchanged, felt):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        record_user_signup("acme", True, felt_difficulty=felt)
    assert error.value.field == "felt_difficulty"


BAD_TEXT = [
    ("", "empty"),
    ("   \n ", "empty"),
    ("x" * 5000, "at most"),
    (f"My key is {FAKE_KEY} and it works", "looks like an API key"),
    ("nul\x00byte", "not allowed"),
    (12, "text"),
]


@pytest.mark.parametrize(("comment", "message"), BAD_TEXT)
def test_bad_comments(provider, unchanged, comment, message):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        add_feedback("acme", 5, comment)
    assert error.value.field == "comment"
    assert message in str(error.value)


def test_comment_length_limit_is_inclusive(provider):
    add_feedback("acme", 5, "y" * 2000)
    with pytest.raises(InvalidSubmissionError):
        add_feedback("acme", 5, "y" * 2001)
    assert Review.objects.count() == 1


@pytest.mark.parametrize(("text", "message"), BAD_TEXT)
def test_bad_tips_and_reports(provider, unchanged, text, message):
    with unchanged:
        with pytest.raises(InvalidSubmissionError, match=message):
            submit_tip("acme", text)
        with pytest.raises(InvalidSubmissionError, match=message):
            report_issue("acme", IssueCategory.OTHER, text)
        with pytest.raises(InvalidSubmissionError, match=message):
            suggest_provider("Newco", "https://newco.example", text)


def test_tips_reports_and_suggestions_wait_for_moderation(provider):
    tip = submit_tip("acme", "Use the EU endpoint if sign-up is blocked.")
    report = report_issue("acme", IssueCategory.BROKEN_LINK, "Docs 404", broken_link="docs")
    suggestion = suggest_provider("Newco", "https://newco.example/", "Cheap and fast.")

    assert tip.status == report.status == suggestion.status == Moderation.PENDING
    assert tip.from_community
    assert report.broken_link == "docs"
    assert ProTip.objects.filter(status=Moderation.APPROVED).count() == 0


@pytest.mark.parametrize(
    ("category", "broken_link", "field"),
    [
        ("not-a-category", "", "category"),
        (None, "", "category"),
        (IssueCategory.BROKEN_LINK, "", "broken_link"),
        (IssueCategory.BROKEN_LINK, "homepage", "broken_link"),
        (IssueCategory.RATE_LIMITS, "docs", "broken_link"),
    ],
)
def test_issue_report_categories(provider, unchanged, category, broken_link, field):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        report_issue("acme", category, "Details", broken_link=broken_link)
    assert error.value.field == field


@pytest.mark.parametrize("website", ["javascript:alert(1)", "newco", "ftp://newco.example"])
def test_suggestion_needs_a_web_address(db, unchanged, website):
    with unchanged, pytest.raises(InvalidSubmissionError) as error:
        suggest_provider("Newco", website, "Cheap")
    assert error.value.field == "website"


# --- abuse limits -------------------------------------------------------------------------


def test_same_voter_twice_a_day_is_refused_and_nothing_counted(make_provider, provider):
    other = make_provider("other")
    add_feedback("acme", 5, "Great", voter=voter("voter-1"))
    record_user_signup("acme", True, 3, voter=voter("voter-1"))  # a different kind: fine
    add_feedback(other.provider_id, 4, voter=voter("voter-1"))  # another provider: fine

    before = snapshot()
    with pytest.raises(AlreadySubmittedError) as error:
        add_feedback("acme", 1, "Changed my mind", voter=voter("voter-1"))
    assert "already" in str(error.value)
    with pytest.raises(AlreadySubmittedError):
        record_user_signup("acme", False, voter=voter("voter-1"))
    assert snapshot() == before  # not even the daily cap was used up
    assert DailyQuota.objects.get(bucket="day:voter-1/network").used == 3


def test_daily_cap_across_providers(make_provider, settings):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 3
    for provider_id in ("a", "b", "c", "d"):
        make_provider(provider_id)
    add_feedback("a", 5, voter=voter("busy"))
    record_user_signup("b", True, voter=voter("busy"))
    submit_tip("c", "Read the docs first.", voter=voter("busy"))

    before = snapshot()
    with pytest.raises(DailyLimitError) as error:
        add_feedback("d", 5, voter=voter("busy"))
    assert isinstance(error.value, SubmissionLimitError)
    assert "tomorrow" in str(error.value)
    with pytest.raises(DailyLimitError):
        report_issue("d", IssueCategory.OTHER, "Slow", voter=voter("busy"))
    with pytest.raises(DailyLimitError):
        suggest_provider("Newco", "https://newco.example", "Cheap", voter=voter("busy"))
    assert snapshot() == before

    add_feedback("d", 5, voter=voter("someone-else"))


def test_python_api_without_voter_key_is_unlimited(provider, settings, counters_of):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    for _ in range(5):
        add_feedback("acme", 5)
        record_user_signup("acme", True)
    assert counters_of("acme")["ratings_count"] == 5
    assert counters_of("acme")["setup_reports"] == 5
    assert not DailyQuota.objects.exists()


# --- get_recommended_providers ---------------------------------------------------------


@pytest.fixture
def catalogue(make_provider):
    # Scores: zeta and alpha 100, mid 94 (4.0 stars), paid 82 (2.0 stars).
    easy = Difficulty.EASY
    make_provider("zeta", provider_name="Zeta", has_free_tier=True, difficulty=easy, **CONFIDENT)
    make_provider("alpha", provider_name="Alpha", has_free_tier=True, difficulty=2, **CONFIDENT)
    make_provider(
        "mid",
        provider_name="Mid",
        has_free_tier=True,
        difficulty=easy,
        **{**CONFIDENT, "ratings_sum": 400},
    )
    make_provider(
        "paid",
        provider_name="Paid",
        has_free_tier=False,
        difficulty=easy,
        **{**CONFIDENT, "ratings_sum": 200},
    )
    make_provider("newbie", provider_name="Newbie", has_free_tier=True)  # 0 data: low
    make_provider(
        "few",
        provider_name="Few votes",
        has_free_tier=True,
        **{**CONFIDENT, "ratings_count": 9, "ratings_sum": 45, "positive_reviews": 9},
    )
    make_provider(
        "pinned",
        provider_name="Pinned caution",
        has_free_tier=True,
        status_pin="caution",
        status_pin_reason="Frequent 401s",
        **CONFIDENT,
    )
    make_provider(
        "hidden", provider_name="Hidden", has_free_tier=True, is_published=False, **CONFIDENT
    )


def ids(providers):
    return [p.provider_id for p in providers]


def test_recommended_defaults_free_confident_sorted(catalogue):
    providers = get_recommended_providers()
    assert ids(providers) == ["alpha", "zeta", "mid"]  # ties by name
    assert [p.get_trust_score() for p in providers] == [100.0, 100.0, 94.0]
    assert all(isinstance(p, Provider) for p in providers)


def test_recommended_filters(catalogue):
    assert ids(get_recommended_providers(free_only=False)) == ["alpha", "zeta", "mid", "paid"]
    assert ids(get_recommended_providers(min_trust_score=95)) == ["alpha", "zeta"]
    assert ids(get_recommended_providers(min_trust_score=100.0)) == ["alpha", "zeta"]
    assert ids(get_recommended_providers(difficulty_max=Difficulty.EASY)) == ["zeta", "mid"]
    assert ids(get_recommended_providers(difficulty_max=2)) == ["alpha", "zeta", "mid"]
    assert ids(get_recommended_providers(False, 0.0, Difficulty.EASY)) == ["zeta", "mid", "paid"]


def test_recommended_never_includes_caution_or_avoid(make_provider):
    # 1.0 stars, 0% success: 6 + 0 + 15 + 0 = 21: Avoid, even with min_trust_score=0.
    make_provider(
        "bad",
        has_free_tier=True,
        **{**CONFIDENT, "ratings_sum": 100, "setup_successes": 0, "positive_reviews": 0},
    )
    assert get_recommended_providers(min_trust_score=0) == []


def test_recommended_is_one_query(catalogue, django_assert_num_queries):
    with django_assert_num_queries(1):
        providers = get_recommended_providers(free_only=False)
        [(p.get_trust_score(), p.status) for p in providers]


def test_registry_object_is_the_seeds(catalogue):
    registry = get_registry()
    assert registry is get_registry()
    assert ids(registry.get_recommended_providers(free_only=True, min_trust_score=70.0)) == [
        "alpha",
        "zeta",
        "mid",
    ]
    assert registry.get_provider("zeta").provider_name == "Zeta"
    with pytest.raises(UnknownProviderError):
        registry.get_provider("hidden")
    assert "hidden" not in ids(registry.providers())


def test_difficulty_max_takes_the_seeds_spellings(catalogue):
    import enum

    class ProviderDifficulty(enum.Enum):  # how the seed's module spells it
        EASY = "easy"
        MODERATE = "moderate"

    assert ids(get_recommended_providers(difficulty_max="easy")) == ["zeta", "mid"]
    assert ids(get_recommended_providers(difficulty_max=" Moderate")) == ["alpha", "zeta", "mid"]
    assert ids(get_recommended_providers(difficulty_max=ProviderDifficulty.EASY)) == [
        "zeta",
        "mid",
    ]
    for bad in ("impossible", 0, 5, True):
        with pytest.raises(ValueError, match="Unknown difficulty"):
            get_recommended_providers(difficulty_max=bad)


# --- reported issues ----------------------------------------------------------------------


def test_three_recent_approved_issue_reports_show_a_caution(provider):
    from datetime import timedelta

    from django.utils import timezone

    def has_recent_issues():
        return Provider.objects.with_recent_issue_count().get(pk=provider.pk).has_recent_issues

    for _ in range(2):
        report_issue("acme", IssueCategory.KEY_REJECTED, "401 with a fresh key")
    report_issue("acme", IssueCategory.OTHER, "Old news")
    IssueReport.objects.update(status=Moderation.APPROVED)
    IssueReport.objects.filter(category=IssueCategory.OTHER).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    report_issue("acme", IssueCategory.RATE_LIMITS, "Still pending review")
    assert not has_recent_issues()

    IssueReport.objects.filter(category=IssueCategory.RATE_LIMITS).update(
        status=Moderation.APPROVED
    )
    assert has_recent_issues()
