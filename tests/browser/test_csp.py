"""Every page, and the wizard, under the real Content-Security-Policy in Chromium: no
violation is reported, including while htmx swaps content in."""

import re

import pytest
from playwright.sync_api import expect

PAGES = [
    "/",
    "/?free=on&difficulty=2&sort=users",
    "/stats/",
    "/providers/openrouter/",
    "/providers/anthropic/",
    "/compare/?p=openrouter&p=deepseek&p=groq",
    "/suggest/",
    "/setup/1/",
    "/admin/login/",
    "/models/",
    "/models/?tools=on&max_input=1",
    "/models/llama-3.3-70b/?preset=chat",
    "/api/v1/docs",
]


@pytest.fixture
def violations(page):
    """CSP violations as Chromium reports them: console errors and policy events."""
    found = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found


def test_no_csp_violation_on_any_page(page, default_providers, violations):
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert violations == []


def test_no_csp_violation_while_htmx_works(page, default_providers, violations):
    # Filtering swaps results in; rating swaps forms and figures out of band.
    page.goto("/")
    page.get_by_label("Free tier only").check()
    expect(page).to_have_url(re.compile(r"free=on"))
    page.goto("/providers/groq/")
    page.get_by_role("radio", name="4 stars", exact=True).check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#rate-form")).to_contain_text("Thank you")
    assert violations == []


# The wizard's full htmx walk (tests/browser/test_wizard.py::test_wizard_with_htmx) asserts
# that Chromium logged no console error at all, CSP violations included.
