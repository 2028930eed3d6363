"""Filters for prices and token counts, and the provider page's list of models.

{% load catalog_tags %}
{% provider_models provider %}   {# the models a registry Provider serves, with prices #}
"""

from decimal import Decimal

from django import template

from catalog import costs
from catalog.models import Offering

register = template.Library()

PROVIDER_MODELS_SHOWN = 25


def _number(value):
    # A missing price reaches a filter as "" (the template's invalid-variable value).
    return value if isinstance(value, Decimal | int) else None


@register.filter
def per_million(price):
    return costs.per_million(_number(price))


@register.filter
def dollars(amount):
    return costs.dollars(_number(amount))


@register.filter
def tokens(count):
    """128000 as "128k", 1048576 as "1M", None as "—"."""
    if not count:
        return "—"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if count >= size:
            value = count / size
            text = f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"
            return f"{text}{suffix}"
    return str(count)


@register.inclusion_tag("catalog/_provider_models.html")
def provider_models(provider, shown=PROVIDER_MODELS_SHOWN):
    """The models `provider` (a registry Provider) serves, cheapest input first, with
    their prices and where and when those were read. One query for the rows; the total
    is counted only when there are more than are shown."""
    offerings = list(
        Offering.objects.listed()
        .filter(catalog_provider__provider=provider)
        .select_related("model", "current_price", "catalog_provider")
        .order_by("model__name", "provider_model_id")[: shown + 1]
    )
    more = len(offerings) > shown
    offerings = offerings[:shown]
    total = (
        Offering.objects.listed().filter(catalog_provider__provider=provider).count()
        if more
        else len(offerings)
    )
    prices = [o.current_price for o in offerings if o.current_price]
    latest = max(prices, key=lambda p: (p.observed_at, p.pk)) if prices else None
    return {
        "provider": provider,
        "offerings": offerings,
        "total": total,
        "more": more,
        "latest": latest,
        "sources": sorted({p.source for p in prices}),
        "catalog_id": offerings[0].catalog_provider.catalog_id if offerings else None,
    }
