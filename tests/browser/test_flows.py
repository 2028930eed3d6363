"""Issue 12's flows in Chromium: where a no-JS submission lands, step 1's live count,
step 3's choice of what to compare and its memory after Back, and the form details."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import Provider

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport=PHONE
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_without_javascript_the_thank_you_is_where_the_page_lands(no_js_page, default_providers):
    page = no_js_page
    page.goto("/providers/deepseek/")
    page.get_by_role("radio", name="4 stars", exact=True).check()
    page.get_by_role("button", name="Send rating").click()
    expect(page).to_have_url(re.compile(r"/providers/deepseek/#rate-form$"))
    note = page.locator("#rate-form .form-outcome")
    expect(note).to_have_text("Thank you! Your rating counts now.")
    expect(note).to_be_in_viewport()  # not 2,500 px away, in a banner at the top
    expect(page.locator("#rate-form form")).to_have_count(0)  # no second try to be refused
    expect(page.locator(".messages")).not_to_contain_text("Thank you")

    page.get_by_label("Your tip").fill("Top up 5 dollars to lift the rate limits.")
    page.get_by_role("button", name="Send tip").click()
    expect(page).to_have_url(re.compile(r"#tip-form$"))
    note = page.locator("#tip-form .form-outcome")
    expect(note).to_have_text("Thank you! Your tip awaits review by a maintainer.")
    expect(note).to_be_in_viewport()
    expect(page.locator("#rate-form .form-outcome")).to_have_count(0)  # said once, then gone


def test_step_1_recounts_as_the_filters_change(page, default_providers):
    page.goto("/setup/1/")
    count = page.locator("#match-count")
    expect(count).to_have_attribute("role", "status")
    free = Provider.objects.published().matching(free=True).count()
    expect(count).to_have_text(f"{free} providers match these filters.")
    page.get_by_label("Maximum difficulty").select_option("1")
    page.get_by_label("Minimum trust score").fill("90")
    easy_90 = Provider.objects.published().matching(free=True, difficulty=1, min_trust=90).count()
    assert easy_90 != free
    expected = (
        f"{easy_90} provider{'s' if easy_90 != 1 else ''} match{'es' if easy_90 == 1 else ''}"
        " these filters."
        if easy_90
        else "No provider matches these filters yet: relax one of them."
    )
    expect(count).to_have_text(expected)
    expect(page.get_by_role("button", name="Update the count")).to_be_hidden()
    # Step 2 shows that many.
    page.get_by_role("button", name="See community statistics").click()
    expect(page.locator("#wizard-count")).to_contain_text("Step 2 of 7")
    expect(page.locator(".provider-card")).to_have_count(easy_90)


def test_step_1_recounts_without_javascript(no_js_page, default_providers):
    page = no_js_page
    page.goto("/setup/1/")
    page.get_by_label("Include paid-only providers").check()
    page.get_by_role("button", name="Update the count").click()
    expect(page).to_have_url(re.compile(r"/setup/1/\?.*free=0"))
    total = Provider.objects.published().count()
    expect(page.locator("#match-count")).to_have_text(f"{total} providers match these filters.")
    expect(page.get_by_label("Include paid-only providers")).to_be_checked()


def test_step_3_compares_what_you_pick_and_remembers_your_choice(
    page, default_providers, screenshot
):
    page.goto("/setup/3/?free=0")
    ranked = list(
        Provider.objects.published().most_trusted().values_list("provider_name", flat=True)[:4]
    )
    heads = page.locator(".compare-table thead th .compare-name")
    expect(heads).to_have_text(ranked)  # the best four by the ranking, preselected
    page.locator(".wizard-compare-pick summary").click()
    for name in ranked[1:]:
        page.locator(".wizard-pick").get_by_label(name, exact=True).uncheck()
    page.locator(".wizard-pick").get_by_label("Groq", exact=True).check()
    page.get_by_role("button", name="Show these side by side").click()
    expect(heads).to_have_text([ranked[0], "Groq"])
    expect(page).to_have_url(re.compile(r"c=groq"))
    screenshot(page, "ux-wizard-3-picked-1280")

    page.locator("#choose-groq").check()
    page.get_by_role("button", name="Read the tips").click()
    expect(page.locator("#wizard-count")).to_contain_text("Step 4 of 7")
    page.go_back()
    expect(page.locator("#wizard-count")).to_contain_text("Step 3 of 7")
    expect(page.locator("#choose-groq")).to_be_checked()


def test_step_3_shows_two_providers_at_once_on_a_phone(page, default_providers, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/setup/3/?free=0")
    scroller = page.locator(".table-scroll")
    screenshot(page, "ux-wizard-3-390")
    heads = page.locator(".compare-table thead th .compare-name")
    right = scroller.bounding_box()["x"] + scroller.bounding_box()["width"]
    for index in (0, 1):
        box = heads.nth(index).bounding_box()
        assert box["x"] + box["width"] <= right, f"column {index + 1} is not in view"
    screenshot(page, "ux-wizard-3-390")


def test_the_stars_read_5_to_1_in_the_star_colour_in_step_7(page, default_providers):
    page.goto("/providers/openrouter/")
    stars = page.locator(".star-input .stars").first
    page_colour = stars.evaluate("e => getComputedStyle(e).color")
    page.goto("/setup/7/?p=openrouter")
    labels = page.locator(".wizard-star-list label").all_inner_texts()
    assert [label.count("★") for label in labels] == [5, 4, 3, 2, 1]
    colour = page.locator(".wizard-star-list .stars").first.evaluate(
        "e => getComputedStyle(e).color"
    )
    assert colour == page_colour
    # One per line, not a wrapping grid.
    tops = page.locator(".wizard-star-list label").evaluate_all(
        "labels => labels.map(l => l.getBoundingClientRect().top)"
    )
    assert tops == sorted(tops) and len(set(tops)) == 5


def test_the_issue_form_asks_what_went_wrong_and_which_link_only_when_broken(
    page, default_providers
):
    page.goto("/providers/openrouter/")
    category = page.get_by_label("What went wrong?")
    expect(category).to_have_value("")
    link = page.get_by_label("Which link is broken?")
    expect(link).to_be_hidden()
    category.select_option("broken_link")
    expect(link).to_be_visible()
    category.select_option("rate_limits")
    expect(link).to_be_hidden()
    page.get_by_label("Details").fill("429 after 3 requests")
    category.select_option("")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#issue-form")).to_contain_text("Choose what went wrong.")
    expect(category).to_be_focused()


def test_step_6_says_the_key_format_before_any_key(page, default_providers):
    page.goto("/setup/6/?p=openrouter")
    field = page.get_by_role("textbox", name="Your API key")
    expect(page.locator("#api-key-format")).to_have_text("OpenRouter keys start with sk-or-.")
    assert "api-key-format" in field.get_attribute("aria-describedby")
