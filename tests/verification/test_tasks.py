"""The huey tasks call the same functions as the commands. Here huey runs them in
immediate mode (in this process, through huey's own enqueue and execute); .ci/run runs
the real worker once (.ci/worker_check.py)."""

import pytest
from huey.contrib.djhuey import HUEY

from verification import tasks
from verification.models import Alert, CheckRun, DailySnapshot, HealthCheck


@pytest.fixture
def immediate():
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def test_the_on_demand_check_task(immediate, serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(base=server.base, links={"docs": server.url("/missing")})
    tasks.check_providers("links", ["acme"])  # enqueued, and run at once
    assert HealthCheck.objects.count() == 4
    assert CheckRun.objects.get().kind == "links"


def test_the_periodic_ticks_check_what_is_due_and_detect(immediate, serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(base=server.base, api=server.url("/v1"), links={"docs": server.url("/missing")})
    for _ in range(3):
        tasks.check_due_links.call_local()
        # Due again only tomorrow: make it due now by forgetting when the last run was.
        CheckRun.objects.filter(kind="links").update(started_at="2000-01-01T00:00Z")
    tasks.probe_due_apis.call_local()
    tasks.probe_due_apis.call_local()  # not due again for 15 minutes: nothing more
    assert HealthCheck.objects.filter(target="api").count() == 1
    assert HealthCheck.objects.filter(target="docs").count() == 3
    assert Alert.objects.open().get().title == "Docs link broken"  # detected after the check
    tasks.nightly_snapshot.call_local()
    assert DailySnapshot.objects.exists() is False  # added today: no history before today
    tasks.hourly_alerts.call_local()
    assert Alert.objects.open().count() == 1


def test_a_running_check_is_not_started_twice(immediate, serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(base=server.base)
    with tasks.LOCKS["links"]:
        tasks.check_due_links.call_local()
    assert not CheckRun.objects.exists()
    tasks.check_due_links.call_local()
    assert CheckRun.objects.count() == 1
