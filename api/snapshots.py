"""The registry file of the live registry, and its dated snapshots.

`public_registry()` is export_registry's data (registry.interchange) for published
providers only: a maintainer's unpublished draft is not public.

A dated snapshot is that file as the registry stood at the end of one day (UTC), stored
once and never rewritten, so that it can be cited and diffed. It is taken right after the
day ends: by the nightly job (api.tasks, or `manage.py freeze_snapshot`), or by the first
request for it if the job has not run yet. Only the day just over can be taken late:
- the counters are exact for its end, whenever it is taken: today's counters less every
  event counted since (each event row carries its day);
- the curated facts (links, steps, notes, pins) are as they were when it was taken,
  minutes after midnight; for an older day nobody knows them any more, so a day that was
  missed stays missing rather than being made up.
"""

import datetime
import gzip
import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction

from registry.interchange import COUNTER_FIELDS, EXPORTED_ROWS, export_registry_data
from registry.models import Provider, Rating, SetupReport, today
from registry.versioning import bump_registry_version

from .models import RegistrySnapshot


def _published():
    return Provider.objects.published().prefetch_related(*EXPORTED_ROWS).order_by("provider_id")


def _hide_drafts(data, published_ids):
    """The catalogue's links to registry providers, without unpublished ones."""
    for entry in data.get("catalog", {}).get("providers", {}).values():
        if entry.get("provider") not in published_ids:
            entry["provider"] = None
    return data


def public_registry(providers=None):
    providers = list(_published() if providers is None else providers)
    data = export_registry_data(providers)
    return _hide_drafts(data, {p.provider_id for p in providers})


def counted_since(day):
    """The counters added by events counted after `day`: {provider pk: {counter: n}}."""
    totals = {}
    for model in (SetupReport, Rating):
        rows = (
            model.objects.counted()
            .filter(day__gt=day)
            .order_by()
            .values("provider")
            .annotate(**model.counter_aggregates())
        )
        for row in rows:
            counters = totals.setdefault(row.pop("provider"), dict.fromkeys(COUNTER_FIELDS, 0))
            for name, value in row.items():
                counters[name] += value or 0
    return totals


def registry_at_end_of(day):
    since = counted_since(day)
    providers = list(_published())
    for provider in providers:
        # In memory only, before anything reads the scores: never saved.
        for name, amount in since.get(provider.pk, {}).items():
            setattr(provider, name, getattr(provider, name) - amount)
    data = public_registry(providers)
    end = datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
    data["last_updated"] = end.isoformat()
    data["snapshot_day"] = day.isoformat()
    return data


def take(day):
    """The snapshot of `day` (a day that is over): the stored one, or a new one now."""
    if day >= today():
        raise ValueError(f"{day} is not over yet.")
    existing = RegistrySnapshot.objects.filter(day=day).first()
    if existing is not None:
        return existing
    data = registry_at_end_of(day)
    text = json.dumps(data, ensure_ascii=False).encode()
    snapshot = RegistrySnapshot(
        day=day,
        compressed_json=gzip.compress(text, mtime=0),
        sha256=hashlib.sha256(text).hexdigest(),
        size=len(text),
        providers=len(data["providers"]),
    )
    try:
        with transaction.atomic():
            snapshot.save()
            bump_registry_version()  # the list of snapshots changed
    except IntegrityError:
        return RegistrySnapshot.objects.get(day=day)  # taken meanwhile by another request
    return snapshot


def take_yesterday():
    return take(today() - datetime.timedelta(days=1))


def taking_yesterday_first(view):
    """For the list of snapshots: the first request after a day ends takes its snapshot
    (if the nightly job has not), before the list's ETag is read: taking it moves the
    registry version."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        take_yesterday()
        return view(request, *args, **kwargs)

    return wrapper


def content(snapshot):
    return gzip.decompress(bytes(snapshot.compressed_json))
