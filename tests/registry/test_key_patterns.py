"""Key patterns: a grammar that cannot backtrack, checked in the model, the admin and the
import; its matcher agrees with Python's regular expressions on everything it accepts."""

import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from registry.key_patterns import (
    InvalidKeyPattern,
    check_key_format,
    parse_key_pattern,
    validate_key_pattern,
)

DEFAULTS = Path(__file__).resolve().parents[2] / "registry" / "data" / "default_providers.json"
SHIPPED = {
    provider_id: entry["key_pattern"]
    for provider_id, entry in json.loads(DEFAULTS.read_text())["providers"].items()
    if entry.get("key_pattern")
}

# Patterns that backtrack catastrophically (or polynomially) in a backtracking engine, and
# other regular-expression features outside the grammar.
REFUSED = [
    "^(a|aa)+$",
    "^(a+)+$",
    "^(a|a?)+$",
    "^([a-z]+)*$",
    "^(x+x+)+y$",
    "^(ab)*[a-z]+$",
    "^(ab){2,}[a-z]+$",
    "^[a-z]+[a-z]+$",
    "^[a-z]*[a-z0-9]*[0-9]+$",
    "^.*.*=.*$",
    "^sk-.*$",
    "^sk-?[a-z]+$",
    "^(?=a)[a-z]+$",
    "^(?P<p>sk-)[a-z]+$",
    "^(sk-)\\1[a-z]+$",
    "^(sk-|(or-|v1-))[a-z]+$",
    "^[^a]+$",
    "^[\\w]{20,}$",
    "^\\d[a-z]+$",
    "^[a-Z]+$",
    "^[a-z]$",
    "^[a-z]{,20}$",
    "^[a-z]{20,10}$",
    "^[a-z]{100000}$",
    "^[]+$",
    "[a-z]+",
    "^[a-z]+",
    "[a-z]+$",
    "^[a-z]+$x",
    "^(a|b)(c|d)(e|f)(g|h)(i|j)[a-z]+$",
    "^a(b)?c(d)?e(f)?[a-z]+$",
    "^sk-[a-z]+(?i)$",
]


@pytest.mark.parametrize("provider_id", sorted(SHIPPED))
def test_every_shipped_pattern_fits_the_grammar(provider_id):
    validate_key_pattern(SHIPPED[provider_id])


@pytest.mark.parametrize("pattern", REFUSED)
def test_patterns_outside_the_grammar_are_refused_with_a_reason(pattern):
    with pytest.raises(InvalidKeyPattern) as error:
        parse_key_pattern(pattern)
    assert str(error.value).endswith(".")
    with pytest.raises(ValidationError) as error:
        validate_key_pattern(pattern)
    assert "^prefix[characters]{min,max}$" in error.value.messages[0]


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("^sk-or-(v1-)?[A-Za-z0-9]{20,}$", "sk-or-"),
        ("^(ghp_|github_pat_)[A-Za-z0-9_]{20,}$", "ghp_ or github_pat_"),
        ("^(?:ghp_|github_pat_)[A-Za-z0-9_]{20,}$", "ghp_ or github_pat_"),
        ("^[A-Za-z0-9]{32}$", ""),
        ("^(v1-)?[a-z]+$", ""),
        ("^AIza[0-9A-Za-z_\\-]{35}$", "AIza"),
        ("^key\\.v2\\-[a-f0-9]{8,64}$", "key.v2-"),
        ("^(a|b)c(d)?[a-z]+$", "ac or bc"),
    ],
)
def test_the_expected_prefix_hint(pattern, prefix):
    assert parse_key_pattern(pattern).expected_prefix == prefix


def test_the_wizards_check(db):
    assert check_key_format(SHIPPED["openrouter"], "sk-or-v1-" + "a1" * 16).verdict == "match"
    check = check_key_format(SHIPPED["openrouter"], "sk-proj-" + "a1" * 16)
    assert (check.verdict, check.expected_prefix) == ("mismatch", "sk-or-")
    # No pattern, or one saved before the grammar existed: "unknown", never run as a regex.
    assert check_key_format("", "anything").verdict == "unknown"
    assert check_key_format("^(a|aa)+$", "a" * 61 + "!").verdict == "unknown"


# --- the matcher equals re.fullmatch on every pattern the grammar accepts ------------------

LITERALS = st.text(alphabet="ab_-.", min_size=1, max_size=4)
CLASS_ITEMS = st.sampled_from(["a", "b", "_", ".", "a-c", "0-9", "A-B", "\\-", "\\."])


def literal_source(text):
    return "".join("\\." if c == "." else c for c in text)


@st.composite
def accepted_patterns(draw):
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        # At most 3 spellings a part and 3 parts: 27, within the limit of 32.
        options = draw(st.lists(LITERALS, min_size=1, max_size=2))
        if len(options) == 1 and draw(st.booleans()):
            parts.append(literal_source(options[0]))
        else:
            opener = draw(st.sampled_from(["(", "(?:"]))
            group = opener + "|".join(literal_source(o) for o in options) + ")"
            parts.append(group + draw(st.sampled_from(["", "?"])))
    # A bare hyphen only last, where it is a literal rather than a range.
    items = draw(st.lists(CLASS_ITEMS, min_size=1, max_size=4)) + draw(st.sampled_from([[], ["-"]]))
    low = draw(st.integers(0, 6))
    length = draw(st.sampled_from(["+", "*", f"{{{low}}}", f"{{{low},}}", f"{{{low},{low + 3}}}"]))
    return "^" + "".join(parts) + "[" + "".join(items) + "]" + length + "$"


KEYS = st.text(alphabet="ab_-.c0A\n", max_size=14)


@given(pattern=accepted_patterns(), keys=st.lists(KEYS, max_size=8))
def test_the_matcher_agrees_with_re_on_accepted_patterns(pattern, keys):
    parsed = parse_key_pattern(pattern)
    compiled = re.compile(pattern)
    for key in keys:
        assert parsed.matches(key) == bool(compiled.fullmatch(key)), (pattern, key)
    # Keys built to match: a spelling of the prefix, then characters of the class.
    for spelling in parsed.spellings:
        body = "".join(sorted(parsed.allowed))[:1] * max(parsed.min_length, 1)
        key = spelling + (body if parsed.max_length != 0 else "")
        assert parsed.matches(key) == bool(compiled.fullmatch(key)), (pattern, key)


@given(text=st.text(alphabet="^$[](){},?*+|\\-_.:=!<>abz09AZPwd", max_size=24))
def test_any_text_is_refused_cleanly_or_agrees_with_re(text):
    try:
        parsed = parse_key_pattern(text)
    except InvalidKeyPattern:
        return
    # Only run Python's engine on what the grammar accepted, which cannot backtrack.
    compiled = re.compile(text)
    for key in ("", "a", "ab" * 5, "a-b_c.0", "A" * 30, "z9" * 20):
        assert parsed.matches(key) == bool(compiled.fullmatch(key)), (text, key)
