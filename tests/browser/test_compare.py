"""The compare toggle on browse cards feeds /compare/; add and remove work in place."""

import re

from playwright.sync_api import expect


def test_compare_toggle_from_browse(page, default_providers, screenshot):
    page.goto("/")
    page.get_by_label("Compare OpenRouter").check()
    page.get_by_label("Compare DeepSeek").check()
    # Each ticked card shows the button, right after its box.
    page.locator("#card-deepseek").get_by_role("button", name="Compare selected").click()
    expect(page).to_have_url(re.compile(r"/compare/\?p=openrouter&p=deepseek$"))
    table = page.locator("table.compare-table")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_count(3)
    expect(table.locator("td.best").first).to_be_visible()

    page.evaluate("window.loadedOnce = true")
    page.get_by_label("Add a provider").select_option("anthropic")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page).to_have_url(re.compile(r"p=anthropic"))
    expect(table.locator("thead th")).to_have_count(4)
    screenshot(page, "compare-1280")

    page.get_by_role("link", name="Remove DeepSeek").click()
    expect(page).to_have_url(re.compile(r"/compare/\?p=openrouter&p=anthropic$"))
    expect(table.locator("thead th")).to_have_count(3)
    assert page.evaluate("window.loadedOnce") is True  # both were htmx swaps
