"""axe-core (bundled by axe-playwright-python) finds no violation on the pages issue 12
changed, at a phone's and a desktop's width, and in the states htmx swaps in."""

import pytest
from axe_playwright_python.sync_playwright import Axe

PAGES = [
    "/",
    "/?free=on&difficulty=2",
    "/compare/?p=openrouter&p=deepseek&p=groq",
    "/providers/openrouter/",
    "/suggest/",
    "/setup/1/",
    "/setup/2/?free=0",
    "/setup/3/?free=0&c=groq&c=xai",
    "/setup/5/?p=openrouter",
    "/setup/6/?p=openrouter",
    "/setup/7/?p=openrouter",
]


def violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']}: {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_no_axe_violation(page, default_providers, width):
    page.set_viewport_size({"width": width, "height": 900})
    found = {}
    for url in PAGES:
        page.goto(url)
        if width == 390 and url.startswith("/?"):
            page.locator(".filters-summary").click()  # the filters, open
        found[url] = violations(page)
    assert found == {url: [] for url in PAGES}


def test_no_axe_violation_after_htmx_swaps(page, default_providers):
    page.goto("/providers/groq/")
    page.get_by_role("button", name="Send rating").click()
    page.locator("#rate-form .errorlist").wait_for()
    assert violations(page) == []
    page.goto("/setup/6/?p=openrouter")
    page.get_by_role("textbox", name="Your API key").fill("sk-or-v1-" + "a" * 40)
    page.get_by_role("button", name="Check the format").click()
    page.locator(".wizard-verdict").wait_for()
    assert violations(page) == []
