"""Free tier, verified by people: the rating form and the wizard ask whether the free tier
worked, the provider page counts the answers of the last 30 days beside the curated flag,
and a sharp turn in them raises an alert like the others."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from registry.models import FreeTierAnswer, Provider, Rating
from verification.models import Alert


def visitor(n):
    return Client(REMOTE_ADDR=f"198.18.{n // 200}.{n % 200 + 1}", HTTP_USER_AGENT=f"ft/{n}")


def rate(n, provider_id, answer, **extra):
    return visitor(n).post(
        f"/providers/{provider_id}/rate/", {"rating": "4", "free_tier": answer, **extra}
    )


def test_the_rating_form_asks_only_where_there_is_a_free_tier(default_providers):
    assert 'name="free_tier"' in Client().get("/providers/openrouter/").text
    assert 'name="free_tier"' not in Client().get("/providers/anthropic/").text  # premium only


def test_answers_show_beside_the_curated_flag(default_providers):
    assert rate(1, "openrouter", FreeTierAnswer.WORKED).status_code == 302
    assert rate(2, "openrouter", FreeTierAnswer.WORKED).status_code == 302
    assert rate(3, "openrouter", FreeTierAnswer.NOT_WORKING).status_code == 302
    assert rate(4, "openrouter", "").status_code == 302  # did not use it: not counted
    page = Client().get("/providers/openrouter/").text
    assert "(confirmed by 2 people; reported not working by 1 person in the last 30 days)" in page
    answers = Rating.objects.filter(provider__provider_id="openrouter").values_list(
        "free_tier", flat=True
    )
    assert sorted(answers) == ["", "not_working", "worked", "worked"]


def test_answers_older_than_thirty_days_are_not_counted(default_providers):
    openrouter = Provider.objects.get(provider_id="openrouter")
    old = timezone.now() - timedelta(days=31)
    Rating.objects.create(provider=openrouter, stars=4, free_tier="worked", created_at=old)
    assert "confirmed by" not in Client().get("/providers/openrouter/").text


def test_a_bad_answer_is_a_message_not_a_500(default_providers):
    response = rate(5, "openrouter", "maybe")
    assert response.status_code == 200
    assert "Choose one of the answers about the free tier." in response.text
    assert not Rating.objects.exists()


def test_the_wizard_records_the_answer(default_providers):
    answers = {
        "success": "yes",
        "minutes": "4",
        "stars": "5",
        "felt_difficulty": "1",
        "comment": "",
        "free_tier": FreeTierAnswer.NOT_WORKING,
        "share": "on",
    }
    assert visitor(9).post("/setup/7/?p=groq", answers).status_code == 303
    assert Rating.objects.get(provider__provider_id="groq").free_tier == "not_working"


def plant_answers(provider, days_ago, worked, not_working):
    when = datetime.combine(
        timezone.localdate() - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=12)
    Rating.objects.bulk_create(
        Rating(provider=provider, stars=4, free_tier=answer, created_at=when)
        for answer in ["worked"] * worked + ["not_working"] * not_working
    )


@pytest.mark.parametrize(("recent_worked", "opens"), [(1, True), (9, False)])
def test_a_sharp_turn_in_the_answers_opens_an_alert(default_providers, recent_worked, opens):
    groq = Provider.objects.get(provider_id="groq")
    plant_answers(groq, days_ago=20, worked=30, not_working=1)  # it used to work
    plant_answers(groq, days_ago=2, worked=recent_worked, not_working=10 - recent_worked)
    call_command("detect_alerts", verbosity=0)
    alert = Alert.objects.filter(provider=groq, rule="free_tier_turn").first()
    assert (alert is not None) is opens
    if opens:
        assert alert.title == "Free tier reported not working"
        assert "9 of 10 visitors who used the free tier in the last 7 days" in alert.detail
        assert "Free tier reported not working" in Client().get("/providers/groq/").text
