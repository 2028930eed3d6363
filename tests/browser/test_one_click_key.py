"""The one-click key in Chromium: "Create a key for me" goes to the (stand-in) provider and
back, and step 6 shows the key masked, at step 6's own address."""

import re

from playwright.sync_api import expect

CANARY = "sk-or-v1-" + "b0a7c1ic" * 8


def test_create_a_key_for_me(page, default_providers, key_service, caplog, database_text):
    key_service.key = CANARY
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Step 5 swapped in by htmx, so the page's CSP is step 4's: the way to the provider
    # must not depend on it (form-action 'self' covers a form's redirects too).
    page.goto("/setup/4/?p=openrouter&free=0")
    page.get_by_role("button", name="Go to the sign-up links").click()
    expect(page.locator("#wizard-count")).to_contain_text("Step 5 of 7")
    page.get_by_role("button", name="Create a key for me").click()

    expect(page.locator("#wizard-count")).to_contain_text("Step 6 of 7")
    expect(page.locator(".wizard-verdict")).to_contain_text("OpenRouter created a key for you.")
    expect(page.locator(".wizard-verdict")).to_contain_text("Looks right")
    expect(page.locator(".masked-key")).to_have_text("sk-or-…")
    expect(page.locator(".wizard-snippet")).to_have_text('export OPENROUTER_API_KEY="<your key>"')
    # The address no longer holds the provider's one-time code: step 6's own.
    expect(page).to_have_url(re.compile(r"/setup/6/\?free=0&p=openrouter"))
    page.get_by_role("button", name="Rate your experience").click()
    expect(page.locator("#wizard-count")).to_contain_text("Step 7 of 7")

    assert CANARY[6:] not in page.content()
    storage = page.evaluate("JSON.stringify([window.localStorage, window.sessionStorage])")
    assert CANARY[6:] not in storage
    cookies = page.context.cookies()
    assert all(CANARY[6:] not in cookie["value"] for cookie in cookies)
    assert "byok_key_flow" not in {cookie["name"] for cookie in cookies}  # deleted
    assert CANARY[6:] not in database_text()
    assert CANARY[6:] not in caplog.text
    assert errors == []


def test_a_refused_sign_in_is_explained_in_step_6(page, default_providers, key_service):
    key_service.answer = 403
    page.goto("/setup/5/?p=openrouter")
    page.get_by_role("button", name="Create a key for me").click()
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("OpenRouter did not accept the sign-in (HTTP 403)")
    key_service.answer = "key"
    page.get_by_role("button", name="Create a key for me again").click()
    expect(page.locator(".wizard-verdict")).to_contain_text("OpenRouter created a key for you.")
