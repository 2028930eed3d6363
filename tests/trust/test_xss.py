"""Stored XSS: hostile text through every form is shown escaped once approved, and a
visitor's URL is never a live link before approval, then only with rel="nofollow ugc"."""

import pytest
from django.test import Client
from django.utils.html import escape

from registry.models import IssueReport, ProTip, ProviderSuggestion, Review

PAYLOADS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert("x2")>',
    "</textarea><svg onload=alert('x3')>",
    "{{ 7|add:'x4' }} {% csrf_token %}",
]
HOSTILE_URL = "https://evil.example/x?a=\"><script>alert('x5')</script>"


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_superuser("curator", "c@example.org", "pw-long-1!")
    client = Client()
    client.force_login(user)
    return client


def approve_all(staff):
    for model in (Review, ProTip, IssueReport, ProviderSuggestion):
        ids = [
            str(pk) for pk in model.objects.filter(status="pending").values_list("pk", flat=True)
        ]
        if not ids:
            continue
        url = f"/admin/registry/{model._meta.model_name}/"
        response = staff.post(url, {"action": "approve", "_selected_action": ids})
        assert response.status_code == 302, url
    assert not Review.objects.filter(status="pending").exists()


def send_everything(payload, n):
    client = Client(REMOTE_ADDR=f"192.0.2.{n}", HTTP_USER_AGENT="xss-probe")
    statuses = [
        client.post("/providers/groq/rate/", {"rating": 2, "comment": payload}).status_code,
        client.post("/providers/groq/tips/", {"text": payload}).status_code,
        client.post(
            "/providers/groq/issues/",
            {"category": "other", "broken_link": "", "details": payload},
        ).status_code,
        client.post(
            "/suggest/",
            {"name": payload[:100], "website": "https://acme.example/", "reason": payload},
        ).status_code,
        client.post(
            "/setup/7/?p=mistral",
            {
                "success": "no",
                "minutes": 30,
                "stars": 1,
                "felt_difficulty": 3,
                "comment": payload,
                "share": "on",
            },
        ).status_code,
    ]
    assert statuses == [302, 302, 302, 302, 303]


def test_hostile_text_is_escaped_everywhere_after_approval(default_providers, staff):
    for n, payload in enumerate(PAYLOADS, start=1):
        send_everything(payload, n)
    approve_all(staff)

    pages = {
        path: Client().get(path).content.decode()
        for path in ("/providers/groq/", "/providers/mistral/", "/suggest/", "/")
    }
    for payload in PAYLOADS:
        for path, html in pages.items():
            assert payload not in html, (path, payload)
        assert escape(payload) in pages["/providers/groq/"]  # review, tip and report shown
        assert escape(payload) in pages["/providers/mistral/"]  # the wizard's review
        assert escape(payload[:100]) in pages["/suggest/"]
    # Maintainers see the same text escaped in the moderation lists.
    for model in ("review", "protip", "issuereport", "providersuggestion"):
        html = staff.get(f"/admin/registry/{model}/").content.decode()
        assert "<script>alert('x1')</script>" not in html


def test_visitor_urls_are_live_links_only_after_approval(default_providers, staff):
    client = Client(REMOTE_ADDR="192.0.2.99")
    response = client.post(
        "/suggest/", {"name": "Acme AI", "website": HOSTILE_URL, "reason": "Cheap and fast."}
    )
    suggestion = ProviderSuggestion.objects.get()
    assert response.status_code == 302

    # Pending: nowhere on the public site, and only as text in the admin.
    for path in ("/suggest/", "/"):
        assert "evil.example" not in Client().get(path).content.decode()
    change = staff.get(f"/admin/registry/providersuggestion/{suggestion.pk}/change/")
    html = change.content.decode()
    assert "evil.example" in html
    assert 'href="https://evil.example' not in html
    assert "<script>alert('x5')" not in html

    approve_all(staff)
    html = Client().get("/suggest/").content.decode()
    assert f'href="{escape(suggestion.website)}" rel="nofollow noopener ugc"' in html
    assert "<script>alert('x5')" not in html


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://x.org"]
)
def test_suggestions_refuse_non_web_urls(default_providers, website):
    response = Client().post(
        "/suggest/", {"name": "Acme AI", "website": website, "reason": "Cheap and fast."}
    )
    assert response.status_code == 200
    assert not ProviderSuggestion.objects.exists()
