"""Link states (broken after 3 failures, recovery on one success, moved, review once per
breakage), API probes and uptime, the offline rule, and what the page shows of them."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.template.defaultfilters import floatformat
from django.utils import timezone

from registry.models import Provider
from registry.versioning import bump_registry_version
from verification.health import due_providers
from verification.models import CheckKind, CheckRun, HealthCheck, HealthState, State, Target

ROOT = Path(__file__).resolve().parents[2]


def check(kind="links", provider_id=None):
    args = ["--kind", kind] + (["--provider", provider_id] if provider_id else [])
    call_command("check_providers", *args, verbosity=0)


def state(target, provider_id="acme"):
    return HealthState.objects.get(provider__provider_id=provider_id, target=target)


def page(client, provider_id="acme"):
    return client.get(f"/providers/{provider_id}/").content.decode()


def test_broken_after_three_failures_in_a_row_and_back_on_one_success(serve, make_provider, client):
    server = serve("127.0.0.2")
    make_provider(base=server.base, links={"docs": server.url("/docs")})
    server.overrides["/docs"] = 200
    check()
    assert state(Target.DOCS).state == State.OK
    assert "Docs</a>:\n    working, checked just now" in page(client)

    server.overrides["/docs"] = 503
    check()
    check()
    docs = state(Target.DOCS)
    assert (docs.state, docs.failures, docs.needs_review) == (State.FAILING, 2, False)
    html = page(client)
    assert "the last check failed (HTTP 503)" in html
    assert "broken since" not in html

    check()
    docs = state(Target.DOCS)
    assert (docs.state, docs.failures, docs.needs_review) == (State.BROKEN, 3, True)
    opened = docs.review_opened_at
    html = page(client)
    assert "broken since" in html and "the last 3 checks failed (HTTP 503)" in html
    assert 'class="link-state link-broken"' in html

    check()  # still broken: no second review item for the same breakage
    docs = state(Target.DOCS)
    assert (docs.failures, docs.review_opened_at) == (4, opened)

    server.overrides["/docs"] = 200
    check()
    docs = state(Target.DOCS)
    assert (docs.state, docs.failures, docs.needs_review) == (State.OK, 0, False)
    assert "broken since" not in page(client)

    server.overrides["/docs"] = 404  # a new breakage is a new item
    for _ in range(3):
        check()
    docs = state(Target.DOCS)
    assert docs.state == State.BROKEN and docs.needs_review and docs.review_opened_at > opened
    assert HealthCheck.objects.filter(target=Target.DOCS).count() == 9


def test_a_reviewed_breakage_is_not_reopened_until_it_recovers(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(base=server.base, links={"docs": server.url("/missing")})
    for _ in range(3):
        check()
    HealthState.objects.filter(target=Target.DOCS).update(needs_review=False)
    check()
    assert not state(Target.DOCS).needs_review


def test_a_changed_url_starts_its_history_again(serve, make_provider, client):
    server = serve("127.0.0.2")
    provider = make_provider(base=server.base, links={"docs": server.url("/missing")})
    for _ in range(3):
        check()
    assert state(Target.DOCS).state == State.BROKEN
    Provider.objects.filter(pk=provider.pk).update(documentation_url=server.url("/ok"))
    bump_registry_version()
    assert "Docs</a>:\n    not checked yet" in page(client)
    assert due_providers(CheckKind.LINKS) == [Provider.objects.get(pk=provider.pk)]
    check()
    docs = state(Target.DOCS)
    assert (docs.url, docs.state, docs.failures) == (server.url("/ok"), State.OK, 0)


def test_offline_when_every_host_fails_at_the_network_level(
    serve, make_provider, closed_port, client
):
    working = serve("127.0.0.2")
    make_provider("acme", base=working.base)
    check()
    before = list(HealthState.objects.values_list("target", "state", "failures", "url"))
    results = HealthCheck.objects.count()
    # Every link of every provider now points at a port where nothing listens.
    for n, provider in enumerate(Provider.objects.all()):
        dead = closed_port(f"127.0.0.{10 + n}")
        Provider.objects.filter(pk=provider.pk).update(
            signup_url=dead + "/a", api_key_url=dead + "/b", documentation_url=dead + "/c",
            website_url=closed_port("127.0.0.20") + "/d",
        )  # fmt: skip
    make_provider("newco", base=closed_port("127.0.0.30"))
    with pytest.raises(CommandError, match="Offline"):
        check()
    run = CheckRun.objects.order_by("-started_at").first()
    assert run.offline and "failed at the network level (refused)" in run.summary
    # Nothing was recorded or marked: not the old provider's states, not the new one's.
    assert HealthCheck.objects.count() == results
    assert list(HealthState.objects.values_list("target", "state", "failures", "url")) == before
    assert not HealthState.objects.filter(provider__provider_id="newco").exists()
    html = page(client, "newco")
    assert html.count("not checked yet") == 4
    assert "link-broken" not in html and "failed" not in html


def test_not_offline_when_one_host_answers(serve, make_provider, closed_port):
    working = serve("127.0.0.2")
    make_provider(base=working.base, links={"docs": closed_port("127.0.0.3") + "/docs"})
    check()
    assert not CheckRun.objects.get().offline
    docs = state(Target.DOCS)
    assert (docs.state, docs.last_error_kind) == (State.FAILING, "refused")


@pytest.mark.skipif(
    "sqlite" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="the command runs in a network namespace of its own, which reaches no database "
    "server: SQLite only",
)
@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1)")
@pytest.mark.django_db(transaction=True)
def test_a_machine_without_network_marks_nothing(default_providers, client):
    """The real thing: check_providers in a network namespace with no interface at all,
    against the default providers' real addresses. DNS fails for every host; nothing is
    marked and the pages say "not checked yet"."""
    env = {**os.environ, "SQLITE_PATH": str(django_settings.DATABASES["default"]["NAME"])}
    try:
        done = subprocess.run(
            ["unshare", "--net", sys.executable, "manage.py", "check_providers"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except PermissionError:
        pytest.skip("unshare is not permitted here")
    if "unshare failed" in done.stderr:
        pytest.skip(f"unshare is not permitted here: {done.stderr.strip()}")
    assert done.returncode == 2, done.stderr
    assert "the checker is offline" in done.stderr
    assert "failed at the network level (dns)" in done.stdout
    assert CheckRun.objects.filter(offline=True).count() == 2  # links and API
    assert not HealthCheck.objects.exists()
    assert not HealthState.objects.exists()
    html = page(client, "openrouter")
    assert html.count("not checked yet") == 4 and "Not checked yet" in html


# --- API probes -----------------------------------------------------------------------


def test_api_probe_up_on_401_and_200_down_on_500_timeout_and_refusal(
    serve, make_provider, closed_port, client
):
    api = serve("127.0.0.2")
    make_provider("keyed", base=api.base, api=api.url("/v1"))  # /v1/models: 401
    make_provider("open", base=api.base, api=api.url("/open/"))
    api.overrides["/open/models"] = 200
    make_provider("failing", base=api.base, api=api.url("/bad"))
    api.overrides["/bad/models"] = 502
    make_provider("slow", base=api.base, api=api.url("/slow"))
    make_provider("gone", base=api.base, api=closed_port("127.0.0.3"))
    check("api")
    probes = {p.provider.provider_id: p for p in HealthCheck.objects.select_related("provider")}
    assert probes["keyed"].url == api.url("/v1/models")
    assert (probes["keyed"].method, probes["keyed"].status, probes["keyed"].ok) == (
        "GET",
        401,
        True,
    )
    assert probes["open"].url == api.url("/open/models")  # one slash, from "/open/"
    assert (probes["open"].status, probes["open"].ok) == (200, True)
    assert (probes["failing"].status, probes["failing"].ok) == (502, False)
    assert (probes["gone"].error_kind, probes["gone"].ok) == ("refused", False)
    assert (probes["slow"].error_kind, probes["slow"].ok) == ("timeout", False)
    for provider_id in ("keyed", "open"):
        assert state(Target.API, provider_id).state == State.OK
        assert probes[provider_id].latency_ms is not None
    for provider_id in ("failing", "gone", "slow"):
        api_state = state(Target.API, provider_id)
        assert api_state.state == State.BROKEN  # down from the first failed probe
        assert api_state.failing_since is not None
    html = page(client, "keyed")
    assert '<span class="api-status api-up">Up</span>' in html
    assert "(HTTP 401)" in html
    assert "<dd>100%</dd>" in html
    assert '<span class="api-status api-down">Down</span>' in page(client, "failing")


def test_uptime_windows_and_the_90_day_bar(serve, make_provider, client):
    api = serve("127.0.0.2")
    provider = make_provider(base=api.base, api=api.url("/v1"))
    Provider.objects.filter(pk=provider.pk).update(created_at=timezone.now() - timedelta(40))
    check("api")  # today: one probe, up
    run = CheckRun.objects.get()
    # Four probes a day for the 29 days before today; one of them down 3, 4 and 5 days ago.
    rows = []
    for days_ago in range(1, 30):
        day = timezone.localdate() - timedelta(days=days_ago)
        for hour in (0, 6, 12, 18):
            down = days_ago in (3, 4, 5) and hour == 12
            rows.append(
                HealthCheck(
                    run=run, provider=provider, target=Target.API, url=api.url("/v1/models"),
                    checked_at=datetime.combine(day, time(hour, 30), tzinfo=UTC),
                    method="GET", status=503 if down else 401, ok=not down, latency_ms=50,
                )
            )  # fmt: skip
    HealthCheck.objects.bulk_create(rows)
    call_command("snapshot_registry", "--backfill", "30", verbosity=0)
    html = page(client)
    week = HealthCheck.objects.filter(checked_at__gte=timezone.now() - timedelta(days=7)).count()
    assert "<dt>24 hours</dt><dd>100%</dd>" in html
    assert f"<dt>7 days</dt><dd>{floatformat((week - 3) / week * 100, '-2')}%</dd>" in html
    assert f"<dt>30 days</dt><dd>{floatformat(114 / 117 * 100, '-2')}%</dd>" in html
    assert "117 probes" in html
    # The bar: a cell per day for 90 days; a day with one probe in four down is degraded.
    assert html.count("<rect ") == 90
    assert html.count('class="day-degraded"') == 3
    assert html.count('class="day-up"') == 27  # 26 past days and today
    assert "Last 90 days: 27 days up, 3 degraded, 0 down, 60 without data." in html


def test_a_provider_without_an_api_address_is_not_probed(make_provider, client):
    make_provider()
    call_command("check_providers", "--kind", "api", verbosity=0)
    assert CheckRun.objects.get().targets == 0
    assert "its API is not probed" in page(client)


# --- what the periodic tasks check ----------------------------------------------------


def test_due_checks(serve, make_provider, closed_port, settings):
    server = serve("127.0.0.2")
    acme = make_provider("acme", base=server.base, api=server.url("/v1"))
    assert due_providers(CheckKind.LINKS) == [acme]  # never checked
    check()
    check("api")
    assert due_providers(CheckKind.LINKS) == []
    assert due_providers(CheckKind.API) == []
    newco = make_provider("newco", base=server.base)
    assert due_providers(CheckKind.LINKS) == [newco]  # its links were never checked
    assert due_providers(CheckKind.API) == []  # it has no API to probe
    later = timezone.now() + timedelta(minutes=settings.VERIFICATION_API_INTERVAL_MINUTES + 1)
    assert set(due_providers(CheckKind.API, now=later)) == {acme, newco}
    tomorrow = timezone.now() + timedelta(hours=25)
    assert set(due_providers(CheckKind.LINKS, now=tomorrow)) == {acme, newco}
    # After an offline run, nothing is due until the API interval has passed.
    CheckRun.objects.create(kind=CheckKind.LINKS, offline=True)
    assert due_providers(CheckKind.LINKS) == []
    assert set(due_providers(CheckKind.LINKS, now=later)) == {acme, newco}
