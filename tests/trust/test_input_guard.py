"""byok_site.middleware refuses unusable input with the site's 400 page, before any view,
cache or redirect sees it: a form body in another charset, NUL characters, and anything
key-shaped in the URL. Through real requests, with DEBUG on and off."""

import logging
import pickle
import re
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.test import Client

from registry.models import ProTip, Rating

KEY = "sk-or-v1-" + "ca11ab1e" * 8
SECRET_PART = KEY[6:]
CSRF_COOKIE = "a" * 32  # any 32-character token: the error view's CSRF re-check read the body


@pytest.fixture(params=[True, False], ids=["DEBUG on", "DEBUG off"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def django_log():
    """Every record Django's loggers and the root logger handle during the test."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)


def strict_client():
    client = Client(enforce_csrf_checks=True, raise_request_exception=True)
    client.cookies["csrftoken"] = CSRF_COOKIE
    return client


def assert_site_400(response, words):
    html = response.content.decode()
    assert response.status_code == 400
    assert words in html
    assert "BYOK Registry" in html  # the site's own page, not a bare one
    assert "Traceback" not in html and "technical_500" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


# --- 1. a form body in a charset other than UTF-8 ----------------------------------------

CHARSET_URLS = [
    "/healthz",
    "/",
    "/providers/openrouter/rate/",
    "/setup/6/?p=openrouter",
    "/suggest/",
    "/admin/login/",
    "/no-such-page/",
]


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ISO-8859-1", "x-no-such-charset"])
@pytest.mark.parametrize("url", CHARSET_URLS)
def test_a_form_in_another_charset_is_a_400_not_a_500(
    default_providers, debug, django_log, url, charset
):
    response = strict_client().generic(
        "POST",
        url,
        b"rating=5&comment=caf%E9",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert_site_400(response, "character encoding other than UTF-8")
    assert not Rating.objects.exists()
    assert not any(record.exc_info for record in django_log), "a traceback was logged"


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "UTF_8"])
def test_utf8_spelled_any_way_is_read_as_usual(default_providers, charset):
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.generic(
        "POST",
        "/providers/openrouter/rate/",
        b"rating=5&comment=",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 302
    assert Rating.objects.count() == 1


# --- 2. NUL characters --------------------------------------------------------------------

NUL_URLS = [
    "/?q=%00",
    "/?difficulty=%00",
    "/compare/?p=%00",
    "/compare/?p=openrouter&p=%00",
    "/setup/?p=%00",
    *[f"/setup/{step}/?p=%00" for step in range(1, 8)],
    "/setup/7/?p=openrouter&done=%00",
    "/?%00=1",
    "/providers/%00/",
    "/admin/registry/provider/%00/change/",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_url_is_a_400(default_providers, debug, url):
    assert_site_400(Client().get(url), "NUL character")


def test_a_nul_in_a_form_field_is_a_400_and_saves_nothing(default_providers, debug):
    response = Client().post("/providers/openrouter/tips/", {"text": "Use the\x00 batch API"})
    assert_site_400(response, "NUL character")
    assert not ProTip.objects.filter(from_community=True).exists()


# --- 3. key-shaped input in the URL -------------------------------------------------------

KEY_URLS = [
    f"/?q={KEY}",
    f"/?q={KEY}{'x' * 40}",
    f"/?q=my+key+is+{KEY}",
    f"/?sort={KEY}",
    f"/?audience={KEY}",
    f"/?difficulty={KEY}",
    f"/?free=on&q={quote(' '.join(KEY))}".replace("%20", "%E2%80%8B"),  # zero-width spaces
    f"/compare/?p={KEY}",
    f"/compare/?p=openrouter&p=groq&p=deepseek&p=groq&p={KEY}",
    f"/setup/?api_key={KEY}",
    f"/setup/6/?difficulty=9&api_key={KEY}",
    f"/setup/6/?p=openrouter&api_key={KEY}",
    f"/stats/?{KEY}=1",
    f"/providers/{KEY}/",
    f"/providers/{KEY}",  # APPEND_SLASH would have echoed it in Location
    f"/admin/registry/provider/?q={KEY}",
]


def cache_bytes():
    chunks = []
    for alias in caches:
        for key, value in caches[alias]._cache.items():
            chunks.append(key.encode() + pickle.dumps(value))
    return b"\n".join(chunks)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("url", KEY_URLS)
def test_a_key_in_the_url_is_refused_without_echo_or_cache(default_providers, debug, url, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = Client().get(url, **headers)
    assert_site_400(response, "looks like an API key, so we did not use it")
    assert "Never put a key in a URL" in response.content.decode()
    sent = response.content.decode() + "".join(f"{k}: {v}" for k, v in response.items())
    assert SECRET_PART not in sent and "ca11ab1e" not in sent
    assert "Location" not in response and "HX-Push-Url" not in response
    assert SECRET_PART.encode() not in cache_bytes()


def test_a_key_in_a_post_url_is_refused_before_the_form_is_read(default_providers):
    response = Client().post(f"/setup/6/?p=openrouter&k={KEY}", {"api_key": "sk-or-v1-x"})
    assert_site_400(response, "looks like an API key")


@pytest.mark.parametrize(
    "url",
    [
        "/?q=claude-3-5-sonnet-20241022",
        "/?q=mistralai-mixtral-8x22b-instruct-v0-1-and-more",
        "/?q=550e8400-e29b-41d4-a716-446655440000",
        "/?q=Use+sk-+keys",
        "/compare/?p=openrouter&p=groq",
        "/setup/2/?p=openrouter&free=on",
        "/providers/openrouter/",
    ],
)
def test_ordinary_urls_pass(default_providers, url):
    assert Client().get(url, follow=True).status_code == 200


def test_the_wizards_own_signed_tokens_pass(default_providers):
    # Its start time (t) and result (done) carry random-looking signatures by design.
    client = Client(REMOTE_ADDR="203.0.113.10")
    html = client.get("/setup/1/").content.decode()
    token = re.search(r'name="t" value="([^"]+)"', html).group(1)
    assert client.get("/setup/4/", {"p": "openrouter", "t": token}).status_code == 200
    result = {"success": "yes", "minutes": 4, "stars": 5, "felt_difficulty": 1, "share": "on"}
    response = client.post(f"/setup/7/?p=openrouter&t={token}", result, follow=True)
    assert response.status_code == 200
    assert "done=" in response.redirect_chain[-1][0]
    assert Rating.objects.count() == 1
