"""No horizontal overflow from a 390 px phone to a 1280 px desktop; screenshots for review."""

import pytest

PAGES = {
    "browse": "/",
    "provider": "/providers/deepseek/",
    "compare": "/compare/?p=openrouter&p=deepseek&p=huggingface&p=anthropic",
    "suggest": "/suggest/",
    "api-docs": "/api/v1/docs",
}


@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_overflow(page, default_providers, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name, url in PAGES.items():
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
        screenshot(page, f"{name}-{width}")


def test_keyboard_focus_is_visible(page, default_providers):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
