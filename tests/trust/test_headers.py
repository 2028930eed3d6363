"""Every response carries the hardening headers and a strict, nonce-based CSP."""

import re

import pytest


@pytest.mark.parametrize("path", ["/", "/healthz", "/setup/", "/admin/login/"])
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
    # The nonce is only added when the page uses it (django-csp makes it lazily).
    assert re.fullmatch(r"'self'( 'nonce-[A-Za-z0-9+/=_-]+')?", policy["script-src"])
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_htmx_is_a_same_origin_script_and_htmx_is_configured_for_csp(client, db):
    # htmx loads from our own origin, allowed by script-src 'self' without a nonce, so a
    # page with no inline script is the same bytes for everyone (and can be cached whole).
    response = client.get("/")
    assert "'nonce-" not in response["Content-Security-Policy"]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "htmx is loaded on every page"
    assert all(re.search(r'src="/static/[^"]+"', tag) for tag in scripts)
    assert not any("nonce=" in tag for tag in scripts)
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


def test_an_inline_script_carries_the_nonce_of_the_header(client, db):
    response = client.get("/setup/1/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    inline = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", response.content.decode())
        if "src=" not in tag
    ]
    assert inline
    assert all(f'nonce="{nonce}"' in tag for tag in inline)
