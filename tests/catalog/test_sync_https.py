"""sync_models from an https URL: a real HTTPS server on loopback, with a certificate from a
CA the test makes (trustme). Verification is never turned off: the test trusts its CA
through MODELS_SYNC_CA_FILE, and without it the sync is refused."""

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
from django.core.management.base import CommandError

from catalog.models import Offering
from catalog.sync import scheduled_sync

pytestmark = pytest.mark.django_db


class CatalogueServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes):
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def https(ca, tmp_path):
    """(base URL, routes dict, CA bundle path) of a loopback HTTPS server."""
    routes = {}
    server = CatalogueServer(routes)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    yield f"https://127.0.0.1:{server.server_address[1]}", routes, str(bundle)
    server.shutdown()
    server.server_close()


def serve_json(routes, path, data):
    routes[path] = (200, {"Content-Type": "application/json"}, json.dumps(data).encode())


def test_an_https_url_syncs_when_its_certificate_is_trusted(
    https, settings, catalogue, sync_models
):
    base, routes, bundle = https
    serve_json(routes, "/api.json", catalogue)
    settings.MODELS_SYNC_CA_FILE = bundle

    out = sync_models(f"{base}/api.json")

    assert Offering.objects.count() == 775
    assert "Offerings: 775 added" in out


def test_an_untrusted_certificate_is_refused(https, settings, catalogue, sync_models):
    base, routes, _ = https
    serve_json(routes, "/api.json", catalogue)
    settings.MODELS_SYNC_CA_FILE = None  # only the system's CAs: ours is not among them
    with pytest.raises(CommandError, match="CERTIFICATE_VERIFY_FAILED"):
        sync_models(f"{base}/api.json")
    assert not Offering.objects.exists()


def test_http_and_redirects_away_from_https_are_refused(https, settings, catalogue, sync_models):
    base, routes, bundle = https
    settings.MODELS_SYNC_CA_FILE = bundle
    with pytest.raises(CommandError, match="only https URLs or file paths are read"):
        sync_models("http://127.0.0.1:9/api.json")
    routes["/moved"] = (302, {"Location": "http://127.0.0.1:9/api.json"}, b"")
    with pytest.raises(CommandError, match=r"redirects to http://127\.0\.0\.1:9/api\.json"):
        sync_models(f"{base}/moved")
    serve_json(routes, "/api.json", catalogue)
    routes["/moved-safely"] = (301, {"Location": f"{base}/api.json"}, b"")
    sync_models(f"{base}/moved-safely")
    assert Offering.objects.count() == 775


def test_server_errors_and_oversized_answers_are_refused(https, settings, sync_models):
    base, routes, bundle = https
    settings.MODELS_SYNC_CA_FILE = bundle
    with pytest.raises(CommandError, match=r"answered 404 Not Found"):
        sync_models(f"{base}/nowhere.json")
    settings.MODELS_SYNC_MAX_BYTES = 1000
    routes["/big.json"] = (200, {}, b" " * 5000 + b"{}")
    with pytest.raises(CommandError, match="larger than the 1,000-byte limit"):
        sync_models(f"{base}/big.json")
    assert not Offering.objects.exists()


def test_the_daily_job_reads_models_sync_url(https, settings, catalogue):
    base, routes, bundle = https
    serve_json(routes, "/daily.json", catalogue)
    settings.MODELS_SYNC_CA_FILE = bundle
    settings.MODELS_SYNC_URL = f"{base}/daily.json"

    summary = scheduled_sync()

    assert summary.offerings_added == 775
    assert scheduled_sync().changed is False


def test_the_worker_runs_the_daily_sync(https, settings, catalogue):
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    from catalog.tasks import sync_models_daily

    due = {type(task) for task in HUEY.read_periodic(datetime(2026, 12, 1, 3, 30))}
    assert sync_models_daily.task_class in due  # daily at 03:30 UTC
    assert sync_models_daily.task_class not in {
        type(task) for task in HUEY.read_periodic(datetime(2026, 12, 1, 3, 31))
    }
    base, routes, bundle = https
    serve_json(routes, "/worker.json", catalogue)
    settings.MODELS_SYNC_CA_FILE = bundle
    settings.MODELS_SYNC_URL = ""
    assert sync_models_daily.call_local() is None  # no URL: nothing to do
    settings.MODELS_SYNC_URL = f"{base}/worker.json"
    assert sync_models_daily.call_local().offerings_added == 775
