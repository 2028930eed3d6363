"""Bringing the database up to a catalogue: what `sync_models` and the daily job run.

- New providers, models and offerings are added; listings are grouped into models by
  catalog/grouping.py (with the maintainers' aliases first).
- A changed price is a new Price row (from its listing's `last_updated` day, the source,
  the time it was observed), never an overwrite; an unchanged one writes nothing.
- An offering that vanished from a provider the catalogue still lists is marked retired,
  never deleted; one that comes back is active again. Providers absent from the file are
  left alone, so a partial file (the shipped snapshot) retires nothing elsewhere.
- Fields in a row's `curated_fields` (set by a maintainer) are never written.
- A sync that changes nothing writes nothing, not even the page-cache version.

It all happens in one transaction after the whole file was checked, so bad input changes
nothing. `dry_run` computes the same summary and writes nothing.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.models import Provider
from registry.versioning import bump_registry_version

from . import catalogue as catalogue_module
from .models import (
    PRICE_FIELDS,
    CatalogProvider,
    Model,
    ModelAlias,
    Offering,
    OfferingStatus,
    Price,
)

SNAPSHOT = Path(__file__).resolve().parent / "data" / "models-dev-default.json"
BATCH = 500
CHANGES_SHOWN = 50
PROVIDER_FIELDS = ("name", "doc_url", "api_url", "env")
MODEL_FIELDS = (
    "name",
    "family",
    "release_date",
    "knowledge_cutoff",
    "open_weights",
    "reasoning",
    "tool_call",
    "attachment",
    "structured_output",
    "input_modalities",
    "output_modalities",
)
OFFERING_FIELDS = ("name", "is_free_variant", "context_limit", "input_limit", "output_limit")
COUNTS = (
    "providers_added",
    "providers_updated",
    "models_added",
    "models_updated",
    "offerings_added",
    "offerings_updated",
    "offerings_moved",
    "offerings_retired",
    "offerings_returned",
    "prices_added",
)


@dataclass
class Summary:
    source: str
    warnings: list = field(default_factory=list)
    dry_run: bool = False
    only_missing: bool = False
    changes: list = field(default_factory=list)
    providers_added: int = 0
    providers_updated: int = 0
    models_added: int = 0
    models_updated: int = 0
    offerings_added: int = 0
    offerings_updated: int = 0
    offerings_moved: int = 0
    offerings_retired: int = 0
    offerings_returned: int = 0
    prices_added: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0

    @property
    def rows_written(self):
        return self.rows_inserted + self.rows_updated

    @property
    def changed(self):
        return any(getattr(self, name) for name in COUNTS)

    def lines(self, all_changes=False):
        verb = "would be" if self.dry_run else "were"
        lines = [f"Catalogue: {self.source}"]
        lines.append(
            f"Providers: {self.providers_added} added, {self.providers_updated} updated. "
            f"Models: {self.models_added} added, {self.models_updated} updated."
        )
        lines.append(
            f"Offerings: {self.offerings_added} added, {self.offerings_updated} updated, "
            f"{self.offerings_moved} regrouped, {self.offerings_retired} retired, "
            f"{self.offerings_returned} listed again. Prices: {self.prices_added} new rows."
        )
        lines.extend(f"Warning: {warning}" for warning in self.warnings)
        shown = self.changes if all_changes else self.changes[:CHANGES_SHOWN]
        lines.extend(f"  {change}" for change in shown)
        if len(shown) < len(self.changes):
            lines.append(f"  … and {len(self.changes) - len(shown)} more (-v 2 shows all)")
        written = (
            f"{self.rows_written} rows {verb} written "
            f"({self.rows_inserted} inserted, {self.rows_updated} updated)"
        )
        if self.dry_run:
            lines.append(f"Dry run: nothing written; {written}.")
        elif self.changed:
            lines.append(f"{written[0].upper()}{written[1:]}.")
        else:
            lines.append("No changes: nothing written.")
        return lines


def _money(value):
    return "—" if value is None else f"${value.normalize():f}"


def _price_change(old, new):
    parts = []
    for name, before, after in zip(PRICE_FIELDS, old, new, strict=True):
        if before != after:
            parts.append(f"{name.replace('_', ' ')} {_money(before)} → {_money(after)}")
    return ", ".join(parts)


def _reference(listings):
    """The listing a model's name and dates come from: the first (by provider id) whose id
    has no organisation prefix, as a model maker's own API names it; else the first."""
    ordered = sorted(listings, key=lambda x: (x.catalog_id, x.provider_model_id))
    return next((x for x in ordered if "/" not in x.provider_model_id), ordered[0])


def _plain_name(name):
    """ "Meta: Llama 3.3 70B Instruct" as "Llama 3.3 70B Instruct" (OpenRouter's style)."""
    maker, sep, rest = name.partition(": ")
    return rest.strip() if sep and rest.strip() and len(maker) <= 30 else name


CAPABILITIES = ("open_weights", "reasoning", "tool_call", "attachment", "structured_output")


def _most_say(listings, name):
    yes = sum(1 for x in listings if getattr(x, name))
    return yes * 2 >= len(listings)


def model_values(listings):
    """A model's fields from its listings. A capability is the model's when at least half
    of its listings say so (one provider's slip neither adds nor removes it); modalities
    are the union; the rest comes from the reference listing, falling back to
    the first listing that has a value. The name is the one most listings use."""
    reference = _reference(listings)
    ordered = [reference, *(x for x in listings if x is not reference)]

    def first(name):
        return next(
            (getattr(x, name) for x in ordered if getattr(x, name)), getattr(reference, name)
        )

    def union(name):
        present = {m for x in listings for m in getattr(x, name).split(",") if m}
        return ",".join(m for m in catalogue_module.MODALITIES if m in present)

    names = Counter(_plain_name(x.name) for x in ordered)
    return {
        "name": max(names, key=names.get),  # the most common name; ties: the reference's
        "family": first("family"),
        "release_date": first("release_date"),
        "knowledge_cutoff": first("knowledge_cutoff"),
        **{name: _most_say(listings, name) for name in CAPABILITIES},
        "input_modalities": union("input_modalities"),
        "output_modalities": union("output_modalities"),
    }


def _changed_fields(row, values, names):
    return [n for n in names if not row.is_curated(n) and getattr(row, n) != values[n]]


class _Sync:
    def __init__(self, catalogue, summary, now):
        self.catalogue = catalogue
        self.summary = summary
        self.now = now
        self.today = timezone.localdate(now)
        self.only_missing = summary.only_missing

    def note(self, text):
        self.summary.changes.append(text)

    # --- providers ----------------------------------------------------------------
    def providers(self):
        existing = {cp.catalog_id: cp for cp in CatalogProvider.objects.all()}
        linked = {cp.provider_id for cp in existing.values() if cp.provider_id}
        ids = [p.catalog_id for p in self.catalogue.providers]
        registry = dict(
            Provider.objects.filter(provider_id__in=ids).values_list("provider_id", "pk")
        )
        new, changed, fields = [], [], set()
        for data in self.catalogue.providers:
            values = {name: getattr(data, name) for name in PROVIDER_FIELDS}
            match = registry.get(data.catalog_id)
            if match in linked:
                match = None  # already linked to another catalogue provider by hand
            row = existing.get(data.catalog_id)
            if row is None:
                row = CatalogProvider(catalog_id=data.catalog_id, provider_id=match, **values)
                new.append(row)
                existing[data.catalog_id] = row
                self.note(f"new provider: {data.catalog_id}")
                continue
            if self.only_missing:
                continue
            names = _changed_fields(row, values, PROVIDER_FIELDS)
            if row.provider_id is None and match and not row.is_curated("provider"):
                row.provider_id = match
                names.append("provider")
            if names:
                for name in names:
                    if name != "provider":
                        setattr(row, name, values[name])
                changed.append(row)
                fields.update(names)
        self.summary.providers_added = len(new)
        self.summary.providers_updated = len(changed)
        self.provider_writes = (new, changed, fields)
        return existing

    # --- models -------------------------------------------------------------------
    def models(self):
        by_key = {m.group_key: m for m in Model.objects.all()}
        by_pk = {m.pk: m for m in by_key.values()}
        aliases = {a.key: by_pk[a.model_id] for a in ModelAlias.objects.all()}
        taken_ids = {m.model_id for m in by_key.values()}
        groups = defaultdict(list)
        for listing in self.catalogue.listings:
            groups[listing.group_key].append(listing)
        target = {}
        new, changed, fields = [], [], set()
        for key, listings in groups.items():
            row = aliases.get(key) or by_key.get(key)
            values = model_values(listings)
            if row is None:
                row = Model(
                    model_id=self._unique_id(_reference(listings).readable_id, taken_ids),
                    group_key=key,
                    **values,
                )
                taken_ids.add(row.model_id)
                by_key[key] = row
                new.append(row)
                self.note(f"new model: {row.model_id} ({len(listings)} listing(s))")
            elif not self.only_missing:
                names = _changed_fields(row, values, MODEL_FIELDS)
                if names and row not in changed:
                    for name in names:
                        setattr(row, name, values[name])
                    changed.append(row)
                    fields.update(names)
                    self.note(f"model {row.model_id}: {', '.join(names)} changed")
            target[key] = row
        self.summary.models_added = len(new)
        self.summary.models_updated = len(changed)
        self.model_writes = (new, changed, fields)
        return target

    @staticmethod
    def _unique_id(readable, taken):
        readable = readable[:110]
        candidate, n = readable, 2
        while candidate in taken:
            candidate, n = f"{readable}-{n}", n + 1
        return candidate

    # --- offerings and prices -----------------------------------------------------
    def offerings(self, providers, targets):
        existing = {(o.catalog_provider_id, o.provider_model_id): o for o in Offering.objects.all()}
        latest = self._latest_catalogue_prices()
        source = self.catalogue.source
        new, changed, fields = [], [], set()
        new_prices = []  # (offering, Price)
        seen = set()
        for listing in self.catalogue.listings:
            provider = providers[listing.catalog_id]
            model = targets[listing.group_key]
            row = existing.get((provider.pk, listing.provider_model_id)) if provider.pk else None
            label = f"{listing.catalog_id} / {listing.provider_model_id}"
            values = {name: getattr(listing, name) for name in OFFERING_FIELDS}
            if row is None:
                row = Offering(
                    catalog_provider=provider,
                    provider_model_id=listing.provider_model_id,
                    model=model,
                    status=listing.status,
                    **values,
                )
                new.append(row)
                self.note(f"new offering: {label}")
            else:
                seen.add(row.pk)
                if self.only_missing:
                    continue
                names = _changed_fields(row, values, OFFERING_FIELDS)
                for name in names:
                    setattr(row, name, values[name])
                if not row.is_curated("status") and row.status != listing.status:
                    if row.status == OfferingStatus.RETIRED:
                        self.summary.offerings_returned += 1
                        self.note(f"listed again: {label}")
                        row.retired_at = None
                        names.append("retired_at")
                    row.status = listing.status
                    names.append("status")
                if not row.is_curated("model") and row.model_id != model.pk:
                    row.model = model
                    names.append("model")
                    self.summary.offerings_moved += 1
                    self.note(f"regrouped: {label} → {model.model_id}")
                if names:
                    changed.append(row)
                    fields.update(names)
                    if set(names) - {"model", "status", "retired_at"}:
                        self.note(f"offering {label}: {', '.join(names)} changed")
            if listing.prices is None:
                continue  # no price listed: the last known one stays
            last = latest.get(row.pk) if row.pk else None
            if last is not None and last.values() == listing.prices:
                continue
            valid_from = listing.last_updated
            if valid_from is None or valid_from > self.today:
                valid_from = self.today
            if last is not None:
                valid_from = max(valid_from, last.valid_from)
                self.note(f"price {label}: {_price_change(last.values(), listing.prices)}")
            price = Price(
                valid_from=valid_from,
                source=source,
                observed_at=self.now,
                **dict(zip(PRICE_FIELDS, listing.prices, strict=True)),
            )
            new_prices.append((row, price))
        retired = [] if self.only_missing else self._vanished(existing, seen, providers)
        changed_ids = {row.pk for row in changed}
        changed.extend(row for row in retired if row.pk not in changed_ids)
        if retired:
            fields.update(["status", "retired_at"])
        self.summary.offerings_added = len(new)
        self.summary.offerings_updated = len(changed)
        self.summary.offerings_retired = len(retired)
        self.summary.prices_added = len(new_prices)
        self.offering_writes = (new, changed, fields, new_prices)

    def _latest_catalogue_prices(self):
        """Each offering's newest Price from a catalogue (not a maintainer's)."""
        latest = {}
        for price in Price.objects.filter(by_maintainer=False).order_by(
            "offering_id", "valid_from", "observed_at", "pk"
        ):
            latest[price.offering_id] = price
        return latest

    def _vanished(self, existing, seen, providers):
        in_file = {providers[x.catalog_id].pk: x.catalog_id for x in self.catalogue.providers}
        retired = []
        for row in existing.values():
            if (
                row.pk not in seen
                and row.catalog_provider_id in in_file
                and row.status != OfferingStatus.RETIRED
                and not row.is_curated("status")
            ):
                row.status = OfferingStatus.RETIRED
                row.retired_at = self.now
                retired.append(row)
                self.note(f"retired: {in_file[row.catalog_provider_id]} / {row.provider_model_id}")
        return retired

    # --- writing ------------------------------------------------------------------
    def write(self):
        new, changed, fields = self.provider_writes
        CatalogProvider.objects.bulk_create(new, batch_size=BATCH)
        if changed:
            CatalogProvider.objects.bulk_update(changed, sorted(fields), batch_size=BATCH)
        new, changed, fields = self.model_writes
        Model.objects.bulk_create(new, batch_size=BATCH)
        if changed:
            Model.objects.bulk_update(changed, sorted(fields), batch_size=BATCH)
        # bulk_create and bulk_update take the primary keys the related rows just got.
        new, changed, fields, new_prices = self.offering_writes
        Offering.objects.bulk_create(new, batch_size=BATCH)
        if changed:
            Offering.objects.bulk_update(changed, sorted(fields), batch_size=BATCH)
        for row, price in new_prices:
            price.offering = row
        Price.objects.bulk_create([price for _, price in new_prices], batch_size=BATCH)
        Offering.objects.refresh_current_prices({row.pk for row, _ in new_prices})


def sync(catalogue, *, dry_run=False, only_missing=False, now=None):
    """Bring the database up to `catalogue` (a catalogue.Catalogue); return a Summary.

    With `only_missing`, only what is not in the database yet is added: nothing existing
    is updated or retired (how load_default_providers ships the snapshot)."""
    summary = Summary(
        source=catalogue.source,
        warnings=catalogue.warnings,
        dry_run=dry_run,
        only_missing=only_missing,
    )
    job = _Sync(catalogue, summary, now or timezone.now())
    with transaction.atomic():
        providers = job.providers()
        targets = job.models()
        job.offerings(providers, targets)
        summary.rows_inserted = (
            summary.providers_added
            + summary.models_added
            + summary.offerings_added
            + summary.prices_added
        )
        # Changed rows, and each offering with a new price once more (its current_price).
        summary.rows_updated = (
            summary.providers_updated
            + summary.models_updated
            + summary.offerings_updated
            + len({id(row) for row, _ in job.offering_writes[3]})
        )
        if not dry_run and summary.changed:
            job.write()
            bump_registry_version()
    return summary


def sync_source(source, **options):
    """Read, check and sync SOURCE (a path or an https URL)."""
    return sync(catalogue_module.load(source), **options)


def load_snapshot():
    """Add what is missing from the shipped snapshot (the default providers' models and
    prices, catalog/data/models-dev-default.json): `load_default_providers` calls it, so
    `make run` has models from the first start. Nothing existing is changed."""
    return sync_source(str(SNAPSHOT), only_missing=True)


def scheduled_sync():
    """The daily job: sync MODELS_SYNC_URL when it is set; None when it is not."""
    url = settings.MODELS_SYNC_URL
    if not url:
        return None
    return sync_source(url)
