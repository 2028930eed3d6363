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


# --- the request's encoding: charset and content type ------------------------------------

POST_FORMS = {
    "/providers/openrouter/rate/": ["rating", "comment"],
    "/providers/openrouter/tips/": ["text"],
    "/providers/openrouter/issues/": ["category", "broken_link", "details"],
    "/suggest/": ["name", "website", "reason"],
    "/setup/6/?p=openrouter": ["api_key"],
    "/setup/7/?p=openrouter": ["success", "minutes", "stars", "felt_difficulty", "comment"],
}
CHARSETS = ["", "utf-8", "UTF8", "latin-1", "utf-16", "utf-16-le", "cp1252", "koi8-r"]
CHARSETS += ["x-unknown", "utf-8; boundary=x", '"utf-8"', "ascii"]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
CONTENT_TYPES += ["application/json", "application/octet-stream", "", "form/x; a=b"]
MULTIPART_BOUNDARIES = [
    "",
    "; boundary=fuzz",
    "; boundary=",
    '; boundary="a b"',
    "; boundary=x" * 3,
]


def encoded_body(data, charset, rng_bytes):
    """The form as a browser would send it, in the declared charset when Python knows it."""
    if rng_bytes is not None:
        return rng_bytes
    try:
        return urlencode(data, encoding=charset.strip('"').split(";")[0] or "utf-8").encode()
    except (LookupError, UnicodeEncodeError):
        return urlencode(data).encode()


@FUZZ
@given(
    url=st.sampled_from(sorted(POST_FORMS)),
    # Forms half the time, and CSRF enforced mostly: the path that used to be a 500.
    content_type=st.one_of(st.just(CONTENT_TYPES[0]), st.sampled_from(CONTENT_TYPES)),
    charset=st.sampled_from(CHARSETS),
    boundary=st.sampled_from(MULTIPART_BOUNDARIES),
    data=st.data(),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    enforce_csrf=st.sampled_from([True, True, True, False]),
    htmx=st.booleans(),
)
def test_any_charset_and_content_type_on_every_form(
    default_providers, url, content_type, charset, boundary, data, raw, enforce_csrf, htmx
):
    fields = data.draw(form_data(POST_FORMS[url]))
    header = content_type
    if content_type == "multipart/form-data":
        header += boundary
    if charset:
        header += f"; charset={charset}"
    n = next(counter)
    client = Client(
        enforce_csrf_checks=enforce_csrf,
        REMOTE_ADDR=f"10.{n % 250}.{n // 250 % 250}.9",
        HTTP_USER_AGENT=f"fuzz/{n}",
    )
    client.cookies["csrftoken"] = "a" * 32  # what made the error views re-read the body
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = state()
    response = client.generic(
        "POST", url, encoded_body(fields, charset, raw), content_type=header, **headers
    )
    assert response.status_code < 500
    assert response.status_code in (200, 302, 303, 400, 403, 404, 429)
    if response.status_code in (400, 403):
        assert state() == before, "a refused request changed the database"


# --- NUL in every query parameter of every GET page ---------------------------------------

GET_PAGES = {
    "/": ["q", "free", "instant", "difficulty", "min_score", "audience", "sort", "page"],
    "/compare/": ["p"],
    "/providers/openrouter/": [],
    "/stats/": [],
    "/suggest/": [],
    "/setup/": WIZARD_QUERY,
    **{f"/setup/{step}/": [*WIZARD_QUERY, "api_key"] for step in range(1, 8)},
    "/healthz": [],
    "/admin/login/": ["next"],
}


@FUZZ
@given(
    page=st.sampled_from(sorted(GET_PAGES)),
    data=st.data(),
    before_nul=text,
    after_nul=text,
    htmx=st.booleans(),
)
def test_a_nul_in_any_query_parameter_of_any_page_is_a_400(
    default_providers, page, data, before_nul, after_nul, htmx
):
    names = GET_PAGES[page] + ["p", "x", "utm_source"]
    query = data.draw(form_data(names))
    poisoned = data.draw(st.sampled_from(names))
    query[poisoned] = f"{before_nul}\x00{after_nul}"
    if data.draw(st.booleans()):  # or in the parameter's name
        query[f"{poisoned}\x00"] = query.pop(poisoned)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = state()
    response = visitor(next(counter)).get(f"{page}?{urlencode(query)}", **headers)
    assert response.status_code == 400
    assert b"NUL character" in response.content
    assert state() == before
