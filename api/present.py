"""Providers, models and their history as the API's JSON (the shapes of api.schemas).

Plain functions from model rows to dicts. "No data is not zero": a figure without data
behind it (stars with no ratings, a success rate with no setup reports, a trust score with
neither) is null, never 0.
"""

from django.urls import reverse

from onboarding.display import trust_terms
from registry.interchange import COUNTER_FIELDS
from registry.models import Difficulty, IssueCategory
from verification.health import probe_url
from verification.models import LINK_FIELDS, State, Target


def choice(value, label):
    return {"value": str(value), "label": str(label)}


def _flags(provider):
    flags = ["free_tier" if provider.has_free_tier else "premium_only"]
    if provider.has_recent_issues:
        flags.append("issues_reported")
    if not provider.is_confident:
        flags.append("new")
    return flags


def provider_summary(provider):
    """Needs .with_recent_issue_count() and caution_flags, recommended_for prefetched."""
    status = provider.status
    has_data = provider.has_data
    return {
        "provider_id": provider.provider_id,
        "provider_name": provider.provider_name,
        "description": provider.description,
        "page_url": reverse("onboarding:provider-detail", args=[provider.provider_id]),
        "status": choice(status.value, status.label),
        "pinned": provider.is_pinned,
        "pin_reason": provider.status_pin_reason if provider.is_pinned else "",
        "confident": provider.is_confident,
        "has_data": has_data,
        "trust_score": provider.get_trust_score() if has_data else None,
        "trust_lower_bound": provider.trust_low.total if has_data else None,
        "trust_upper_bound": provider.trust_high.total if has_data else None,
        "star_rating": provider.star_rating if provider.ratings_count else None,
        "ratings_count": provider.ratings_count,
        "success_rate": provider.success_rate if provider.setup_reports else None,
        "setup_reports": provider.setup_reports,
        "total_users": provider.total_users,
        "active_users": provider.active_users,
        "positive_reviews": provider.positive_reviews,
        "negative_reviews": provider.negative_reviews,
        "avg_setup_time_minutes": provider.avg_setup_time_minutes,
        "difficulty": {
            "value": provider.difficulty,
            "label": Difficulty(provider.difficulty).label,
        },
        "requires_approval": provider.requires_approval,
        "approval_note": provider.approval_note,
        "has_free_tier": provider.has_free_tier,
        "free_tier_note": provider.free_tier_note,
        "flags": _flags(provider),
        "caution_flags": [flag.text for flag in provider.caution_flags.all()],
        "recommended_for": [choice(a.slug, a.name) for a in provider.recommended_for.all()],
        "links": {
            "signup_url": provider.signup_url,
            "api_key_url": provider.api_key_url,
            "documentation_url": provider.documentation_url,
            "website_url": provider.website_url,
        },
    }


def top_provider(provider):
    """The statistics widget's short form of a top provider."""
    status = provider.status
    return {
        "provider_id": provider.provider_id,
        "provider_name": provider.provider_name,
        "trust_score": provider.get_trust_score(),
        "status": choice(status.value, status.label),
        "page_url": reverse("onboarding:provider-detail", args=[provider.provider_id]),
    }


def _link_checks(provider):
    """Each curated link, and the API when it has a base URL, with what the last checks
    found (verification.HealthState; "unchecked" when its URL has not been checked yet)."""
    states = {state.target: state for state in provider.health.all()}
    targets = [(target, getattr(provider, field)) for target, field in LINK_FIELDS.items()]
    if provider.api_base_url:
        targets.append((Target.API, probe_url(provider.api_base_url)))
    checks = []
    for target, url in targets:
        if not url:
            continue
        state = states.get(target)
        if state is not None and state.url != url:
            state = None  # checked under an old URL
        current = State(state.state) if state else State.UNCHECKED
        checks.append(
            {
                "target": choice(target, Target(target).label),
                "url": url,
                "state": choice(current.value, current.label),
                "last_checked_at": state.last_checked_at if state else None,
                "last_ok_at": state.last_ok_at if state else None,
                "last_status": state.last_status if state else None,
                "moved_to": state.moved_to if state else "",
            }
        )
    return checks


def provider_detail(provider, *, reviews, issue_reports, held, open_alerts):
    """Needs the rows ProviderDetail lists prefetched: see api.endpoints.provider_detail."""
    has_data = provider.has_data
    categories = dict(IssueCategory.choices)
    return {
        **provider_summary(provider),
        "trust_terms": [
            {
                "name": row["term"].name,
                "weight": row["term"].weight,
                "points": row["term"].points if has_data else 0.0,
                "lower_points": row["low"].points if has_data else 0.0,
                "basis": row["basis"],
            }
            for row in trust_terms(provider)
        ],
        "counters": {name: getattr(provider, name) for name in COUNTER_FIELDS},
        "felt_difficulty": provider.felt_difficulty,
        "held_submissions": held,
        "recent_issue_reports": provider.recent_issue_count,
        "open_alerts": open_alerts,
        "key_env_var": provider.key_env_var,
        "key_pattern": provider.key_pattern,
        "api_base_url": provider.api_base_url,
        "last_verified": provider.last_verified,
        "setup_steps": [step.text for step in provider.setup_steps.all()],
        "common_issues": [
            {"problem": issue.problem, "solution": issue.solution}
            for issue in provider.common_issues.all()
        ],
        "pro_tips": [tip.text for tip in provider.approved_tips],
        "reviews": [
            {"rating": r.rating, "text": r.text, "created_at": r.created_at} for r in reviews
        ],
        "issue_reports": [
            {
                "category": choice(r.category, categories.get(r.category, r.category)),
                "broken_link": r.broken_link,
                "details": r.details,
                "created_at": r.created_at,
            }
            for r in issue_reports
        ],
        "link_checks": _link_checks(provider),
    }


def history_day(snapshot):
    return {
        "day": snapshot.day,
        "trust_score": snapshot.trust_score,
        "trust_lower_bound": snapshot.trust_lower_bound,
        "star_rating": (
            snapshot.ratings_sum / snapshot.ratings_count if snapshot.ratings_count else None
        ),
        "ratings_count": snapshot.ratings_count,
        "success_rate": snapshot.success_rate,
        "setup_reports": snapshot.setup_reports,
        "total_users": snapshot.total_users,
        "active_users": snapshot.active_users,
        "uptime": snapshot.uptime,
        "api_probes": snapshot.api_probes,
        "links_broken": snapshot.links_broken,
    }


def alert(row):
    return {
        "rule": row.rule,
        "title": row.title,
        "detail": row.detail,
        "since": row.since,
        "opened_at": row.opened_at,
        "updated_at": row.updated_at,
        "resolved_at": row.resolved_at,
        "open": row.is_open,
    }


def _decimal(value):
    return None if value is None else str(value)


def offering(row):
    """Needs Offering.objects.for_table() (its provider and current price joined)."""
    catalog_provider = row.catalog_provider
    price = row.current_price
    registry_provider = catalog_provider.provider
    if registry_provider is not None and not registry_provider.is_published:
        registry_provider = None  # a maintainer's draft is not public
    return {
        "provider": catalog_provider.catalog_id,
        "provider_name": (
            registry_provider.provider_name if registry_provider else catalog_provider.name
        ),
        "registry_provider_id": registry_provider.provider_id if registry_provider else None,
        "provider_model_id": row.provider_model_id,
        "name": row.name,
        "status": row.status,
        "is_free": row.is_free,
        "context_limit": row.context_limit,
        "input_limit": row.input_limit,
        "output_limit": row.output_limit,
        "price": None
        if price is None
        else {
            "input": _decimal(price.input),
            "output": _decimal(price.output),
            "cache_read": _decimal(price.cache_read),
            "cache_write": _decimal(price.cache_write),
            "reasoning": _decimal(price.reasoning),
            "valid_from": price.valid_from,
            "source": price.source,
        },
    }


def model_summary(model):
    return {
        "model_id": model.model_id,
        "name": model.name,
        "family": model.family,
        "release_date": model.release_date,
        "knowledge_cutoff": model.knowledge_cutoff,
        "open_weights": model.open_weights,
        "reasoning": model.reasoning,
        "tool_call": model.tool_call,
        "attachment": model.attachment,
        "structured_output": model.structured_output,
        "input_modalities": model.inputs,
        "output_modalities": model.outputs,
        "page_url": reverse("catalog:model-detail", args=[model.model_id]),
    }
