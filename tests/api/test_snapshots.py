"""Dated snapshots: the registry at the end of a day, taken once and never changed."""

import datetime
import gzip
import hashlib
import json

import pytest
from django.core.management import call_command

from api import snapshots, tasks
from api.models import RegistrySnapshot
from registry import services
from registry.models import Provider, Rating, today

from .conftest import error_of


def yesterday():
    return today() - datetime.timedelta(days=1)


def url(day):
    return f"/api/v1/snapshots/{day.isoformat()}.json"


def test_the_first_request_after_the_day_takes_it(api, default_providers):
    assert not RegistrySnapshot.objects.exists()
    response = api.get(url(yesterday()))
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"providers", "user_stats", "last_updated", "catalog"}
    assert data["snapshot_day"] == yesterday().isoformat()
    assert data["last_updated"].startswith(f"{yesterday().isoformat()}T23:59:59")
    assert data["providers"]["openrouter"]["trust_score"] == 92.3
    assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Access-Control-Allow-Origin"] == "*"
    again = api.get(url(yesterday()), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    listed = api.get("/api/v1/snapshots/").json()["items"]
    assert [item["day"] for item in listed] == [yesterday().isoformat()]
    assert listed[0]["url"] == url(yesterday())
    assert listed[0]["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_its_counters_are_the_days_end_not_todays(api, default_providers):
    services.add_feedback("groq", 5)  # counted today: after yesterday ended
    snapshot = snapshots.take(yesterday())
    data = json.loads(snapshots.content(snapshot))
    assert data["providers"]["groq"]["counters"]["ratings_count"] == 0
    assert data["providers"]["groq"]["trust_score"] is None
    # An event of yesterday is in it.
    Rating.objects.update(day=yesterday())
    RegistrySnapshot.objects.all().delete()
    data = json.loads(snapshots.content(snapshots.take(yesterday())))
    assert data["providers"]["groq"]["counters"]["ratings_count"] == 1


def test_once_taken_it_never_changes(api, default_providers):
    first = api.get(url(yesterday())).content
    Provider.objects.filter(provider_id="openrouter").update(provider_name="Renamed")
    services.add_feedback("openrouter", 1)
    Rating.objects.update(day=yesterday())  # even a late-counted event of that day
    assert api.get(url(yesterday())).content == first
    assert snapshots.take(yesterday()).sha256 == hashlib.sha256(first).hexdigest()
    assert RegistrySnapshot.objects.count() == 1


def test_today_and_missed_days_have_none(api, default_providers):
    error_of(api.get(url(today())), 404, "day_not_over")
    error_of(api.get(url(today() + datetime.timedelta(days=3))), 404, "day_not_over")
    # A day that was missed stays missing: its curated facts are not known any more.
    error_of(api.get(url(today() - datetime.timedelta(days=5))), 404, "no_snapshot")
    assert not RegistrySnapshot.objects.exclude(day=yesterday()).exists()
    error_of(api.get("/api/v1/snapshots/2026-02-30.json"), 400, "invalid_input", "day")
    error_of(api.get("/api/v1/snapshots/yesterday.json"), 400, "invalid_input", "day")


def test_an_older_stored_day_is_served_as_stored(api, default_providers):
    day = today() - datetime.timedelta(days=9)
    text = json.dumps({"providers": {}, "user_stats": {}, "last_updated": "x", "catalog": {}})
    RegistrySnapshot.objects.create(
        day=day,
        compressed_json=gzip.compress(text.encode()),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        size=len(text),
        providers=0,
    )
    assert api.get(url(day)).content == text.encode()


def test_the_nightly_job_and_the_command_take_yesterday(default_providers, capsys):
    tasks.nightly_registry_snapshot.call_local()
    assert RegistrySnapshot.objects.get().day == yesterday()
    call_command("freeze_snapshot")
    assert f"Snapshot of {yesterday()}" in capsys.readouterr().out
    assert RegistrySnapshot.objects.count() == 1


def test_a_snapshot_can_be_imported_again(default_providers, tmp_path):
    from registry.interchange import parse_registry_data

    data = json.loads(snapshots.content(snapshots.take(yesterday())))
    parsed = parse_registry_data(data)
    assert {provider.provider_id for provider, _ in parsed} == set(data["providers"])


@pytest.mark.parametrize("published", [True, False])
def test_drafts_are_not_in_it(make_provider, published):
    make_provider("draft", is_published=published)
    data = json.loads(snapshots.content(snapshots.take(yesterday())))
    assert ("draft" in data["providers"]) is published
