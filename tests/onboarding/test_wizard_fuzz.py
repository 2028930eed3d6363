"""Arbitrary query strings and form bodies on every wizard step: never a 500, and nothing
recorded unless the visitor opted in with a valid form."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.models import Rating, SetupReport

NAMES = ["free", "difficulty", "min_trust", "audience", "p", "t", "m", "done", "api_key"]
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["openrouter", "0", "1", "4", "9", "-1", "1e999", "70", "beginners"]),
)
queries = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(step=st.integers(min_value=0, max_value=9), query=queries)
def test_any_query_string_on_any_step(client, default_providers, step, query):
    response = client.get(f"/setup/{step}/?{urlencode(query)}")

    # 400: a NUL or something key-shaped in the query, refused before the view.
    assert response.status_code in (200, 302, 400, 404)
    if step in (0, 8, 9):
        assert response.status_code in (400, 404)


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["success", "minutes", "stars", "felt_difficulty", "comment", "api_key", "share"]
        ),
        values,
        max_size=6,
    )
)
@pytest.mark.parametrize("step", [6, 7])
def test_any_post_body_on_the_form_steps(client, default_providers, step, body):
    response = client.post(f"/setup/{step}/?p=openrouter", body)

    assert response.status_code in (200, 303, 400, 429)  # 400: a NUL in the body
    # Report and rating go together or not at all, and never without the opt-in.
    assert SetupReport.objects.count() == Rating.objects.count()
    if "share" not in body or step == 6:
        assert SetupReport.objects.count() == 0
