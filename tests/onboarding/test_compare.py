import re

import pytest

from registry.models import Provider

HX = {"HX-Request": "true"}


@pytest.fixture
def providers(default_providers):
    return Provider.objects.published()


def headers_of(html):
    return re.findall(r'<th scope="col">\s*<a href="/providers/([a-z0-9-]+)/">', html)


def row(html, label):
    start = html.index(f'<th scope="row">{label}</th>')
    return html[start : html.index("</tr>", start)]


def test_side_by_side_with_the_best_value_highlighted(client, providers):
    response = client.get("/compare/", {"p": ["deepseek", "openrouter", "huggingface"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert headers_of(html) == ["deepseek", "openrouter", "huggingface"]
    trust = row(html, "Trust score")
    cells = re.findall(r"<td( class=\"best\")?>([^<]*)", trust)
    assert [bool(best) for best, _ in cells] == [False, True, False]  # OpenRouter
    setup = row(html, "Setup time")
    assert re.findall(r"<td( class=\"best\")?>([^<]*)", setup)[1] == (
        ' class="best"',
        "~3 minutes ",
    )
    difficulty = row(html, "Difficulty")
    assert difficulty.count('class="best"') == 1 and "🟢 Easy" in difficulty
    for label in (
        "Status",
        "Star rating",
        "Success rate",
        "Active users",
        "Difficulty as felt",
        "Approval",
        "Free tier",
        "Cautions",
        "Recommended for",
        "Links",
    ):
        assert f'<th scope="row">{label}</th>' in html
    # Ties highlight nothing: all three have a free tier.
    assert 'class="best"' not in row(html, "Free tier")


def test_remove_and_add_links(client, providers):
    html = client.get("/compare/", {"p": ["deepseek", "openrouter", "groq"]}).content.decode()
    assert 'href="/compare/?p=openrouter&amp;p=groq"' in html  # remove DeepSeek
    assert 'hx-get="/compare/?p=openrouter&amp;p=groq"' in html
    assert '<input type="hidden" name="p" value="deepseek">' in html
    assert '<option value="anthropic">' in html
    assert '<option value="deepseek">' not in html


def test_four_is_the_most_and_there_is_no_add_form(client, providers):
    ids = ["deepseek", "openrouter", "groq", "anthropic"]
    html = client.get("/compare/", {"p": ids}).content.decode()
    assert headers_of(html) == ids
    assert 'id="compare-add-select"' not in html
    assert "That is the most you can compare at once" in html


def test_htmx_gets_the_comparison_fragment(client, providers):
    response = client.get("/compare/", {"p": ["deepseek", "openrouter"]}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="comparison"')


def test_more_than_four_is_a_clear_400(client, providers):
    ids = ["deepseek", "openrouter", "groq", "anthropic", "mistral"]
    response = client.get("/compare/", {"p": ids})
    assert response.status_code == 400
    html = response.content.decode()
    assert "You can compare at most 4 providers at once, and you chose 5." in html
    assert 'href="/compare/?p=deepseek&amp;p=openrouter&amp;p=groq&amp;p=anthropic"' in html


def test_unknown_provider_is_a_clear_404(client, providers):
    response = client.get("/compare/", {"p": ["deepseek", "<nope>", "openrouter"]})
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link names a provider that is not in the registry." in html
    assert "nope" not in html  # a link's text is never echoed
    assert headers_of(html) == ["deepseek", "openrouter"]
    assert 'href="/compare/?p=deepseek&amp;p=openrouter"' in html


def test_unpublished_provider_counts_as_unknown(client, providers):
    Provider.objects.filter(provider_id="groq").update(is_published=False)
    response = client.get("/compare/", {"p": ["deepseek", "groq"]})
    assert response.status_code == 404
    assert "names a provider that is not in the registry" in response.content.decode()


@pytest.mark.parametrize("ids", [[], ["deepseek"], ["deepseek", "deepseek"], ["", " "]])
def test_fewer_than_two_asks_for_more(client, providers, ids):
    response = client.get("/compare/", {"p": ids})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose at least 2 providers to compare (up to 4)." in html
    assert 'id="compare-add-select"' in html
    assert "<table" not in html


def test_browse_feeds_compare_as_a_get_form(client, providers):
    html = client.get("/").content.decode()
    assert '<form id="compare-form" class="compare-bar" method="get" action="/compare/">' in html
    # Each card's box, and its own Compare button (shown once the box is ticked).
    assert html.count('type="checkbox" name="p"') == providers.count()
    assert html.count('type="submit" form="compare-form"') == providers.count()
    assert html.count('form="compare-form"') == 2 * providers.count()
