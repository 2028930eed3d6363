"""Hypothesis drives every form with arbitrary input, through real HTTP requests.

Never a 500 or a traceback (the test client re-raises any exception a view lets escape),
and input the site rejects changes nothing in the database.
"""

from urllib.parse import urlencode

from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.models import (
    DailyQuota,
    IssueReport,
    ProTip,
    Provider,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Anything a browser could send in a form field (no lone surrogates: they cannot be encoded).
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
values = st.one_of(
    text,
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(
        ["", "0", "1", "5", "6", "-1", "3.5", "on", "yes", "no", "1e309", "nan", "\x00", "é" * 3000]
    ),
    st.sampled_from(["broken_link", "key_rejected", "other", "docs", "signup", "openrouter"]),
    st.just("<script>alert(1)</script>"),
    st.just("javascript:alert(1)"),
)
provider_ids = st.sampled_from(["openrouter", "groq", "anthropic", "no-such", "ÿ", "x" * 300])


def form_data(names):
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def state():
    """Everything a rejected submission could have touched."""
    return (
        Rating.objects.count(),
        SetupReport.objects.count(),
        Review.objects.count(),
        ProTip.objects.count(),
        IssueReport.objects.count(),
        ProviderSuggestion.objects.count(),
        DailyQuota.objects.aggregate(n=Sum("used"))["n"],
        *Provider.objects.aggregate(r=Sum("ratings_count"), s=Sum("setup_reports")).values(),
    )


def visitor(n):
    # A fresh visitor per example, so the abuse limits do not hide the forms' own checks.
    return Client(REMOTE_ADDR=f"10.{n % 250}.{n // 250 % 250}.7", HTTP_USER_AGENT=f"fuzz/{n}")


def check(response, before, accepted=(302, 303)):
    assert response.status_code < 500
    assert response.status_code in (200, 302, 303, 400, 404, 405, 429)
    if response.status_code not in accepted:
        assert state() == before, "rejected input changed the database"


counter = iter(range(10**9))


@FUZZ
@given(
    query=form_data(
        ["q", "free", "instant", "difficulty", "min_score", "audience", "sort", "page"]
    ),
    htmx=st.booleans(),
)
def test_browse_filters(default_providers, query, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    before = state()
    check(visitor(next(counter)).get("/?" + urlencode(query), headers=headers), before)


@FUZZ
@given(provider_id=provider_ids, data=form_data(["rating", "comment"]))
def test_rating_form(default_providers, provider_id, data):
    before = state()
    check(visitor(next(counter)).post(f"/providers/{provider_id}/rate/", data), before)


@FUZZ
@given(provider_id=provider_ids, data=form_data(["text"]))
def test_tip_form(default_providers, provider_id, data):
    before = state()
    check(visitor(next(counter)).post(f"/providers/{provider_id}/tips/", data), before)


@FUZZ
@given(provider_id=provider_ids, data=form_data(["category", "broken_link", "details"]))
def test_issue_form(default_providers, provider_id, data):
    before = state()
    check(visitor(next(counter)).post(f"/providers/{provider_id}/issues/", data), before)


@FUZZ
@given(data=form_data(["name", "website", "reason"]))
def test_suggestion_form(default_providers, data):
    before = state()
    check(visitor(next(counter)).post("/suggest/", data), before)


@FUZZ
@given(ids=st.lists(provider_ids, max_size=6), htmx=st.booleans())
def test_compare_parameters(default_providers, ids, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    before = state()
    check(
        visitor(next(counter)).get(
            "/compare/?" + urlencode([("p", i) for i in ids]), headers=headers
        ),
        before,
    )


WIZARD_QUERY = ["free", "difficulty", "min_trust", "audience", "p", "t", "m", "done"]


@FUZZ
@given(
    step=st.integers(min_value=-1, max_value=9),
    query=form_data(WIZARD_QUERY),
    provider_id=provider_ids,
    htmx=st.booleans(),
)
def test_wizard_steps_get(default_providers, step, query, provider_id, htmx):
    query.setdefault("p", provider_id)
    headers = {"HX-Request": "true"} if htmx else {}
    before = state()
    path = f"/setup/{step}/" if step >= 0 else "/setup/"
    check(visitor(next(counter)).get(path + "?" + urlencode(query), headers=headers), before)


@FUZZ
@given(
    step=st.integers(min_value=1, max_value=7),
    provider_id=provider_ids,
    data=form_data(
        ["api_key", "success", "minutes", "stars", "felt_difficulty", "comment", "share"]
    ),
    htmx=st.booleans(),
)
def test_wizard_steps_post(default_providers, step, provider_id, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    before = state()
    response = visitor(next(counter)).post(f"/setup/{step}/?p={provider_id}", data, headers=headers)
    # Only a shared step-7 result may change anything.
    if not (step == 7 and data.get("share") in ("on", "yes", "1", "true", "True")):
        assert response.status_code < 500
        assert state() == before
    else:
        check(response, before, accepted=(200, 302, 303))
