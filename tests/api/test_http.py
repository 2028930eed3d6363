"""HTTP done right: ETags and 304, caching by registry version, CORS, HEAD, the read limit,
JSON errors for everything under /api/, and pinned query counts."""

import pytest
from django.test import Client

from registry import services

from .conftest import error_of, post_json

READS = [
    "/api/v1/",
    "/api/v1/providers",
    "/api/v1/providers/openrouter",
    "/api/v1/providers/openrouter/history",
    "/api/v1/providers/openrouter/alerts",
    "/api/v1/recommendations",
    "/api/v1/statistics",
    "/api/v1/models?limit=5",
    "/api/v1/registry.json",
    "/api/v1/snapshots/",
    "/api/v1/openapi.json",
    "/api/v1/docs",
]


@pytest.mark.parametrize("url", READS)
def test_every_read_has_an_etag_cache_control_cors_and_304(api, default_providers, url):
    response = api.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "*"
    etag = response["ETag"]
    again = api.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Access-Control-Allow-Origin"] == "*"
    # HEAD: the same headers, no body.
    head = api.head(url)
    assert head.status_code == 200 and head.content == b"" and head["ETag"] == etag


API_POLICY = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize("url", [url for url in READS if url != "/api/v1/docs"])
def test_json_answers_carry_a_policy_that_allows_nothing(api, default_providers, url):
    # JSON is data: nothing in it may load, run or be framed. The site's own policy (which
    # allows its scripts, styles and images) is for pages.
    response = api.get(url)
    assert response["Content-Security-Policy"] == API_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    again = api.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again["Content-Security-Policy"] == API_POLICY


def test_api_errors_carry_it_too_and_the_docs_page_the_sites(api, default_providers):
    for response in (
        api.get("/api/v1/no-such-thing"),
        api.get("/api/v1/providers?q=a%00b"),
        post_json(api, "/api/v1/providers/openrouter/ratings", {"rating": 9}),
        api.options("/api/v1/providers", headers={"Access-Control-Request-Method": "GET"}),
    ):
        assert response.status_code in (204, 400, 404), response.content
        assert response["Content-Security-Policy"] == API_POLICY
    docs = api.get("/api/v1/docs")
    assert docs["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    assert "default-src 'self'" in docs["Content-Security-Policy"]


def test_a_write_changes_the_etag_and_the_figures(api, default_providers):
    first = api.get("/api/v1/providers/groq")
    assert first.json()["ratings_count"] == 0
    services.add_feedback("groq", 4)
    stale = api.get("/api/v1/providers/groq", headers={"If-None-Match": first["ETag"]})
    assert stale.status_code == 200 and stale["ETag"] != first["ETag"]
    assert stale.json()["ratings_count"] == 1


def test_cached_reads_cost_three_queries_and_304s_too(
    api, default_providers, django_assert_num_queries
):
    api.get("/api/v1/")  # the day's first request makes the day's salt
    # On a miss: the day's salt (read again inside a test's transaction), the read limit,
    # the registry version, then the page: a count, the providers, cautions, audiences.
    with django_assert_num_queries(7):
        etag = api.get("/api/v1/providers?limit=100")["ETag"]
    with django_assert_num_queries(3):
        assert api.get("/api/v1/providers?limit=100").status_code == 200
    with django_assert_num_queries(3):
        response = api.get("/api/v1/providers?limit=100", headers={"If-None-Match": etag})
        assert response.status_code == 304


def test_query_counts_do_not_grow_with_providers(api, make_provider, django_assert_num_queries):
    for n in range(30):
        make_provider(f"p{n:02}")
    api.get("/api/v1/")
    with django_assert_num_queries(7):
        assert len(api.get("/api/v1/providers?limit=100").json()["items"]) == 30
    # One provider: the row, six of its lists, reviews, issue reports, held, open alerts.
    with django_assert_num_queries(3 + 11):
        assert api.get("/api/v1/providers/p00").status_code == 200


def test_anonymous_reads_are_limited_per_network(settings, default_providers):
    settings.API_READS_PER_MINUTE = 3
    one, other = (Client(REMOTE_ADDR=address) for address in ("203.0.113.5", "203.0.113.6"))
    assert [one.get("/api/v1/statistics").status_code for _ in range(3)] == [200] * 3
    refused = one.get("/api/v1/statistics")
    message = error_of(refused, 429, "read_limit")
    assert "3 reads a minute" in message
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Access-Control-Allow-Origin"] == "*"
    # A 304 is a read too; another network has its own minute.
    assert one.get("/api/v1/statistics", headers={"If-None-Match": "x"}).status_code == 429
    assert other.get("/api/v1/statistics").status_code == 200
    # A User-Agent of its own does not buy more.
    assert (
        Client(REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="new").get("/api/v1/").status_code == 429
    )


def test_preflight_lets_any_origin_read_and_only_tokens_post(api, db):
    read = api.options(
        "/api/v1/providers",
        headers={"Origin": "https://host.example", "Access-Control-Request-Method": "GET"},
    )
    assert read.status_code == 204 and read["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in read["Access-Control-Allow-Headers"]
    with_token = api.options(
        "/api/v1/providers/openrouter/ratings",
        headers={
            "Origin": "https://host.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert with_token["Access-Control-Allow-Origin"] == "*"
    assert with_token["Access-Control-Allow-Methods"] == "POST"
    anonymous = api.options(
        "/api/v1/providers/openrouter/ratings",
        headers={
            "Origin": "https://host.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "Access-Control-Allow-Origin" not in anonymous


def test_a_cross_site_post_without_a_token_is_refused(api, default_providers, counters_of):
    before = counters_of("openrouter")
    response = post_json(
        api, "/api/v1/providers/openrouter/ratings", {"rating": 5}, Origin="https://evil.example"
    )
    error_of(response, 403, "cross_origin_needs_token", "Origin")
    assert "Access-Control-Allow-Origin" not in response
    assert counters_of("openrouter") == before
    # The site's own origin is not another site.
    same = post_json(
        api, "/api/v1/providers/openrouter/ratings", {"rating": 5}, Origin="http://testserver"
    )
    assert same.status_code == 201


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/v1/providers?q=sk-or-v1-" + "ab12" * 16, "key_in_url"),
        ("/api/v1/providers/sk-or-v1-" + "ab12" * 16, "key_in_url"),
        ("/api/v1/providers?q=a%00b", "nul_character"),
    ],
)
def test_the_input_check_answers_json_under_api(api, db, url, code):
    response = api.get(url)
    message = error_of(response, 400, code)
    assert "sk-or-v1" not in response.content.decode()
    assert message and response["Cache-Control"].startswith("max-age=0")


def test_a_form_in_another_charset_is_json_too(api, db):
    response = api.post(
        "/api/v1/providers/openrouter/ratings",
        b"rating=5",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    error_of(response, 400, "invalid_charset")


def test_unknown_addresses_and_methods_are_json(api, db):
    error_of(api.get("/api/v1/no-such-thing"), 404, "not_found")
    error_of(api.get("/api/no-version"), 404, "not_found")
    not_allowed = api.delete("/api/v1/providers")
    error_of(not_allowed, 405, "method_not_allowed")
    assert "GET" in not_allowed["Allow"]
    error_of(api.put("/api/v1/providers/openrouter/ratings"), 405, "method_not_allowed")


def test_a_server_error_is_json_without_detail(settings, db):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.api.error_urls"
    response = Client(raise_request_exception=False).get("/api/v1/boom")
    message = error_of(response, 500, "server_error")
    assert "boom-detail" not in response.content.decode() and "Traceback" not in message
    # Outside /api/ the site keeps its own page.
    page = Client(raise_request_exception=False).get("/boom")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_django_refuses_an_unknown_host_as_json(api, db):
    error_of(Client(HTTP_HOST="evil.example").get("/api/v1/"), 400, "bad_request")


def test_workers_take_reads_a_lease_at_a_time_and_never_pass_the_limit(transactional_db):
    """Outside a transaction (as in a server), each worker takes a twelfth of the minute's
    limit at once from the database and spends it itself; two workers together still get
    exactly the limit."""
    from api.http import ReadLeases
    from registry.models import DailyQuota

    def used(network):
        row = DailyQuota.objects.get(bucket__startswith="read:", bucket__endswith=f":{network}")
        return row.used, row.cap

    workers = [ReadLeases(), ReadLeases()]
    granted = [worker.take("some-network", 25) for _ in range(20) for worker in workers]
    assert granted.count(True) == 25 and granted[-1] is False
    assert used("some-network") == (25, 25)
    # Written 2 at a time, then the last one alone: 13 writes for 25 reads.

    for network, per_minute, lease in [("a", 120, 10), ("b", 600, 50), ("c", 10**9, 100)]:
        assert ReadLeases().take(network, per_minute)
        assert used(network) == (lease, per_minute)
    assert ReadLeases().take("d", 5) and used("d") == (1, 5)


def test_the_cached_docs_page_never_shows_a_visitors_message(default_providers):
    visitor = Client()
    visitor.post("/providers/groq/rate/", {"rating": 5, "comment": ""})  # a flash message
    page = visitor.get("/api/v1/docs")
    assert "Thank you" not in page.content.decode()
    assert "Thank you" not in Client().get("/api/v1/docs").content.decode()
    assert "Thank you" in visitor.get("/providers/groq/").content.decode()  # still theirs
