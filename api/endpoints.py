"""/api/v1/: the registry over JSON (django-ninja). README "JSON API" documents it.

Thin functions: filters and orders are ProviderQuerySet methods, writes go through
registry.services with the submitter's Voter (api.tokens), and the HTTP policy (limits,
ETags, caching, CORS) is api.http's, applied to each operation before its input is read.
"""

import datetime

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag
from ninja import NinjaAPI, Path, Query
from ninja.decorators import decorate_view
from ninja.errors import HttpError, ValidationError
from ninja.responses import Status

from catalog.models import Model, Offering
from onboarding.views import ISSUE_REPORTS_SHOWN, REVIEWS_SHOWN, held_submissions
from registry import services
from registry.models import IssueReport, ProTip, Provider, Review, today
from registry.services import (
    AlreadySubmittedError,
    DailyLimitError,
    InvalidSubmissionError,
    NetworkLimitError,
    SubmissionLimitError,
    UnknownProviderError,
)
from verification.models import Alert, DailySnapshot

from . import present, schemas, snapshots
from .docs import ServerRenderedDocs
from .errors import Refusal, error_response, generic_error, safe_field
from .http import dated_read, versioned_read, write
from .models import RegistrySnapshot
from .tokens import TokenRefused, bearer_token, voter_of

api = NinjaAPI(
    title="BYOK Provider Registry API",
    version="1",
    description=(
        "The registry's providers, trust scores, history, models and prices, and the "
        "community's setup reports and ratings, over JSON."
    ),
    urls_namespace="api-v1",
    docs=ServerRenderedDocs(),
    docs_decorator=versioned_read,
)

E = schemas.Error
READ_ERRORS = {304: None, 400: E, 401: E, 429: E}
WRITE_ERRORS = {400: E, 401: E, 403: E, 404: E, 415: E, 429: E}
ProviderId = Path(
    ...,
    pattern=schemas.PROVIDER_ID,
    description="The provider's id, as in its page's address.",
    examples=["openrouter"],
)

ModelId = Path(..., max_length=120, pattern=schemas.NO_NUL, examples=["deepseek-chat"])
SnapshotDay = Path(..., description="A day that is over (UTC).", examples=["2026-01-31"])


# --- errors ------------------------------------------------------------------------------


def _first_problem(errors):
    """(field, message) of the first problem ninja found in the input."""
    error = errors[0] if errors else {}
    loc = [part for part in error.get("loc", ()) if part not in ("body", "payload")]
    field = safe_field(loc[-1]) if loc else None
    if error.get("type") == "extra_forbidden":
        return field, "is not a field of this request."
    if error.get("type") == "json_invalid" or not loc:
        return None, "The body is not valid JSON."
    if error.get("type") == "string_pattern_mismatch":
        return field, "contains a character that is not allowed."
    return field, f"{error.get('msg', 'is not valid').removeprefix('Value error, ')}."


@api.exception_handler(ValidationError)
def invalid_input(request, exc):
    field, message = _first_problem(exc.errors)
    return error_response(
        400, "invalid_input", f"{field}: {message}" if field else message, field=field
    )


@api.exception_handler(InvalidSubmissionError)
def invalid_submission(request, exc):
    return error_response(400, "invalid_input", str(exc), field=safe_field(exc.field))


@api.exception_handler(UnknownProviderError)
def unknown_provider(request, exc):
    return error_response(404, "unknown_provider", "There is no provider with that id.")


def _seconds_to_midnight():
    now = datetime.datetime.now(datetime.UTC)
    tomorrow = datetime.datetime.combine(now.date(), datetime.time(), tzinfo=datetime.UTC)
    return int((tomorrow + datetime.timedelta(days=1) - now).total_seconds()) + 1


LIMIT_CODES = (
    (AlreadySubmittedError, "already_submitted"),
    (NetworkLimitError, "network_limit"),
    (DailyLimitError, "daily_limit"),
)


@api.exception_handler(SubmissionLimitError)
def over_a_limit(request, exc):
    """429 until the limit's day is over (UTC): every daily quota starts again then."""
    code = next((code for kind, code in LIMIT_CODES if isinstance(exc, kind)), "limit")
    message = exc.message
    if getattr(request, "api_token", None) is not None and isinstance(exc, DailyLimitError):
        code, message = (
            "token_quota",
            (
                f"This API token has used today's quota of {request.api_token.daily_quota} "
                "submissions. It starts again at midnight UTC."
            ),
        )
    return error_response(429, code, message, headers={"Retry-After": str(_seconds_to_midnight())})


@api.exception_handler(TokenRefused)
def token_refused(request, exc):
    return error_response(exc.status, exc.code, exc.message, field=exc.field)


@api.exception_handler(Refusal)
def refused(request, exc):
    return exc.response()


@api.exception_handler(Http404)
def not_found(request, exc):
    return error_response(404, "not_found", "There is nothing at this address in the API.")


@api.exception_handler(HttpError)
def http_error(request, exc):
    """django-ninja's own refusals; a 400 from it is a body it could not parse."""
    if exc.status_code == 400:
        return error_response(400, "invalid_json", "The body is not valid JSON.")
    return generic_error(exc.status_code)


# --- index ---------------------------------------------------------------------------------


@api.get(
    "/", response={200: schemas.Index, **READ_ERRORS}, summary="What is here", url_name="index"
)
@decorate_view(versioned_read)
def index(request):
    from registry.versioning import registry_version

    base = reverse("api-v1:index")
    return {
        "version": registry_version(),
        "docs": base + "docs",
        "openapi": base + "openapi.json",
        "endpoints": {
            "providers": base + "providers",
            "provider": base + "providers/{provider_id}",
            "recommendations": base + "recommendations",
            "statistics": base + "statistics",
            "models": base + "models",
            "registry": base + "registry.json",
            "snapshots": base + "snapshots/",
        },
    }


# --- providers -----------------------------------------------------------------------------


def _page(count, ordered, filters, present_one):
    """The limit/offset envelope of a list: `count` rows in all, this page of `ordered`."""
    rows = ordered[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [present_one(row) for row in rows],
    }


def _listed(providers):
    """What a provider summary reads, in a fixed number of queries for any page."""
    return providers.with_recent_issue_count().prefetch_related("caution_flags", "recommended_for")


def _provider_or_404(provider_id):
    provider = Provider.objects.published().filter(provider_id=provider_id).first()
    if provider is None:
        raise UnknownProviderError(provider_id)
    return provider


@api.get(
    "/providers",
    response={200: schemas.ProviderPage, **READ_ERRORS},
    summary="Providers, filtered and sorted as on the browse page",
)
@decorate_view(versioned_read)
def list_providers(request, filters: Query[schemas.ProviderFilters]):
    providers = Provider.objects.published().matching(
        q=filters.q,
        free=filters.free,
        instant=filters.instant,
        difficulty=filters.difficulty,
        min_trust=filters.min_trust,
        audience=filters.audience,
    )
    ordered = _listed(providers.sorted_by(filters.sort.value).stably())
    return _page(providers.count(), ordered, filters, present.provider_summary)


@api.get(
    "/providers/{provider_id}",
    response={200: schemas.ProviderDetail, 404: E, **READ_ERRORS},
    summary="One provider: every figure, the breakdown, checks, tips and issues",
)
@decorate_view(versioned_read)
def provider_detail(request, provider_id: str = ProviderId):
    provider = (
        _listed(Provider.objects.published())
        .prefetch_related(
            "setup_steps",
            "common_issues",
            "health",
            Prefetch("pro_tips", queryset=ProTip.objects.approved(), to_attr="approved_tips"),
        )
        .filter(provider_id=provider_id)
        .first()
    )
    if provider is None:
        raise UnknownProviderError(provider_id)
    newest = ("-created_at", "-pk")
    return present.provider_detail(
        provider,
        reviews=Review.objects.approved()
        .filter(provider=provider)
        .order_by(*newest)[:REVIEWS_SHOWN],
        issue_reports=IssueReport.objects.approved()
        .filter(provider=provider)
        .order_by(*newest)[:ISSUE_REPORTS_SHOWN],
        held=held_submissions(provider),
        open_alerts=provider.alerts.open().count(),
    )


@api.get(
    "/providers/{provider_id}/history",
    response={200: schemas.History, 404: E, **READ_ERRORS},
    summary="One row per day: the score, its lower bound, counters, uptime",
)
@decorate_view(versioned_read)
def provider_history(request, query: Query[schemas.HistoryQuery], provider_id: str = ProviderId):
    provider = _provider_or_404(provider_id)
    since = today() - datetime.timedelta(days=query.days - 1)
    rows = DailySnapshot.objects.filter(provider=provider, day__gte=since).order_by("day")
    return {
        "provider_id": provider.provider_id,
        "days": query.days,
        "items": [present.history_day(row) for row in rows],
    }


@api.get(
    "/providers/{provider_id}/alerts",
    response={200: schemas.Alerts, 404: E, **READ_ERRORS},
    summary="Sudden changes the registry's own checks found",
)
@decorate_view(versioned_read)
def provider_alerts(request, query: Query[schemas.AlertQuery], provider_id: str = ProviderId):
    provider = _provider_or_404(provider_id)
    alerts = Alert.objects.filter(provider=provider)
    alerts = alerts.open() if query.state == "open" else alerts.recent()
    return {
        "provider_id": provider.provider_id,
        "items": [present.alert(row) for row in alerts.order_by("-opened_at", "-pk")],
    }


@api.get(
    "/recommendations",
    response={200: schemas.Recommendations, **READ_ERRORS},
    summary="The seed's get_recommended_providers(), with its parameters and defaults",
)
@decorate_view(versioned_read)
def recommendations(request, query: Query[schemas.RecommendationQuery]):
    providers = Provider.objects.recommended(
        free_only=query.free_only,
        min_trust_score=query.min_trust_score,
        difficulty_max=query.difficulty_max,
    )
    return {
        "free_only": query.free_only,
        "min_trust_score": query.min_trust_score,
        "difficulty_max": query.difficulty_max,
        "items": [present.provider_summary(p) for p in _listed(providers)],
    }


@api.get(
    "/statistics",
    response={200: schemas.Statistics, **READ_ERRORS},
    summary="The statistics widget's figures",
)
@decorate_view(versioned_read)
def statistics(request):
    figures = Provider.objects.published().statistics()
    return {**figures, "top": [present.top_provider(p) for p in figures["top"]]}


# --- submissions ---------------------------------------------------------------------------


def _submitter(request):
    token = bearer_token(request)
    request.api_token = token  # for the token's own 429 message
    return voter_of(request, token)


def _submitted(provider_id, status, message, comment=None):
    held = status == services.EventStatus.HELD
    if held:
        message = (
            "Held for review: many submissions for this provider arrived in the last hour. "
            "It counts once a maintainer releases it."
        )
    return Status(
        202 if held else 201,
        {"status": status, "provider_id": provider_id, "comment": comment, "message": message},
    )


@api.post(
    "/providers/{provider_id}/setup-reports",
    response={201: schemas.SubmissionOut, 202: schemas.SubmissionOut, **WRITE_ERRORS},
    summary="Report how a setup went: the seed's record_user_signup()",
)
@decorate_view(write)
def post_setup_report(request, payload: schemas.SetupReportIn, provider_id: str = ProviderId):
    status = services.record_user_signup(
        provider_id,
        payload.success,
        payload.setup_time_minutes,
        felt_difficulty=payload.felt_difficulty,
        voter=_submitter(request),
    )
    return _submitted(provider_id, status, "Thank you! The setup report counts now.")


@api.post(
    "/providers/{provider_id}/ratings",
    response={201: schemas.SubmissionOut, 202: schemas.SubmissionOut, **WRITE_ERRORS},
    summary="Rate a provider, 1 to 5 stars: the seed's add_feedback()",
)
@decorate_view(write)
def post_rating(request, payload: schemas.RatingIn, provider_id: str = ProviderId):
    comment = (payload.comment or "").strip() or None
    status = services.add_feedback(provider_id, payload.rating, comment, voter=_submitter(request))
    message = "Thank you! The rating counts now."
    if comment:
        message += " The comment is public once a maintainer approves it."
    return _submitted(provider_id, status, message, "pending" if comment else None)


# --- models --------------------------------------------------------------------------------


@api.get(
    "/models",
    response={200: schemas.ModelPage, **READ_ERRORS},
    summary="Models with at least one listed offering",
)
@decorate_view(versioned_read)
def list_models(request, filters: Query[schemas.ModelFilters]):
    offerings = Offering.objects.listed()
    if filters.free:
        offerings = offerings.free()
    if filters.provider:
        offerings = offerings.at_provider(filters.provider)
    models = Model.objects.served_by(offerings)
    if filters.q.strip():
        models = models.search(filters.q)
    if filters.family:
        models = models.family(filters.family)
    if filters.tools:
        models = models.tool_calling()
    if filters.vision:
        models = models.vision()
    if filters.reasoning:
        models = models.reasoning()
    ordered = models.order_by("name", "model_id")
    return _page(models.count(), ordered, filters, present.model_summary)


@api.get(
    "/models/{model_id}",
    response={200: schemas.ModelDetail, 404: E, **READ_ERRORS},
    summary="One model and every provider's offering of it, with current prices",
)
@decorate_view(versioned_read)
def model_detail(
    request,
    model_id: str = ModelId,
):
    model = Model.objects.filter(model_id=model_id).first()
    if model is None:
        raise Refusal(404, "unknown_model", "There is no model with that id.")
    offerings = (
        Offering.objects.filter(model=model)
        .for_table()
        .order_by("catalog_provider__name", "provider_model_id")
    )
    return {
        **present.model_summary(model),
        "offerings": [present.offering(row) for row in offerings],
    }


# --- the registry file and its dated snapshots ------------------------------------------------


@api.get(
    "/registry.json",
    response={200: schemas.RegistryFile, **READ_ERRORS},
    summary="The whole registry in the seed's JSON format, as export_registry writes it",
)
@decorate_view(versioned_read)
def registry_file(request):
    return snapshots.public_registry()


@api.get(
    "/snapshots/",
    response={200: schemas.SnapshotList, **READ_ERRORS},
    summary="Every dated snapshot, newest first",
)
@decorate_view(versioned_read, snapshots.taking_yesterday_first)
def list_snapshots(request):
    rows = RegistrySnapshot.objects.defer("compressed_json").order_by("-day")
    return {
        "items": [
            {
                "day": row.day,
                "url": reverse("api-v1:snapshot", kwargs={"day": row.day}),
                "sha256": row.sha256,
                "size": row.size,
                "providers": row.providers,
                "taken_at": row.taken_at,
            }
            for row in rows
        ]
    }


@api.get(
    "/snapshots/{day}.json",
    response={200: schemas.RegistryFile, 304: None, 400: E, 401: E, 404: E, 429: E},
    summary="The registry as it stood at the end of a day (UTC); never changes",
    url_name="snapshot",
)
@decorate_view(dated_read)
def snapshot(request, day: datetime.date = SnapshotDay):
    if day >= today():
        raise Refusal(
            404,
            "day_not_over",
            "That day is not over yet (UTC); the live registry is /api/v1/registry.json.",
        )
    if day == today() - datetime.timedelta(days=1):
        snapshots.take(day)
    found = RegistrySnapshot.objects.filter(day=day).values_list("pk", "sha256").first()
    if found is None:
        raise Refusal(404, "no_snapshot", "No snapshot was taken for that day.")
    etag = quote_etag(found[1])
    response = get_conditional_response(request, etag=etag)
    if response is None:
        stored = RegistrySnapshot.objects.get(pk=found[0])
        response = HttpResponse(snapshots.content(stored), content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    return response
