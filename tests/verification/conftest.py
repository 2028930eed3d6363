"""Real HTTP servers on loopback for the checker to check (no test touches the internet).

Each server binds its own loopback address (127.0.0.2, 127.0.0.3, ... are distinct hosts
to the checker) and answers by path:

    /ok                 200
    /chain/N            301 to /chain/N-1, ..., /chain/0 answers 200
    /moved              301 to /new-home (200): a permanent move
    /found              302 to /ok: a temporary redirect, not a move
    /loop               301 to itself
    /missing            404
    /error              500
    /slow[/models]      answers after SLOW_SECONDS, beyond the tests' read timeout
    /pause              answers after PAUSE_SECONDS, within it (to see requests overlap)
    /reset              closes the connection with a TCP reset, no answer
    /no-head[/S]        405 (or S: 403, 501) to HEAD, 200 to GET
    /v1/models          401 (an API that wants a key: up)

`server.overrides[path] = status` changes a path's answer while the test runs. Every
request is recorded with its method, path, User-Agent and start and end times.
"""

import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import F
from django.utils import timezone

from registry.models import Provider, Rating, SetupReport
from registry.versioning import bump_registry_version

SLOW_SECONDS = 1.5
PAUSE_SECONDS = 0.1


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_HEAD(self):
        self.answer()

    def do_GET(self):
        self.answer()

    def answer(self):
        server = self.server
        self.started, self.recorded = time.monotonic(), False
        with server.lock:
            server.in_flight += 1
            server.peak = max(server.peak, server.in_flight)
        try:
            self.route()
        finally:
            self.record()  # (an answer that never came: /reset)

    def record(self):
        """Notes the request as over, just before the answer goes out (send): a client may
        start its next request the moment it has the answer, and an end noted after
        writing it could come after that start on a loaded machine, a false overlap."""
        if self.recorded:
            return
        self.recorded = True
        server = self.server
        with server.lock:
            server.in_flight -= 1
            server.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "user_agent": self.headers.get("User-Agent", ""),
                    "start": self.started,
                    "end": time.monotonic(),
                }
            )

    def send(self, status, location=None):
        body = b"" if self.command == "HEAD" else f"status {status}\n".encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.record()
        self.end_headers()
        self.wfile.write(body)

    def route(self):
        path = self.path
        if path in self.server.overrides:
            return self.send(self.server.overrides[path])
        if path == "/ok" or path == "/new-home" or path == "/chain/0":
            return self.send(200)
        if path.startswith("/chain/"):
            return self.send(301, f"/chain/{int(path.rsplit('/', 1)[1]) - 1}")
        if path == "/moved":
            return self.send(301, "/new-home")
        if path == "/found":
            return self.send(302, "/ok")
        if path == "/loop":
            return self.send(301, "/loop")
        if path == "/missing":
            return self.send(404)
        if path == "/error":
            return self.send(500)
        if path in ("/slow", "/slow/models"):
            time.sleep(SLOW_SECONDS)
            return self.send(200)
        if path == "/reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        if path.startswith("/no-head"):
            refusal = int(path.removeprefix("/no-head").strip("/") or 405)
            return self.send(refusal if self.command == "HEAD" else 200)
        if path == "/pause":
            time.sleep(PAUSE_SECONDS)
            return self.send(200)
        if path == "/v1/models":
            return self.send(401)
        return self.send(404)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    scheme = "http"

    def __init__(self, address, tls=None):
        super().__init__((address, 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.lock = threading.Lock()
        self.requests = []
        self.in_flight = self.peak = 0
        self.overrides = {}
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass  # a client that gave up on /slow: expected, not worth a traceback

    @property
    def base(self):
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, path):
        return self.base + path

    def stop(self):
        self.shutdown()
        self.server_close()


TLS_ADDRESS = "127.0.0.5"


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory):
    """A self-signed certificate for TLS_ADDRESS, made with openssl: (cert, key) paths."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", f"/CN={TLS_ADDRESS}",
         "-addext", f"subjectAltName=IP:{TLS_ADDRESS}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def serve(request):
    """serve("127.0.0.2") starts a LoopbackServer on that address, serve(tls=True) an
    HTTPS one on TLS_ADDRESS with a self-signed certificate; all stop after the test."""
    servers = []

    def start(address="127.0.0.1", *, tls=False):
        context = None
        if tls:
            cert, key = request.getfixturevalue("tls_certificate")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            address = TLS_ADDRESS
        server = LoopbackServer(address, context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port():
    """A loopback address and port with nothing listening: connection refused."""

    def find(address="127.0.0.1"):
        with socket.socket() as probe:
            probe.bind((address, 0))
            return f"http://{address}:{probe.getsockname()[1]}"

    return find


@pytest.fixture(autouse=True)
def fast_checker(settings):
    """Short timeouts and delays, so slow servers and politeness cost the suite little."""
    settings.VERIFICATION_CONNECT_TIMEOUT = 1.0
    settings.VERIFICATION_READ_TIMEOUT = 0.5
    settings.VERIFICATION_HOST_DELAY = 0.05
    settings.VERIFICATION_CONCURRENCY = 4
    settings.VERIFICATION_CONTACT_URL = "https://registry.example/contact"


@pytest.fixture
def trust_test_certificate(tls_certificate, monkeypatch):
    """Make the checker trust the test certificate, the way a deployment adds a CA:
    through OpenSSL's SSL_CERT_FILE (verification stays on)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificate[0]))


@pytest.fixture
def make_provider(db):
    """A published provider whose four links and API point where the test says."""

    def make(provider_id="acme", *, base=None, links=None, api="", **fields):
        links = links or {}
        # By default a loopback port where nothing listens: a check never leaves the machine.
        base = base or "http://127.0.0.1:9"
        return Provider.objects.create(
            provider_id=provider_id,
            provider_name=provider_id.title(),
            signup_url=links.get("signup", base + "/ok"),
            api_key_url=links.get("api_key", base + "/ok"),
            documentation_url=links.get("docs", base + "/ok"),
            website_url=links.get("website", base + "/ok"),
            api_base_url=api,
            **fields,
        )

    return make


@pytest.fixture
def plant(db):
    """plant(provider, days_ago, reports=, successes=, ratings=, stars=): event rows dated
    that many days ago (noon UTC), with the provider's counters moved by them exactly as
    registry.services would have, so counters stay baseline + events."""

    def add(provider, days_ago, *, reports=0, successes=0, ratings=0, stars=4):
        day = timezone.localdate() - timedelta(days=days_ago)
        when = datetime.combine(day, clock(12), tzinfo=UTC)
        if days_ago == 0:
            when = min(when, timezone.now())
        SetupReport.objects.bulk_create(
            SetupReport(provider=provider, success=n < successes, day=day, created_at=when)
            for n in range(reports)
        )
        Rating.objects.bulk_create(
            Rating(provider=provider, stars=stars, day=day, created_at=when) for _ in range(ratings)
        )
        Provider.objects.filter(pk=provider.pk).update(
            total_users=F("total_users") + reports,
            setup_reports=F("setup_reports") + reports,
            active_users=F("active_users") + successes,
            setup_successes=F("setup_successes") + successes,
            ratings_count=F("ratings_count") + ratings,
            ratings_sum=F("ratings_sum") + ratings * stars,
            positive_reviews=F("positive_reviews") + (ratings if stars >= 4 else 0),
            negative_reviews=F("negative_reviews") + (ratings if stars <= 2 else 0),
        )
        bump_registry_version()

    return add


@pytest.fixture
def aged(db):
    """aged(provider, days): the provider was added `days` days ago."""

    def age(provider, days):
        Provider.objects.filter(pk=provider.pk).update(
            created_at=timezone.now() - timedelta(days=days)
        )

    return age
