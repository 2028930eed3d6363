"""Maintainers in the admin: an edit is kept from the sync and shows on the pages at once;
a price is corrected by adding a dated row, never by editing one."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from catalog.models import Model, Offering, Price
from catalog.sync import SNAPSHOT, sync_source


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("maintainer", "m@example.com", "unused"))
    cache.clear()
    return client


def model_form(model, **changes):
    data = {
        "model_id": model.model_id,
        "name": model.name,
        "family": model.family,
        "release_date": model.release_date.isoformat() if model.release_date else "",
        "knowledge_cutoff": model.knowledge_cutoff,
        "input_modalities": model.input_modalities,
        "output_modalities": model.output_modalities,
        "aliases-TOTAL_FORMS": "0",
        "aliases-INITIAL_FORMS": "0",
        "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000",
    }
    for flag in ("open_weights", "reasoning", "tool_call", "attachment", "structured_output"):
        if getattr(model, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_a_renamed_model_shows_at_once_and_the_sync_keeps_it(admin_client, default_providers):
    model = Model.objects.get(model_id="llama-3.3-70b")
    assert "Llama-3.3-70B-Instruct" in admin_client.get("/models/llama-3.3-70b/").text
    response = admin_client.post(
        f"/admin/catalog/model/{model.pk}/change/", model_form(model, name="Llama 3.3 70B")
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.curated_fields == ["name"]
    assert "<h1>Llama 3.3 70B</h1>" in admin_client.get("/models/llama-3.3-70b/").text

    sync_source(str(SNAPSHOT))  # a full sync, not only what is missing
    model.refresh_from_db()
    assert model.name == "Llama 3.3 70B"

    admin_client.post(
        "/admin/catalog/model/",
        {"action": "release_to_catalogue", "_selected_action": [model.pk]},
    )
    sync_source(str(SNAPSHOT))
    model.refresh_from_db()
    assert (model.name, model.curated_fields) == ("Llama-3.3-70B-Instruct", [])


def test_a_maintainer_price_is_a_new_row_that_becomes_current(admin_client, default_providers):
    groq = Offering.objects.select_related("current_price").get(
        provider_model_id="llama-3.3-70b-versatile"
    )
    old = groq.current_price
    url = f"/admin/catalog/offering/{groq.pk}/change/"
    page = admin_client.get(url).text
    assert "0.590000" in page  # the existing row is shown read-only
    data = {
        "catalog_provider": groq.catalog_provider_id,
        "provider_model_id": groq.provider_model_id,
        "model": groq.model_id,
        "name": groq.name,
        "status": groq.status,
        "context_limit": groq.context_limit,
        "output_limit": groq.output_limit,
        "prices-TOTAL_FORMS": "1",
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
        "prices-0-valid_from": "2099-01-01",
        "prices-0-input": "0.55",
        "prices-0-output": "0.75",
        "prices-0-source": "maintainer: Groq's pricing page",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.text[:2000]

    groq.refresh_from_db()
    assert groq.current_price.input == Decimal("0.55") and groq.current_price.by_maintainer
    assert Price.objects.filter(pk=old.pk, input=Decimal("0.59")).exists()
    page = admin_client.get("/models/llama-3.3-70b/").text
    assert "maintainer: Groq&#x27;s pricing page" in page
    assert "$0.55" in page
