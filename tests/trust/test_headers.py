"""Every response carries the hardening headers and a strict CSP: scripts from our origin only."""

import re

import pytest


@pytest.mark.parametrize("path", ["/", "/healthz", "/setup/", "/admin/login/", "/api/v1/docs"])
def test_security_headers(client, db, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    ["/", "/providers/openrouter/", "/compare/?p=openrouter&p=groq", "/suggest/"]
    + [f"/setup/{step}/?p=openrouter" for step in range(1, 8)],
)
def test_every_script_is_a_same_origin_file(client, default_providers, path):
    # No inline script and no nonce: script-src 'self' allows htmx and wizard.js, and every
    # page is the same bytes for everyone (so it can be cached whole).
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert "'nonce-" not in response["Content-Security-Policy"]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "htmx is loaded on every page"
    assert all(re.search(r'src="/static/[^"]+"', tag) for tag in scripts)
    assert "nonce=" not in html


def test_htmx_is_configured_for_a_strict_csp(client, db):
    html = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html
