"""The seed's Python API, and every write that changes community counters.

Counters change here and nowhere else: one event row and one F() update in the same
transaction, so concurrent writers never lose an increment (SQLite takes the write lock at
BEGIN IMMEDIATE; PostgreSQL row-locks the provider for the UPDATE).
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from . import limits, scoring
from .models import (
    COUNTER_FIELDS,
    MAX_SETUP_MINUTES,
    Difficulty,
    EventStatus,
    FreeTierAnswer,
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


class UnknownOfferingError(RegistryError, LookupError):
    def __init__(self, offering):
        self.offering = offering
        super().__init__(f"No model offering {offering!r} at a provider in the registry.")


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


class NetworkLimitError(SubmissionLimitError):
    message = (
        "Several people on your network have already sent this for this provider today. "
        "Thank you! To keep the figures fair, a network counts only a few times a day."
    )


def _create_once(model, **fields):
    """Insert an event row; the per-visitor-per-day constraint turns a repeat into an error.

    No savepoint of its own: the error leaves the caller's atomic block, which rolls the
    whole submission back (the quotas included), on PostgreSQL as on SQLite."""
    try:
        return model.objects.create(**fields)
    except IntegrityError as error:
        if fields.get("voter_key"):
            raise AlreadySubmittedError() from error
        raise


def _take_quotas(voter, kind=None, provider_pk=None):
    """registry.limits' quotas for a web submission, as the API's errors."""
    if voter is None:
        return
    try:
        limits.take_quotas(voter, kind, provider_pk)
    except limits.QuotaExceeded as exceeded:
        raise DailyLimitError() if exceeded.daily_cap else NetworkLimitError() from None


def _apply(model, target_pk, counters):
    """Add `counters` (F() updates) to the row that keeps them for this kind of event (a
    provider, or a model's offering at one), checking in the same UPDATE that it is still
    published: False if it is not."""
    owner = model._meta.get_field(model.COUNTERS_ON).related_model
    return bool(owner.objects.filter(pk=target_pk, **model.PUBLISHED).update(**counters))


def _count_events(provider_pk, not_found, voter, events):
    """The write of one submission, inside the caller's transaction. `events` are
    (event model, the pk of the row its counters are on, counter updates, event fields):
    a setup report, a rating, both (the wizard's result), or a model rating. They count,
    or are held, together.

    Quotas first; then the burst rule (on the provider) decides whether the submission
    is counted (the counters get their F() updates, one UPDATE per row they are on) or
    held; the registry version moves either way (a provider page says how many are
    held). The event rows come last, so their unique constraint is the only IntegrityError
    left to meet. Raises `not_found` if the provider is no longer published.

    The caller looks the provider up before the transaction begins: on SQLite, BEGIN
    IMMEDIATE takes the database's write lock, so only writes should run under it."""
    for model, target_pk, _, _ in events:
        _take_quotas(voter, model.QUOTA_KIND, target_pk)
    held = voter is not None and limits.is_burst(provider_pk)
    if held:
        if not Provider.objects.filter(pk=provider_pk, is_published=True).exists():
            raise not_found
    else:
        merged = {}
        for model, target_pk, counters, _ in events:
            # A setup report and a rating touch different counters of one provider.
            merged.setdefault((model, target_pk), {}).update(counters)
        for (model, target_pk), counters in merged.items():
            if not _apply(model, target_pk, counters):
                raise not_found
    bump_registry_version()
    status = EventStatus.HELD if held else EventStatus.COUNTED
    for model, target_pk, _, fields in events:
        if voter is not None:
            limits.tally(provider_pk, counted=not held)
        _create_once(
            model,
            **{f"{model.COUNTERS_ON}_id": target_pk},
            voter_key=voter.visitor if voter else "",
            status=status,
            **fields,
        )
    return status


def _as_updates(increments):
    return {name: F(name) + amount for name, amount in increments.items()}


def _setup_report_counters(success, setup_time_minutes, felt_difficulty):
    """Checks a setup report; returns its counter updates and its event row's fields."""
    if not isinstance(success, bool):
        raise InvalidSubmissionError("success", "must be True or False.")
    if setup_time_minutes is not None:
        _clean_int("setup_time_minutes", setup_time_minutes, 0, MAX_SETUP_MINUTES)
    if felt_difficulty is not None:
        # Difficulty members are ints; "x", 2.5 or True are refused rather than coerced.
        _clean_int("felt_difficulty", felt_difficulty, Difficulty.EASY, Difficulty.EXPERT)
        felt_difficulty = int(felt_difficulty)
    counters = _as_updates(SetupReport.increments(success, setup_time_minutes, felt_difficulty))
    event = {"success": success, "minutes": setup_time_minutes, "felt_difficulty": felt_difficulty}
    return counters, event


def _rating_counters(rating, comment, free_tier):
    """Checks a rating; returns its counter updates, its cleaned comment and its event
    row's fields."""
    _clean_int("rating", rating, 1, 5)
    comment = _clean_text("comment", comment, COMMENT_MAX, required=False)
    if free_tier not in ("", *FreeTierAnswer.values):
        raise InvalidSubmissionError(
            "free_tier", "answer with one of the listed choices about the free tier."
        )
    return (
        _as_updates(Rating.increments(rating)),
        comment,
        {"stars": rating, "free_tier": free_tier},
    )


def record_user_signup(
    provider_id, success, setup_time_minutes=None, *, felt_difficulty=None, voter=None
):
    """One setup report: the seed's record_user_signup. `voter` (registry.voters.Voter) is
    who sent it from the web, under the abuse limits; None for trusted Python callers.
    Returns the event's status: counted, or held in a burst."""
    counters, event = _setup_report_counters(success, setup_time_minutes, felt_difficulty)
    pk = _provider_pk(provider_id)
    with transaction.atomic():
        return _count_events(
            pk, UnknownProviderError(provider_id), voter, [(SetupReport, pk, counters, event)]
        )


def add_feedback(provider_id, rating, comment=None, *, free_tier="", voter=None):
    """One star rating, with an optional comment that waits for moderation, and an
    optional answer on the free tier (FreeTierAnswer; blank: not used or not said)."""
    counters, comment, event = _rating_counters(rating, comment, free_tier)
    pk = _provider_pk(provider_id)
    with transaction.atomic():
        status = _count_events(
            pk, UnknownProviderError(provider_id), voter, [(Rating, pk, counters, event)]
        )
        _add_review(pk, rating, comment, voter)
    return status


def share_setup_result(
    provider_id,
    *,
    success,
    setup_time_minutes,
    felt_difficulty,
    rating,
    comment=None,
    free_tier="",
    model_rating=None,
    voter=None,
):
    """The setup wizard's shared result: a setup report and a rating, and optionally a
    rating of one of the provider's models (`model_rating`: a dict of rate_model's
    arguments), that count (or are held) together or not at all."""
    report_counters, event = _setup_report_counters(success, setup_time_minutes, felt_difficulty)
    rating_counters, comment, rating_event = _rating_counters(rating, comment, free_tier)
    pk = _provider_pk(provider_id)
    model_events = []
    if model_rating is not None:
        model_provider, model_event = _model_rating_event(**model_rating)
        if model_provider != pk:
            raise InvalidSubmissionError("model", "choose a model this provider serves.")
        model_events.append(model_event)
    with transaction.atomic():
        status = _count_events(
            pk,
            UnknownProviderError(provider_id),
            voter,
            [
                (SetupReport, pk, report_counters, event),
                (Rating, pk, rating_counters, rating_event),
                *model_events,
            ],
        )
        _add_review(pk, rating, comment, voter)
    return status


def _model_rating_event(offering, rating, tool_calling, streaming):
    """Checks a model rating; returns (provider pk, the event tuple for _count_events).
    Only an active or beta offering at a published registry provider can be rated."""
    from catalog.models import Offering, OfferingRating  # an optional app

    _clean_int("rating", rating, 1, 5)
    for field, value in (("tool_calling", tool_calling), ("streaming", streaming)):
        if value is not None and not isinstance(value, bool):
            raise InvalidSubmissionError(field, "answer yes, no, or leave it out.")
    provider_pk = (
        Offering.objects.rateable()
        .filter(pk=offering)
        .values_list("catalog_provider__provider", flat=True)
        .first()
        if isinstance(offering, int) and not isinstance(offering, bool)
        else None
    )
    if provider_pk is None:
        raise UnknownOfferingError(offering)
    counters = _as_updates(OfferingRating.increments(rating, tool_calling, streaming))
    fields = {"stars": rating, "tool_calling": tool_calling, "streaming": streaming}
    return provider_pk, (OfferingRating, offering, counters, fields)


def rate_model(offering, rating, *, tool_calling=None, streaming=None, voter=None):
    """One rating of a model at one provider (an Offering's pk): stars, and whether tool
    calling and streaming worked (None: not tried). The same limits and burst rule as a
    provider rating; counters on the offering."""
    provider_pk, event = _model_rating_event(offering, rating, tool_calling, streaming)
    with transaction.atomic():
        return _count_events(provider_pk, UnknownOfferingError(offering), voter, [event])


def _add_review(pk, rating, comment, voter):
    if comment:
        Review.objects.create(
            provider_id=pk, rating=rating, text=comment, voter_key=voter.visitor if voter else ""
        )


def submit_tip(provider_id, text, *, voter=None):
    text = _clean_text("text", text, TIP_MAX)
    with transaction.atomic():
        pk = _provider_pk(provider_id)
        _take_quotas(voter)
        return ProTip.objects.create(
            provider_id=pk,
            text=text,
            from_community=True,
            status=Moderation.PENDING,
            position=1000,  # after the curated tips once approved
            voter_key=voter.visitor if voter else "",
        )


def report_issue(provider_id, category, details, *, broken_link="", voter=None):
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
        _take_quotas(voter)
        return IssueReport.objects.create(
            provider_id=pk,
            category=category,
            broken_link=broken_link,
            details=details,
            voter_key=voter.visitor if voter else "",
        )


def suggest_provider(name, website, reason, *, voter=None):
    name = _clean_text("name", name, 100)
    reason = _clean_text("reason", reason, SUGGESTION_REASON_MAX)
    website = _clean_text("website", website, 300)
    try:
        URLValidator(schemes=["https", "http"])(website)
    except ValidationError:
        raise InvalidSubmissionError("website", "enter a full web address.") from None
    with transaction.atomic():
        _take_quotas(voter)
        return ProviderSuggestion.objects.create(
            name=name, website=website, reason=reason, voter_key=voter.visitor if voter else ""
        )


# --- held events, deleted events, and counters rebuilt from events ------------------------


def _event_increments(rows):
    """The counter increments of event rows, summed per row they are on: {pk: {counter: n}}."""
    totals = {}
    for row in rows:
        counters = totals.setdefault(getattr(row, f"{row.COUNTERS_ON}_id"), {})
        for name, amount in row.counter_increments().items():
            counters[name] = counters.get(name, 0) + amount
    return totals


def _add_to_counters(model, totals, sign):
    owner = model._meta.get_field(model.COUNTERS_ON).related_model
    for pk, counters in totals.items():
        changes = {name: F(name) + sign * n for name, n in counters.items() if n}
        if changes:
            owner.objects.filter(pk=pk).update(**changes)
    if totals:
        bump_registry_version()


def release_held(model, pks):
    """Count held events (a maintainer's release): each becomes counted and its counters
    are added with F() updates, in one transaction. Returns how many were released."""
    with transaction.atomic():
        rows = list(model.objects.select_for_update().held().filter(pk__in=pks))
        model.objects.filter(pk__in=[row.pk for row in rows]).update(status=EventStatus.COUNTED)
        _add_to_counters(model, _event_increments(rows), +1)
    return len(rows)


def discard_held(model, pks):
    """Never count these held events. The counters do not change."""
    with transaction.atomic():
        discarded = model.objects.held().filter(pk__in=pks).update(status=EventStatus.DISCARDED)
        if discarded:
            bump_registry_version()
    return discarded


def delete_events(model, pks):
    """Delete event rows (a maintainer removing what should never have counted): the
    counters lose what the counted ones added, so they still equal baseline + events."""
    with transaction.atomic():
        rows = list(model.objects.select_for_update().filter(pk__in=pks))
        counted = [row for row in rows if row.status == EventStatus.COUNTED]
        model.objects.filter(pk__in=[row.pk for row in rows]).delete()
        _add_to_counters(model, _event_increments(counted), -1)
        if rows and not counted:
            bump_registry_version()
    return len(rows)


def counters_from_events(pks=None):
    """Every provider's counted events as counter totals: {pk: {counter: n}}, in two grouped
    queries over the event tables."""
    totals = {}
    for model in (SetupReport, Rating):
        events = model.objects.counted()
        if pks is not None:
            events = events.filter(provider__in=pks)
        for row in events.order_by().values("provider").annotate(**model.counter_aggregates()):
            counters = totals.setdefault(row.pop("provider"), dict.fromkeys(COUNTER_FIELDS, 0))
            for name, value in row.items():
                counters[name] += value or 0
    return totals


def counter_differences(pks=None):
    """Providers whose counters differ from baseline + counted events:
    {provider_id: {counter: (stored, expected)}}."""
    events = counters_from_events(pks)
    providers = Provider.objects.all() if pks is None else Provider.objects.filter(pk__in=pks)
    differences = {}
    for provider in providers.only("pk", "provider_id", "baseline", *COUNTER_FIELDS):
        expected = _expected_counters(provider, events.get(provider.pk))
        wrong = {
            name: (getattr(provider, name), value)
            for name, value in expected.items()
            if getattr(provider, name) != value
        }
        if wrong:
            differences[provider.provider_id] = wrong
    return differences


def _expected_counters(provider, events):
    events = events or dict.fromkeys(COUNTER_FIELDS, 0)
    return {name: provider.baseline.get(name, 0) + events[name] for name in COUNTER_FIELDS}


def repair_counters(provider_id):
    """Set one provider's counters to baseline + counted events, in one transaction that
    locks the provider, so a submission counted meanwhile is neither lost nor added
    twice. Returns the counters that changed: {counter: (before, after)}."""
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(provider_id=provider_id)
        expected = _expected_counters(
            provider, counters_from_events([provider.pk]).get(provider.pk)
        )
        changed = {
            name: (getattr(provider, name), value)
            for name, value in expected.items()
            if getattr(provider, name) != value
        }
        if changed:
            Provider.objects.filter(pk=provider.pk).update(**expected)
            bump_registry_version()
    return changed


def refresh_stars_prior():
    """Copy the registry's mean star rating (over every published provider's ratings, or
    scoring.DEFAULT_STARS_PRIOR before there are any) onto every provider, where the lower
    bound's generated column reads it. Runs once a day (daily_upkeep) and after imports."""
    totals = Provider.objects.published().aggregate(
        ratings=Sum("ratings_count"), stars=Sum("ratings_sum")
    )
    prior = (
        totals["stars"] / totals["ratings"] if totals["ratings"] else scoring.DEFAULT_STARS_PRIOR
    )
    with transaction.atomic():
        if Provider.objects.exclude(stars_prior=prior).update(stars_prior=prior):
            bump_registry_version()
    return prior


def daily_upkeep(day):
    """The first submission of a day: forget what no limit reads any more, and refresh the
    registry mean of the lower bound."""
    limits.forget_old(day)
    refresh_stars_prior()


def get_recommended_providers(free_only=True, min_trust_score=70.0, difficulty_max=None):
    """Confident providers that clear the filters, best trust score first."""
    return list(
        Provider.objects.recommended(
            free_only=free_only, min_trust_score=min_trust_score, difficulty_max=difficulty_max
        )
    )


def recommend(needs, providers=None):
    """Providers ranked by how they fit `needs` (registry.recommend.Needs: a model or family,
    tool calling, vision, a monthly budget, free only), then by trust, each with its
    reasons in plain words ("serves Llama 3.3 70B free; tool calling; 4.6★ from 120
    people; 99.8% API uptime"). See registry/recommend.py."""
    from .recommend import recommend as ranked

    return ranked(needs, providers)


class Registry:
    """The seed's BYOKProviderRegistry, backed by the database."""

    get_recommended_providers = staticmethod(get_recommended_providers)
    recommend = staticmethod(recommend)
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
