"""Browse in Chromium: filters swap only the results, push the URL, and Back works."""

import re

import pytest
from playwright.sync_api import expect


def cards(page):
    return page.locator("article.provider-card")


def test_filtering_swaps_results_pushes_the_url_and_back_works(page, default_providers, screenshot):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/")
    expect(page.locator("#card-anthropic")).to_be_visible()
    total = cards(page).count()
    page.evaluate("window.loadedOnce = true")  # survives htmx swaps, not page loads

    page.get_by_label("Free tier only").check()
    expect(page).to_have_url(re.compile(r"/\?free=on"))
    expect(page.locator("#card-anthropic")).to_have_count(0)
    assert cards(page).count() < total

    page.get_by_label("Name").fill("deep")
    expect(page).to_have_url(re.compile(r"q=deep"))
    expect(cards(page)).to_have_count(1)
    expect(page.locator("#card-deepseek")).to_be_visible()
    assert page.evaluate("window.loadedOnce") is True  # swapped in place, no reload
    screenshot(page, "browse-filtered-1280")

    page.get_by_label("Name").fill("zzz")
    expect(page.get_by_text("No provider matches these filters.")).to_be_visible()
    expect(page.get_by_role("link", name="Remove the name search")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=deep"))
    expect(cards(page)).to_have_count(1)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?free=on$"))
    expect(page.get_by_label("Free tier only")).to_be_checked()
    expect(page.get_by_label("Name")).to_have_value("")
    expect(page.locator("#card-anthropic")).to_have_count(0)
    expect(page.locator("#card-openrouter")).to_be_visible()
    assert errors == []


def test_bad_filter_in_the_url_shows_a_message(page, default_providers):
    page.goto("/?difficulty=9&min_score=abc")
    expect(page.get_by_text("Some filters were ignored")).to_be_visible()
    expect(page.locator("#card-openrouter")).to_be_visible()


@pytest.mark.parametrize(
    "path, typed, checked",
    [("/", "Name", "Free tier only"), ("/models/", "Max input $ / M tokens", "Tool calling")],
)
def test_each_change_fetches_the_results_once(page, default_providers, path, typed, checked):
    """A typed value is sent while typing; a bare `change` trigger sent it again when the
    field was left (tests/browser/test_models.py shows what that did to a click)."""
    fetches = []
    page.on("request", lambda request: request.headers.get("hx-request") and fetches.append(1))
    page.goto(path)
    page.get_by_label(typed).fill("1")
    expect(page).to_have_url(re.compile(r"=1$"))
    page.get_by_label("Sort by").focus()  # leaves the typed field
    page.get_by_label("Sort by").select_option(index=1)
    expect(page).to_have_url(re.compile(r"sort="))
    page.get_by_label(checked).check()
    expect(page).to_have_url(re.compile(r"=on"))
    page.get_by_label(checked).uncheck()
    expect(page).not_to_have_url(re.compile(r"=on"))
    assert len(fetches) == 4  # the typed value, the sort, the check, the uncheck
