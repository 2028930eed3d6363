"""Model-level ratings: a visitor rates a model at one provider, through registry.services
with the same limits, burst holding and F() counters as provider ratings; the model page
shows each offering's rating and marks the best by its lower bound."""

import itertools
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog.models import CatalogProvider, Offering, OfferingRating, OfferingStatus
from registry.models import EventStatus, Provider
from registry.scoring import stars_lower_bound
from registry.services import (
    InvalidSubmissionError,
    UnknownOfferingError,
    counter_differences,
    rate_model,
    release_held,
)

MODEL = "llama-3.3-70b"
_agents = itertools.count()


def visitor(address="198.51.100.20", agent=None):
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent or f"model-rater/{next(_agents)}")


def offering_at(provider_id):
    return Offering.objects.get(
        model__model_id=MODEL, catalog_provider__provider__provider_id=provider_id
    )


def rate(client, offering, stars, **answers):
    data = {"offering": offering.pk, "stars": stars, **answers}
    return client.post(f"/models/{MODEL}/rate/", data)


def test_a_rating_through_the_model_page_counts_at_once(default_providers):
    groq = offering_at("groq")
    response = rate(visitor(), groq, 4, tool_calling="yes", streaming="no")
    assert response.status_code == 302
    assert response["Location"] == f"/models/{MODEL}/#model-rating"
    groq.refresh_from_db()
    assert (groq.ratings_count, groq.ratings_sum) == (1, 4)
    assert (groq.tool_calling_worked, groq.streaming_failed) == (1, 1)
    page = Client().get(f"/models/{MODEL}/").text
    assert '4.0★</span> <small class="muted">from 1</small>' in page
    assert "tool calling worked for 1 of 1" in page
    assert "streaming worked for 0 of 1" in page


def test_under_htmx_the_thank_you_lands_where_the_form_was(default_providers):
    response = visitor().post(
        f"/models/{MODEL}/rate/",
        {"offering": offering_at("groq").pk, "stars": 5},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.strip().startswith('<section id="model-rating"')
    assert "Your rating of this model counts now." in response.text


def test_the_same_limits_as_provider_ratings(default_providers):
    groq = offering_at("groq")
    statuses = [rate(visitor("198.51.100.30"), groq, 5).status_code for _ in range(12)]
    assert statuses.count(302) == 3  # one network, however many User-Agents
    assert statuses.count(429) == 9
    one = visitor("198.51.100.40", agent="one person")
    assert rate(one, groq, 5).status_code == 302
    assert rate(one, groq, 4).status_code == 429  # once per visitor, model and day
    groq.refresh_from_db()
    assert groq.ratings_count == 4


def test_bursts_are_held_and_released_like_provider_ratings(default_providers, settings):
    settings.REGISTRY_BURST_MIN_SUBMISSIONS = 2
    groq = offering_at("groq")
    for n in range(4):
        assert rate(visitor(f"10.60.{n}.1"), groq, 1).status_code == 302
    groq.refresh_from_db()
    assert groq.ratings_count == 2
    held = list(OfferingRating.objects.held().values_list("pk", flat=True))
    assert len(held) == 2
    assert release_held(OfferingRating, held) == 2
    groq.refresh_from_db()
    assert (groq.ratings_count, groq.ratings_sum) == (4, 4)
    assert OfferingRating.objects.filter(status=EventStatus.COUNTED).count() == 4
    assert counter_differences() == {}  # provider counters untouched by model ratings


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stars": 5}, "offering"),
        ({"offering": "not a number", "stars": 5}, "offering"),
        ({"offering": 10**9, "stars": 5}, "offering"),
        ({"stars": 9, "offering": None}, "stars"),
        ({"tool_calling": "maybe", "stars": 4, "offering": None}, "tool_calling"),
    ],
)
def test_bad_input_is_a_message_not_a_500(default_providers, data, field):
    groq = offering_at("groq")
    data = {k: (groq.pk if v is None else v) for k, v in data.items()}
    response = visitor().post(f"/models/{MODEL}/rate/", data)
    assert response.status_code == 200
    assert re.search(r'class="errorlist', response.text), field
    assert not OfferingRating.objects.exists()


def test_only_active_offerings_of_registry_providers_can_be_rated(default_providers):
    groq = offering_at("groq")
    Offering.objects.filter(pk=groq.pk).update(status=OfferingStatus.RETIRED)
    with pytest.raises(UnknownOfferingError):
        rate_model(groq.pk, 5)
    elsewhere = CatalogProvider.objects.create(catalog_id="elsewhere", name="Elsewhere")
    outside = Offering.objects.create(
        catalog_provider=elsewhere, provider_model_id=MODEL, model=groq.model, name="Llama"
    )
    with pytest.raises(UnknownOfferingError):
        rate_model(outside.pk, 5)
    Provider.objects.filter(provider_id="groq").update(is_published=False)
    with pytest.raises(UnknownOfferingError):
        rate_model(offering_at("groq").pk, 5)
    with pytest.raises(InvalidSubmissionError):
        rate_model(outside.pk, 6)
    assert not OfferingRating.objects.exists()


def test_the_best_rating_is_the_best_lower_bound(default_providers):
    few, many = offering_at("groq"), offering_at("deepinfra")
    Offering.objects.filter(pk=few.pk).update(ratings_count=2, ratings_sum=10)  # 5.0 from 2
    Offering.objects.filter(pk=many.pk).update(ratings_count=60, ratings_sum=264)  # 4.4 from 60
    page = Client().get(f"/models/{MODEL}/").text
    row = re.search(r"<tr>.*?Deep Infra.*?</tr>", page, re.S).group()
    assert "4.4★" in row and 'class="best"' in row
    few_row = re.search(r"<tr>.*?Groq.*?</tr>", page, re.S).group()
    assert "5.0★" in few_row and "best-mark" not in few_row.split("5.0★")[1].split("</td>")[0]


def test_the_wizard_rates_a_model_with_the_setup_result(default_providers):
    groq = offering_at("groq")
    answers = {
        "success": "yes",
        "minutes": "3",
        "stars": "4",
        "felt_difficulty": "1",
        "comment": "",
        "share": "on",
        "model-offering": groq.pk,
        "model-stars": "5",
        "model-tool_calling": "yes",
    }
    page = visitor().get("/setup/7/?p=groq").text
    assert 'name="model-offering"' in page
    assert visitor().post("/setup/7/?p=groq", answers).status_code == 303
    rating = OfferingRating.objects.get()
    assert (rating.offering_id, rating.stars, rating.tool_calling) == (groq.pk, 5, True)
    # Another provider's model is refused, and then nothing at all is recorded.
    other = {**answers, "model-offering": offering_at("deepinfra").pk}
    response = visitor().post("/setup/7/?p=groq", other)
    assert response.status_code == 200
    assert OfferingRating.objects.count() == 1


@given(count=st.integers(min_value=0, max_value=10**6), data=st.data())
@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_sql_twin_agrees_with_the_pure_function(default_providers, count, data):
    total = data.draw(st.integers(min_value=count, max_value=5 * count))
    groq = offering_at("groq")
    Offering.objects.filter(pk=groq.pk).update(ratings_count=count, ratings_sum=total)
    stored = Offering.objects.values_list("rating_lower_bound", flat=True).get(pk=groq.pk)
    assert stored == stars_lower_bound(count, total)
    # Never above the average, but for float rounding: all one-star gives 1 + 4 x ~1e-17.
    assert stored <= (total / count if count else 0.0) + 1e-12


def test_the_python_api_rates_a_model_without_web_limits(default_providers):
    groq = offering_at("groq")
    for _ in range(5):
        rate_model(groq.pk, 3, streaming=True)
    groq.refresh_from_db()
    assert (groq.ratings_count, groq.ratings_sum, groq.streaming_worked) == (5, 15, 5)
