"""registry_report: the seed's "test registry functionality" as an aligned terminal table."""

import io
import itertools
import re

from django.core.management import call_command

from registry.models import Provider


def report():
    out = io.StringIO()
    call_command("registry_report", stdout=out)
    return out.getvalue().splitlines()


def columns(lines):
    """Column spans from the dashed rule under the header."""
    return [match.span() for match in re.finditer(r"-+", lines[1])]


def cells(line, spans):
    line = line.ljust(spans[-1][1])
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert line[end:start].strip() == "", f"a cell spills over a column gap: {line!r}"
    return [line[start:end].strip() for start, end in spans]


def test_report_is_an_aligned_table_of_every_provider(default_providers):
    lines = report()
    spans = columns(lines)
    header = cells(lines[0], spans)
    assert header == [
        "Provider",
        "Trust",
        "Range",
        "Status",
        "Confidence",
        "Stars",
        "Success",
        "Users",
    ]

    providers = Provider.objects.published()
    rows = [cells(line, spans) for line in lines[2 : 2 + providers.count()]]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == set(providers.values_list("provider_name", flat=True))

    assert by_name["OpenRouter"][1:] == [
        "92.3",
        "90.9-93.5",
        "Highly Recommended",
        "ok",
        "4.8",
        "94.5%",
        "980 / 1,250",
    ]
    assert by_name["DeepSeek"][1:] == [
        "79.7",
        "77.4-82.0",
        "Recommended",
        "ok",
        "4.3",
        "88.2%",
        "320 / 450",
    ]
    assert by_name["Hugging Face"][1:2] + by_name["Hugging Face"][3:5] == [
        "65.7",
        "Use with Caution",
        "ok",
    ]
    assert by_name["Anthropic (Claude)"][3:5] == ["Use with Caution (pinned)", "ok"]
    # No data is not a score of 0.
    assert by_name["Groq"][1:5] == ["no data yet", "", "New", "low"]

    # Most trusted first (by status group, then the lower end of the range), and the
    # numbers right-aligned in their column.
    order = [row[0] for row in rows]
    assert order[:2] == ["OpenRouter", "DeepSeek"]
    assert order[-2:] == ["Anthropic (Claude)", "Hugging Face"]  # Use with Caution last
    trust_end = spans[1][1]
    for line in lines[2 : 2 + len(rows)]:
        assert line[trust_end - 1] != " "
    assert f"{len(rows)} providers" in lines[-1]


def test_report_on_an_empty_registry_says_what_to_do(db):
    assert "load_default_providers" in "\n".join(report())


def test_unpublished_providers_are_left_out(default_providers):
    Provider.objects.filter(provider_id="groq").update(is_published=False)
    assert not any(line.startswith("Groq ") for line in report())
