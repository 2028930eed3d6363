"""Polite HTTP checks of many URLs: no database here, only the network.

- HEAD first, GET when a server refuses HEAD (403, 405, 501).
- At most MAX_REDIRECTS redirects, every hop recorded.
- Separate connect and read timeouts.
- A User-Agent naming the site, with a contact URL (settings.VERIFICATION_CONTACT_URL).
- At most one request at a time per host, with a delay between two requests to it
  (HostPacer), and a bounded number of requests in flight overall (the thread pool).

The standard library's http.client does all of this in a few lines, and tells DNS,
refused, unreachable, timeout, TLS and reset apart by exception type, which is what the
result rows record; an HTTP client library would hide those behind its own errors.
"""

import errno
import http.client
import socket
import ssl
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .models import ErrorKind

MAX_REDIRECTS = 5
HEAD_REFUSED = {403, 405, 501}
PERMANENT = {301, 308}
REDIRECT = {301, 302, 303, 307, 308}
BODY_READ_LIMIT = 64 * 1024  # a GET reads at most this much before hanging up
SITE_NAME = "BYOK-Provider-Registry-Checker/1.0"

# Failures that happen before any server answered: when every host of a run fails this
# way, the machine is offline, not the registry broken.
NETWORK_LEVEL = {ErrorKind.DNS, ErrorKind.REFUSED, ErrorKind.UNREACHABLE}
UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


def user_agent():
    return f"{SITE_NAME} (+{settings.VERIFICATION_CONTACT_URL})"


@dataclass
class Result:
    url: str
    checked_at: float  # time.time() when the first request was sent
    method: str = "HEAD"
    status: int | None = None
    final_url: str = ""
    redirects: list = field(default_factory=list)
    latency_ms: int | None = None
    error_kind: str = ErrorKind.NONE
    error: str = ""
    network_level: bool = False  # failed before any server answered

    @property
    def moved_to(self):
        """Where the leading permanent redirects lead, if somewhere else: "" otherwise."""
        location = ""
        for status, hop in self.redirects:
            if status not in PERMANENT:
                break
            location = hop
        if location and not same_place(self.url, location):
            return location
        return ""


def same_place(a, b):
    """The same page for a visitor: scheme upgrades and a trailing slash do not count."""
    a, b = urlsplit(a), urlsplit(b)
    return (a.hostname, a.path.rstrip("/"), a.query) == (b.hostname, b.path.rstrip("/"), b.query)


class HostPacer:
    """One request at a time per host, and `delay` seconds from the end of one request to
    a host to the start of the next. One pacer serves the whole process (shared_pacer()),
    so the link run and the API run of one worker keep the rule between them too."""

    def __init__(self, delay):
        self.delay = delay
        self._locks = defaultdict(threading.Lock)
        self._last = {}
        self._guard = threading.Lock()

    @contextmanager
    def turn(self, host, gauge):
        with self._guard:
            lock = self._locks[host]
        with lock:
            wait = self._last.get(host, float("-inf")) + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                with gauge:
                    yield
            finally:
                self._last[host] = time.monotonic()


_shared = None


def shared_pacer():
    global _shared
    if _shared is None or _shared.delay != settings.VERIFICATION_HOST_DELAY:
        _shared = HostPacer(settings.VERIFICATION_HOST_DELAY)
    return _shared


class Gauge:
    """Requests in flight in one run, and the most at once (the run's concurrency)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.in_flight = self.peak = 0

    def __enter__(self):
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def __exit__(self, *exc):
        with self._lock:
            self.in_flight -= 1


def error_kind(error):
    """The kind of a network error, and whether it happened before any server answered."""
    if isinstance(error, socket.gaierror):
        return ErrorKind.DNS, True
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return ErrorKind.TLS, False
    if isinstance(error, ValueError):  # a port out of range, a malformed host name
        return ErrorKind.INVALID, False
    if isinstance(error, ConnectionRefusedError):
        return ErrorKind.REFUSED, True
    if isinstance(error, TimeoutError):
        return ErrorKind.TIMEOUT, False
    if isinstance(error, ConnectionError | http.client.HTTPException):
        return ErrorKind.RESET, False
    if isinstance(error, OSError) and error.errno in UNREACHABLE_ERRNOS:
        return ErrorKind.UNREACHABLE, True
    return ErrorKind.RESET, False


def _request(method, url, timeouts):
    """One request, no redirect followed: (status, location, latency in ms)."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connect_timeout, read_timeout = timeouts
    connection = connection_class(parts.hostname, parts.port, timeout=connect_timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        try:
            connection.connect()
        except TimeoutError as error:
            # A silent address: nothing answered, as with no route.
            raise _ConnectTimeout(f"no connection within {connect_timeout:g} s") from error
        connection.sock.settimeout(read_timeout)
        connection.request(
            method,
            target,
            headers={"User-Agent": user_agent(), "Accept": "*/*", "Connection": "close"},
        )
        response = connection.getresponse()
        latency = round((time.monotonic() - started) * 1000)
        if method == "GET":
            response.read(BODY_READ_LIMIT)
        return response.status, response.getheader("Location", ""), latency
    finally:
        connection.close()


class _ConnectTimeout(TimeoutError):
    pass


def check(url, pacer, gauge, *, method="HEAD", timeouts=None):
    """Fetch `url` the polite way and return what happened (never raises)."""
    if timeouts is None:
        timeouts = (settings.VERIFICATION_CONNECT_TIMEOUT, settings.VERIFICATION_READ_TIMEOUT)
    result = Result(url=url, checked_at=time.time(), method=method)
    current, seen = url, {url}
    while True:
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            result.error_kind, result.error = ErrorKind.INVALID, f"cannot check {current[:200]}"
            return result
        try:
            with pacer.turn(parts.hostname.lower(), gauge):
                status, location, latency = _request(method, current, timeouts)
        except _ConnectTimeout as error:
            result.error_kind, result.error = ErrorKind.TIMEOUT, str(error)
            result.network_level = result.latency_ms is None
            return result
        except (OSError, http.client.HTTPException, ValueError) as error:
            kind, network_level = error_kind(error)
            # After a redirect a server has answered: the network works.
            result.error_kind = kind
            result.network_level = network_level and result.latency_ms is None
            result.error = (str(error) or type(error).__name__)[:300]
            if kind == ErrorKind.TIMEOUT:
                result.error = f"no answer within {timeouts[1]:g} s"
            return result
        if result.latency_ms is None:
            result.latency_ms = latency
        if method == "HEAD" and status in HEAD_REFUSED:
            method = result.method = "GET"  # the server refuses HEAD: ask again with GET
            continue
        result.status, result.final_url = status, current
        if status in REDIRECT and location:
            following = urljoin(current, location)
            result.redirects.append([status, following])
            if len(result.redirects) > MAX_REDIRECTS or following in seen:
                result.error_kind = ErrorKind.REDIRECTS
                result.error = f"more than {MAX_REDIRECTS} redirects, or a loop"
                return result
            seen.add(following)
            current = following
            continue
        if status >= 400:
            result.error_kind, result.error = ErrorKind.HTTP, f"HTTP {status}"
        return result


@dataclass
class Job:
    """One URL to check, and what it belongs to (opaque to the checker)."""

    key: object
    url: str
    method: str = "HEAD"


def host_of(url):
    return (urlsplit(url).hostname or "").lower()


def check_all(jobs, *, concurrency=None, pacer=None):
    """Check every job; return ({job.key: Result}, peak requests in flight).

    Jobs are grouped by host and each host's jobs run one after the other (the pacer
    holds the per-host rule also across redirects to another host), so the pool's
    threads spread over hosts, never more than `concurrency` requests at once."""
    concurrency = concurrency or settings.VERIFICATION_CONCURRENCY
    pacer = pacer or shared_pacer()
    gauge = Gauge()
    by_host = defaultdict(list)
    for job in jobs:
        by_host[host_of(job.url)].append(job)

    def run_host(host_jobs):
        return [(job.key, check(job.url, pacer, gauge, method=job.method)) for job in host_jobs]

    results = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="check") as pool:
        for done in pool.map(run_host, by_host.values()):
            results.update(done)
    return results, gauge.peak
