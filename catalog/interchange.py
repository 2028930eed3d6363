"""Models, offerings and prices in the registry's JSON export (registry/interchange.py).

The export gains one top-level key, "catalog"; a file without it (every older export and
the seed's own format) imports as before and leaves the catalogue alone. With it:

    "catalog": {
      "providers": {"<catalog id>": {"name", "doc_url", "api_url", "env",
                                     "provider": "<registry provider_id>" | null,
                                     "curated_fields": [...]}},
      "models": {"<model_id>": {"group_key", "name", "family", "release_date", ...,
                                "aliases": [...], "curated_fields": [...],
                                "offerings": [{"provider": "<catalog id>",
                                               "provider_model_id", "status", ...,
                                               "prices": [{"valid_from", "input", ...,
                                                           "source", "observed_at",
                                                           "by_maintainer"}]}]}}
    }

Prices are decimal strings ("0.590000"), so no float ever carries them. Import is part of
the registry import's transaction, all or nothing: models and offerings are matched by
their ids and updated, and an imported offering's price history is the file's.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from registry.interchange import RegistryFileError
from registry.models import Provider
from registry.versioning import bump_registry_version

from .models import (
    PRICE_FIELDS,
    CatalogProvider,
    Model,
    ModelAlias,
    Offering,
    Price,
)

PROVIDER_FIELDS = ("name", "doc_url", "api_url", "env")
MODEL_FIELDS = (
    "group_key",
    "name",
    "family",
    "knowledge_cutoff",
    "open_weights",
    "reasoning",
    "tool_call",
    "attachment",
    "structured_output",
    "input_modalities",
    "output_modalities",
)
OFFERING_FIELDS = (
    "name",
    "is_free_variant",
    "context_limit",
    "input_limit",
    "output_limit",
    "status",
)


class CatalogFileError(RegistryFileError):
    """A RegistryFileError, so import_registry reports it like any other."""


# --- export -------------------------------------------------------------------------------


def _decimal(value):
    return None if value is None else str(value)


def export_catalog():
    providers = {
        cp.catalog_id: {
            **{name: getattr(cp, name) for name in PROVIDER_FIELDS},
            "provider": cp.provider.provider_id if cp.provider_id else None,
            "curated_fields": cp.curated_fields,
        }
        for cp in CatalogProvider.objects.select_related("provider").order_by("catalog_id")
    }
    prices = {}
    for price in Price.objects.order_by("offering_id", "valid_from", "observed_at", "pk"):
        prices.setdefault(price.offering_id, []).append(
            {
                "valid_from": price.valid_from.isoformat(),
                **{name: _decimal(getattr(price, name)) for name in PRICE_FIELDS},
                "source": price.source,
                "observed_at": price.observed_at.isoformat(),
                "by_maintainer": price.by_maintainer,
            }
        )
    offerings = {}
    for offering in Offering.objects.select_related("catalog_provider").order_by(
        "catalog_provider__catalog_id", "provider_model_id"
    ):
        offerings.setdefault(offering.model_id, []).append(
            {
                "provider": offering.catalog_provider.catalog_id,
                "provider_model_id": offering.provider_model_id,
                **{name: getattr(offering, name) for name in OFFERING_FIELDS},
                "retired_at": offering.retired_at.isoformat() if offering.retired_at else None,
                "curated_fields": offering.curated_fields,
                "prices": prices.get(offering.pk, []),
            }
        )
    aliases = {}
    for alias in ModelAlias.objects.order_by("key"):
        aliases.setdefault(alias.model_id, []).append(alias.key)
    models = {
        model.model_id: {
            **{name: getattr(model, name) for name in MODEL_FIELDS},
            "release_date": model.release_date.isoformat() if model.release_date else None,
            "aliases": aliases.get(model.pk, []),
            "curated_fields": model.curated_fields,
            "offerings": offerings.get(model.pk, []),
        }
        for model in Model.objects.order_by("model_id")
    }
    return {"providers": providers, "models": models}


# --- import -------------------------------------------------------------------------------


def _fail(where, message):
    raise CatalogFileError(f"catalog, {where}: {message}")


def _expect_object(value, where):
    if not isinstance(value, dict):
        _fail(where, "must be an object")
    return value


def _string_list(value, where):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(where, "must be a list of strings")
    return value


def _date(value, where, *, with_time=False):
    if value is None:
        return None
    try:
        if with_time:
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError
            return moment
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        example = "2025-01-31T12:00:00+00:00" if with_time else "2025-01-31"
        _fail(where, f"must be a date like {example}")


def _price_value(value, where):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        _fail(where, 'must be a decimal string like "0.59" (never a float)')
    try:
        return Decimal(value)
    except InvalidOperation:
        _fail(where, 'must be a decimal string like "0.59"')


def _clean(instance, where, **options):
    options.setdefault("validate_constraints", False)
    try:
        instance.full_clean(validate_unique=False, **options)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        at = where if field == NON_FIELD_ERRORS else f"{where}, field {field!r}"
        _fail(at, " ".join(messages))


def _assign(instance, entry, names, where):
    for name in names:
        if name in entry:
            setattr(instance, name, entry[name])
    instance.curated_fields = _string_list(entry.get("curated_fields", []), f"{where}, curated")


def parse_catalog(section):
    """Check the "catalog" section of a registry file; a plan for apply_catalog, or None
    when the file has no catalogue. Raises CatalogFileError naming where."""
    if section is None:
        return None
    section = _expect_object(section, "the section")
    providers = []
    for catalog_id, entry in _expect_object(section.get("providers", {}), "providers").items():
        where = f"provider {catalog_id!r}"
        entry = _expect_object(entry, where)
        row = CatalogProvider(catalog_id=catalog_id)
        _assign(row, entry, PROVIDER_FIELDS, where)
        link = entry.get("provider")
        if link is not None and not isinstance(link, str):
            _fail(f"{where}, field 'provider'", "must be a registry provider id or null")
        _clean(row, where)
        providers.append((row, link))
    known = {row.catalog_id for row, _ in providers}
    models = []
    for model_id, entry in _expect_object(section.get("models", {}), "models").items():
        where = f"model {model_id!r}"
        entry = _expect_object(entry, where)
        model = Model(model_id=model_id)
        _assign(model, entry, MODEL_FIELDS, where)
        model.release_date = _date(entry.get("release_date"), f"{where}, field 'release_date'")
        _clean(model, where)
        aliases = _string_list(entry.get("aliases", []), f"{where}, field 'aliases'")
        offerings = []
        for n, item in enumerate(entry.get("offerings", [])):
            offerings.append(_parse_offering(item, f"{where}, offering {n + 1}", known))
        models.append((model, aliases, offerings))
    return {"providers": providers, "models": models}


def _parse_offering(item, where, known):
    item = _expect_object(item, where)
    provider = item.get("provider")
    if provider not in known:
        _fail(f"{where}, field 'provider'", f"{provider!r} is not in the catalog's providers")
    offering = Offering(provider_model_id=item.get("provider_model_id"))
    _assign(offering, item, OFFERING_FIELDS, where)
    offering.retired_at = _date(item.get("retired_at"), f"{where}, retired_at", with_time=True)
    _clean(offering, where, exclude=["catalog_provider", "model", "current_price"])
    prices = []
    for n, entry in enumerate(item.get("prices", [])):
        at = f"{where}, price {n + 1}"
        entry = _expect_object(entry, at)
        price = Price(
            valid_from=_date(entry.get("valid_from"), f"{at}, valid_from"),
            observed_at=_date(entry.get("observed_at"), f"{at}, observed_at", with_time=True),
            source=entry.get("source"),
            by_maintainer=entry.get("by_maintainer", False),
            **{name: _price_value(entry.get(name), f"{at}, {name}") for name in PRICE_FIELDS},
        )
        if not isinstance(price.by_maintainer, bool):
            _fail(f"{at}, by_maintainer", "must be true or false")
        _clean(price, at, exclude=["offering"], validate_constraints=True)
        prices.append(price)
    return provider, offering, prices


def apply_catalog(plan, *, only_missing=False):
    """Write a parse_catalog() plan; call inside the registry import's transaction."""
    if plan is None:
        return
    registry = dict(Provider.objects.values_list("provider_id", "pk"))
    existing = CatalogProvider.objects.in_bulk(field_name="catalog_id")
    providers = {}
    for row, link in plan["providers"]:
        if link is not None and link not in registry:
            _fail(
                f"provider {row.catalog_id!r}, field 'provider'", f"no registry provider {link!r}"
            )
        current = existing.get(row.catalog_id)
        if current is not None and only_missing:
            providers[row.catalog_id] = current
            continue
        row.pk = current.pk if current else None
        row.provider_id = registry.get(link) if link else None
        row.save()
        providers[row.catalog_id] = row
    models = Model.objects.in_bulk(field_name="model_id")
    for model, aliases, offerings in plan["models"]:
        current = models.get(model.model_id)
        if current is not None and only_missing:
            continue
        if current is not None:
            model.pk, model.created_at = current.pk, current.created_at
        where = f"model {model.model_id!r}"
        if Model.objects.exclude(pk=model.pk).filter(group_key=model.group_key).exists():
            _fail(f"{where}, field 'group_key'", "another model already has this key")
        if ModelAlias.objects.exclude(model_id=model.pk).filter(key__in=aliases).exists():
            _fail(f"{where}, field 'aliases'", "an alias already belongs to another model")
        model.save()
        ModelAlias.objects.filter(model=model).delete()
        ModelAlias.objects.bulk_create(ModelAlias(key=key, model=model) for key in aliases)
        for provider, offering, prices in offerings:
            offering.catalog_provider = providers[provider]
            offering.model = model
            current = Offering.objects.filter(
                catalog_provider=offering.catalog_provider,
                provider_model_id=offering.provider_model_id,
            ).first()
            if current is not None:
                offering.pk, offering.created_at = current.pk, current.created_at
                current.prices.all().delete()
            offering.current_price = None
            offering.save()
            for price in prices:
                price.offering = offering
            Price.objects.bulk_create(prices)
            Offering.objects.refresh_current_prices([offering.pk])
    bump_registry_version()
