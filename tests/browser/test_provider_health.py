"""The provider page's alerts, link states, uptime bar and history charts in Chromium:
under the real CSP, readable by a screen reader (each chart has a text equivalent), at
phone and desktop widths."""

import math
import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry import scoring
from registry.models import Provider
from registry.versioning import bump_registry_version
from verification.models import (
    Alert,
    CheckKind,
    CheckRun,
    DailySnapshot,
    HealthCheck,
    HealthState,
    State,
    Target,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def history(default_providers):
    """A year of OpenRouter as the nightly job would have seen it: a dip in setup success
    and stars some six weeks ago, since recovered; an API with a few bad days; a docs link
    broken since yesterday."""
    rng = random.Random(13)
    provider = Provider.objects.get(provider_id="openrouter")
    today = timezone.localdate()
    snapshots = []
    for days_ago in range(365, 0, -1):
        progress = (365 - days_ago) / 365
        dip = math.exp(-(((days_ago - 45) / 12) ** 2))  # a bad month, centred 45 days ago
        reports = int(provider.setup_reports * (0.45 + 0.55 * progress))
        rate = provider.success_rate / 100 - 0.12 * dip + rng.uniform(-0.004, 0.004)
        ratings = int(provider.ratings_count * (0.45 + 0.55 * progress))
        stars = provider.star_rating - 0.6 * dip
        counters = {
            "total_users": reports, "active_users": int(reports * rate),
            "setup_reports": reports, "setup_successes": int(reports * rate),
            "setup_minutes_sum": reports * 4, "setup_minutes_count": reports,
            "felt_difficulty_sum": 0, "felt_difficulty_count": 0,
            "ratings_count": ratings, "ratings_sum": int(ratings * stars),
            "positive_reviews": int(provider.positive_reviews * (0.45 + 0.55 * progress)),
            "negative_reviews": int(provider.negative_reviews * (0.3 + 0.7 * progress)),
        }  # fmt: skip
        bad = days_ago in (12, 40, 41) or (days_ago < 90 and rng.random() < 0.03)
        snapshots.append(
            DailySnapshot(
                provider=provider, day=today - timedelta(days=days_ago),
                trust_score=scoring.trust_score(
                    **{k: counters[k] for k in (
                        "ratings_count", "ratings_sum", "setup_reports", "setup_successes",
                        "active_users", "positive_reviews", "negative_reviews",
                    )}
                ).total,
                api_probes=96 if days_ago < 80 else None,
                api_up=(60 if days_ago == 12 else 90) if bad else 96,
                links_broken=0, **counters,
            )
        )  # fmt: skip
    DailySnapshot.objects.bulk_create(snapshots)
    run = CheckRun.objects.create(kind=CheckKind.API)
    now = timezone.now()
    HealthCheck.objects.bulk_create(
        HealthCheck(
            run=run, provider=provider, target=Target.API, url="https://openrouter.ai/api/v1/models",
            checked_at=now - timedelta(minutes=15 * n), method="GET",
            status=401 if (n + 50) % 173 else 503, ok=bool((n + 50) % 173),
            latency_ms=120 + int(30 * math.sin(n / 9)),
        )
        for n in range(30 * 96)
    )  # fmt: skip
    checked = now - timedelta(hours=3)
    states = [
        HealthState(provider=provider, target=target, url=getattr(provider, field),
                    state=State.OK, last_checked_at=checked, last_ok_at=checked, last_status=200)
        for target, field in (
            (Target.SIGNUP, "signup_url"), (Target.API_KEY, "api_key_url"),
            (Target.WEBSITE, "website_url"),
        )
    ]  # fmt: skip
    since = datetime.combine(today - timedelta(days=1), time(3, 17), tzinfo=UTC)
    states += [
        HealthState(
            provider=provider, target=Target.DOCS, url=provider.documentation_url,
            state=State.BROKEN, failures=3, failing_since=since, last_checked_at=checked,
            last_status=404, last_error_kind="http", last_error="HTTP 404", needs_review=True,
        ),
        HealthState(
            provider=provider, target=Target.API, url="https://openrouter.ai/api/v1/models",
            state=State.OK, last_checked_at=now - timedelta(minutes=4), last_status=401,
            latency_ms=131,
        ),
    ]  # fmt: skip
    HealthState.objects.bulk_create(states)
    Alert.objects.create(
        provider=provider, rule="link_broken", key=Target.DOCS, title="Docs link broken",
        detail=f"{provider.documentation_url} has failed 3 checks in a row since "
        f"{since:%-d %b %Y, %H:%M} UTC; the last: HTTP 404.",
        since=since,
    )  # fmt: skip
    bump_registry_version()
    return provider


@pytest.mark.parametrize("width", [1280, 390])
def test_health_and_history_under_the_csp(page, history, screenshot, width):
    problems = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto("/providers/openrouter/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    banner = page.get_by_role("region", name="An alert is open")
    expect(banner).to_contain_text("Docs link broken")
    links = page.get_by_role("list", name="Link checks")
    expect(links.get_by_role("listitem")).to_have_count(4)
    expect(links).to_contain_text("Docs: broken since")
    expect(links).to_contain_text("Sign-up page: working, checked 3 hours ago")

    uptime = page.get_by_role("region", name="API uptime")
    expect(uptime).to_contain_text("Up answered in 131 ms (HTTP 401)")
    bar = uptime.get_by_role("img", name="Last 90 days:")
    expect(bar).to_be_visible()
    assert page.locator(".uptime-bar rect").count() == 90

    history_panel = page.get_by_role("region", name="History")
    trust_30 = history_panel.get_by_role("img", name="30 days: up", exact=False).first
    expect(trust_30).to_be_visible()
    for chart in page.locator(".sparkline svg").all():
        box = chart.bounding_box()
        assert box["width"] > 100 and box["height"] > 30  # drawn, not collapsed
    # Nothing wider than the screen on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert problems == []

    screenshot(page, f"provider-health-{width}")
    if width == 1280:
        top = page.locator("#alerts").bounding_box()["y"] - 8
        bottom = page.locator("#history").bounding_box()
        page.screenshot(
            path=str(SCREENSHOTS / "provider-health-docs.png"),
            clip={"x": 0, "y": top, "width": width, "height": bottom["y"] + bottom["height"] - top},
            full_page=True,
        )
