"""The checker against real HTTP servers on loopback: the rows it records for 200s, 301
chains, 404, 500, slow answers, resets, HEAD-refusing servers and TLS failures, and its
politeness per host."""

import errno
import socket
from itertools import pairwise

import pytest
from django.core.management import call_command

from verification.checker import MAX_REDIRECTS, error_kind
from verification.models import CheckRun, ErrorKind, HealthCheck, HealthState, State, Target


def check_links(provider_id="acme"):
    call_command("check_providers", "--provider", provider_id, "--kind", "links", verbosity=0)


def row(target, provider_id="acme"):
    return HealthCheck.objects.get(provider__provider_id=provider_id, target=target)


def test_a_working_link_is_recorded_with_the_polite_user_agent(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(base=server.base)
    check_links()
    signup = row(Target.SIGNUP)
    assert signup.url == server.url("/ok")
    assert (signup.method, signup.status, signup.ok) == ("HEAD", 200, True)
    assert signup.final_url == server.url("/ok")
    assert signup.redirects == []
    assert signup.error_kind == ""
    assert signup.latency_ms is not None and signup.latency_ms >= 0
    assert signup.checked_at is not None
    agents = {request["user_agent"] for request in server.requests}
    assert agents == {"BYOK-Provider-Registry-Checker/1.0 (+https://registry.example/contact)"}
    assert HealthState.objects.get(target=Target.SIGNUP).state == State.OK


def test_a_301_chain_is_followed_and_every_hop_recorded(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(
        base=server.base,
        links={
            "signup": server.url(f"/chain/{MAX_REDIRECTS}"),
            "docs": server.url(f"/chain/{MAX_REDIRECTS + 1}"),
            "website": server.url("/loop"),
        },
    )
    check_links()
    signup = row(Target.SIGNUP)
    assert signup.ok and signup.status == 200
    assert signup.redirects == [
        [301, server.url(f"/chain/{n}")] for n in range(MAX_REDIRECTS - 1, -1, -1)
    ]
    assert signup.final_url == server.url("/chain/0")
    # One hop too many, and a loop, are failures of their own kind.
    docs, website = row(Target.DOCS), row(Target.WEBSITE)
    assert (docs.ok, docs.error_kind) == (False, ErrorKind.REDIRECTS)
    assert len(docs.redirects) == MAX_REDIRECTS + 1
    assert (website.ok, website.error_kind) == (False, ErrorKind.REDIRECTS)


def test_a_permanent_redirect_elsewhere_is_moved_a_temporary_one_is_not(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(
        base=server.base, links={"docs": server.url("/moved"), "signup": server.url("/found")}
    )
    check_links()
    docs = HealthState.objects.get(target=Target.DOCS)
    assert docs.state == State.MOVED
    assert docs.moved_to == server.url("/new-home")
    assert docs.needs_review
    signup = HealthState.objects.get(target=Target.SIGNUP)
    assert signup.state == State.OK and signup.moved_to == ""
    assert row(Target.SIGNUP).redirects == [[302, server.url("/ok")]]


def test_404_and_500_are_http_failures(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(
        base=server.base, links={"docs": server.url("/missing"), "signup": server.url("/error")}
    )
    check_links()
    for target, status in ((Target.DOCS, 404), (Target.SIGNUP, 500)):
        result = row(target)
        assert (result.ok, result.status, result.error_kind) == (False, status, ErrorKind.HTTP)
        assert result.error == f"HTTP {status}"
        assert result.method == "HEAD"  # only 403, 405 and 501 make it ask again with GET
        state = HealthState.objects.get(target=target)
        assert (state.state, state.failures) == (State.FAILING, 1)


def test_a_slow_answer_times_out_and_a_reset_is_recorded(serve, make_provider):
    server = serve("127.0.0.2")
    make_provider(
        base=server.base, links={"docs": server.url("/slow"), "signup": server.url("/reset")}
    )
    check_links()
    slow = row(Target.DOCS)
    assert (slow.ok, slow.error_kind, slow.status) == (False, ErrorKind.TIMEOUT, None)
    assert slow.error == "no answer within 0.5 s"
    reset = row(Target.SIGNUP)
    assert (reset.ok, reset.error_kind) == (False, ErrorKind.RESET)


@pytest.mark.parametrize("refusal", [403, 405, 501])
def test_a_server_refusing_head_is_asked_again_with_get(serve, make_provider, refusal):
    server = serve("127.0.0.2")
    make_provider(base=server.base, links={"docs": server.url(f"/no-head/{refusal}")})
    check_links()
    docs = row(Target.DOCS)
    assert (docs.method, docs.status, docs.ok) == ("GET", 200, True)
    asked = [r["method"] for r in server.requests if r["path"] == f"/no-head/{refusal}"]
    assert asked == ["HEAD", "GET"]


def test_a_connection_refused_and_a_bad_certificate(serve, make_provider, closed_port):
    answering = serve("127.0.0.2")
    secure = serve(tls=True)  # its certificate is self-signed: not trusted
    make_provider(
        base=answering.base,
        links={
            "docs": closed_port("127.0.0.3") + "/ok",
            "signup": secure.url("/ok"),
            # TLS spoken to a plain-HTTP port.
            "website": answering.base.replace("http://", "https://") + "/ok",
        },
    )
    check_links()
    assert row(Target.DOCS).error_kind == ErrorKind.REFUSED
    assert row(Target.SIGNUP).error_kind == ErrorKind.TLS
    assert "CERTIFICATE_VERIFY_FAILED" in row(Target.SIGNUP).error
    assert row(Target.WEBSITE).error_kind == ErrorKind.TLS


def test_a_trusted_certificate_is_checked_over_https(serve, make_provider, trust_test_certificate):
    secure = serve(tls=True)
    make_provider(base=secure.base)
    check_links()
    assert row(Target.SIGNUP).ok and row(Target.SIGNUP).url.startswith("https://127.0.0.5:")


def test_network_errors_are_told_apart():
    """DNS and "no route" cannot be produced on loopback: the classifier is given the
    exceptions the socket layer raises for them."""
    assert error_kind(socket.gaierror(socket.EAI_NONAME, "Name or service not known")) == (
        ErrorKind.DNS,
        True,
    )
    assert error_kind(OSError(errno.ENETUNREACH, "Network is unreachable")) == (
        ErrorKind.UNREACHABLE,
        True,
    )
    assert error_kind(ConnectionRefusedError()) == (ErrorKind.REFUSED, True)
    assert error_kind(ConnectionResetError()) == (ErrorKind.RESET, False)
    assert error_kind(TimeoutError()) == (ErrorKind.TIMEOUT, False)


def overlaps(intervals):
    """The most intervals (start, end) open at one moment. A server notes a request's start
    once it has read it and its end before it answers, so each is within the client's."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def test_one_request_at_a_time_per_host_with_a_delay(serve, make_provider, settings):
    settings.VERIFICATION_HOST_DELAY = 0.1
    settings.VERIFICATION_CONCURRENCY = 3
    hosts = [serve(f"127.0.0.{n}") for n in (2, 3, 4)]
    for n in range(6):
        # Every link answers after a pause: with only the docs link pausing, the hosts'
        # few long requests could miss each other on a loaded machine, however side by
        # side the checker ran them.
        server = hosts[n % 3]
        pause = {
            target: server.url("/pause") for target in ("signup", "api_key", "docs", "website")
        }
        make_provider(f"p{n}", base=server.base, links=pause)
    call_command("check_providers", "--kind", "links", verbosity=0)
    assert HealthCheck.objects.count() == 24
    for server in hosts:
        assert len(server.requests) == 8
        assert server.peak == 1  # never two requests at once on one host
        times = sorted((r["start"], r["end"]) for r in server.requests)
        gaps = [start - end for (_, end), (start, _) in pairwise(times)]
        assert min(gaps) >= 0.09  # the delay, less the clock's grain
    # The hosts were checked side by side, within the bound.
    every = [(r["start"], r["end"]) for server in hosts for r in server.requests]
    assert overlaps(every) >= 2
    run = CheckRun.objects.get()
    assert 2 <= run.peak_concurrency <= 3
    assert run.hosts == 3


def test_total_concurrency_is_bounded(serve, make_provider, settings):
    settings.VERIFICATION_CONCURRENCY = 2
    settings.VERIFICATION_HOST_DELAY = 0
    hosts = [serve(f"127.0.1.{n}") for n in range(1, 7)]
    pause = {target: "/pause" for target in ("signup", "api_key", "docs", "website")}
    for n, server in enumerate(hosts):
        make_provider(f"p{n}", links={k: server.url(v) for k, v in pause.items()})
    call_command("check_providers", "--kind", "links", verbosity=0)
    every = [(r["start"], r["end"]) for server in hosts for r in server.requests]
    assert len(every) == 24
    assert overlaps(every) == 2
    assert CheckRun.objects.get().peak_concurrency == 2
