"""A stand-in for a provider's OAuth PKCE key service (OpenRouter's /auth and
/api/v1/auth/keys), served on loopback by the tests: real HTTP, and a real S256 check of
the verifier against the challenge it was sent.

`answer` picks what the keys endpoint does: "key" (the key, after the PKCE check), an HTTP
status (400, 403, 405, ...), "timeout" (answers only after `slow_seconds`), "no key" (200
without one). `requests` records what reached it, for the tests to look at."""

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

KEY_PATH = "/api/v1/auth/keys"


def forwards_to(response):
    """Where the "Create a key for me" answer sends the browser (its meta refresh), checked
    to be the same URL as its visible link."""
    page = response.content.decode()
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', page).group(1)
    link = re.search(r'<a role="button" href="([^"]+)">Continue to', page).group(1)
    assert refresh == link
    return html.unescape(refresh)


class KeyService:
    def __init__(self, key):
        self.key = key
        self.answer = "key"
        self.slow_seconds = 2.0
        self.challenges = {}  # code -> challenge
        self.requests = []  # (method, path, query or JSON body)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.block_on_close = False  # a "timeout" answer may still be sleeping
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def settings(self):
        """A BYOK_ONE_CLICK_KEYS entry pointing here."""
        return {"auth_url": f"{self.url}/auth", "keys_url": f"{self.url}{KEY_PATH}", "timeout": 0.5}

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def sign_in(self, auth_location):
        """What the visitor's browser does at the provider: GET the auth URL and read where
        it sends them back. Returns the callback URL, with ?code=."""
        import http.client

        parts = urlsplit(auth_location)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            connection.request("GET", f"{parts.path}?{parts.query}")
            response = connection.getresponse()
            response.read()
            assert response.status == 302, response.status
            return response.getheader("Location")
        finally:
            connection.close()

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the tests read `requests`
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
                service.requests.append(("GET", parts.path, query))
                if parts.path == "/auth":
                    # The visitor signed in and approved: back to the callback with a code.
                    code = secrets.token_urlsafe(32)  # random, like a key: see the middleware
                    service.challenges[code] = query.get("code_challenge", "")
                    callback = query["callback_url"]
                    separator = "&" if urlsplit(callback).query else "?"
                    self.send_response(302)
                    back = f"{callback}{separator}{urlencode({'code': code})}"
                    self.send_header("Location", back)
                    self.end_headers()
                elif parts.path == KEY_PATH:
                    self._json(405, {"error": "Method Not Allowed"})
                else:
                    self._json(404, {"error": "Not Found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                service.requests.append(("POST", self.path, body))
                answer = service.answer
                if self.path != KEY_PATH:
                    return self._json(404, {"error": "Not Found"})
                if answer == "timeout":
                    time.sleep(service.slow_seconds)
                    return self._json(200, {"key": service.key})
                if isinstance(answer, int):
                    return self._json(answer, {"error": {"code": answer, "message": "refused"}})
                if not isinstance(body, dict) or "code" not in body:
                    return self._json(400, {"error": "Invalid request"})
                challenge = service.challenges.pop(body["code"], None)
                verifier = str(body.get("code_verifier", ""))
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if (
                    challenge is None
                    or body.get("code_challenge_method") != "S256"
                    or (expected != challenge)
                ):
                    return self._json(403, {"error": "Invalid code or verifier"})
                if answer == "no key":
                    return self._json(200, {"user_id": "user_1"})
                return self._json(200, {"key": service.key, "user_id": "user_1"})

            def _json(self, status, data):
                payload = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the "timeout" answer)

        return Handler
