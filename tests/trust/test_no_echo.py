"""A key sent where it does not belong is never shown back or copied into a URL, and every
GET page answers HEAD.

The forms read free text as sent, before their own checks; error messages never repeat a
value; redirects and pushed URLs copy only the parameters the page knows.
"""

import pytest
from django.test import Client

from registry.services import COMMENT_MAX, REPORT_MAX, TIP_MAX

KEY = "sk-or-v1-" + "9f8e7d6c5b4a" * 5


def visitor(n=1):
    return Client(REMOTE_ADDR=f"192.0.2.{n}", HTTP_USER_AGENT=f"echo-test/{n}")


def too_long(limit):
    """Over-length text with a key inside: it fails the field's length check first."""
    return "x " * ((limit - len(KEY)) // 2 + 10) + KEY


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/providers/groq/rate/", {"rating": "5", "comment": too_long(COMMENT_MAX)}),
        ("/providers/groq/tips/", {"text": too_long(TIP_MAX)}),
        (
            "/providers/groq/issues/",
            {"category": "other", "broken_link": "", "details": too_long(REPORT_MAX)},
        ),
        (
            "/suggest/",
            {"name": too_long(100), "website": "https://newco.example", "reason": "Fast."},
        ),
        (
            "/suggest/",
            {"name": "Newco", "website": "https://newco.example", "reason": too_long(2000)},
        ),
        ("/suggest/", {"name": "Newco", "website": KEY, "reason": "Fast."}),
        (
            "/setup/7/?p=groq",
            {
                "success": "yes",
                "minutes": "3",
                "stars": "5",
                "felt_difficulty": "1",
                "comment": too_long(COMMENT_MAX),
                "share": "on",
            },
        ),
    ],
    ids=["rating", "tip", "issue", "suggestion-name", "suggestion-reason", "website", "wizard"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_key_in_too_long_or_invalid_text_is_not_echoed(default_providers, url, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = visitor().post(url, data, headers=headers)
    assert response.status_code == 200
    assert KEY not in response.text
    assert KEY[:20] not in response.text
    assert "looks like an API key" in response.text


def test_an_unknown_id_in_compare_is_never_echoed(default_providers):
    parts = [KEY[i : i + 12] for i in range(0, len(KEY), 12)][:4]
    response = visitor().get("/compare/", {"p": ["groq", *parts[:3]]})
    assert response.status_code == 404
    for part in parts[:3]:
        assert part not in response.text


@pytest.mark.parametrize(
    "url",
    ["/setup/?free=0&api_key=VALUE", "/setup/6/?difficulty=9&api_key=VALUE&p=groq"],
)
def test_wizard_redirects_copy_only_its_own_parameters(default_providers, url):
    # A value the wizard does not read, shaped so the input check lets it through: the
    # redirect must still leave it behind.
    harmless = "not-a-key-but-not-ours"
    response = visitor().get(url.replace("VALUE", harmless))
    assert response.status_code == 302
    assert harmless not in response["Location"]
    assert "api_key" not in response["Location"]


def test_the_key_field_refuses_more_than_any_key_is_long(default_providers):
    response = visitor().post("/setup/6/?p=openrouter", {"api_key": "sk-or-v1-" + "a" * 300})
    assert response.status_code == 200
    assert "longer than any API key we know (200 characters at most)" in response.text
    assert "aaaaaaaaaaaaaaaaaaaa" not in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?free=on",
        "/healthz",
        "/stats/",
        "/providers/openrouter/",
        "/compare/?p=openrouter&p=groq",
        "/suggest/",
        "/setup/",
        "/setup/1/",
        "/setup/4/?p=groq",
    ],
)
def test_head_works_wherever_get_does(default_providers, url):
    get = visitor().get(url)
    head = visitor(2).head(url)
    assert head.status_code == get.status_code
    assert head.content == b""
