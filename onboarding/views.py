"""Browse, provider pages, compare, suggest and the statistics widget.

Thin function views: filters and orders are ProviderQuerySet methods, every write goes
through registry.services with the visitor's anonymous voter key, and onboarding.htmx
decides between the whole page and its swappable partial.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import quote_etag
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import push_url

from registry import services
from registry.models import (
    EventStatus,
    FreeTierAnswer,
    IssueReport,
    ProTip,
    Provider,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
)
from registry.recommend import fitting_first
from registry.services import InvalidSubmissionError, SubmissionLimitError, UnknownProviderError
from registry.versioning import registry_version
from registry.voters import voter_for

from .compare import comparison_rows
from .forms import (
    BrowseFilterForm,
    IssueReportForm,
    RatingForm,
    SuggestionForm,
    TipForm,
    add_service_error,
)
from .htmx import HTMX_HEADERS, is_fragment, render_page
from .page_cache import CSRF_TOKEN, cached_page

PAGE_SIZE = 24
COMPARE_MIN = 2
COMPARE_MAX = 4
REVIEWS_SHOWN = 20
ISSUE_REPORTS_SHOWN = 10
APPROVED_SUGGESTIONS_SHOWN = 20

# --- the icon -------------------------------------------------------------------------------


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): the site's
    icon rather than a 404. Not permanent: the static file's hashed name changes with it."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response


# --- browse -------------------------------------------------------------------------------


@require_safe
@cached_page()
def browse(request):
    form = BrowseFilterForm(request.GET)
    form.is_valid()  # invalid filters are reported and ignored; the valid ones still apply
    providers = Provider.objects.published().matching(**form.filters())
    needs = form.needs(free_only=bool(form.cleaned_data.get("free")))
    ordered, fits = fitting_first(
        providers.sorted_by(form.cleaned_data.get("sort") or "trust"), needs
    )
    page = Paginator(ordered.with_card_data(), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for provider in page.object_list:
        provider.fit = fits.get(provider.pk)
    context = {
        "form": form,
        "page": page,
        "filters": form.active_filters(),
        "needs_asked": needs.asks_for_models,
        "fitting": sum(fit.fits for fit in fits.values()),
        "relax": form.relax_hints() if not page.paginator.count else [],
        "clear_url": reverse("onboarding:browse"),
        "fragment": is_fragment(request),
    }
    response = render_page(request, "onboarding/browse.html", "results", context)
    if request.htmx:
        # The form sends every field; the address bar gets only the ones that filter.
        push_url(response, form.canonical_url())
    return response


@require_safe
def stats(request):
    """The statistics widget: the fragment for htmx polling, a small page otherwise.

    The polled fragment is the same for everyone until the registry changes, so its ETag is
    the registry version and a poll that already has it gets 304 Not Modified. The full
    page carries a per-visitor CSRF token: no ETag."""
    if is_fragment(request):
        etag = quote_etag(f"stats-{registry_version()}")
        response = get_conditional_response(request, etag=etag) or TemplateResponse(
            request,
            "onboarding/_stats_widget.html",
            {"stats": Provider.objects.published().statistics(), "poll": True, "fragment": True},
        )
        response.headers["ETag"] = etag
    else:
        response = TemplateResponse(request, "onboarding/stats.html", {})
    patch_vary_headers(response, HTMX_HEADERS)
    return response


# --- provider page and its community forms ------------------------------------------------


@dataclass(frozen=True)
class CommunityForm:
    """One of the provider page's three community forms.

    `name` is its URL name ("onboarding:<name>") and its key in the page's `forms`, `notes`
    and `limits`; `partial` is its partial in provider_detail.html and its element id."""

    name: str
    form_class: type
    submit: Callable  # (provider_id, cleaned data, registry.voters.Voter) -> event status
    thanks: Callable  # (cleaned data, event status or None) -> the thank-you note

    @property
    def partial(self):
        return f"{self.name}-form"


HELD_NOTE = (
    "Thank you! Many submissions for this provider arrived in the last hour, so yours is "
    "held for review with them: it counts once a maintainer releases it."
)


def _rating_thanks(data, status):
    note = HELD_NOTE if status == EventStatus.HELD else "Thank you! Your rating counts now."
    if data["comment"]:
        note += " Your comment awaits review by a maintainer before it is public."
    return note


RATE = CommunityForm(
    "rate",
    RatingForm,
    submit=lambda provider_id, data, voter: services.add_feedback(
        provider_id,
        data["rating"],
        data["comment"] or None,
        free_tier=data["free_tier"],
        voter=voter,
    ),
    thanks=_rating_thanks,
)
TIP = CommunityForm(
    "tip",
    TipForm,
    submit=lambda provider_id, data, voter: services.submit_tip(
        provider_id, data["text"], voter=voter
    ),
    thanks=lambda data, status: "Thank you! Your tip awaits review by a maintainer.",
)
ISSUE = CommunityForm(
    "issue",
    IssueReportForm,
    submit=lambda provider_id, data, voter: services.report_issue(
        provider_id,
        data["category"],
        data["details"],
        broken_link=data["broken_link"],
        voter=voter,
    ),
    thanks=lambda data, status: (
        "Thank you! Your report awaits review by a maintainer; "
        "once approved it warns other visitors."
    ),
)
COMMUNITY_FORMS = (RATE, TIP, ISSUE)


FREE_TIER_DAYS = 30


def free_tier_ratings(provider):
    """The provider's counted ratings of the last 30 days that answered the free-tier
    question (on the index of those alone: registry.models.Rating)."""
    since = timezone.now() - timedelta(days=FREE_TIER_DAYS)
    return (
        Rating.objects.counted()
        .filter(provider=provider, created_at__gte=since)
        .exclude(free_tier="")
    )


def free_tier_answers(provider):
    """How many visitors said the free tier worked, or did not, in the last 30 days (one
    query)."""
    return free_tier_ratings(provider).aggregate(
        worked=Count("pk", filter=Q(free_tier=FreeTierAnswer.WORKED)),
        not_working=Count("pk", filter=Q(free_tier=FreeTierAnswer.NOT_WORKING)),
    )


def held_submissions(provider):
    """How many of the provider's ratings and setup reports are held for review (one query)."""
    ratings, reports = (
        model.objects.held().filter(provider=provider).order_by().values("pk")
        for model in (Rating, SetupReport)
    )
    return ratings.union(reports, all=True).count()


def _provider_context(provider, *, bound=None, notes=None, limits=None, **extra):
    """What provider_detail.html renders. `bound` is a form the visitor sent, shown again
    with its errors; the other forms are blank."""
    forms = {form.name: form.form_class() for form in COMMUNITY_FORMS}
    if bound is not None:
        forms[bound[0]] = bound[1]
    return {
        "provider": provider,
        "forms": forms,
        "notes": notes or {},
        "limits": limits or {},
        **extra,
    }


# A thank-you note after a plain (no-JS) POST travels as a message with this tag and the
# form's name, and is shown inside that form's section, where the redirect's #fragment
# lands, rather than in the banner at the top of the page (base.html leaves it out).
IN_PLACE = "in-place"


def in_place_notes(request):
    """The thank-you notes waiting for the provider page's forms, by form name."""
    notes = {}
    for message in messages.get_messages(request):
        tags = message.extra_tags.split()
        if IN_PLACE in tags:
            notes.update(
                {form.name: message.message for form in COMMUNITY_FORMS if form.name in tags}
            )
    return notes


def error_summary(form):
    """What the live region says when a form comes back with errors."""
    problems = [error for errors in form.errors.values() for error in errors]
    return "Not sent: " + " ".join(problems)


@require_safe
@cached_page(CSRF_TOKEN)
def provider_detail(request, provider_id):
    provider = get_object_or_404(
        Provider.objects.published()
        .with_recent_issue_count()
        .prefetch_related(
            "setup_steps",
            "caution_flags",
            "common_issues",
            "recommended_for",
            Prefetch("pro_tips", queryset=ProTip.objects.approved(), to_attr="approved_tips"),
        ),
        provider_id=provider_id,
    )
    context = _provider_context(
        provider,
        reviews=Review.objects.approved()
        .filter(provider=provider)
        .order_by("-created_at")[:REVIEWS_SHOWN],
        issue_reports=IssueReport.objects.approved()
        .filter(provider=provider)
        .order_by("-created_at")[:ISSUE_REPORTS_SHOWN],
        held=held_submissions(provider),
        free_tier=free_tier_answers(provider) if provider.has_free_tier else {},
        csrf_token=CSRF_TOKEN.placeholder,
        notes=in_place_notes(request),
    )
    return render_page(request, "onboarding/provider_detail.html", "content", context)


def _community_post(request, provider_id, community_form):
    """The shared POST flow of the rate, tip and issue forms.

    Success: a redirect with a message, or (htmx) the fresh form with the thank-you note and
    out-of-band updates of the figures. Errors: the form again, status 200. Over the abuse
    limit: the polite message where the form was, status 429.

    Unknown or unpublished providers get a 404 and nothing is counted: the service looks
    the provider up first and raises UnknownProviderError, and every other path renders
    the partial for a provider found by get_object_or_404."""
    form = community_form.form_class(request.POST)
    name = community_form.name

    def respond(status=200, held_for=None, **context):
        provider = get_object_or_404(Provider.objects.published(), provider_id=provider_id)
        if held_for:  # the figures are swapped in out of band: their counts too
            context["held"] = held_submissions(provider)
            context["free_tier"] = free_tier_answers(provider) if provider.has_free_tier else {}
        return render_page(
            request,
            "onboarding/provider_detail.html",
            community_form.partial,
            _provider_context(provider, **context),
            status=status,
        )

    if form.is_valid():
        try:
            status = community_form.submit(provider_id, form.cleaned_data, voter_for(request))
        except InvalidSubmissionError as error:
            add_service_error(form, error)
        except SubmissionLimitError as error:
            return respond(status=429, limits={name: error.message}, announce=error.message)
        except UnknownProviderError:
            raise Http404("No such provider.") from None
        else:
            note = community_form.thanks(form.cleaned_data, status)
            if not is_fragment(request):
                messages.success(request, note, extra_tags=f"{IN_PLACE} {name}")
                url = reverse("onboarding:provider-detail", args=[provider_id])
                return redirect(f"{url}#{community_form.partial}")
            return respond(notes={name: note}, updated=True, held_for=provider_id, announce=note)
    return respond(bound=(name, form), announce=error_summary(form))


@require_POST
def rate_provider(request, provider_id):
    return _community_post(request, provider_id, RATE)


@require_POST
def share_tip(request, provider_id):
    return _community_post(request, provider_id, TIP)


@require_POST
def report_issue(request, provider_id):
    return _community_post(request, provider_id, ISSUE)


# --- compare ------------------------------------------------------------------------------


def _compare_url(ids):
    query = QueryDict(mutable=True)
    query.setlist("p", ids)
    return reverse("onboarding:compare") + (f"?{query.urlencode()}" if ids else "")


@require_safe
@cached_page()
def compare(request):
    ids = list(dict.fromkeys(i.strip() for i in request.GET.getlist("p") if i.strip()))
    status = 200
    problem = None
    suggestion_url = None
    if len(ids) > COMPARE_MAX:
        status = 400
        problem = (
            f"You can compare at most {COMPARE_MAX} providers at once, and you chose "
            f"{len(ids)}. Remove some, or compare the first {COMPARE_MAX}."
        )
        suggestion_url = _compare_url(ids[:COMPARE_MAX])
        ids = []
    providers = []
    if ids:
        found = {
            p.provider_id: p
            for p in Provider.objects.published()
            .filter(provider_id__in=ids)
            .with_card_data()
            .prefetch_related("recommended_for")
        }
        unknown = [i for i in ids if i not in found]
        ids = [i for i in ids if i in found]
        providers = [found[i] for i in ids]
        if unknown:
            # Never the ids themselves: a link can carry anything, a pasted key included.
            status = 404
            problem = (
                "This link names a provider that is not in the registry."
                if len(unknown) == 1
                else f"This link names {len(unknown)} providers that are not in the registry."
            )
            suggestion_url = _compare_url(ids)
    if len(ids) < COMPARE_MIN and not problem:
        problem = f"Choose at least {COMPARE_MIN} providers to compare (up to {COMPARE_MAX})."
    if len(providers) > 1:
        for provider in providers:
            provider.remove_url = _compare_url([i for i in ids if i != provider.provider_id])
    addable = []
    if len(ids) < COMPARE_MAX:
        addable = (
            Provider.objects.published()
            .exclude(provider_id__in=ids)
            .order_by("provider_name")
            .values_list("provider_id", "provider_name")
        )
    context = {
        "providers": providers,
        "rows": comparison_rows(providers) if len(providers) > 1 else [],
        "addable": list(addable),
        "ids": ids,
        "problem": problem,
        "suggestion_url": suggestion_url,
        "compare_max": COMPARE_MAX,
    }
    return render_page(request, "onboarding/compare.html", "comparison", context, status=status)


# --- suggest a provider -------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def suggest_provider(request):
    form = SuggestionForm(request.POST if request.method == "POST" else None)
    context = {
        "form": form,
        "note": None,
        "limit": None,
        "approved": ProviderSuggestion.objects.approved().order_by("-created_at")[
            :APPROVED_SUGGESTIONS_SHOWN
        ],
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.suggest_provider(
                data["name"], data["website"], data["reason"], voter=voter_for(request)
            )
        except InvalidSubmissionError as error:
            add_service_error(form, error)
        except SubmissionLimitError as error:
            context.update(limit=error.message, announce=error.message)
            status = 429
        else:
            note = f"Thank you! Your suggestion of {data['name']} awaits review by a maintainer."
            if not is_fragment(request):
                messages.success(request, note)
                return redirect("onboarding:suggest")
            context.update(form=SuggestionForm(), note=note, announce=note)
    if form.errors:
        context["announce"] = error_summary(form)
    return render_page(request, "onboarding/suggest.html", "suggest-form", context, status=status)
