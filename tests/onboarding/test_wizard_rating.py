"""Step 7: rate the experience. Nothing is recorded without the opt-in; with it, one setup
report and one rating, together or not at all, and the thank-you page shows the new figures."""

import re
import time

import pytest
from django.urls import reverse

from onboarding.wizard.state import sign_start
from registry.interchange import COUNTER_FIELDS
from registry.models import Provider, Rating, Review, SetupReport

HTMX = {"HX-Request": "true"}


def rate_url(provider_id="openrouter", **params):
    query = "&".join(f"{name}={value}" for name, value in {"p": provider_id, **params}.items())
    return f"{reverse('onboarding:setup-step', args=[7])}?{query}"


def counters(provider_id="openrouter"):
    return Provider.objects.filter(provider_id=provider_id).values(*COUNTER_FIELDS).get()


def answers(**changes):
    data = {
        "success": "yes",
        "minutes": "4",
        "stars": "5",
        "felt_difficulty": "1",
        "comment": "",
        "share": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_form_asks_everything_with_the_opt_in_unticked(client, default_providers):
    html = client.get(rate_url()).content.decode()

    form = re.search(r"<form [^>]*id=\"rate-form\"[^>]*>", html).group(0)
    assert 'method="post"' in form
    assert "hx-post=" in form
    for label in (
        "Did the setup succeed?",
        "Minutes it took",
        "Your rating",
        "How difficult did it feel?",
        "Comment (optional)",
        "Share my result anonymously",
    ):
        assert label in html
    share = re.search(r'<input type="checkbox" name="share"[^>]*>', html).group(0)
    assert "checked" not in share
    assert len(re.findall(r'<input type="radio" name="stars"', html)) == 5
    assert len(re.findall(r'<input type="radio" name="felt_difficulty"', html)) == 4


@pytest.mark.parametrize(
    ("seconds_ago", "query", "expected"),
    [
        (9 * 60 + 1, {}, "10"),  # measured from step 1, rounded up
        (5, {}, "1"),  # at least a minute
        (3 * 24 * 3600, {}, "1440"),  # at most a day
        (600, {"m": "3"}, "3"),  # as measured at step 6
        (600, {"m": "999999"}, "1440"),
    ],
)
def test_minutes_are_prefilled_from_the_clock(
    client, default_providers, seconds_ago, query, expected
):
    token = sign_start(time.time() - seconds_ago)

    html = client.get(rate_url(t=token, **query)).content.decode()

    assert re.search(rf'<input type="number" name="minutes" value="{expected}"', html)


def test_without_a_clock_the_minutes_are_left_blank(client, default_providers):
    html = client.get(rate_url()).content.decode()

    field = re.search(r'<input type="number" name="minutes"[^>]*>', html).group(0)
    assert "value=" not in field


def test_unticked_nothing_is_recorded(client, default_providers):
    before = counters()

    response = client.post(rate_url(), answers(share=None, comment="Lovely, thanks"))

    assert response.status_code == 303
    assert SetupReport.objects.count() == 0
    assert Rating.objects.count() == 0
    assert Review.objects.count() == 0
    assert counters() == before
    thanks = client.get(response["Location"]).content.decode()
    assert "Nothing was recorded" in thanks


def test_unticked_even_an_incomplete_form_records_nothing(client, default_providers):
    before = counters()

    response = client.post(rate_url(), {"comment": "meh"})

    assert response.status_code == 303
    assert counters() == before
    assert SetupReport.objects.count() == Rating.objects.count() == 0


def test_ticked_records_one_setup_report_and_one_rating(client, default_providers):
    before = counters()
    openrouter = Provider.objects.get(provider_id="openrouter")
    old_score = openrouter.get_trust_score()

    response = client.post(
        rate_url(),
        answers(success="no", minutes="12", stars="2", felt_difficulty="3", comment="Got a 402."),
    )

    assert response.status_code == 303
    report = SetupReport.objects.get()
    rating = Rating.objects.get()
    assert (report.provider.provider_id, report.success, report.minutes) == (
        "openrouter",
        False,
        12,
    )
    assert report.felt_difficulty == 3
    assert rating.stars == 2
    assert report.voter_key and report.voter_key == rating.voter_key
    assert Review.objects.get().text == "Got a 402."
    after = counters()
    assert after == before | {
        "total_users": before["total_users"] + 1,
        "setup_reports": before["setup_reports"] + 1,
        "setup_minutes_sum": before["setup_minutes_sum"] + 12,
        "setup_minutes_count": before["setup_minutes_count"] + 1,
        "felt_difficulty_sum": before["felt_difficulty_sum"] + 3,
        "felt_difficulty_count": before["felt_difficulty_count"] + 1,
        "ratings_count": before["ratings_count"] + 1,
        "ratings_sum": before["ratings_sum"] + 2,
        "negative_reviews": before["negative_reviews"] + 1,
    }

    location = response["Location"]
    assert location.startswith(rate_url() + "&done=")
    thanks = client.get(location).content.decode()
    openrouter = Provider.objects.get(provider_id="openrouter")
    assert "Thank you!" in thanks
    assert "Your comment will appear once a maintainer approves it." in thanks
    new_score = openrouter.get_trust_score()
    assert new_score < old_score
    assert f'<strong class="updated-trust">{new_score:.1f}</strong>' in thanks
    assert f"(was {old_score:.1f})" in thanks
    assert f"{openrouter.star_rating:.1f}/5" in thanks
    assert f"{openrouter.success_rate:.1f}%" in thanks
    assert "<form" not in thanks.split('id="wizard"')[1]  # nothing to post twice


def test_ticked_under_htmx_swaps_in_the_thank_you(client, default_providers):
    response = client.post(rate_url(), answers(), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Thank you!" in html
    assert "done=" in response.headers["HX-Push-Url"]
    assert SetupReport.objects.count() == Rating.objects.count() == 1


def test_the_thank_you_link_cannot_be_forged(client, default_providers):
    for done in ("forged", "e30:1abc:def"):
        response = client.get(rate_url(done=done))
        assert response.status_code == 200
        assert "Share my result anonymously" in response.content.decode()


def test_the_thank_you_link_belongs_to_its_provider(client, default_providers):
    response = client.post(rate_url(), answers())
    token = re.search(r"done=([^&]+)", response["Location"]).group(1)

    html = client.get(rate_url("deepseek", done=token)).content.decode()

    assert "Share my result anonymously" in html
    assert "Thank you!" not in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stars": None}, "Choose from 1 to 5 stars."),
        ({"stars": "6"}, "Select a valid choice."),
        ({"success": None}, "Say whether the setup worked."),
        ({"felt_difficulty": "0"}, "Select a valid choice."),
        ({"minutes": "0"}, "greater than or equal to 1"),
        ({"minutes": "1441"}, "less than or equal to 1440"),
        ({"minutes": "soon"}, "Enter a whole number of minutes"),
        ({"comment": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_ticked_with_bad_answers_shows_errors_and_records_nothing(
    client, default_providers, changes, message
):
    before = counters()

    response = client.post(rate_url(), answers(**changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert counters() == before
    assert SetupReport.objects.count() == Rating.objects.count() == 0


def test_a_key_pasted_into_the_comment_is_refused_and_not_echoed(client, default_providers):
    key = "sk-or-v1-PastedByMistake0123456789abcdef"

    response = client.post(rate_url(), answers(comment=f"my key is {key} lol"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This looks like an API key." in html
    assert key not in html
    assert SetupReport.objects.count() == Rating.objects.count() == 0


def test_over_the_daily_limit_nothing_is_half_recorded(client, default_providers, settings):
    # The setup report fits under a cap of 1; the rating after it does not. The two are
    # one transaction, so the setup report must be rolled back with the refused rating.
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    before = counters()

    response = client.post(rate_url(), answers())

    html = response.content.decode()
    assert response.status_code == 429
    assert "reached today&#x27;s limit" in html or "reached today's limit" in html
    assert "Nothing was recorded this time." in html
    assert counters() == before
    assert SetupReport.objects.count() == Rating.objects.count() == 0


def test_a_second_report_the_same_day_is_refused_politely(client, default_providers):
    assert client.post(rate_url(), answers()).status_code == 303
    before = counters()

    response = client.post(rate_url(), answers(stars="1"), headers=HTMX)

    assert response.status_code == 429
    assert "<html" not in response.content.decode()
    assert "already sent this for this provider today" in response.content.decode()
    assert counters() == before
    assert SetupReport.objects.count() == Rating.objects.count() == 1


def test_another_provider_the_same_day_is_fine(client, default_providers):
    assert client.post(rate_url(), answers()).status_code == 303

    assert client.post(rate_url("deepseek"), answers()).status_code == 303
    assert SetupReport.objects.count() == Rating.objects.count() == 2


def test_posting_without_a_provider_goes_back_to_step_3(client, default_providers):
    response = client.post(reverse("onboarding:setup-step", args=[7]), answers())

    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:setup-step", args=[3])
    assert SetupReport.objects.count() == 0
