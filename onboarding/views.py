"""Browse, provider pages, compare, suggest and the statistics widget.

Thin function views. `request.htmx` decides between the whole page and the swappable
partial (`"page.html#name"`); a history-restore request always gets the whole page.
Writes go through registry.services with the visitor's anonymous voter key.
"""

from functools import cached_property

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    F,
    Prefetch,
    Q,
    prefetch_related_objects,
)
from django.http import Http404, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.http import quote_etag
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from registry import services
from registry.models import (
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderSuggestion,
    Review,
    cache_version,
)
from registry.services import InvalidSubmissionError, SubmissionLimitError, UnknownProviderError
from registry.voters import voter_key_for

from .forms import (
    BrowseFilterForm,
    IssueReportForm,
    RatingForm,
    SuggestionForm,
    TipForm,
    add_service_error,
)
from .page_cache import CSRF_SLOT, cached_page
from .templatetags.registry_widgets import provider_stats_context

PAGE_SIZE = 24
COMPARE_MIN = 2
COMPARE_MAX = 4
REVIEWS_SHOWN = 20
ISSUE_REPORTS_SHOWN = 10


# --- shared query helpers -----------------------------------------------------------------


def attach_recent_issue_counts(providers):
    """Set `recent_issue_count` (read by Provider.has_recent_issues) in one query.

    One grouped query over the shown providers' recent approved reports, rather than a
    join and GROUP BY over every provider in the list query."""
    providers = list(providers)
    if not providers:
        return providers
    counts = dict(
        IssueReport.objects.recent_approved()
        .filter(provider__in=[p.pk for p in providers])
        .order_by()
        .values("provider")
        .annotate(n=Count("pk"))
        .values_list("provider", "n")
    )
    for provider in providers:
        provider.recent_issue_count = counts.get(provider.pk, 0)
    return providers


def _partial_or_page(request, template, partial):
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{partial}"
    return template


def _respond(request, template, partial, context, status=200):
    response = TemplateResponse(
        request, _partial_or_page(request, template, partial), context, status=status
    )
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- browse -------------------------------------------------------------------------------

SORT_ORDERS = {
    "trust": [F("trust_score").desc(), "provider_name"],
    "rating": [F("sort_stars").desc(nulls_last=True), F("trust_score").desc(), "provider_name"],
    "setup": [F("sort_setup").asc(nulls_last=True), F("trust_score").desc(), "provider_name"],
    "users": [F("active_users").desc(), F("total_users").desc(), "provider_name"],
}


def filtered_providers(filters, sort="trust"):
    """Published providers matching the browse filters, in the chosen order."""
    providers = Provider.objects.published()
    if filters.get("q"):
        q = filters["q"].strip()
        providers = providers.filter(Q(provider_name__icontains=q) | Q(provider_id__icontains=q))
    if filters.get("free"):
        providers = providers.filter(has_free_tier=True)
    if filters.get("instant"):
        providers = providers.filter(requires_approval=False)
    if filters.get("difficulty") is not None:
        providers = providers.filter(difficulty__lte=filters["difficulty"])
    if filters.get("min_score") is not None:
        providers = providers.filter(trust_score__gte=filters["min_score"])
    if filters.get("audience"):
        providers = providers.filter(recommended_for__slug=filters["audience"])
    if sort in ("rating", "setup"):
        providers = providers.with_sort_fields()
    return providers.order_by(*SORT_ORDERS.get(sort, SORT_ORDERS["trust"]))


def _url_without(query, *names):
    query = query.copy()
    for name in (*names, "page"):
        query.pop(name, None)
    encoded = query.urlencode()
    return reverse("onboarding:browse") + (f"?{encoded}" if encoded else "")


def _relax_hints(form, active):
    """For an empty result: what each active filter, dropped alone, would bring back.

    At most one COUNT per active filter (six at most), and only when nothing matched."""
    hints = []
    sort = form.cleaned_data.get("sort") or "trust"
    for name in active:
        others = {k: v for k, v in active.items() if k != name}
        count = filtered_providers(others, sort).count()
        hints.append(
            {
                "label": form.FILTER_NAMES[name],
                "count": count,
                "url": _url_without(form.data, name),
            }
        )
    hints.sort(key=lambda hint: -hint["count"])
    return [hint for hint in hints if hint["count"]]


class BrowseResults:
    """One page of browse results, computed only when the template asks for it: when the
    rendered results are cached for this registry version and query, nothing is queried."""

    def __init__(self, form, filters, sort, page_number):
        self.form, self.filters, self.sort, self.page_number = form, filters, sort, page_number

    @cached_property
    def page(self):
        providers = filtered_providers(self.filters, self.sort).with_card_data()
        page = Paginator(providers, PAGE_SIZE).get_page(self.page_number)
        page.object_list = attach_recent_issue_counts(page.object_list)
        return page

    @cached_property
    def relax(self):
        if self.page.paginator.count or not self.filters:
            return []
        return _relax_hints(self.form, self.filters)


@require_GET
def browse(request):
    version = cache_version()
    return cached_page(request, version, lambda: _browse(request, version))


def _browse(request, version):
    form = BrowseFilterForm(request.GET)
    form.is_valid()  # invalid filters are reported and ignored; the valid ones still apply
    filters = form.active_filters()
    sort = form.cleaned_data.get("sort") or "trust"
    context = {
        "form": form,
        "results": BrowseResults(form, filters, sort, request.GET.get("page")),
        "filters": filters,
        "clear_url": reverse("onboarding:browse"),
        "cache_version": version,
    }
    response = _respond(request, "onboarding/browse.html", "results", context)
    if request.htmx:
        # The form sends every field; the address bar gets only the ones that filter.
        push_url(response, _canonical_browse_url(form.data))
    return response


def _canonical_browse_url(data):
    """From the form's data, not the request: a refused pasted key is already blanked."""
    query = QueryDict(mutable=True)
    for name, values in data.lists():
        kept = [v for v in values if v.strip() and not (name == "sort" and v == "trust")]
        if kept:
            query.setlist(name, kept)
    encoded = query.urlencode()
    return reverse("onboarding:browse") + (f"?{encoded}" if encoded else "")


@require_GET
def stats(request):
    """The statistics widget: the fragment for htmx polling, a small page otherwise.

    The polled fragment is the same for everyone until the registry changes, so its ETag is
    the registry version and a poll that already has it gets 304 Not Modified. The full
    page carries a per-visitor CSRF token: no ETag."""
    if request.htmx and not request.htmx.history_restore_request:
        version = cache_version()
        etag = quote_etag(f"stats-{version}")
        response = get_conditional_response(request, etag=etag) or TemplateResponse(
            request, "onboarding/_stats_widget.html", provider_stats_context(True, version)
        )
        response.headers["ETag"] = etag
    else:
        response = TemplateResponse(request, "onboarding/stats.html", {})
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- provider page and its community forms ------------------------------------------------


class ProviderDetail:
    """The provider page's lists (steps, cautions, tips, issues, audiences, reviews, issue
    reports), loaded only when the template renders them: when they are cached for this
    provider's version, the page costs two queries (the provider, its recent issues)."""

    def __init__(self, provider):
        self._provider = provider

    @cached_property
    def recent_issue_count(self):
        """Part of the cached lists' key: the 30-day window moves with the clock."""
        return IssueReport.objects.recent_approved().filter(provider=self._provider).count()

    @cached_property
    def provider(self):
        self._provider.recent_issue_count = self.recent_issue_count
        prefetch_related_objects(
            [self._provider],
            "setup_steps",
            "caution_flags",
            "common_issues",
            "recommended_for",
            Prefetch(
                "pro_tips",
                queryset=ProTip.objects.filter(status=Moderation.APPROVED),
                to_attr="approved_tips",
            ),
        )
        return self._provider

    @cached_property
    def reviews(self):
        return Review.objects.filter(provider=self._provider, status=Moderation.APPROVED).order_by(
            "-created_at"
        )[:REVIEWS_SHOWN]

    @cached_property
    def issue_reports(self):
        return IssueReport.objects.filter(
            provider=self._provider, status=Moderation.APPROVED
        ).order_by("-created_at")[:ISSUE_REPORTS_SHOWN]


def _detail_context(request, provider_id, **overrides):
    provider = get_object_or_404(Provider.objects.published(), provider_id=provider_id)
    context = {
        "provider": provider,
        "detail": ProviderDetail(provider),
        # Blank forms are built only if their cached fields are not (a form costs a deep
        # copy of its fields); a bound form from the overrides is always rendered.
        "rating_form": SimpleLazyObject(RatingForm),
        "tip_form": SimpleLazyObject(TipForm),
        "issue_form": SimpleLazyObject(IssueReportForm),
        "bound_form": next((key for key in overrides if key.endswith("_form")), None),
        "notes": {},
        "limits": {},
    }
    context.update(overrides)
    return context


@require_GET
def provider_detail(request, provider_id):
    def render():
        context = _detail_context(request, provider_id, csrf_token=CSRF_SLOT)
        return _respond(request, "onboarding/provider_detail.html", "content", context)

    slots = {CSRF_SLOT: lambda: get_token(request)}
    return cached_page(request, cache_version(), render, slots=slots)


def _community_post(request, provider_id, *, form_class, form_key, partial, submit, thanks):
    """The shared POST flow of the rate, tip and issue forms.

    Success: a redirect with a message, or (htmx) the fresh form with the thank-you note and
    out-of-band updates of the figures. Errors: the form again, status 200. Over the abuse
    limit: the polite message where the form was, status 429.

    Unknown or unpublished providers get a 404 and nothing is counted: the service looks
    the provider up first and raises UnknownProviderError, and every other path renders
    the page through _detail_context's get_object_or_404."""
    form = form_class(request.POST)
    key = partial.removesuffix("-form")
    if form.is_valid():
        try:
            submit(form.cleaned_data, voter_key_for(request))
        except InvalidSubmissionError as error:
            add_service_error(form, error)
        except SubmissionLimitError as error:
            context = _detail_context(request, provider_id, limits={key: error.message})
            return _respond(
                request, "onboarding/provider_detail.html", partial, context, status=429
            )
        except UnknownProviderError:
            raise Http404("No such provider.") from None
        else:
            note = thanks(form.cleaned_data)
            if not (request.htmx and not request.htmx.history_restore_request):
                messages.success(request, note)
                url = reverse("onboarding:provider-detail", args=[provider_id])
                return redirect(f"{url}#{partial}")
            context = _detail_context(request, provider_id, notes={key: note}, updated=True)
            return _respond(request, "onboarding/provider_detail.html", partial, context)
    context = _detail_context(request, provider_id, **{form_key: form})
    return _respond(request, "onboarding/provider_detail.html", partial, context)


@require_POST
def rate_provider(request, provider_id):
    def submit(data, voter_key):
        services.add_feedback(
            provider_id, data["rating"], data["comment"] or None, voter_key=voter_key
        )

    def thanks(data):
        note = "Thank you! Your rating counts now."
        if data["comment"]:
            note += " Your comment awaits review by a maintainer before it is public."
        return note

    return _community_post(
        request,
        provider_id,
        form_class=RatingForm,
        form_key="rating_form",
        partial="rate-form",
        submit=submit,
        thanks=thanks,
    )


@require_POST
def share_tip(request, provider_id):
    def submit(data, voter_key):
        services.submit_tip(provider_id, data["text"], voter_key=voter_key)

    return _community_post(
        request,
        provider_id,
        form_class=TipForm,
        form_key="tip_form",
        partial="tip-form",
        submit=submit,
        thanks=lambda data: "Thank you! Your tip awaits review by a maintainer.",
    )


@require_POST
def report_issue(request, provider_id):
    def submit(data, voter_key):
        services.report_issue(
            provider_id,
            data["category"],
            data["details"],
            broken_link=data["broken_link"],
            voter_key=voter_key,
        )

    return _community_post(
        request,
        provider_id,
        form_class=IssueReportForm,
        form_key="issue_form",
        partial="issue-form",
        submit=submit,
        thanks=lambda data: (
            "Thank you! Your report awaits review by a maintainer; "
            "once approved it warns other visitors."
        ),
    )


# --- compare ------------------------------------------------------------------------------


def _compare_url(ids):
    query = QueryDict(mutable=True)
    query.setlist("p", ids)
    return reverse("onboarding:compare") + (f"?{query.urlencode()}" if ids else "")


class Comparison:
    """The chosen providers with their card data, and the ones that can still be added,
    loaded only when the template renders them (not when the table is cached)."""

    def __init__(self, ids):
        self.ids = ids

    @cached_property
    def providers(self):
        found = {
            p.provider_id: p
            for p in Provider.objects.published()
            .filter(provider_id__in=self.ids)
            .with_card_data()
            .prefetch_related("recommended_for")
        }
        providers = attach_recent_issue_counts(found[i] for i in self.ids if i in found)
        if len(providers) > 1:
            for provider in providers:
                provider.remove_url = _compare_url(
                    [i for i in self.ids if i != provider.provider_id]
                )
        return providers

    @cached_property
    def addable(self):
        if len(self.ids) >= COMPARE_MAX:
            return []
        return list(
            Provider.objects.published()
            .exclude(provider_id__in=self.ids)
            .order_by("provider_name")
            .values_list("provider_id", "provider_name")
        )


@require_GET
def compare(request):
    version = cache_version()
    return cached_page(request, version, lambda: _compare(request, version))


def _compare(request, version):
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
    if ids:
        found = set(
            Provider.objects.published()
            .filter(provider_id__in=ids)
            .values_list("provider_id", flat=True)
        )
        unknown = [i for i in ids if i not in found]
        ids = [i for i in ids if i in found]
        if unknown:
            status = 404
            problem = "There is no provider " + ", ".join(f"“{u[:60]}”" for u in unknown) + "."
            suggestion_url = _compare_url(ids)
    if len(ids) < COMPARE_MIN and not problem:
        problem = f"Choose at least {COMPARE_MIN} providers to compare (up to {COMPARE_MAX})."
    context = {
        "comparison": Comparison(ids),
        "ids": ids,
        "problem": problem,
        "suggestion_url": suggestion_url,
        "compare_max": COMPARE_MAX,
        "cache_version": version,
    }
    return _respond(request, "onboarding/compare.html", "comparison", context, status=status)


# --- suggest a provider -------------------------------------------------------------------


APPROVED_SUGGESTIONS_SHOWN = 20


@require_http_methods(["GET", "POST"])
def suggest_provider(request):
    form = SuggestionForm(request.POST if request.method == "POST" else None)
    approved = ProviderSuggestion.objects.filter(status=Moderation.APPROVED)
    context = {
        "form": form,
        "note": None,
        "limit": None,
        "approved": approved.order_by("-created_at")[:APPROVED_SUGGESTIONS_SHOWN],
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.suggest_provider(
                data["name"], data["website"], data["reason"], voter_key=voter_key_for(request)
            )
        except InvalidSubmissionError as error:
            add_service_error(form, error)
        except SubmissionLimitError as error:
            context["limit"] = error.message
            status = 429
        else:
            note = f"Thank you! Your suggestion of {data['name']} awaits review by a maintainer."
            if not (request.htmx and not request.htmx.history_restore_request):
                messages.success(request, note)
                return redirect("onboarding:suggest")
            context.update(form=SuggestionForm(), note=note)
    return _respond(request, "onboarding/suggest.html", "suggest-form", context, status=status)
