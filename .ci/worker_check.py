"""The job worker, for real: start huey's consumer, enqueue a link check of a provider
whose links are on a loopback server started here, and wait for its result rows.

    .venv/bin/python .ci/worker_check.py

Runs on a throwaway SQLite database and queue in a temporary directory; exits non-zero
if no row arrives within the deadline.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60  # seconds
tmp = Path(tempfile.mkdtemp(prefix="byok-worker-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="byok_site.settings",
    SQLITE_PATH=str(tmp / "db.sqlite3"),
    HUEY_STORAGE_URL=f"sqlite:///{tmp / 'huey.sqlite3'}",
)
os.environ.pop("DATABASE_URL", None)
sys.path.insert(0, str(ROOT))


class Answer(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.send_response(200 if self.path == "/ok" else 404)
        self.end_headers()


def main():
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from registry.models import Provider
    from verification.models import HealthCheck
    from verification.tasks import check_providers

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Provider.objects.create(
        provider_id="ci-loopback",
        provider_name="CI loopback",
        signup_url=f"{base}/ok",
        api_key_url=f"{base}/ok",
        documentation_url=f"{base}/missing",
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--no-periodic", "--quiet"], cwd=ROOT
    )
    try:
        check_providers("links", ["ci-loopback"])  # enqueued; the worker runs it
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not HealthCheck.objects.exists():
            time.sleep(0.5)
        rows = list(HealthCheck.objects.order_by("target").values_list("target", "status", "ok"))
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        server.shutdown()
    print(f"worker check: {len(rows)} result rows from the queue: {rows}")
    if len(rows) != 3:
        sys.exit("worker check FAILED: expected 3 rows (sign-up, API key, docs)")


if __name__ == "__main__":
    main()
