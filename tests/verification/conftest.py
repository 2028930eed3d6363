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
    /slow               answers after SLOW_SECONDS, beyond the tests' read timeout
    /reset              closes the connection with a TCP reset, no answer
    /no-head            405 to HEAD, 200 to GET
    /v1/models          401 (an API that wants a key: up)

`server.overrides[path] = status` changes a path's answer while the test runs. Every
request is recorded with its method, path, User-Agent and start and end times.
"""

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.models import Provider

SLOW_SECONDS = 1.5


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_HEAD(self):
        self.answer()

    def do_GET(self):
        self.answer()

    def answer(self):
        server = self.server
        started = time.monotonic()
        with server.lock:
            server.in_flight += 1
            server.peak = max(server.peak, server.in_flight)
        try:
            self.route()
        finally:
            with server.lock:
                server.in_flight -= 1
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "user_agent": self.headers.get("User-Agent", ""),
                        "start": started,
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
        if path == "/slow":
            time.sleep(SLOW_SECONDS)
            return self.send(200)
        if path == "/reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
            self.close_connection = True
            return None
        if path == "/no-head":
            return self.send(405 if self.command == "HEAD" else 200)
        if path == "/v1/models":
            return self.send(401)
        return self.send(404)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address):
        super().__init__((address, 0), Handler)
        self.lock = threading.Lock()
        self.requests = []
        self.in_flight = self.peak = 0
        self.overrides = {}
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path):
        return self.base + path

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def serve():
    """serve("127.0.0.2") starts a LoopbackServer on that address; all stop after the test."""
    servers = []

    def start(address="127.0.0.1"):
        server = LoopbackServer(address)
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
def make_provider(db):
    """A published provider whose four links and API point where the test says."""

    def make(provider_id="acme", *, base=None, links=None, api=""):
        links = links or {}
        base = base or "https://acme.example"
        return Provider.objects.create(
            provider_id=provider_id,
            provider_name=provider_id.title(),
            signup_url=links.get("signup", base + "/ok"),
            api_key_url=links.get("api_key", base + "/ok"),
            documentation_url=links.get("docs", base + "/ok"),
            website_url=links.get("website", base + "/ok"),
            api_base_url=api,
        )

    return make
