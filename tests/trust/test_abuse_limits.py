"""Abuse limits without identity, through real HTTP: one rating per provider per visitor
per day, a daily cap across providers, 429 with a polite message, nothing counted. (The
per-network and per-range limits: tests/trust/test_trust_integrity.py.)"""

from datetime import timedelta

import pytest
from django.test import Client

from registry.models import DailyQuota, Provider, Rating, SetupReport, today
from registry.services import AlreadySubmittedError, DailyLimitError
from registry.voters import voter_for


def visitor(address="203.0.113.7", agent="Mozilla/5.0 (X11; Linux) Firefox/130.0"):
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def says(response, error):
    """The polite message, HTML-escaped as the page shows it."""
    from django.utils.html import escape

    return escape(error.message) in response.content.decode()


def rate(client, provider_id, stars=4, **headers):
    return client.post(f"/providers/{provider_id}/rate/", {"rating": stars}, **headers)


def ratings_count(provider_id):
    return Provider.objects.get(provider_id=provider_id).ratings_count


def test_second_rating_same_day_is_refused_and_not_counted(default_providers):
    client = visitor()
    assert rate(client, "groq").status_code == 302
    before = ratings_count("groq")

    response = rate(client, "groq", stars=1)

    assert response.status_code == 429
    assert says(response, AlreadySubmittedError)
    assert ratings_count("groq") == before
    assert Rating.objects.filter(provider__provider_id="groq").count() == 1


def test_another_provider_is_accepted(default_providers):
    client = visitor()
    assert rate(client, "groq").status_code == 302
    assert rate(client, "mistral").status_code == 302
    assert ratings_count("mistral") == 1


def test_another_visitor_is_accepted(default_providers):
    assert rate(visitor("203.0.113.7"), "groq").status_code == 302
    assert rate(visitor("203.0.113.8"), "groq").status_code == 302
    assert ratings_count("groq") == 2


def test_under_htmx_the_message_lands_where_the_form_was(default_providers):
    client = visitor()
    rate(client, "groq")
    response = rate(client, "groq", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "<html" not in html
    assert 'id="rate-form"' in html
    assert says(response, AlreadySubmittedError)


def test_daily_cap_across_providers(default_providers, settings):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 3
    client = visitor()
    providers = ["groq", "mistral", "cohere", "xai"]
    statuses = [rate(client, provider_id).status_code for provider_id in providers]
    assert statuses == [302, 302, 302, 429]
    assert says(rate(client, "xai"), DailyLimitError)
    assert ratings_count("xai") == 0
    assert Rating.objects.count() == 3

    # Moderated submissions count against the same cap.
    tip = client.post("/providers/xai/tips/", {"text": "Use the console's usage page."})
    assert tip.status_code == 429
    assert says(tip, DailyLimitError)
    suggestion = client.post(
        "/suggest/", {"name": "Acme AI", "website": "https://acme.example", "reason": "Cheap"}
    )
    assert suggestion.status_code == 429
    assert says(suggestion, DailyLimitError)


def test_a_refused_submission_uses_up_nothing(default_providers, settings):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 2
    client = visitor()
    rate(client, "groq")
    rate(client, "groq")  # refused: already rated today
    assert rate(client, "mistral").status_code == 302  # still one slot left


def test_a_new_day_is_accepted(default_providers, settings, rf):
    """Yesterday this visitor rated groq and hit the cap; today both limits start afresh."""
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    client = visitor()
    yesterday = today() - timedelta(days=1)
    request = rf.post(
        "/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=client.defaults["HTTP_USER_AGENT"]
    )
    voter = voter_for(request, day=yesterday)
    groq = Provider.objects.get(provider_id="groq")
    Rating.objects.create(provider=groq, stars=5, voter_key=voter.visitor, day=yesterday)
    DailyQuota.objects.create(bucket=f"day:{voter.network}", day=yesterday, used=1, cap=1)

    assert rate(client, "groq").status_code == 302
    assert Rating.objects.filter(provider=groq).count() == 2


def test_setup_reports_are_limited_too(default_providers):
    """The wizard's shared result: once per provider per voter per day."""
    client = visitor()
    answers = {
        "success": "yes",
        "minutes": 5,
        "stars": 5,
        "felt_difficulty": 1,
        "comment": "",
        "share": "on",
    }
    first = client.post("/setup/7/?p=groq", answers)
    assert first.status_code in (302, 303)
    second = client.post("/setup/7/?p=groq", answers)
    assert second.status_code == 429
    assert says(second, AlreadySubmittedError)
    assert SetupReport.objects.count() == 1
    assert Rating.objects.count() == 1


@pytest.mark.parametrize("agent", ["", "curl/8.5"])
def test_missing_or_scripted_user_agent_still_gets_one_vote(default_providers, agent):
    client = visitor(agent=agent)
    assert rate(client, "groq").status_code == 302
    assert rate(client, "groq").status_code == 429
