from django.db.models import Sum
from django.template import Context, Template

from registry.models import Provider
from registry.services import record_user_signup

HX = {"HX-Request": "true"}


def test_stats_fragment_for_htmx_polling(client, default_providers):
    response = client.get("/stats/", headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="provider-stats-widget"')
    assert 'hx-get="/stats/" hx-trigger="every 30s" hx-swap="outerHTML"' in html
    published = Provider.objects.published()
    assert f'data-stat="providers">{published.count()}<' in html
    active = published.aggregate(n=Sum("active_users"))["n"]
    assert f'data-stat="active-users">{active}<' in html
    # Top recommended: the seed's two (Anthropic and Hugging Face are pinned to caution).
    assert html.index("OpenRouter") < html.index("DeepSeek")
    assert "Anthropic" not in html


def test_average_success_rate_is_over_every_setup_report(client, default_providers):
    providers = Provider.objects.published()
    successes = sum(p.setup_successes for p in providers)
    reports = sum(p.setup_reports for p in providers)
    html = client.get("/stats/", headers=HX).content.decode()
    assert f'data-stat="success-rate">{successes / reports * 100:.1f}%<' in html
    assert "weighted by its reports" in html  # the widget says how it averages


def test_one_report_for_a_new_provider_barely_moves_the_average(client, default_providers):
    before = Provider.objects.published().statistics()["average_success_rate"]
    record_user_signup("google", True)
    after = Provider.objects.published().statistics()["average_success_rate"]
    # Averaged per provider, one success would have moved it by 2.4 points.
    assert abs(after - before) < 0.01


def test_stats_page_without_htmx(client, default_providers):
    response = client.get("/stats/")
    assert response.status_code == 200
    assert b"<html" in response.content
    assert b'id="provider-stats-widget"' in response.content


def test_widget_updates_with_the_counters(client, default_providers):
    Provider.objects.filter(provider_id="groq").update(total_users=1000, active_users=1000)
    html = client.get("/stats/", headers=HX).content.decode()
    active = Provider.objects.published().aggregate(n=Sum("active_users"))["n"]
    assert f'data-stat="active-users">{active}<' in html


def test_empty_registry(client, db):
    html = client.get("/stats/", headers=HX).content.decode()
    assert 'data-stat="providers">0<' in html
    assert "no reports yet" in html
    assert "None yet" in html


def test_inclusion_tag_for_host_projects(default_providers):
    html = Template("{% load registry_widgets %}{% provider_stats_widget %}").render(Context())
    assert 'id="provider-stats-widget"' in html
    assert 'hx-trigger="every 30s"' in html
    static = Template("{% load registry_widgets %}{% provider_stats_widget poll=False %}").render(
        Context()
    )
    assert "hx-get" not in static
    assert "OpenRouter" in static
