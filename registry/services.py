"""The seed's Python API, and every write that changes community counters.

Counters change here and nowhere else: one event row and one F() update in the same
transaction, so concurrent writers never lose an increment (SQLite takes the write lock at
BEGIN IMMEDIATE; PostgreSQL row-locks the provider for the UPDATE).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F

from .models import (
    MAX_SETUP_MINUTES,
    Difficulty,
    IssueCategory,
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderLink,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
    VoterDay,
    today,
)
from .secrets import PASTED_KEY_MESSAGE, looks_like_secret
from .versioning import bump_registry_version

COMMENT_MAX = 2000
TIP_MAX = 500
REPORT_MAX = 2000
SUGGESTION_REASON_MAX = 1000


class RegistryError(Exception):
    """Base class for every error the registry API raises on bad input."""


class UnknownProviderError(RegistryError, LookupError):
    def __init__(self, provider_id):
        self.provider_id = provider_id
        super().__init__(f"No provider with id {provider_id!r} in the registry.")


class InvalidSubmissionError(RegistryError, ValueError):
    def __init__(self, field, message):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class SubmissionLimitError(RegistryError):
    """An abuse limit refused the submission; nothing was counted."""

    message = "You have reached today's limit. Thank you for contributing: try again tomorrow."

    def __init__(self, message=None):
        if message:
            self.message = message
        super().__init__(self.message)


class AlreadySubmittedError(SubmissionLimitError):
    message = (
        "You already sent this for this provider today. Thank you! "
        "Each visitor counts once per provider per day."
    )


class DailyLimitError(SubmissionLimitError):
    message = (
        "You have reached today's limit of community submissions. "
        "Thank you for contributing so much: please come back tomorrow."
    )


def _provider_pk(provider_id):
    if isinstance(provider_id, str):
        published = Provider.objects.published().filter(provider_id=provider_id)
        pk = published.values_list("pk", flat=True).first()
        if pk is not None:
            return pk
    raise UnknownProviderError(provider_id)


def _clean_text(field, text, max_length, *, required=True):
    if text is None and not required:
        return None
    if not isinstance(text, str):
        raise InvalidSubmissionError(field, "must be text.")
    text = text.strip()
    if not text:
        raise InvalidSubmissionError(field, "must not be empty.")
    if len(text) > max_length:
        raise InvalidSubmissionError(field, f"must be at most {max_length} characters.")
    if "\x00" in text:
        raise InvalidSubmissionError(field, "contains a character that is not allowed.")
    if looks_like_secret(text):
        raise InvalidSubmissionError(field, PASTED_KEY_MESSAGE)
    return text


def _clean_int(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSubmissionError(field, f"must be a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise InvalidSubmissionError(field, f"must be from {low} to {high}.")
    return value


def _create_once(model, **fields):
    """Insert an event row; the per-voter-per-day constraint turns a repeat into an error.

    No savepoint of its own: the error leaves the caller's atomic block, which rolls the
    whole submission back (the cap's count included), on PostgreSQL as on SQLite."""
    try:
        return model.objects.create(**fields)
    except IntegrityError as error:
        if fields.get("voter_key"):
            raise AlreadySubmittedError() from error
        raise


def _count_against_daily_cap(voter_key):
    """One more submission for this voter today, unless that would pass the cap.

    The conditional upsert below is one atomic statement, so concurrent requests cannot
    both take the last slot. Must run inside the submission's transaction, so a refused
    or failed submission uses up nothing.
    """
    if not voter_key:
        return
    cap = settings.REGISTRY_DAILY_SUBMISSION_CAP
    if cap < 1:
        raise DailyLimitError()
    # One upsert (SQLite and PostgreSQL alike) instead of an INSERT and an UPDATE: the
    # first submission inserts 1; a later one adds 1 only while under the cap, and
    # otherwise changes no row. Written by hand: building the two ORM statements cost more
    # than running them on every submission.
    connection = connections[router.db_for_write(VoterDay)]
    table = connection.ops.quote_name(VoterDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (voter_key, day, submissions) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (voter_key, day) DO UPDATE SET submissions = {table}.submissions + 1 "
            f"WHERE {table}.submissions < %s",
            [voter_key, connection.ops.adapt_datefield_value(today()), cap],
        )
        counted = cursor.rowcount
    if not counted:
        raise DailyLimitError()


def _count_event(pk, provider_id, voter_key, counters, event_model, **event_fields):
    """The write of a setup report or a rating, inside the caller's transaction: the
    daily cap, the counters (one F() update), the registry version bump that makes cached
    pages stale, and the event row.

    The caller looks the provider up before the transaction begins: on SQLite, BEGIN
    IMMEDIATE takes the database's write lock, so only writes should run under it. The
    UPDATE checks again that the provider is still published; the event row comes last,
    so its unique constraint is the only IntegrityError it can meet."""
    _count_against_daily_cap(voter_key)
    if not Provider.objects.filter(pk=pk, is_published=True).update(**counters):
        raise UnknownProviderError(provider_id)
    bump_registry_version()
    _create_once(event_model, provider_id=pk, voter_key=voter_key, **event_fields)


def _setup_report_counters(success, setup_time_minutes, felt_difficulty):
    """Checks a setup report; returns its counter increments and its event row's fields."""
    if not isinstance(success, bool):
        raise InvalidSubmissionError("success", "must be True or False.")
    if setup_time_minutes is not None:
        _clean_int("setup_time_minutes", setup_time_minutes, 0, MAX_SETUP_MINUTES)
    if felt_difficulty is not None:
        # Difficulty members are ints; "x", 2.5 or True are refused rather than coerced.
        _clean_int("felt_difficulty", felt_difficulty, Difficulty.EASY, Difficulty.EXPERT)
        felt_difficulty = int(felt_difficulty)
    counters = {
        "total_users": F("total_users") + 1,
        "setup_reports": F("setup_reports") + 1,
    }
    if success:
        counters["active_users"] = F("active_users") + 1
        counters["setup_successes"] = F("setup_successes") + 1
    if setup_time_minutes is not None:
        counters["setup_minutes_sum"] = F("setup_minutes_sum") + setup_time_minutes
        counters["setup_minutes_count"] = F("setup_minutes_count") + 1
    if felt_difficulty is not None:
        counters["felt_difficulty_sum"] = F("felt_difficulty_sum") + felt_difficulty
        counters["felt_difficulty_count"] = F("felt_difficulty_count") + 1
    event = {"success": success, "minutes": setup_time_minutes, "felt_difficulty": felt_difficulty}
    return counters, event


def _rating_counters(rating, comment):
    """Checks a rating; returns its counter increments and its cleaned comment."""
    _clean_int("rating", rating, 1, 5)
    comment = _clean_text("comment", comment, COMMENT_MAX, required=False)
    counters = {
        "ratings_count": F("ratings_count") + 1,
        "ratings_sum": F("ratings_sum") + rating,
    }
    if rating >= 4:
        counters["positive_reviews"] = F("positive_reviews") + 1
    elif rating <= 2:
        counters["negative_reviews"] = F("negative_reviews") + 1
    return counters, comment


def _count_rating(pk, provider_id, voter_key, rating, counters, comment):
    _count_event(pk, provider_id, voter_key, counters, Rating, stars=rating)
    if comment:
        Review.objects.create(provider_id=pk, rating=rating, text=comment, voter_key=voter_key)


def record_user_signup(
    provider_id, success, setup_time_minutes=None, *, felt_difficulty=None, voter_key=""
):
    """One setup report: the seed's record_user_signup."""
    counters, event = _setup_report_counters(success, setup_time_minutes, felt_difficulty)
    pk = _provider_pk(provider_id)
    with transaction.atomic():
        _count_event(pk, provider_id, voter_key, counters, SetupReport, **event)


def add_feedback(provider_id, rating, comment=None, *, voter_key=""):
    """One star rating, with an optional comment that waits for moderation."""
    counters, comment = _rating_counters(rating, comment)
    pk = _provider_pk(provider_id)
    with transaction.atomic():
        _count_rating(pk, provider_id, voter_key, rating, counters, comment)


def share_setup_result(
    provider_id,
    *,
    success,
    setup_time_minutes,
    felt_difficulty,
    rating,
    comment=None,
    voter_key="",
):
    """The setup wizard's shared result: a setup report and a rating that count together
    or not at all."""
    report_counters, event = _setup_report_counters(success, setup_time_minutes, felt_difficulty)
    rating_counters, comment = _rating_counters(rating, comment)
    pk = _provider_pk(provider_id)
    with transaction.atomic():
        _count_event(pk, provider_id, voter_key, report_counters, SetupReport, **event)
        _count_rating(pk, provider_id, voter_key, rating, rating_counters, comment)


def submit_tip(provider_id, text, *, voter_key=""):
    text = _clean_text("text", text, TIP_MAX)
    with transaction.atomic():
        pk = _provider_pk(provider_id)
        _count_against_daily_cap(voter_key)
        return ProTip.objects.create(
            provider_id=pk,
            text=text,
            from_community=True,
            status=Moderation.PENDING,
            position=1000,  # after the curated tips once approved
            voter_key=voter_key,
        )


def report_issue(provider_id, category, details, *, broken_link="", voter_key=""):
    if category not in IssueCategory.values:
        raise InvalidSubmissionError("category", "choose one of the listed categories.")
    if category == IssueCategory.BROKEN_LINK:
        if broken_link not in ProviderLink.values:
            raise InvalidSubmissionError("broken_link", "say which link is broken.")
    elif broken_link:
        raise InvalidSubmissionError("broken_link", "only applies to broken-link reports.")
    details = _clean_text("details", details, REPORT_MAX)
    with transaction.atomic():
        pk = _provider_pk(provider_id)
        _count_against_daily_cap(voter_key)
        return IssueReport.objects.create(
            provider_id=pk,
            category=category,
            broken_link=broken_link,
            details=details,
            voter_key=voter_key,
        )


def suggest_provider(name, website, reason, *, voter_key=""):
    name = _clean_text("name", name, 100)
    reason = _clean_text("reason", reason, SUGGESTION_REASON_MAX)
    website = _clean_text("website", website, 300)
    try:
        URLValidator(schemes=["https", "http"])(website)
    except ValidationError:
        raise InvalidSubmissionError("website", "enter a full web address.") from None
    with transaction.atomic():
        _count_against_daily_cap(voter_key)
        return ProviderSuggestion.objects.create(
            name=name, website=website, reason=reason, voter_key=voter_key
        )


def get_recommended_providers(free_only=True, min_trust_score=70.0, difficulty_max=None):
    """Confident providers that clear the filters, best trust score first."""
    return list(
        Provider.objects.recommended(
            free_only=free_only, min_trust_score=min_trust_score, difficulty_max=difficulty_max
        )
    )


class Registry:
    """The seed's BYOKProviderRegistry, backed by the database."""

    get_recommended_providers = staticmethod(get_recommended_providers)
    record_user_signup = staticmethod(record_user_signup)
    add_feedback = staticmethod(add_feedback)
    submit_tip = staticmethod(submit_tip)
    report_issue = staticmethod(report_issue)
    suggest_provider = staticmethod(suggest_provider)

    def providers(self):
        return list(Provider.objects.published().order_by("-trust_score"))

    def get_provider(self, provider_id):
        try:
            return Provider.objects.published().get(provider_id=provider_id)
        except Provider.DoesNotExist:
            raise UnknownProviderError(provider_id) from None


_registry = Registry()


def get_registry():
    return _registry
