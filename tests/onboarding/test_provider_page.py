from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import (
    IssueCategory,
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderLink,
    Rating,
    Review,
)
from registry.services import record_user_signup

HX = {"HX-Request": "true"}
URL = "/providers/deepseek/"


@pytest.fixture
def providers(default_providers):
    return Provider.objects.published()


def deepseek():
    return Provider.objects.get(provider_id="deepseek")


def test_page_shows_every_figure_and_the_breakdown(client, providers):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    for text in (
        "DeepSeek",
        "79.7",
        "4.3/5",
        "88.2%",
        "320 active / 450 total",
        "🟡 Moderate",
        "~15 minutes",
        "⏳ Manual (1-2 days)",
        "DEEPSEEK_API_KEY",
        "Setup steps",
        "Pro tips",
        "Apply during off-peak hours",
        "Common issues",
        "Geographic restrictions may apply",
        "Recommended for",
        "Code generation",
        "Difficulty as felt",
        "How this is computed",
        "Confidence:",
    ):
        assert text in html, text
    # Four terms, each with its value and weight, as bars.
    assert html.count("<meter") == 4
    for name, weight in (
        ("Star rating", 30),
        ("Success rate", 40),
        ("User adoption", 15),
        ("Positive sentiment", 15),
    ):
        assert name in html
        assert f'max="{weight}"' in html
    assert 'value="25.80"' in html  # 4.3 / 5 * 30


def test_pinned_status_shows_the_reason(client, providers):
    html = client.get("/providers/anthropic/").content.decode()
    assert "Status set by maintainers:" in html
    assert Provider.objects.get(provider_id="anthropic").status_pin_reason in html


def test_no_data_and_low_confidence_are_labelled(client, providers):
    html = client.get("/providers/groq/").content.decode()
    assert "No community data yet" in html
    assert "0.0/100" not in html and "<strong>0.0</strong>" not in html
    assert "Status set by maintainers" not in html
    record_user_signup("groq", True, 4)
    html = client.get("/providers/groq/").content.decode()
    assert "new: not enough data yet" in html
    assert "Confidence: low." in html


def test_unknown_and_unpublished_providers_are_404(client, providers):
    assert client.get("/providers/nope/").status_code == 404
    Provider.objects.filter(provider_id="groq").update(is_published=False)
    assert client.get("/providers/groq/").status_code == 404
    assert client.post("/providers/groq/rate/", {"rating": "5"}).status_code == 404
    assert not Rating.objects.exists()


def test_htmx_get_is_a_fragment(client, providers):
    response = client.get(URL, headers=HX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="trust-breakdown"' in response.content


def test_only_approved_community_text_is_shown_and_escaped(client, providers):
    provider = deepseek()
    Review.objects.create(
        provider=provider, rating=5, text="<b>bold</b> review", status=Moderation.APPROVED
    )
    Review.objects.create(provider=provider, rating=1, text="pending review")
    ProTip.objects.create(
        provider=provider, text="<i>community</i> tip", status=Moderation.APPROVED, position=99
    )
    ProTip.objects.create(provider=provider, text="pending tip", position=100)
    IssueReport.objects.create(
        provider=provider,
        category=IssueCategory.BROKEN_LINK,
        broken_link=ProviderLink.DOCS,
        details="<script>alert(1)</script> docs 404",
        status=Moderation.APPROVED,
    )
    IssueReport.objects.create(provider=provider, category=IssueCategory.OTHER, details="pending")
    html = client.get(URL).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; review" in html
    assert "&lt;i&gt;community&lt;/i&gt; tip" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; docs 404" in html
    assert "<script>alert(1)" not in html
    assert "Broken link" in html and "Docs link" in html
    assert "pending review" not in html
    assert "pending tip" not in html
    assert ">pending<" not in html


def test_recent_issue_reports_add_the_caution(client, admin_client, providers):
    provider = deepseek()
    old = timezone.now() - timedelta(days=40)
    for created_at in (timezone.now(), timezone.now(), old):
        IssueReport.objects.create(
            provider=provider,
            category=IssueCategory.RATE_LIMITS,
            details="429s",
            status=Moderation.APPROVED,
            created_at=created_at,
        )
    assert "Issues reported" not in client.get(URL).content.decode()
    # The third recent report arrives the real way: sent by a visitor, approved in admin.
    client.post(f"{URL}issues/", {"category": IssueCategory.RATE_LIMITS, "details": "more 429s"})
    pending = IssueReport.objects.get(status=Moderation.PENDING)
    admin_client.post(
        "/admin/registry/issuereport/", {"action": "approve", "_selected_action": [pending.pk]}
    )
    assert "Issues reported: 3 approved reports" in client.get(URL).content.decode()
    card = client.get("/", {"q": "deepseek"}).content.decode()
    assert "Issues reported by the community" in card


# --- rating --------------------------------------------------------------------------------


def test_rating_without_javascript_redirects_with_a_message(client, providers):
    before = deepseek()
    response = client.post(f"{URL}rate/", {"rating": "5"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}#rate-form"
    after = deepseek()
    assert after.ratings_count == before.ratings_count + 1
    assert after.ratings_sum == before.ratings_sum + 5
    assert after.positive_reviews == before.positive_reviews + 1
    page = client.get(response["Location"]).content.decode()
    assert "Thank you! Your rating counts now." in page
    assert Rating.objects.get().voter_key  # every web write carries a voter key


def test_rating_with_htmx_returns_the_form_and_oob_updates(client, providers):
    response = client.post(f"{URL}rate/", {"rating": "1"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="rate-form"')
    assert "Thank you! Your rating counts now." in html
    new = deepseek()
    assert f"<strong>{new.get_trust_score():.1f}</strong>" in html
    for target in ("provider-score", "provider-figures", "trust-breakdown"):
        assert f'id="{target}"' in html
    assert html.count('hx-swap-oob="true"') == 3
    assert f"from {new.ratings_count} ratings" in html


def test_full_page_has_no_oob_markup(client, providers):
    assert b"hx-swap-oob" not in client.get(URL).content


def test_rating_with_a_comment_awaits_review(client, providers):
    response = client.post(f"{URL}rate/", {"rating": "4", "comment": "Smooth"}, headers=HX)
    assert "awaits review" in response.content.decode()
    review = Review.objects.get()
    assert review.status == Moderation.PENDING
    assert "Smooth" not in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose from 1 to 5 stars."),
        ({"rating": "9"}, "Select a valid choice"),
        ({"rating": "abc"}, "Select a valid choice"),
        ({"rating": "3", "comment": "x" * 2001}, "at most 2000 characters"),
        (
            {"rating": "3", "comment": "my key sk-ant-api03-abcdefghijklmnop1234567890"},
            "This looks like an API key",
        ),
    ],
)
def test_rating_errors_rerender_with_200_and_count_nothing(client, providers, data, message):
    before = deepseek().ratings_count
    for headers in ({}, HX):
        response = client.post(f"{URL}rate/", data, headers=headers)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert (b"<html" in response.content) == (not headers)
    assert deepseek().ratings_count == before
    assert not Review.objects.exists()


def test_second_rating_the_same_day_is_429_with_a_polite_message(client, providers):
    assert client.post(f"{URL}rate/", {"rating": "5"}).status_code == 302
    count = deepseek().ratings_count
    response = client.post(f"{URL}rate/", {"rating": "5"})
    assert response.status_code == 429
    assert "You already sent this for this provider today" in response.content.decode()
    assert b"<html" in response.content
    response = client.post(f"{URL}rate/", {"rating": "5"}, headers=HX)
    assert response.status_code == 429
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="rate-form"')
    assert "You already sent this for this provider today" in html
    assert deepseek().ratings_count == count


def test_daily_cap_is_429_for_tips_and_reports(client, providers, settings):
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 1
    assert client.post(f"{URL}tips/", {"text": "Use the batch API"}).status_code == 302
    response = client.post(f"{URL}issues/", {"category": "other", "details": "Slow"}, headers=HX)
    assert response.status_code == 429
    assert "please come back tomorrow" in response.content.decode()
    assert response.content.decode().strip().startswith('<section id="issue-form"')
    assert not IssueReport.objects.exists()


def test_get_on_a_form_url_is_405(client, providers):
    assert client.get(f"{URL}rate/").status_code == 405
    assert client.get(f"{URL}tips/").status_code == 405
    assert client.get(f"{URL}issues/").status_code == 405


# --- tips and issue reports ------------------------------------------------------------


def test_tip_awaits_review(client, providers):
    response = client.post(f"{URL}tips/", {"text": "Top up $2 first"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Your tip awaits review by a maintainer" in html
    tip = ProTip.objects.get(from_community=True)
    assert tip.status == Moderation.PENDING
    assert tip.voter_key
    assert "Top up $2 first" not in client.get(URL).content.decode()


def test_tip_errors(client, providers):
    response = client.post(f"{URL}tips/", {"text": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post(f"{URL}tips/", {"text": "gsk_abcdefghijklmnopqrstuvwx1234"})
    assert response.status_code == 200
    assert "This looks like an API key" in response.content.decode()
    assert not ProTip.objects.filter(from_community=True).exists()


def test_broken_link_report_names_the_link(client, providers):
    response = client.post(
        f"{URL}issues/",
        {"category": "broken_link", "broken_link": "signup", "details": "404 page"},
    )
    assert response.status_code == 302
    report = IssueReport.objects.get()
    assert (report.category, report.broken_link, report.status) == (
        "broken_link",
        "signup",
        Moderation.PENDING,
    )
    assert "awaits review" in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"category": "broken_link", "details": "dead"}, "Say which link is broken."),
        (
            {"category": "other", "broken_link": "docs", "details": "x"},
            "Choose a link only for “Broken link” reports.",
        ),
        ({"category": "nonsense", "details": "x"}, "Select a valid choice"),
        ({"category": "other", "details": ""}, "This field is required."),
    ],
)
def test_issue_report_errors(client, providers, data, message):
    for headers in ({}, HX):
        response = client.post(f"{URL}issues/", data, headers=headers)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not IssueReport.objects.exists()
