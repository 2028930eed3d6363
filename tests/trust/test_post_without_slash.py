"""A form posted without the trailing slash goes on, method and body kept (308)."""

import pytest
from django.test import Client


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_a_post_without_the_slash_is_redirected_with_its_body(default_providers, settings, debug):
    settings.DEBUG = debug
    client = Client(REMOTE_ADDR="192.0.2.77", HTTP_USER_AGENT="slash-test")
    response = client.post("/providers/openrouter/rate", {"rating": "5"})
    assert response.status_code == 308
    assert response["Location"] == "/providers/openrouter/rate/"
    followed = client.post(response["Location"], {"rating": "5"})
    assert followed.status_code == 302  # counted: the form was not lost


def test_get_without_the_slash_still_gets_djangos_301(default_providers):
    assert Client().get("/providers/openrouter").status_code == 301


def test_an_unknown_path_is_still_a_404(default_providers):
    assert Client().post("/no/such/page", {"a": "b"}).status_code == 404
