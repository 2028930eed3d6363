"""The maintainers' side: links to review and "adopt the new URL", alerts and check runs
(offline flagged), and the providers whose facts are due for another look."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.models import Provider, today
from verification.models import Alert, CheckKind, CheckRun, HealthState, State, Target


@pytest.fixture
def maintainer(client, db):
    user = User.objects.create_superuser("maintainer", "m@example.org", "correct horse 42")
    client.force_login(user)
    return client


def action(client, url, name, pks):
    return client.post(
        url, {"action": name, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )


def test_a_moved_link_can_be_adopted(
    maintainer, serve, make_provider, trust_test_certificate, client
):
    secure = serve(tls=True)
    provider = make_provider(base=secure.base, links={"docs": secure.url("/moved")})
    call_command("check_providers", "--kind", "links", verbosity=0)
    docs = HealthState.objects.get(target=Target.DOCS)
    assert (docs.state, docs.needs_review) == (State.MOVED, True)
    listing = maintainer.get("/admin/verification/healthstate/?needs_review__exact=1")
    assert "Link checks: 1 to review" in listing.content.decode()
    assert secure.url("/new-home") in listing.content.decode()

    response = action(maintainer, "/admin/verification/healthstate/", "adopt_new_url", [docs.pk])
    assert "1 new URL adopted." in response.content.decode()
    provider.refresh_from_db()
    assert provider.documentation_url == secure.url("/new-home")
    docs.refresh_from_db()
    assert (docs.url, docs.state, docs.needs_review) == (provider.documentation_url, "ok", False)
    page = client.get("/providers/acme/").content.decode()
    assert f'href="{secure.url("/new-home")}"' in page
    # The next check of the adopted URL finds it working where it is.
    call_command("check_providers", "--kind", "links", verbosity=0)
    assert HealthState.objects.get(target=Target.DOCS).state == State.OK


def test_a_moved_link_to_plain_http_is_not_adopted(maintainer, serve, make_provider):
    server = serve("127.0.0.2")
    provider = make_provider(base=server.base, links={"docs": server.url("/moved")})
    call_command("check_providers", "--kind", "links", verbosity=0)
    docs = HealthState.objects.get(target=Target.DOCS)
    response = action(maintainer, "/admin/verification/healthstate/", "adopt_new_url", [docs.pk])
    assert "0 new URLs adopted. 1 skipped (not moved, or not https)." in response.content.decode()
    provider.refresh_from_db()
    assert provider.documentation_url == server.url("/moved")


def test_the_admin_says_when_the_checker_is_offline(maintainer, make_provider, closed_port):
    make_provider(base=closed_port("127.0.0.2"))
    with pytest.raises(CommandError):
        call_command("check_providers", "--kind", "links", verbosity=0)
    for url in ("/admin/verification/checkrun/", "/admin/verification/healthstate/"):
        html = maintainer.get(url).content.decode()
        assert "The checker was offline at its last run" in html
        assert "failed at the network level (refused)" in html


def test_alerts_are_listed(maintainer, make_provider):
    provider = make_provider()
    Alert.objects.create(provider=provider, rule="api_down", title="API down", since=timezone.now())
    Alert.objects.create(
        provider=provider, rule="trust_drop", title="Old drop", since=timezone.now(),
        resolved_at=timezone.now(),
    )  # fmt: skip
    html = maintainer.get("/admin/verification/alert/").content.decode()
    assert "Alerts: 1 open" in html and "API down" in html and "Old drop" in html
    assert maintainer.get("/admin/verification/healthcheck/").status_code == 200
    CheckRun.objects.create(kind=CheckKind.API, summary="3 of 3 answered as expected.")
    assert "3 of 3 answered" in maintainer.get("/admin/verification/checkrun/").content.decode()


def test_providers_to_verify_oldest_first_and_marked_verified_in_one_action(
    maintainer, make_provider, client
):
    days = {"never": None, "old": 400, "stale": 91, "fresh": 10}
    for provider_id, age in days.items():
        make_provider(
            provider_id,
            last_verified=None if age is None else today() - timedelta(days=age),
        )
    html = maintainer.get("/admin/verification/providertoverify/").content.decode()
    listed = [name for name in ("Never", "Old", "Stale", "Fresh") if f">{name}<" in html]
    assert listed == ["Never", "Old", "Stale"]
    assert html.index(">Never<") < html.index(">Old<") < html.index(">Stale<")
    everything = maintainer.get("/admin/verification/providertoverify/?verified=all")
    assert ">Fresh<" in everything.content.decode()

    stale = Provider.objects.filter(provider_id__in=["never", "old", "stale"])
    before = client.get("/providers/old/").content.decode()
    response = action(
        maintainer,
        "/admin/verification/providertoverify/",
        "mark_verified_today",
        stale.values_list("pk", flat=True),
    )
    assert "3 providers marked verified today." in response.content.decode()
    assert set(stale.values_list("last_verified", flat=True)) == {today()}
    assert ">Old<" not in response.content.decode()  # back on the list: nothing stale now
    after = client.get("/providers/old/").content.decode()
    assert after != before and today().strftime("%-d %b %Y") in after
