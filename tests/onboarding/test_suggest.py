import pytest

from registry.models import Moderation, ProviderSuggestion

HX = {"HX-Request": "true"}
VALID = {
    "name": "Fireworks",
    "website": "https://fireworks.example/",
    "reason": "Fast open models with a free trial.",
}


def test_page_has_the_form(client, db):
    response = client.get("/suggest/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'action="/suggest/"' in html and 'hx-post="/suggest/"' in html
    for label in ("Provider name", "Website", "Why should it be listed?"):
        assert label in html


def test_suggestion_goes_to_moderation_and_is_never_a_live_link(client, db):
    response = client.post("/suggest/", VALID)
    assert response.status_code == 302
    suggestion = ProviderSuggestion.objects.get()
    assert suggestion.status == Moderation.PENDING
    assert suggestion.voter_key
    page = client.get(response["Location"]).content.decode()
    assert "Your suggestion of Fireworks awaits review by a maintainer." in page
    assert "fireworks.example" not in page
    assert "fireworks.example" not in client.get("/").content.decode()


def test_htmx_success_returns_the_fresh_form_with_a_note(client, db):
    response = client.post("/suggest/", VALID, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "awaits review" in html
    assert 'value="Fireworks"' not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**VALID, "website": "not a url"}, "Enter a valid URL."),
        ({**VALID, "name": ""}, "This field is required."),
        ({**VALID, "reason": "k " + "sk-" + "a1" * 20}, "This looks like an API key"),
        ({**VALID, "website": "javascript:alert(1)"}, "Enter a valid URL."),
    ],
)
def test_errors_rerender_with_200(client, db, data, message):
    for headers in ({}, HX):
        response = client.post("/suggest/", data, headers=headers)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not ProviderSuggestion.objects.exists()


def test_over_the_daily_cap_is_a_polite_429(client, db, settings):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    assert client.post("/suggest/", VALID).status_code == 302
    response = client.post("/suggest/", {**VALID, "name": "Other"}, headers=HX)
    assert response.status_code == 429
    html = response.content.decode()
    assert "<html" not in html
    assert "please come back tomorrow" in html
    assert ProviderSuggestion.objects.count() == 1
