"""Schemathesis against the live schema: every operation of /api/v1/openapi.json, one test
each, property-tested with generated input (valid and invalid) over real HTTP to a live
server.

Each response must be no 5xx, a documented status with its documented content type, and
conform to its schema (schemathesis' default checks); schema-valid input must be accepted
unless it looks like an API key; a refused submission must change nothing in the
database. Bounded: MAX_EXAMPLES valid and MAX_EXAMPLES invalid inputs per operation,
under a second per operation on SQLite.

The operations are listed at collection from the API object itself (the live schema is
only there once the server runs); each test then loads the schema from the live server
and finds its operation there. Schemathesis' own pytest loader (from_fixture) cannot run
under pytest 9.2, whose nodes no longer have the attribute it renames.
"""

import pytest
import schemathesis
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.endpoints import api
from registry.interchange import COUNTER_FIELDS
from registry.models import DailyQuota, Provider, Rating, Review, SetupReport
from registry.secrets import PASTED_KEY_MESSAGE

MAX_EXAMPLES = 20
REFUSED_WHATEVER_THE_SCHEMA = ("key_in_url", "nul_character")
OPERATIONS = [
    (method.upper(), path)
    for path, methods in api.get_openapi_schema()["paths"].items()
    for method in methods
]


@pytest.fixture
def live_schema(live_server, default_providers, settings):
    # Generated reads would soon meet the read limit: lifted, so that they reach the views.
    settings.API_READS_PER_MINUTE = 1_000_000
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


def community_state():
    """What a submission could change: counters, events, reviews, submission quotas."""
    return (
        Provider.objects.aggregate(**{name: Sum(name) for name in COUNTER_FIELDS}),
        Rating.objects.count(),
        SetupReport.objects.count(),
        Review.objects.count(),
        sorted(
            DailyQuota.objects.exclude(bucket__startswith="read:").values_list("bucket", "used")
        ),
    )


def test_every_operation_is_tested():
    assert len(OPERATIONS) >= 14
    assert ("POST", "/api/v1/providers/{provider_id}/ratings") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation(live_schema, method, path):
    operation = live_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=2 * MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def property_holds(case):
        before = community_state() if method == "POST" else None
        response = case.call()
        # Schema-valid input is accepted, but for what no schema can say: text that looks
        # like an API key is refused wherever it is (in the address, or a comment), and so
        # is a NUL character in the address (byok_site/middleware.py).
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        if case.meta.generation.mode == GenerationMode.POSITIVE and response.status_code == 400:
            refusal = response.json()
            assert refusal["code"] in REFUSED_WHATEVER_THE_SCHEMA or (
                PASTED_KEY_MESSAGE in refusal["message"]
            ), f"schema-valid input refused: {refusal}"
        if before is not None and response.status_code >= 400:
            assert community_state() == before, "a refused submission changed something"

    property_holds()
