"""Reading and writing the seed's JSON registry format.

    {"providers": {"<id>": {<ProviderRating fields>}}, "user_stats": {}, "last_updated": "..."}

Each provider carries the seed's ProviderRating fields. Export adds what the seed's format
cannot express, so that export -> import -> export round-trips exactly:
- "counters": the raw community counters (the seed's star_rating and success_rate are
  averages and cannot be added to);
- curated extras: setup_steps, key_env_var, key_pattern, approval_note, free_tier_note,
  website_url, api_base_url, last_verified, status_pin, status_pin_reason, is_published;
- common_issues as {"problem", "solution"} objects (plain strings are accepted too).

Without "counters", counters are derived from the seed's figures (100 ratings at the
given average, one setup report per total user at the given success rate).
"""

import datetime
import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    COUNTER_FIELDS,
    Audience,
    CautionFlag,
    CommonIssue,
    Difficulty,
    Moderation,
    ProTip,
    Provider,
    SetupStep,
)
from .services import counters_from_events, refresh_stars_prior
from .versioning import bump_registry_version

REQUIRED_FIELDS = ("provider_name", "signup_url", "api_key_url", "documentation_url")
TEXT_FIELDS = (
    "provider_name",
    "description",
    "signup_url",
    "api_key_url",
    "documentation_url",
    "website_url",
    "api_base_url",
    "approval_note",
    "free_tier_note",
    "key_env_var",
    "key_pattern",
    "status_pin",
    "status_pin_reason",
)
BOOL_FIELDS = ("requires_approval", "has_free_tier", "is_published")
SYNTHETIC_RATINGS = 100


class RegistryFileError(Exception):
    def __init__(self, message, provider_id=None, field=None):
        self.provider_id = provider_id
        self.field = field
        where = ""
        if provider_id is not None:
            where = f"provider {provider_id!r}"
            if field:
                where += f", field {field!r}"
            where += ": "
        super().__init__(where + message)


# --- export -------------------------------------------------------------------------


def provider_to_dict(provider):
    return {
        "provider_id": provider.provider_id,
        "provider_name": provider.provider_name,
        "description": provider.description,
        "star_rating": round(provider.star_rating, 2),
        "total_users": provider.total_users,
        "active_users": provider.active_users,
        "success_rate": round(provider.success_rate, 2),
        "difficulty": Difficulty(provider.difficulty).label.lower(),
        "avg_setup_time_minutes": round(provider.avg_setup_time_minutes or 0),
        "requires_approval": provider.requires_approval,
        "has_free_tier": provider.has_free_tier,
        "status": provider.status.value,
        "caution_flags": [flag.text for flag in provider.caution_flags.all()],
        "recommended_for": [audience.name for audience in provider.recommended_for.all()],
        "signup_url": provider.signup_url,
        "api_key_url": provider.api_key_url,
        "documentation_url": provider.documentation_url,
        "positive_reviews": provider.positive_reviews,
        "negative_reviews": provider.negative_reviews,
        "common_issues": [
            {"problem": issue.problem, "solution": issue.solution}
            for issue in provider.common_issues.all()
        ],
        "pro_tips": [
            tip.text
            for tip in provider.pro_tips.all()
            if tip.status == Moderation.APPROVED and not tip.from_community
        ],
        # No community data is not a score of 0.
        "trust_score": provider.get_trust_score() if provider.has_data else None,
        "setup_steps": [step.text for step in provider.setup_steps.all()],
        "website_url": provider.website_url,
        "api_base_url": provider.api_base_url,
        "approval_note": provider.approval_note,
        "free_tier_note": provider.free_tier_note,
        "key_env_var": provider.key_env_var,
        "key_pattern": provider.key_pattern,
        "last_verified": provider.last_verified.isoformat() if provider.last_verified else None,
        "status_pin": provider.status_pin,
        "status_pin_reason": provider.status_pin_reason,
        "is_published": provider.is_published,
        "counters": {name: getattr(provider, name) for name in COUNTER_FIELDS},
    }


# What provider_to_dict() reads of each provider's rows: prefetch them.
EXPORTED_ROWS = ("caution_flags", "recommended_for", "common_issues", "pro_tips", "setup_steps")


def export_registry_data(providers=None):
    """The registry file's data. `providers`: the Provider rows to export, with
    EXPORTED_ROWS prefetched (default: every provider, as export_registry writes them)."""
    from catalog.interchange import export_catalog  # here: catalog imports this module

    if providers is None:
        providers = Provider.objects.prefetch_related(*EXPORTED_ROWS).order_by("provider_id")
    return {
        "providers": {p.provider_id: provider_to_dict(p) for p in providers},
        "user_stats": {},
        "last_updated": timezone.now().isoformat(),
        "catalog": export_catalog(),
    }


# --- import -------------------------------------------------------------------------


def _expect(condition, message, provider_id, field):
    if not condition:
        raise RegistryFileError(message, provider_id, field)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (_is_int(value) or isinstance(value, float)) and value == value  # not NaN


def _parse_difficulty(value, provider_id):
    if _is_int(value) and value in Difficulty.values:
        return value
    if isinstance(value, str):
        for choice in Difficulty:
            if value.strip().lower() == choice.label.lower():
                return choice.value
    raise RegistryFileError(
        f"unknown difficulty {value!r} (use easy, moderate, advanced or expert)",
        provider_id,
        "difficulty",
    )


def _max_length(model, field):
    return model._meta.get_field(field).max_length


LIST_ITEM_MAX = {
    "setup_steps": _max_length(SetupStep, "text"),
    "caution_flags": _max_length(CautionFlag, "text"),
    "pro_tips": _max_length(ProTip, "text"),
    "recommended_for": _max_length(Audience, "name"),
}


def _string_list(entry, field, provider_id):
    value = entry.get(field, [])
    _expect(isinstance(value, list), "must be a list of strings", provider_id, field)
    limit = LIST_ITEM_MAX[field]
    for item in value:
        _expect(
            isinstance(item, str) and item.strip(), "must be non-empty strings", provider_id, field
        )
        _expect(
            len(item.strip()) <= limit,
            f"each entry must be at most {limit} characters",
            provider_id,
            field,
        )
    return [item.strip() for item in value]


def _common_issues(entry, provider_id):
    value = entry.get("common_issues", [])
    _expect(isinstance(value, list), "must be a list", provider_id, "common_issues")
    issues = []
    for item in value:
        if isinstance(item, str) and item.strip():
            issues.append((item.strip(), ""))
        elif (
            isinstance(item, dict)
            and isinstance(item.get("problem"), str)
            and item["problem"].strip()
            and isinstance(item.get("solution", ""), str)
        ):
            issues.append((item["problem"].strip(), item.get("solution", "").strip()))
        else:
            raise RegistryFileError(
                'each entry must be a string or {"problem": ..., "solution": ...}',
                provider_id,
                "common_issues",
            )
    for problem, solution in issues:
        _expect(
            len(problem) <= _max_length(CommonIssue, "problem")
            and len(solution) <= _max_length(CommonIssue, "solution"),
            f"each problem must be at most {_max_length(CommonIssue, 'problem')} characters "
            f"and each solution at most {_max_length(CommonIssue, 'solution')}",
            provider_id,
            "common_issues",
        )
    return issues


def _derived_counters(entry, provider_id):
    """Counters that reproduce the seed's averages when the file has no raw counters."""
    numbers = {}
    for field, high in (("star_rating", 5), ("success_rate", 100)):
        value = entry.get(field, 0)
        _expect(_is_number(value), "must be a number", provider_id, field)
        _expect(0 <= value <= high, f"must be between 0 and {high}", provider_id, field)
        numbers[field] = value
    for field in ("total_users", "active_users", "positive_reviews", "negative_reviews"):
        value = entry.get(field, 0)
        _expect(_is_int(value) and value >= 0, "must be a whole number >= 0", provider_id, field)
        numbers[field] = value
    minutes = entry.get("avg_setup_time_minutes", 0) or 0
    _expect(
        _is_number(minutes) and 0 <= minutes <= 1440,
        "must be a number of minutes from 0 to 1440",
        provider_id,
        "avg_setup_time_minutes",
    )
    ratings = 0
    if numbers["star_rating"] >= 1:
        # Enough ratings to hold the file's reviews, each of which was a rating.
        reviews = numbers["positive_reviews"] + numbers["negative_reviews"]
        ratings = max(SYNTHETIC_RATINGS, reviews)
    reports = numbers["total_users"]
    return {
        "total_users": numbers["total_users"],
        "active_users": numbers["active_users"],
        "setup_reports": reports,
        "setup_successes": round(numbers["success_rate"] / 100 * reports),
        "setup_minutes_sum": round(minutes * reports),
        "setup_minutes_count": reports if minutes else 0,
        "felt_difficulty_sum": 0,
        "felt_difficulty_count": 0,
        "ratings_count": ratings,
        "ratings_sum": round(numbers["star_rating"] * ratings),
        "positive_reviews": numbers["positive_reviews"],
        "negative_reviews": numbers["negative_reviews"],
    }


def _raw_counters(value, provider_id):
    _expect(isinstance(value, dict), "must be an object", provider_id, "counters")
    counters = {}
    for name in COUNTER_FIELDS:
        number = value.get(name, 0)
        _expect(_is_int(number) and number >= 0, "must be a whole number >= 0", provider_id, name)
        counters[name] = number
    return counters


def _parse_provider(key, entry):
    """Validate one provider entry into (Provider, related rows); raise RegistryFileError."""
    _expect(isinstance(entry, dict), "must be an object", key, None)
    provider_id = entry.get("provider_id", key)
    _expect(provider_id == key, "provider_id must match its key", key, "provider_id")
    _expect(
        isinstance(provider_id, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", provider_id),
        "must be lowercase letters, digits, - or _",
        key,
        "provider_id",
    )
    for field in REQUIRED_FIELDS:
        _expect(field in entry, "is missing", provider_id, field)
    for field in TEXT_FIELDS:
        if field in entry:
            _expect(isinstance(entry[field], str), "must be a string", provider_id, field)
    for field in BOOL_FIELDS:
        if field in entry:
            _expect(isinstance(entry[field], bool), "must be true or false", provider_id, field)

    if "counters" in entry:
        counters = _raw_counters(entry["counters"], provider_id)
    else:
        counters = _derived_counters(entry, provider_id)

    last_verified = entry.get("last_verified")
    if last_verified is not None:
        try:
            last_verified = datetime.date.fromisoformat(last_verified)
        except (TypeError, ValueError):
            raise RegistryFileError(
                "must be a date like 2026-01-31", provider_id, "last_verified"
            ) from None

    provider = Provider(
        provider_id=provider_id,
        difficulty=_parse_difficulty(entry.get("difficulty", "moderate"), provider_id),
        last_verified=last_verified,
        **{f: entry[f].strip() for f in TEXT_FIELDS if f in entry},
        **{f: entry[f] for f in BOOL_FIELDS if f in entry},
        **counters,
    )
    try:
        provider.full_clean(validate_unique=False, validate_constraints=True)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        if field == NON_FIELD_ERRORS:
            # A check constraint between counters: its message names them.
            field = "counters" if "counters" in entry else None
        raise RegistryFileError(" ".join(messages), provider_id, field) from None

    rows = {
        "setup_steps": _string_list(entry, "setup_steps", provider_id),
        "caution_flags": _string_list(entry, "caution_flags", provider_id),
        "pro_tips": _string_list(entry, "pro_tips", provider_id),
        "recommended_for": _string_list(entry, "recommended_for", provider_id),
        "common_issues": _common_issues(entry, provider_id),
    }
    return provider, rows


def parse_registry_data(data):
    _expect(isinstance(data, dict), "the file must hold a JSON object", None, None)
    providers = data.get("providers")
    _expect(isinstance(providers, dict), 'needs a "providers" object', None, None)
    user_stats = data.get("user_stats", {})
    _expect(isinstance(user_stats, dict), '"user_stats" must be an object', None, None)
    return [_parse_provider(key, entry) for key, entry in providers.items()]


def _set_baseline(provider, existing):
    """The file's counters are the provider's totals. Its baseline here is what they hold
    beyond the events counted here: all of it in a fresh database (the events of the
    registry it came from do not travel), less than that when re-importing into this one."""
    events = dict.fromkeys(COUNTER_FIELDS, 0)
    if existing is not None:
        events.update(counters_from_events([existing.pk]).get(existing.pk, {}))
    baseline = {name: getattr(provider, name) - events[name] for name in COUNTER_FIELDS}
    below = [name for name, value in baseline.items() if value < 0]
    if below:
        raise RegistryFileError(
            f"{below[0]} is below the {events[below[0]]} already counted from visitors here; "
            "export the registry again and import that",
            provider.provider_id,
            "counters",
        )
    provider.baseline = baseline


def _save(provider, rows, existing):
    _set_baseline(provider, existing)
    if existing is not None:
        provider.pk = existing.pk
        provider.created_at = existing.created_at
        for related in (existing.setup_steps, existing.caution_flags, existing.common_issues):
            related.all().delete()
        existing.pro_tips.filter(from_community=False).delete()
    provider.save()
    SetupStep.objects.bulk_create(
        SetupStep(provider=provider, position=i, text=t) for i, t in enumerate(rows["setup_steps"])
    )
    CautionFlag.objects.bulk_create(
        CautionFlag(provider=provider, position=i, text=t)
        for i, t in enumerate(rows["caution_flags"])
    )
    CommonIssue.objects.bulk_create(
        CommonIssue(provider=provider, position=i, problem=p, solution=s)
        for i, (p, s) in enumerate(rows["common_issues"])
    )
    ProTip.objects.bulk_create(
        ProTip(provider=provider, position=i, text=t, status=Moderation.APPROVED)
        for i, t in enumerate(rows["pro_tips"])
    )
    audiences = []
    for name in rows["recommended_for"]:
        audience = Audience.objects.filter(name__iexact=name).first()
        if audience is None:
            audience = Audience.objects.create(name=name, slug=_unique_slug(name))
        audiences.append(audience)
    provider.recommended_for.set(audiences)


def _unique_slug(name):
    base = slugify(name)[:50] or "audience"
    slug, n = base, 2
    while Audience.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_registry_data(data, *, only_missing=False):
    """Import a parsed registry file atomically; return (created, updated, skipped) ids.

    With only_missing, providers already in the database are left exactly as they are,
    which is how the default data never overwrites a maintainer's edit.
    """
    from catalog.interchange import apply_catalog, parse_catalog  # here: catalog imports us

    parsed = parse_registry_data(data)
    catalog = parse_catalog(data.get("catalog"))  # absent in older files: left alone
    created, updated, skipped = [], [], []
    with transaction.atomic():
        # Locked: a rating counted while the import runs must not be lost to its writes.
        existing = Provider.objects.select_for_update().in_bulk(
            [provider.provider_id for provider, _ in parsed], field_name="provider_id"
        )
        for provider, rows in parsed:
            current = existing.get(provider.provider_id)
            if current is not None and only_missing:
                skipped.append(provider.provider_id)
                continue
            _save(provider, rows, current)
            (updated if current else created).append(provider.provider_id)
        apply_catalog(catalog, only_missing=only_missing)
        if created or updated:
            refresh_stars_prior()
            bump_registry_version()
    return created, updated, skipped
