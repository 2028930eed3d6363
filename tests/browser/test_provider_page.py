"""Rating on a provider page updates its score, stars and breakdown without a reload."""

from playwright.sync_api import expect

from registry.models import Provider


def test_rating_updates_the_figures_in_place(page, default_providers, screenshot):
    before = Provider.objects.get(provider_id="deepseek")
    page.goto("/providers/deepseek/")
    score = page.locator("#provider-score strong")
    expect(score).to_have_text(f"{before.get_trust_score():.1f}")
    page.evaluate("window.loadedOnce = true")

    page.get_by_role("radio", name="1 star", exact=True).check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#rate-form")).to_contain_text("Thank you! Your rating counts now.")

    after = Provider.objects.get(provider_id="deepseek")
    assert after.ratings_count == before.ratings_count + 1
    assert after.get_trust_score() != before.get_trust_score()
    expect(score).to_have_text(f"{after.get_trust_score():.1f}")
    expect(page.locator("#provider-figures")).to_contain_text(f"from {after.ratings_count} ratings")
    sentiment = after.trust.sentiment.points
    expect(page.locator("#trust-breakdown")).to_contain_text(f"{sentiment:.1f}")
    assert page.evaluate("window.loadedOnce") is True  # no reload
    assert page.url.endswith("/providers/deepseek/")
    screenshot(page, "provider-rated-1280")

    # A second rating today is refused politely, where the form was (HTTP 429).
    page.goto("/providers/deepseek/")
    page.get_by_role("radio", name="5 stars", exact=True).check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#rate-form")).to_contain_text(
        "You already sent this for this provider today"
    )
    assert Provider.objects.get(provider_id="deepseek").ratings_count == after.ratings_count
