"""/models/ and /models/<id>/ through Django's test client, on the shipped snapshot or on
built data: filters, htmx fragments and URL state, the calculator without JavaScript,
best-value marks, price history, the provider page's list, and pinned query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog.models import CatalogProvider, Model, Offering, OfferingStatus, Price
from catalog.sync import load_snapshot
from registry.models import Provider

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def model_names(html):
    return re.findall(r'<th scope="row"><a href="/models/[^"]+">([^<]+)</a>', html)


def model_ids(html):
    return re.findall(r'<th scope="row"><a href="/models/([^"/]+)/">', html)


# --- /models/ on the shipped snapshot ---------------------------------------------------


def test_the_list_shows_models_with_their_cheapest_price(client, default_providers):
    page = client.get("/models/").content.decode()
    listed = Model.objects.served_by(Offering.objects.listed()).count()
    assert f"{listed} models, page 1 of" in page
    assert len(model_ids(page)) == 50
    # Sorted by how many providers serve the model: gpt-oss-120b is at 8 of the 17.
    assert model_ids(page)[0] == "gpt-oss-120b"
    assert 'href="https://models.dev/"' in page  # credited where its data is shown


def test_tool_calling_under_a_dollar(client, default_providers):
    """The README's question: who serves a model with tool calling under $1 per million
    input tokens? Every listed model has such an offering, and nothing else is listed."""
    page = client.get("/models/?tools=on&max_input=1&sort=name").content.decode()
    ids = model_ids(page)
    assert ids
    for model_id in ids:
        model = Model.objects.get(model_id=model_id)
        assert model.tool_call
        assert model.offerings.listed().filter(current_price__input__lte=1).exists()
    expensive = Model.objects.get(model_id="claude-opus-4-1")  # $15 in everywhere
    assert expensive.model_id not in ids


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("free=on", lambda m: m.offerings.listed().free().exists()),
        ("vision=on", lambda m: "image" in m.inputs),
        ("reasoning=on", lambda m: m.reasoning),
        ("min_context=1000000", lambda m: m.offerings.listed().min_context(10**6).exists()),
        ("max_output=0.5", lambda m: m.offerings.listed().max_output_price(0.5).exists()),
        ("provider=groq", lambda m: m.offerings.listed().at_provider("groq").exists()),
        ("family=llama", lambda m: m.family == "llama"),
        ("q=sonnet", lambda m: "sonnet" in (m.name + m.model_id + m.family).lower()),
    ],
)
def test_each_filter_keeps_only_matching_models(client, default_providers, query, check):
    everything = client.get("/models/").content.decode()
    page = client.get(f"/models/?{query}").content.decode()
    ids = model_ids(page)
    assert ids and ids != model_ids(everything)
    assert all(check(Model.objects.get(model_id=i)) for i in ids)


def test_offering_filters_hold_for_one_offering(client, default_providers):
    """Free at OpenRouter and served by Groq are two offerings: "free at Groq" is not."""
    llama = Model.objects.get(model_id="llama-3.3-70b")
    assert llama.offerings.free().exists() and llama.offerings.at_provider("groq").exists()
    page = client.get("/models/?free=on&provider=groq").content.decode()
    assert "llama-3.3-70b" not in model_ids(page)


def test_htmx_gets_the_results_fragment_and_the_canonical_url(client, default_providers):
    full = client.get("/models/?tools=on&q=&sort=providers")
    fragment = client.get("/models/?tools=on&q=&sort=providers", headers=HTMX)
    assert full["Vary"].count("HX-Request") == 1 and "HX-Request" in fragment["Vary"]
    assert b"<html" in full.content and b"<html" not in fragment.content
    assert fragment.content.decode().strip().startswith('<div id="model-results"')
    assert fragment["HX-Push-Url"] == "/models/?tools=on"  # blanks and defaults dropped
    assert model_ids(fragment.content.decode()) == model_ids(full.content.decode())


def test_every_htmx_control_has_a_real_address(client, default_providers):
    page = client.get("/models/?page=2").content.decode()
    for tag in re.findall(r"<(?:a|form)\b[^>]*hx-get=[^>]*>", page):
        assert 'href="' in tag or 'action="' in tag, tag
    assert 'rel="prev"' in page and 'rel="next"' in page


def test_bad_filters_are_reported_and_the_rest_still_apply(client, default_providers):
    response = client.get("/models/?max_input=cheap&provider=nowhere&tools=on&min_context=7")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were ignored" in page
    assert "Maximum input price must be a number of dollars." in page
    assert "There is no provider “nowhere” in the catalogue" in page
    assert "Choose a minimum context from the list" in page
    assert model_ids(page) == model_ids(client.get("/models/?tools=on").content.decode())


def test_no_match_suggests_which_filter_to_drop(client, default_providers):
    page = client.get("/models/?q=sonnet&provider=groq").content.decode()
    assert "No model matches these filters." in page
    assert 'href="/models/?q=sonnet">Remove the provider</a>' in page


# --- /models/<id>/ ----------------------------------------------------------------------


def test_the_model_page_lists_every_offering_with_trust_and_marks_the_best(
    client, default_providers
):
    llama = Model.objects.get(model_id="llama-3.3-70b")
    page = client.get("/models/llama-3.3-70b/").content.decode()
    assert page.count('<th scope="row">') == llama.offerings.count()
    for offering in llama.offerings.select_related("catalog_provider"):
        assert offering.provider_model_id in page
    # OpenRouter has community data (the seed's): its badge; the others have none yet.
    assert "Highly Recommended" in page
    assert "No community data yet" in page
    assert 'href="/providers/openrouter/"' in page
    assert re.search(r'class="best">free <span class="best-mark">best</span>', page)
    assert "Price history" in page and "models.dev at commit f3fc692" in page
    assert '<th scope="col">Monthly cost</th>' not in page  # no column until asked


def test_the_calculator_works_as_a_plain_get_form(client, default_providers):
    page = client.get(
        "/models/llama-3.3-70b/?input_tokens=1M&output_tokens=200k&cached_tokens="
    ).content.decode()
    assert "Monthly cost for 1M input tokens and 200k output tokens" in page
    # Groq: 1M x $0.59 + 0.2M x $0.79 = $0.748.
    groq_row = page.split('href="/providers/groq/"')[1].split("</tr>")[0]
    assert "<td>$0.75</td>" in groq_row
    assert re.search(r'class="best">\$0\.00 <span class="best-mark">best</span>', page)


def test_a_preset_computes_and_htmx_gets_the_offerings_fragment(client, default_providers):
    response = client.get("/models/claude-sonnet-4-5/?preset=coding", headers=HTMX)
    page = response.content.decode()
    assert page.strip().startswith('<div id="offerings"')
    assert response["HX-Push-Url"] == "/models/claude-sonnet-4-5/?preset=coding"
    # Anthropic: 10M x $3 + 20M cached x $0.30 + 1M x $15 = $51.
    anthropic = page.split('href="/providers/anthropic/"')[1].split("</tr>")[0]
    assert "$51.00" in anthropic
    assert 'value="30000000"' in page  # the form shows the preset's figures


def test_calculator_errors_are_shown_not_raised(client, default_providers):
    response = client.get("/models/llama-3.3-70b/?input_tokens=lots&output_tokens=" + "9" * 99)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Write a number of tokens, like 1000000, 1.5M or 200k." in page
    assert "Monthly cost for" not in page


def test_an_unknown_model_is_404(client, db):
    assert client.get("/models/no-such-model/").status_code == 404


def test_retired_offerings_stay_with_their_history(client, default_providers):
    groq = Offering.objects.get(provider_model_id="llama-3.3-70b-versatile")
    groq.status, groq.retired_at = OfferingStatus.RETIRED, timezone.now()
    groq.save()
    page = client.get("/models/llama-3.3-70b/").content.decode()
    row = page.split('href="/providers/groq/"')[1].split("</tr>")[0]
    assert "Retired" in row and "best" not in row
    assert re.search(r"<summary>Groq · <code>llama-3\.3-70b-versatile</code>.*retired", page)
    assert "llama-3.3-70b" not in model_ids(client.get("/models/?provider=groq").content.decode())


def test_the_provider_page_lists_its_models_with_prices_and_their_source(client, default_providers):
    page = client.get("/providers/groq/").content.decode()
    section = page.split('id="provider-models-title"')[1].split("</section>")[0]
    assert "15 models; prices per million tokens, as of" in section
    assert "from models.dev at commit f3fc692" in section
    assert 'href="/models/llama-3.3-70b/"' in section
    assert "$0.59" in section
    openrouter = client.get("/providers/openrouter/").content.decode()
    assert 'href="/models/?provider=openrouter">All 337 models at OpenRouter</a>' in openrouter


def test_a_sync_shows_on_cached_pages_at_once(client, default_providers, catalogue, write):
    from django.core.management import call_command

    assert "$0.59" in client.get("/providers/groq/").content.decode()
    assert "$0.59" in client.get("/models/llama-3.3-70b/").content.decode()
    catalogue["providers"]["groq"]["models"]["llama-3.3-70b-versatile"]["cost"]["input"] = 0.61
    call_command("sync_models", write(catalogue), verbosity=0)
    assert "$0.61" in client.get("/providers/groq/").content.decode()
    assert "$0.61" in client.get("/models/llama-3.3-70b/").content.decode()


# --- query counts: pinned, and the same for 3 and 30 offerings --------------------------

LIST_QUERIES = 6  # registry version, provider and family choices, count, page rows, models
# Registry version, the model, its offerings (joined), its price rows, the offerings a
# visitor may rate.
DETAIL_QUERIES = 5
CACHED = 1  # the registry version: the whole page is cached


def build_model(offerings, prices_each, *, name="Built"):
    model = Model.objects.create(
        model_id=f"built-{offerings}", group_key=f"built{offerings}", name=name, tool_call=True
    )
    observed = timezone.now()
    for n in range(offerings):
        registry = Provider.objects.create(
            provider_id=f"p-{offerings}-{n}",
            provider_name=f"P {offerings} {n}",
            signup_url="https://p.example/s",
            api_key_url="https://p.example/k",
            documentation_url="https://p.example/d",
            setup_reports=30,
            setup_successes=20 + n % 10,
            ratings_count=12,
            ratings_sum=40,
        )
        provider = CatalogProvider.objects.create(
            catalog_id=f"c-{offerings}-{n}", name=f"C {n}", provider=registry
        )
        offering = Offering.objects.create(
            catalog_provider=provider,
            provider_model_id=f"m-{n}",
            model=model,
            name="m",
            context_limit=1000 * (n + 1),
        )
        Price.objects.bulk_create(
            Price(
                offering=offering,
                input=Decimal(n + k),
                output=Decimal(2 * n + k),
                cache_read=Decimal("0.1"),
                valid_from=datetime.date(2025, 1, 1) + datetime.timedelta(days=k),
                source="test",
                observed_at=observed,
            )
            for k in range(prices_each)
        )
        Offering.objects.refresh_current_prices([offering.pk])
    return model


@pytest.mark.parametrize(("offerings", "prices_each"), [(3, 1), (30, 6)])
def test_model_page_queries_do_not_grow(
    client, django_assert_num_queries, db, offerings, prices_each
):
    model = build_model(offerings, prices_each)
    url = f"/models/{model.model_id}/?preset=chat"
    with django_assert_num_queries(DETAIL_QUERIES):
        page = client.get(url).content.decode()
    assert page.count('<th scope="row">') == offerings
    assert page.count("<details>") == offerings
    with django_assert_num_queries(CACHED):
        again = client.get(url).content.decode()
    # The same page but for the per-response masking of the visitor's CSRF token.
    assert without_csrf_tokens(again) == without_csrf_tokens(page)


def without_csrf_tokens(html):
    return re.sub(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", html)


@pytest.mark.parametrize("models", [2, 12])
def test_model_list_queries_do_not_grow(client, django_assert_num_queries, db, models):
    for n in range(models):
        build_model(n + 2, 2, name=f"Built {n:02d}")
    url = "/models/?tools=on&max_input=100&sort=price"
    with django_assert_num_queries(LIST_QUERIES):
        page = client.get(url).content.decode()
    assert len(model_ids(page)) == models
    with django_assert_num_queries(CACHED):
        client.get(url)


def test_the_snapshot_loads_without_a_registry(db):
    """An empty registry (no providers): offerings exist, pages say "not in the registry"."""
    load_snapshot()
    assert not CatalogProvider.objects.filter(provider__isnull=False).exists()
    from django.test import Client

    page = Client().get("/models/llama-3.3-70b/").content.decode()
    assert "(not in the registry)" in page


# --- fuzzed query strings: a clear page, never a 500 -------------------------------------

# No NUL: the middleware refuses it with a 400 before any view (tests/trust/test_fuzz_forms.py).
query_values = st.text(st.characters(exclude_characters="\x00"), max_size=40) | st.sampled_from(
    ["on", "1", "-1", "1e309", "NaN", "0"]
)
query = st.dictionaries(
    st.sampled_from(
        ["q", "free", "tools", "vision", "reasoning", "min_context", "max_input", "max_output",
         "provider", "family", "sort", "page", "preset", "input_tokens", "output_tokens",
         "cached_tokens"]
    ),
    query_values,
    max_size=6,
)  # fmt: skip


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(params=query, htmx=st.booleans())
def test_fuzzed_parameters_never_break_the_pages(client, default_providers, params, htmx):
    headers = HTMX if htmx else {}
    for url in ("/models/", "/models/llama-3.3-70b/"):
        response = client.get(url, params, **headers)
        assert response.status_code == 200, (url, params)


def test_the_top_trust_score_counts_only_providers_with_enough_data(client, default_providers):
    """A handful of votes never ranks a model: a low-confidence provider's score is "new"."""
    groq = Provider.objects.get(provider_id="groq")
    Provider.objects.filter(pk=groq.pk).update(
        setup_reports=5,
        setup_successes=5,
        ratings_count=5,
        ratings_sum=25,
        active_users=5,
        total_users=5,
    )
    page = client.get("/models/?provider=groq&q=compound").content.decode()
    row = page.split('<th scope="row"><a href="/models/compound/')[1].split("</tr>")[0]
    assert "not enough data yet" in row
    Provider.objects.filter(pk=groq.pk).update(
        setup_reports=40,
        setup_successes=40,
        ratings_count=20,
        ratings_sum=100,
        active_users=40,
        total_users=40,
    )
    cache.clear()
    page = client.get("/models/?provider=groq&q=compound").content.decode()
    row = page.split('<th scope="row"><a href="/models/compound/')[1].split("</tr>")[0]
    assert "not enough data yet" not in row and "/100" in row
