"""What the registry does not store: each test backs one "not" in the README's Privacy."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client

IPV4 = "198.51.100.73"
IPV6 = "2001:db8:77:1::5"
AGENT = "PrivacyProbe/1.0 (unique-agent-7f3a)"

PAGES = [
    "/",
    "/?free=on&difficulty=2&sort=users",
    "/stats/",
    "/providers/openrouter/",
    "/compare/?p=openrouter&p=deepseek",
    "/setup/1/",
    "/setup/3/?free=yes",
    "/setup/5/?p=openrouter",
    "/suggest/",
]


def submit_everything(client):
    """One of every visitor submission, through the real forms."""
    responses = [
        client.post("/providers/openrouter/rate/", {"rating": 4, "comment": "Smooth."}),
        client.post("/providers/openrouter/tips/", {"text": "Set a spending limit first."}),
        client.post(
            "/providers/openrouter/issues/",
            {"category": "broken_link", "broken_link": "docs", "details": "Docs link 404s."},
        ),
        client.post(
            "/suggest/",
            {"name": "Acme AI", "website": "https://acme.example", "reason": "Cheap."},
        ),
        client.post(
            "/setup/7/?p=deepseek",
            {
                "success": "yes",
                "minutes": 9,
                "stars": 4,
                "felt_difficulty": 2,
                "comment": "Fine.",
                "share": "on",
            },
        ),
    ]
    assert [r.status_code for r in responses] == [302, 302, 302, 302, 303]


@pytest.mark.parametrize("address", [IPV4, IPV6])
def test_no_raw_ip_or_user_agent_in_the_database(default_providers, database_text, address):
    submit_everything(Client(REMOTE_ADDR=address, HTTP_USER_AGENT=AGENT))
    dump = database_text()
    assert "Acme AI" in dump  # the submissions are there...
    assert address not in dump  # ...but not who sent them
    assert "2001:db8:77:1" not in dump
    assert AGENT not in dump
    assert "unique-agent-7f3a" not in dump


PERSONAL_FIELD_NAMES = {
    "email",
    "ip",
    "ip_address",
    "remote_addr",
    "user_agent",
    "user",
    "author",
    "username",
    "phone",
    "contact",
    "location",
    "country",
}


def test_submissions_have_no_personal_fields():
    user_model = get_user_model()
    for model in apps.get_app_config("registry").get_models():
        for field in model._meta.get_fields():
            assert field.name not in PERSONAL_FIELD_NAMES, f"{model.__name__}.{field.name}"
            if isinstance(field, models.ForeignKey):
                assert field.related_model is not user_model, f"{model.__name__}.{field.name}"


def test_visitors_get_no_session_or_tracking_cookie(default_providers):
    client = Client(REMOTE_ADDR=IPV4, HTTP_USER_AGENT=AGENT)
    cookies = set()
    for page in PAGES:
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
        cookies |= set(response.cookies)
    submit_everything(client)
    cookies |= set(client.cookies)
    # CSRF protection, and the one-shot "thank you" message after a form: nothing else.
    assert cookies <= {"csrftoken", "messages"}
    assert not Session.objects.exists()
