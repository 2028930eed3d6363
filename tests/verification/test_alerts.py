"""Alerts: each rule on generated data, opening and resolving by themselves, on the page,
in the Atom feed and in the light of issue reports."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from registry.models import IssueCategory, IssueReport, Moderation, Provider
from registry.scoring import wilson_bounds as wilson_interval
from registry.versioning import bump_registry_version
from verification.models import Alert, DailySnapshot, HealthState, State, Target
from verification.templatetags.provider_health import since_day

ATOM = "{http://www.w3.org/2005/Atom}"


def detect():
    call_command("detect_alerts", verbosity=0)


def feed_titles(client):
    response = client.get("/alerts.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own feed)
    return [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]


def banner(client, provider_id="acme"):
    html = client.get(f"/providers/{provider_id}/").content.decode()
    if 'id="alerts"' not in html:
        return ""
    return html[html.index('id="alerts"') : html.index("</section>", html.index('id="alerts"'))]


def test_wilson_interval():
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.2775)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.fixture
def steady(make_provider, aged, plant):
    """A provider with setups at 90% success in the 30 days before the last week (and
    too few ratings for a status, so only the success rule can fire)."""
    provider = make_provider()
    aged(provider, 60)
    for days_ago in range(8, 38, 5):  # six days, ten reports each: 60 reports, 54 good
        plant(provider, days_ago, reports=10, successes=9, ratings=1)
    return provider


def test_a_planted_drop_opens_an_alert_that_resolves_when_the_rate_recovers(steady, plant, client):
    # The last week: 24 setups, 8 good (33%).
    for days_ago in (1, 3, 5):
        plant(steady, days_ago, reports=8, successes=3 if days_ago != 5 else 2)
    call_command("snapshot_registry", "--backfill", "60", verbosity=0)
    call_command("snapshot_registry", verbosity=0)
    detect()
    alert = Alert.objects.get()
    assert alert.rule == "success_drop" and alert.is_open
    assert alert.title == "Setup success fell to 33% in the last 7 days"
    assert "8 of 24 setups succeeded in the last 7 days" in alert.detail
    assert "54 of 60 in the 30 days before (90.0%" in alert.detail
    assert "Setup success fell to 33% in the last 7 days" in banner(client)
    assert feed_titles(client) == ["Acme: Setup success fell to 33% in the last 7 days"]

    detect()  # nothing changed: still one alert, not a second
    assert Alert.objects.count() == 1

    # Today, many setups go well again: the week's rate is back within reach of the baseline.
    plant(steady, 0, reports=60, successes=58)
    detect()
    alert.refresh_from_db()
    assert not alert.is_open and alert.resolved_at is not None
    assert banner(client) == ""
    assert feed_titles(client) == ["Resolved: Acme: Setup success fell to 33% in the last 7 days"]


def test_no_alert_on_too_small_a_sample(steady, plant):
    plant(steady, 2, reports=19, successes=0)  # one report short of the minimum
    detect()
    assert not Alert.objects.exists()
    plant(steady, 1, reports=1, successes=0)
    detect()
    assert Alert.objects.get().rule == "success_drop"


def test_a_trust_drop_over_seven_days(make_provider, aged, plant, client):
    provider = make_provider()
    aged(provider, 30)
    plant(provider, 20, reports=30, successes=29, ratings=15, stars=5)
    call_command("snapshot_registry", "--backfill", "20", verbosity=0)
    before = DailySnapshot.objects.get(day=timezone.localdate() - timedelta(days=7)).trust_score
    plant(provider, 2, reports=10, successes=0, ratings=15, stars=1)
    now = Provider.objects.get(pk=provider.pk).get_trust_score()
    assert before - now > 5
    detect()
    alert = Alert.objects.get(rule="trust_drop")
    assert alert.title == f"Trust score down {before - now:.1f} points in 7 days"
    assert f"From {before:.1f} on " in alert.detail and f"to {now:.1f} now." in alert.detail
    assert alert.title in banner(client)


def test_no_trust_alert_for_a_provider_that_had_little_data(make_provider, aged, plant):
    provider = make_provider()
    aged(provider, 30)
    plant(provider, 20, reports=5, successes=5, ratings=3, stars=5)  # low confidence then
    call_command("snapshot_registry", "--backfill", "20", verbosity=0)
    plant(provider, 2, reports=20, successes=0, ratings=10, stars=1)
    detect()
    assert not Alert.objects.filter(rule="trust_drop").exists()


def test_api_down_for_more_than_an_hour(serve, make_provider, client):
    server = serve("127.0.0.2")
    make_provider(base=server.base, api=server.url("/bad"))
    server.overrides["/bad/models"] = 503
    call_command("check_providers", "--kind", "api", verbosity=0)
    detect()
    assert not Alert.objects.exists()  # down, but not for an hour yet
    HealthState.objects.filter(target=Target.API).update(
        failing_since=timezone.now() - timedelta(minutes=61)
    )
    detect()
    alert = Alert.objects.get(rule="api_down")
    assert alert.title.startswith("API not answering since ")
    assert "the last: HTTP 503" in alert.detail
    assert alert.title in banner(client)
    server.overrides["/bad/models"] = 200
    call_command("check_providers", "--kind", "api", verbosity=0)
    detect()
    alert.refresh_from_db()
    assert not alert.is_open


def test_a_broken_link_raises_an_alert_per_link(serve, make_provider, client):
    server = serve("127.0.0.2")
    make_provider(
        base=server.base,
        links={"docs": server.url("/missing"), "signup": server.url("/signup")},
    )
    server.overrides["/signup"] = 500
    for _ in range(3):
        call_command("check_providers", "--kind", "links", verbosity=0)
    detect()
    titles = set(Alert.objects.open().values_list("key", "title"))
    assert titles == {
        (Target.DOCS, "Docs link broken"),
        (Target.SIGNUP, "Sign-up page link broken"),
    }
    server.overrides["/signup"] = 200
    call_command("check_providers", "--kind", "links", verbosity=0)
    detect()
    assert list(Alert.objects.open().values_list("key", flat=True)) == [Target.DOCS]
    assert HealthState.objects.get(target=Target.SIGNUP).state == State.OK
    assert "Docs link broken" in banner(client)
    assert "Sign-up page link broken" not in banner(client)


def test_issue_reports_are_read_in_the_light_of_an_alert(steady, plant, client):
    for days_ago in (1, 2):
        plant(steady, days_ago, reports=12, successes=2)
    detect()
    alert = Alert.objects.get()
    reports = [
        IssueReport(
            provider=steady, category=IssueCategory.KEY_REJECTED, details="401 on every call",
            status=Moderation.APPROVED, created_at=timezone.now() - timedelta(days=d % 5),
        )
        for d in range(12)
    ] + [
        IssueReport(
            provider=steady, category=IssueCategory.RATE_LIMITS, details="429s",
            status=Moderation.APPROVED, created_at=timezone.now() - timedelta(hours=1),
        ),
        IssueReport(  # pending: not public, not counted
            provider=steady, category=IssueCategory.KEY_REJECTED, details="again 401",
            created_at=timezone.now(),
        ),
        IssueReport(  # before the alert's window began
            provider=steady, category=IssueCategory.KEY_REJECTED, details="old 401",
            status=Moderation.APPROVED, created_at=alert.since - timedelta(days=1),
        ),
    ]  # fmt: skip
    IssueReport.objects.bulk_create(reports)
    bump_registry_version()
    since = since_day(alert.since)  # "24 Nov 2026"; "Tuesday" within the week
    text = banner(client)
    assert f"Since {since}: 12 reports of key rejected (401/403), 1 report of rate limits" in text


def test_one_open_alert_per_rule_and_key(make_provider):
    provider = make_provider()
    fields = {"provider": provider, "rule": "api_down", "title": "x", "since": timezone.now()}
    Alert.objects.create(**fields, resolved_at=timezone.now())
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError):
        Alert.objects.create(**fields)


def test_an_alert_on_an_unpublished_provider_resolves_and_leaves_the_feed(steady, plant, client):
    plant(steady, 1, reports=30, successes=3)
    detect()
    assert Alert.objects.open().count() == 1
    Provider.objects.filter(pk=steady.pk).update(is_published=False)
    assert feed_titles(client) == []
    detect()
    assert not Alert.objects.open().exists()
