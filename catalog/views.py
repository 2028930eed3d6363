"""/models/ (browse and filter models) and /models/<id>/ (every offering side by side, the
cost calculator, price history).

The same conventions as the provider browse page: GET forms whose state is the URL,
htmx swapping only the results (onboarding.htmx.render_page), and whole pages cached by
the registry's version (onboarding.page_cache), which every sync and catalogue edit bumps.
"""

from functools import cached_property

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Min
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import push_url

from onboarding.forms import add_service_error
from onboarding.htmx import is_fragment, render_page
from onboarding.page_cache import CSRF_TOKEN, cached_page
from registry import services
from registry.models import EventStatus
from registry.voters import voter_for

from .costs import monthly_cost
from .forms import PRESETS, USAGE_FIELDS, CostForm, ModelFilterForm, ModelRatingForm
from .models import Model, Offering, OfferingStatus, Price, top_confident_trust

PAGE_SIZE = 50
STATUS_ORDER = {s: n for n, s in enumerate(OfferingStatus.values)}
SORT_ORDERS = {
    "providers": [F("provider_count").desc(), "name"],
    "price": [F("min_input").asc(nulls_last=True), "name"],
    "context": [F("max_context").desc(nulls_last=True), "name"],
    "trust": [F("top_trust").desc(nulls_last=True), F("provider_count").desc(), "name"],
    "newest": [F("release_date").desc(nulls_last=True), "name"],
    "name": ["name", "model"],
}


def _canonical_url(name, data, *, args=(), keep=None, defaults=None):
    """The address bar's URL: only the fields that say something (no blanks, no defaults)."""
    query = QueryDict(mutable=True)
    defaults = defaults or {}
    for field, values in data.lists():
        if keep is not None and field not in keep:
            continue
        kept = [v for v in values if v.strip() and defaults.get(field) != v]
        if kept:
            query.setlist(field, kept)
    encoded = query.urlencode()
    return reverse(name, args=args) + (f"?{encoded}" if encoded else "")


# --- /models/ -----------------------------------------------------------------------------


def matching_offerings(filters):
    """The listed offerings that pass the offering filters (all on the same offering)."""
    offerings = Offering.objects.listed()
    if filters.get("free"):
        offerings = offerings.free()
    if filters.get("max_input") is not None:
        offerings = offerings.max_input_price(filters["max_input"])
    if filters.get("max_output") is not None:
        offerings = offerings.max_output_price(filters["max_output"])
    if filters.get("min_context"):
        offerings = offerings.min_context(filters["min_context"])
    if filters.get("provider"):
        offerings = offerings.at_provider(filters["provider"])
    return offerings


def matching_models(filters):
    """The matching offerings of the models that pass the model filters."""
    models = Model.objects.all()
    if filters.get("q"):
        models = models.search(filters["q"])
    if filters.get("family"):
        models = models.family(filters["family"])
    if filters.get("tools"):
        models = models.tool_calling()
    if filters.get("vision"):
        models = models.vision()
    if filters.get("reasoning"):
        models = models.reasoning()
    offerings = matching_offerings(filters)
    if models.query.where:
        offerings = offerings.filter(model__in=models)
    return offerings


def model_rows(offerings, sort="providers"):
    """One row per model of these offerings: its id and what the list shows of them, in
    the chosen order. Grouped on the offerings (narrow rows), not on every column of the
    models; the page's Model rows are fetched afterwards by id (ModelResults.page)."""
    rows = offerings.values("model").annotate(
        name=F("model__name"),
        release_date=F("model__release_date"),
        provider_count=Count("catalog_provider", distinct=True),
        min_input=Min("current_price__input"),
        min_output=Min("current_price__output"),
        max_context=Max("context_limit"),
        top_trust=top_confident_trust(),
    )
    return rows.order_by(*SORT_ORDERS.get(sort, SORT_ORDERS["providers"]))


def model_count(offerings):
    return offerings.values("model").distinct().count()


def _with_figures(model, row):
    for name in ("provider_count", "min_input", "min_output", "max_context", "top_trust"):
        setattr(model, name, row[name])
    return model


def _without(data, name):
    query = data.copy()
    for field in (name, "page"):
        query.pop(field, None)
    return _canonical_url("catalog:model-list", query, defaults={"sort": "providers"})


class ModelResults:
    """One page of models, queried only if the template renders it (not on a cache hit)."""

    def __init__(self, form, filters, sort, page_number):
        self.form, self.filters, self.sort, self.page_number = form, filters, sort, page_number

    @cached_property
    def page(self):
        offerings = matching_models(self.filters)
        paginator = Paginator(model_rows(offerings, self.sort), PAGE_SIZE)
        paginator.count = model_count(offerings)  # not a COUNT over the grouped rows
        page = paginator.get_page(self.page_number)
        found = Model.objects.in_bulk([row["model"] for row in page.object_list])
        page.object_list = [_with_figures(found[row["model"]], row) for row in page.object_list]
        return page

    @cached_property
    def relax(self):
        """For an empty result: what dropping each active filter alone would bring back."""
        if self.page.paginator.count or not self.filters:
            return []
        hints = []
        for name in self.filters:
            others = {k: v for k, v in self.filters.items() if k != name}
            count = model_count(matching_models(others))
            if count:
                label = self.form.FILTER_NAMES[name]
                hints.append(
                    {"label": label, "count": count, "url": _without(self.form.data, name)}
                )
        return sorted(hints, key=lambda hint: -hint["count"])


@require_safe
@cached_page()
def model_list(request):
    form = ModelFilterForm(request.GET)
    form.is_valid()  # invalid filters are reported and ignored; the valid ones still apply
    filters = form.active_filters()
    sort = form.cleaned_data.get("sort") or "providers"
    context = {
        "form": form,
        "filters": filters,
        "results": ModelResults(form, filters, sort, request.GET.get("page")),
        "clear_url": reverse("catalog:model-list"),
    }
    response = render_page(request, "catalog/model_list.html", "model-results", context)
    if request.htmx:
        push_url(
            response,
            _canonical_url("catalog:model-list", form.data, defaults={"sort": "providers"}),
        )
    return response


# --- /models/<id>/ ------------------------------------------------------------------------


def _best(values, *, highest):
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return None  # nothing to single out
    return max(present) if highest else min(present)


class OfferingTable:
    """The model page's rows: each offering with its figures, the monthly cost when the
    calculator asks, and which cell is best in its column (retired offerings never are).

    Three queries whatever the number of offerings or price rows: the offerings with their
    providers and current prices, and every price row of the model."""

    COLUMNS = (
        # (key, highest is best)
        ("input", False),
        ("output", False),
        ("cache_read", False),
        ("cache_write", False),
        ("context", True),
        ("output_limit", True),
        ("trust", True),
        ("success", True),
        ("rating", True),
        ("cost", False),
    )

    def __init__(self, model, usage):
        self.model = model
        self.usage = usage

    @cached_property
    def offerings(self):
        offerings = list(Offering.objects.filter(model=self.model).for_table())
        history = {}
        for price in Price.objects.filter(offering__model=self.model).order_by(
            "-valid_from", "-observed_at", "-pk"
        ):
            history.setdefault(price.offering_id, []).append(price)
        for offering in offerings:
            offering.history = history.get(offering.pk, [])
        offerings.sort(
            key=lambda o: (
                STATUS_ORDER[o.status],
                o.current_price is None or o.current_price.input is None,
                o.current_price.input if o.current_price and o.current_price.input else 0,
                o.catalog_provider.display_name.lower(),
                o.provider_model_id,
            )
        )
        return offerings

    @cached_property
    def rows(self):
        rows = [self._row(offering) for offering in self.offerings]
        for key, highest in self.COLUMNS:
            best = _best([r["values"][key] for r in rows if not r["retired"]], highest=highest)
            for row in rows:
                row["best"][key] = (
                    best is not None and not row["retired"] and row["values"][key] == best
                )
        return rows

    def _row(self, offering):
        price = offering.current_price
        provider = offering.catalog_provider.provider
        has_data = provider is not None and (provider.setup_reports or provider.ratings_count)
        cost = None
        if self.usage:
            cost = monthly_cost(price, *self.usage)
        values = {
            "input": price.input if price else None,
            "output": price.output if price else None,
            "cache_read": price.cache_read if price else None,
            "cache_write": price.cache_write if price else None,
            "context": offering.context_limit,
            "output_limit": offering.output_limit,
            "trust": provider.get_trust_score() if has_data else None,
            "success": round(provider.success_rate, 1)
            if provider and provider.setup_reports
            else None,
            # The best rating is the best lower bound: a few votes cannot outrank many.
            "rating": offering.rating_lower_bound if offering.ratings_count else None,
            "cost": cost,
        }
        return {
            "offering": offering,
            "price": price,
            "provider": provider,
            "has_data": has_data,
            "values": values,
            "best": {},
            "retired": offering.status == OfferingStatus.RETIRED,
        }

    @cached_property
    def has_cache_prices(self):
        return any(r["values"]["cache_read"] is not None for r in self.rows)

    @cached_property
    def has_cache_write_prices(self):
        return any(r["values"]["cache_write"] is not None for r in self.rows)

    @cached_property
    def as_of(self):
        """The newest observation among the current prices, and its source."""
        prices = [o.current_price for o in self.offerings if o.current_price]
        if not prices:
            return None
        return max(prices, key=lambda p: (p.observed_at, p.pk))


@require_safe
@cached_page(CSRF_TOKEN)
def model_detail(request, model_id):
    model = get_object_or_404(Model, model_id=model_id)
    asks_cost = any(name in request.GET for name in ("preset", *USAGE_FIELDS))
    form = CostForm(request.GET if asks_cost else None)
    usage = form.usage()
    context = {
        "model": model,
        "form": form,
        "presets": PRESETS,
        "usage": usage,
        "table": OfferingTable(model, usage),
        "rating_form": _rating_form(model),
        "csrf_token": CSRF_TOKEN.placeholder,  # filled per visitor by the page cache
    }
    response = render_page(request, "catalog/model_detail.html", "offerings", context)
    if request.htmx:
        data = form.data if form.is_bound else QueryDict()
        keep = ("preset",) if data.get("preset") else USAGE_FIELDS
        push_url(response, _canonical_url("catalog:model-detail", data, args=[model_id], keep=keep))
    return response


def _rating_form(model, data=None):
    return ModelRatingForm(data, offerings=Offering.objects.filter(model=model).rating_choices())


@require_POST
def rate_model(request, model_id):
    """A visitor's rating of this model at one provider: counted at once (or held in a
    burst), under the same limits as provider ratings."""
    model = get_object_or_404(Model, model_id=model_id)
    form = _rating_form(model, request.POST)
    context = {"model": model, "rating_form": form, "note": None, "limit": None}
    status = 200
    if form.is_valid():
        try:
            outcome = services.rate_model(**form.rating(), voter=voter_for(request))
        except services.InvalidSubmissionError as error:
            add_service_error(form, error)
        except services.SubmissionLimitError as error:
            context["limit"] = error.message
            status = 429
        except services.UnknownOfferingError:
            form.add_error("offering", "Choose a provider from the list.")
        else:
            note = (
                "Thank you! Your rating is held for review with others sent at once."
                if outcome == EventStatus.HELD
                else "Thank you! Your rating of this model counts now."
            )
            if not is_fragment(request):
                messages.success(request, note)
                url = reverse("catalog:model-detail", args=[model_id])
                return redirect(f"{url}#model-rating")
            context.update(rating_form=_rating_form(model), note=note)
    return render_page(request, "catalog/model_detail.html", "model-rating", context, status=status)
