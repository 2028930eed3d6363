"""The site's own 400, 403, 403 (CSRF), 404, 429 and 500 pages: with DEBUG off, through real
requests, consistent with the site, with its CSP, and with no debug detail or echo."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

DETAIL = "internal-detail-4f1c"


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.trust.error_urls"


def assert_error_page(response, status, heading, *, site_page=True):
    html = response.content.decode()
    assert response.status_code == status
    assert heading in html
    assert "BYOK Registry" in html
    if site_page:
        assert 'href="/"' in html or 'href="/setup/"' in html
    for debug_detail in ("Traceback", "Django", "DEBUG", DETAIL, "exception"):
        assert debug_detail not in html, debug_detail
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_404_does_not_repeat_the_address(production, db):
    for url in ("/no-such-page/echo-this-back/", "/providers/echo-this-back/"):
        response = Client().get(url)
        assert_error_page(response, 404, "Page not found")
        assert "echo-this-back" not in response.content.decode()


def test_403_csrf_failure_explains_what_to_do(production, default_providers):
    response = Client(enforce_csrf_checks=True).post("/providers/openrouter/rate/", {"rating": 5})
    assert_error_page(response, 403, "That form could not be sent")
    assert "reload the page" in response.content.decode()


def test_403_permission_denied(production, db):
    assert_error_page(Client().get("/test-errors/403/"), 403, "You cannot do that here")
    # The admin's own refusals use it too: event rows cannot be added by hand.
    maintainer = User.objects.create_superuser("m", "m@example.com", "pw-not-used")
    client = Client()
    client.force_login(maintainer)
    assert_error_page(client.get("/admin/registry/rating/add/"), 403, "You cannot do that here")


def test_400_from_django_itself(production, db):
    assert_error_page(Client().get("/test-errors/400/"), 400, "We could not use that request")
    # A Host header outside DJANGO_ALLOWED_HOSTS is Django's own 400.
    response = Client(HTTP_HOST="evil.example").get("/")
    assert_error_page(response, 400, "We could not use that request")


def test_429_page_for_the_views_limits(production, db):
    response = Client().get("/test-errors/429/")
    assert_error_page(response, 429, "That is enough for today")
    assert "Nothing more was counted" in response.content.decode()


def test_500_renders_without_a_database_or_request_context(production):
    # No db fixture: pytest-django refuses any query, so this page must not make one.
    response = Client(raise_request_exception=False).get("/test-errors/500/")
    assert_error_page(response, 500, "Something went wrong on our side", site_page=False)
    assert 'href="/"' in response.content.decode()
