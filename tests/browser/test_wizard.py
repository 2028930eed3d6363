"""The setup wizard end to end in Chromium: with htmx (swaps, pushed URLs, Back) at 1280 px,
and with JavaScript off at 390 px. A canary key goes through step 6 in both walks and is
then looked for everywhere. Screenshots of every step land in artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import Provider, Rating, SetupReport

CANARY = "sk-or-v1-BrowserCanary9d8c7b6a5f4e3d2c1b0a"
COUNTERS = ("total_users", "active_users", "setup_reports", "ratings_count", "ratings_sum")


def counters():
    return Provider.objects.filter(provider_id="openrouter").values(*COUNTERS).get()


def expect_step(page, number):
    expect(page.locator("#wizard-count")).to_contain_text(f"Step {number} of 7")
    expect(page).to_have_url(re.compile(rf"/setup/{number}/"))
    expect(page).to_have_title(re.compile(rf"Step {number} of 7"))


def assert_canary_absent(page):
    assert CANARY not in page.content()
    assert CANARY not in page.url
    assert CANARY[:12] not in page.content()


def finish_step_7(page):
    page.get_by_label("Yes, it works").check()
    page.get_by_role("radio", name="4 stars", exact=True).check()
    page.get_by_label("Easy").check()
    page.get_by_label("Share my result anonymously").check()
    page.get_by_role("button", name="Finish").click()


@pytest.fixture
def console_errors(page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_wizard_with_htmx(
    page, default_providers, screenshot, console_errors, caplog, database_text
):
    before = counters()
    page.goto("/setup/")
    expect_step(page, 1)
    page.evaluate("window.loadedOnce = true")  # survives swaps, not page loads
    screenshot(page, "wizard-1-1280")

    page.get_by_label("Include paid-only providers").check()
    page.get_by_role("button", name="See community statistics").click()
    expect_step(page, 2)
    assert "free=0" in page.url
    expect(page.locator("#wizard-heading")).to_be_focused()  # as after a page load
    expect(page.locator("#card-title-anthropic")).to_be_visible()
    screenshot(page, "wizard-2-1280")

    page.get_by_role("button", name="Compare and choose").click()
    expect_step(page, 3)
    screenshot(page, "wizard-3-1280")
    page.locator("#choose-openrouter").check()
    page.get_by_role("button", name="Read the tips").click()
    expect_step(page, 4)
    assert "p=openrouter" in page.url
    expect(page.get_by_text("Use :free suffix on model names")).to_be_visible()
    screenshot(page, "wizard-4-1280")

    assert page.evaluate("window.loadedOnce") is True  # steps 1 to 4 were htmx swaps

    # Browser Back and Forward land on the right steps. (The site keeps no htmx history
    # snapshots, so they load the pushed URLs afresh from the server.)
    page.go_back()
    expect_step(page, 3)
    page.go_forward()
    expect_step(page, 4)
    page.evaluate("window.loadedOnce = true")
    # The wizard's own Back link swaps in place.
    page.locator(".wizard-back").click()
    expect_step(page, 3)
    page.get_by_role("button", name="Read the tips").click()
    expect_step(page, 4)

    page.get_by_role("button", name="Go to the sign-up links").click()
    expect_step(page, 5)
    signup = page.get_by_role("button", name=re.compile("Sign up with OpenRouter"))
    expect(signup).to_have_attribute("target", "_blank")
    expect(signup).to_have_attribute("rel", "noopener")
    screenshot(page, "wizard-5-1280")

    page.get_by_role("button", name="I have my key").click()
    expect_step(page, 6)
    page.get_by_role("textbox", name="Your API key").fill(CANARY)
    page.get_by_role("button", name="Check the format").click()
    expect(page.locator(".wizard-verdict")).to_contain_text("Looks right")
    expect(page.locator(".masked-key")).to_have_text("sk-or-…")
    expect(page.get_by_role("textbox", name="Your API key")).to_have_value("")
    assert_canary_absent(page)
    screenshot(page, "wizard-6-1280")

    page.get_by_role("button", name="Rate your experience").click()
    expect_step(page, 7)
    expect(page.get_by_label("Minutes it took")).to_have_value(re.compile(r"^\d+$"))
    screenshot(page, "wizard-7-1280")
    finish_step_7(page)
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert "done=" in page.url
    screenshot(page, "wizard-thanks-1280")

    assert page.evaluate("window.loadedOnce") is True  # steps 3 to 7 were htmx swaps
    after = counters()
    assert after["total_users"] == before["total_users"] + 1
    assert after["active_users"] == before["active_users"] + 1
    assert after["setup_reports"] == before["setup_reports"] + 1
    assert after["ratings_count"] == before["ratings_count"] + 1
    assert after["ratings_sum"] == before["ratings_sum"] + 4
    assert SetupReport.objects.count() == Rating.objects.count() == 1

    # Back to step 6 shows an empty key form; no copy of the verdict is kept in the browser.
    page.go_back()
    expect_step(page, 7)
    expect(page.locator("#rate-form")).to_be_visible()  # the form, not the thank-you still
    page.go_back()
    expect_step(page, 6)
    assert_canary_absent(page)
    expect(page.locator(".wizard-verdict")).to_have_count(0)
    storage = page.evaluate("JSON.stringify([window.localStorage, window.sessionStorage])")
    assert CANARY not in storage
    assert "sk-or-" not in storage
    assert CANARY not in database_text()
    assert CANARY not in caplog.text
    assert console_errors == []


def test_wizard_without_javascript(
    browser, live_server, default_providers, screenshot, caplog, database_text
):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    before = counters()
    try:
        page.goto("/setup/")
        expect_step(page, 1)
        screenshot(page, "wizard-1-390")
        page.get_by_role("button", name="See community statistics").click()
        expect_step(page, 2)
        screenshot(page, "wizard-2-390")
        page.get_by_role("button", name="Compare and choose").click()
        expect_step(page, 3)
        screenshot(page, "wizard-3-390")
        page.get_by_role("button", name="Read the tips").click()  # nothing chosen: required
        expect_step(page, 3)
        page.locator("#choose-openrouter").check()
        page.get_by_role("button", name="Read the tips").click()
        expect_step(page, 4)
        screenshot(page, "wizard-4-390")
        page.locator(".wizard-back").click()
        expect_step(page, 3)
        page.go_back()
        expect_step(page, 4)
        page.get_by_role("button", name="Go to the sign-up links").click()
        expect_step(page, 5)
        screenshot(page, "wizard-5-390")
        page.get_by_role("button", name="I have my key").click()
        expect_step(page, 6)
        page.get_by_role("textbox", name="Your API key").fill("sk-ant-" + CANARY)
        page.get_by_role("button", name="Check the format").click()
        expect(page.locator(".wizard-verdict")).to_contain_text("Doesn't match")
        expect(page.locator(".wizard-verdict")).to_contain_text("keys start with sk-or-")
        assert_canary_absent(page)
        page.get_by_role("textbox", name="Your API key").fill(CANARY)
        page.get_by_role("button", name="Check another key").click()
        expect(page.locator(".wizard-verdict")).to_contain_text("Looks right")
        assert_canary_absent(page)
        screenshot(page, "wizard-6-390")
        page.get_by_role("button", name="Rate your experience").click()
        expect_step(page, 7)
        screenshot(page, "wizard-7-390")
        finish_step_7(page)
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        screenshot(page, "wizard-thanks-390")
        # The thank-you page is a GET after a redirect: a refresh does not post again.
        page.reload()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    finally:
        context.close()

    after = counters()
    assert after["total_users"] == before["total_users"] + 1
    assert after["ratings_count"] == before["ratings_count"] + 1
    assert SetupReport.objects.count() == Rating.objects.count() == 1
    assert CANARY not in database_text()
    assert CANARY not in caplog.text
