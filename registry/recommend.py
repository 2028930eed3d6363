"""Recommendations that fit a need: which providers serve what the visitor needs, ranked by
fit and then by trust, each with its reasons in plain words.

`registry.services.recommend(needs)` is the entry point (the wizard uses it). A need is
any of: a model (its id) or a family, tool calling, vision input, a budget per month (at
the "chat" usage: 1M input and 200k output tokens), free only. A provider *fits* when it
serves at least one model that meets every need asked; providers that fit come first,
then the rest (so an empty answer never hides the registry), each group in the "most
trusted" order: status, then the trust score's lower bound.

Three queries whatever the number of providers: the providers, the offerings that meet
the needs, and (with the verification app) each provider's API uptime over 30 days.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from .models import Provider

# The usage a budget is measured at: catalog.forms.PRESETS["chat"].
BUDGET_USAGE = (1_000_000, 200_000)
UPTIME_DAYS = 30


@dataclass(frozen=True)
class Needs:
    model: str = ""  # a Model's model_id, or a family
    tool_calling: bool = False
    vision: bool = False
    max_monthly_cost: Decimal | None = None  # US dollars at BUDGET_USAGE
    free_only: bool = False

    @property
    def asks_for_models(self):
        return bool(self.model or self.tool_calling or self.vision) or (
            self.max_monthly_cost is not None
        )

    def __bool__(self):
        return self.asks_for_models or self.free_only


@dataclass
class Recommendation:
    provider: Provider
    fits: bool
    offering: object = None  # the best offering that meets the needs (cheapest first)
    reasons: list = field(default_factory=list)


def _offerings(needs, providers):
    """The offerings that meet every model need, at these providers, cheapest first."""
    from catalog.costs import monthly_cost  # the catalog app is optional
    from catalog.models import Model, Offering

    models = Model.objects.all()
    if needs.model:
        models = models.filter(Q(model_id=needs.model) | Q(family=needs.model))
    if needs.tool_calling:
        models = models.tool_calling()
    if needs.vision:
        models = models.vision()
    offerings = (
        Offering.objects.rateable()
        .filter(model__in=models, catalog_provider__provider__in=providers)
        .select_related("model", "current_price", "catalog_provider")
    )
    chosen = {}
    for offering in offerings:
        cost = monthly_cost(offering.current_price, *BUDGET_USAGE)
        if needs.free_only and not offering.is_free:
            continue
        if needs.max_monthly_cost is not None and (cost is None or cost > needs.max_monthly_cost):
            continue
        offering.monthly_cost = cost
        key = offering.catalog_provider.provider_id
        best = chosen.get(key)
        if best is None or _cheaper(offering, best):
            chosen[key] = offering
    return chosen


def _cheaper(offering, other):
    if offering.is_free != other.is_free:
        return offering.is_free
    if other.monthly_cost is None:
        return offering.monthly_cost is not None
    return offering.monthly_cost is not None and offering.monthly_cost < other.monthly_cost


def _uptimes(providers):
    """Each provider's share of API probes answered over 30 days, with the verification
    app installed; {} otherwise."""
    try:
        from verification.models import HealthCheck, Target
    except ImportError:  # pragma: no cover - the verification app is optional too
        return {}
    since = timezone.now() - timedelta(days=UPTIME_DAYS)
    rows = (
        HealthCheck.objects.filter(target=Target.API, checked_at__gte=since, provider__in=providers)
        .values("provider")
        .annotate(total=Count("pk"), up=Count("pk", filter=Q(ok=True)))
        .order_by()
    )
    return {row["provider"]: row["up"] / row["total"] * 100 for row in rows if row["total"]}


def _reasons(provider, offering, needs, uptime):
    from catalog.costs import dollars

    reasons = []
    if offering is not None:
        model = offering.model.name
        if offering.is_free:
            reasons.append(f"serves {model} free")
        elif offering.monthly_cost is not None:
            reasons.append(f"serves {model} at about {dollars(offering.monthly_cost)} a month")
        else:
            reasons.append(f"serves {model}")
        if needs.tool_calling:
            reasons.append("tool calling")
        if needs.vision:
            reasons.append("vision input")
    elif needs.free_only and provider.has_free_tier:
        reasons.append("has a free tier")
    if provider.ratings_count:
        people = provider.ratings_count
        reasons.append(
            f"{provider.star_rating:.1f}★ from {people:,} {'person' if people == 1 else 'people'}"
        )
    if provider.setup_reports:
        reasons.append(f"{provider.success_rate:.0f}% of setups worked")
    if uptime is not None:
        reasons.append(f"{uptime:.1f}% API uptime")
    return reasons


def recommend(needs, providers=None):
    """Recommendations for `needs` (a Needs) among `providers` (a ProviderQuerySet;
    default: every published provider), those that fit first, each group most trusted
    first."""
    queryset = providers if providers is not None else Provider.objects
    providers = list(queryset.published().most_trusted())
    offerings = _offerings(needs, providers) if needs.asks_for_models else {}
    uptimes = _uptimes(providers)
    recommendations = []
    for provider in providers:
        offering = offerings.get(provider.pk)
        if needs.asks_for_models:
            fits = offering is not None
        else:
            fits = not needs.free_only or provider.has_free_tier
        recommendations.append(
            Recommendation(
                provider=provider,
                fits=fits,
                offering=offering,
                reasons=_reasons(provider, offering, needs, uptimes.get(provider.pk)),
            )
        )
    return sorted(recommendations, key=lambda r: not r.fits)  # stable: trust order kept


def fitting_first(providers, needs):
    """`providers` (an ordered ProviderQuerySet) with those that fit `needs` first, each
    group in its order, and each provider's Recommendation by primary key ({} and the
    order unchanged when no model need was asked): what browse and the wizard list."""
    if not needs.asks_for_models:
        return providers, {}
    fits = {fit.provider.pk: fit for fit in recommend(needs, providers)}
    fitting = [pk for pk, fit in fits.items() if fit.fits]
    return providers.these_first(fitting), fits
