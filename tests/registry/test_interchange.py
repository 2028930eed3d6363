"""import_registry / export_registry: the seed's JSON format, atomic, private, round-trip."""

import copy
import json
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from registry.models import (
    Audience,
    CautionFlag,
    CommonIssue,
    Difficulty,
    Moderation,
    ProTip,
    Provider,
    SetupStep,
)
from registry.scoring import Status
from registry.services import add_feedback, record_user_signup, submit_tip

# A provider as the seed's own registry file holds it: every ProviderRating field.
SEED_OPENROUTER = {
    "provider_id": "openrouter",
    "provider_name": "OpenRouter",
    "description": "Unified API for many models",
    "star_rating": 4.8,
    "total_users": 1250,
    "active_users": 980,
    "success_rate": 94.5,
    "difficulty": "easy",
    "avg_setup_time_minutes": 3,
    "requires_approval": False,
    "has_free_tier": True,
    "status": "highly_recommended",
    "caution_flags": [],
    "recommended_for": ["Beginners", "Multiple model access", "Free tier users", "Fast setup"],
    "signup_url": "https://openrouter.ai/auth/signup",
    "api_key_url": "https://openrouter.ai/keys",
    "documentation_url": "https://openrouter.ai/docs",
    "positive_reviews": 250,
    "negative_reviews": 100,
    "common_issues": ["Rate limits on free models"],
    "pro_tips": ["Use :free suffix on model names for guaranteed free access"],
}
SEED_DEEPSEEK = {
    **SEED_OPENROUTER,
    "provider_id": "deepseek",
    "provider_name": "DeepSeek",
    "difficulty": "Moderate",
    "star_rating": 4.3,
    "total_users": 450,
    "active_users": 320,
    "success_rate": 88.2,
    "requires_approval": True,
    "caution_flags": ["Manual approval required (1-2 days)"],
    "recommended_for": ["Code generation"],
    "signup_url": "https://platform.deepseek.com/signup",
    "api_key_url": "https://platform.deepseek.com/api_keys",
    "documentation_url": "https://platform.deepseek.com/docs",
}


def seed_file(*entries):
    return {
        "providers": {entry["provider_id"]: entry for entry in entries},
        "user_stats": {},
        "last_updated": "2025-01-15T10:00:00",
    }


@pytest.fixture
def write(tmp_path):
    def write(content, name="registry.json"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        return str(path)

    return write


def database_state():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Provider, Audience, SetupStep, CautionFlag, CommonIssue, ProTip)
    }


def import_fails(path):
    """Run import_registry; it must fail with a CommandError and change nothing."""
    before = database_state()
    with pytest.raises(CommandError) as error:
        call_command("import_registry", path, verbosity=0)
    assert database_state() == before
    message = str(error.value)
    assert "Traceback" not in message
    return message


def test_imports_the_seeds_format(db, write):
    call_command("import_registry", write(seed_file(SEED_OPENROUTER, SEED_DEEPSEEK)))

    p = Provider.objects.get(provider_id="openrouter")
    assert p.provider_name == "OpenRouter"
    assert f"{p.star_rating:.1f}" == "4.8"
    assert (p.active_users, p.total_users) == (980, 1250)
    assert f"{p.success_rate:.1f}" == "94.5"
    assert p.avg_setup_time_minutes == 3
    assert p.difficulty == Difficulty.EASY
    assert (p.positive_reviews, p.negative_reviews) == (250, 100)
    assert p.get_trust_score() == 92.3
    assert p.status == Status.HIGHLY_RECOMMENDED
    assert sorted(a.name for a in p.recommended_for.all()) == sorted(
        SEED_OPENROUTER["recommended_for"]
    )
    assert [i.problem for i in p.common_issues.all()] == ["Rate limits on free models"]
    assert [t.text for t in p.pro_tips.filter(status=Moderation.APPROVED)] == [
        "Use :free suffix on model names for guaranteed free access"
    ]
    d = Provider.objects.get(provider_id="deepseek")
    assert d.difficulty == Difficulty.MODERATE and d.requires_approval
    assert f"{d.star_rating:.1f}" == "4.3" and f"{d.success_rate:.1f}" == "88.2"
    assert [c.text for c in d.caution_flags.all()] == ["Manual approval required (1-2 days)"]
    # Shared audiences, not duplicated per provider.
    assert Audience.objects.filter(name="Code generation").count() == 1


@pytest.mark.parametrize("difficulty", ["easy", "Easy", " EASY ", 1])
def test_difficulty_as_label_or_number(db, write, difficulty):
    call_command(
        "import_registry",
        write(seed_file({**SEED_OPENROUTER, "difficulty": difficulty})),
        verbosity=0,
    )
    assert Provider.objects.get().difficulty == Difficulty.EASY


def test_one_bad_provider_means_nothing_is_imported(db, write):
    bad = {**SEED_DEEPSEEK, "signup_url": "javascript:alert(1)"}
    message = import_fails(write(seed_file(SEED_OPENROUTER, bad)))
    assert "Nothing imported" in message
    assert "'deepseek'" in message and "'signup_url'" in message
    assert not Provider.objects.exists() and not Audience.objects.exists()


def test_a_key_pattern_outside_the_grammar_fails_the_import(default_providers, write):
    bad = {**SEED_DEEPSEEK, "key_pattern": "^(a|aa)+$"}
    message = import_fails(write(seed_file(SEED_OPENROUTER, bad)))
    assert "Nothing imported" in message
    assert "provider 'deepseek', field 'key_pattern': A group cannot be repeated" in message


def test_a_failed_import_leaves_existing_providers_as_they_were(default_providers, write):
    good = {**SEED_OPENROUTER, "provider_name": "Renamed"}
    bad = {**SEED_DEEPSEEK, "difficulty": "impossible"}
    message = import_fails(write(seed_file(good, bad)))
    assert "difficulty" in message and "impossible" in message
    assert Provider.objects.get(provider_id="openrouter").provider_name == "OpenRouter"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON (line 1"),
        ("", "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("[1, 2, 3]", "the file must hold a JSON object"),
        ('"providers"', "the file must hold a JSON object"),
        ("null", "the file must hold a JSON object"),
        ("{}", '"providers"'),
        ('{"providers": []}', '"providers"'),
        ('{"providers": {}, "user_stats": []}', '"user_stats"'),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_files(db, write, content, expected):
    assert expected in import_fails(write(content))


def test_missing_file(db, tmp_path):
    assert "Cannot read" in import_fails(str(tmp_path / "nope.json"))
    assert "Cannot read" in import_fails(str(tmp_path))  # a folder


def without(entry, field):
    return {key: value for key, value in entry.items() if key != field}


# (change to a valid seed entry, field named in the error)
BAD_ENTRIES = [
    (lambda e: without(e, "signup_url"), "signup_url"),
    (lambda e: without(e, "provider_name"), "provider_name"),
    (lambda e: {**e, "provider_name": ""}, "provider_name"),
    (lambda e: {**e, "provider_name": 42}, "provider_name"),
    (lambda e: {**e, "provider_name": "x" * 101}, "provider_name"),
    (lambda e: {**e, "star_rating": "high"}, "star_rating"),
    (lambda e: {**e, "star_rating": 7}, "star_rating"),
    (lambda e: {**e, "star_rating": None}, "star_rating"),
    (lambda e: {**e, "success_rate": 101}, "success_rate"),
    (lambda e: {**e, "total_users": -1}, "total_users"),
    (lambda e: {**e, "total_users": 1.5}, "total_users"),
    (lambda e: {**e, "total_users": True}, "total_users"),
    (lambda e: {**e, "active_users": 2000}, "active_users"),  # more than total
    (lambda e: {**e, "avg_setup_time_minutes": 5000}, "avg_setup_time_minutes"),
    (lambda e: {**e, "has_free_tier": "yes"}, "has_free_tier"),
    (lambda e: {**e, "difficulty": "impossible"}, "difficulty"),
    (lambda e: {**e, "difficulty": 0}, "difficulty"),
    (lambda e: {**e, "difficulty": None}, "difficulty"),
    (lambda e: {**e, "signup_url": "javascript:alert(1)"}, "signup_url"),
    (lambda e: {**e, "api_key_url": "http://openrouter.ai/keys"}, "api_key_url"),
    (lambda e: {**e, "documentation_url": "openrouter docs"}, "documentation_url"),
    (lambda e: {**e, "website_url": "data:text/html,hi"}, "website_url"),
    (lambda e: {**e, "caution_flags": "Rate limits"}, "caution_flags"),
    (lambda e: {**e, "caution_flags": [1]}, "caution_flags"),
    (lambda e: {**e, "pro_tips": ["x" * 501]}, "pro_tips"),
    (lambda e: {**e, "setup_steps": ["x" * 301]}, "setup_steps"),
    (lambda e: {**e, "recommended_for": ["x" * 81]}, "recommended_for"),
    (lambda e: {**e, "common_issues": [{"solution": "no problem"}]}, "common_issues"),
    (lambda e: {**e, "common_issues": [{"problem": "p", "solution": "x" * 401}]}, "common_issues"),
    (lambda e: {**e, "status_pin": "caution"}, "status_pin_reason"),
    (lambda e: {**e, "status_pin": "new", "status_pin_reason": "r"}, "status_pin"),
    (lambda e: {**e, "key_pattern": "^sk-(unclosed"}, "key_pattern"),
    (lambda e: {**e, "last_verified": "yesterday"}, "last_verified"),
    (lambda e: {**e, "counters": []}, "counters"),
    (lambda e: {**e, "counters": {"ratings_count": -2}}, "ratings_count"),
    (lambda e: {**e, "counters": {"total_users": 1, "active_users": 2}}, "counters"),
    (lambda e: {**e, "counters": {"ratings_count": 1, "ratings_sum": 9}}, "counters"),
]


@pytest.mark.parametrize(("change", "field"), BAD_ENTRIES)
def test_bad_provider_entries_name_provider_and_field(db, write, change, field):
    message = import_fails(write(seed_file(SEED_DEEPSEEK, change(SEED_OPENROUTER))))
    assert message.startswith("Nothing imported. provider 'openrouter'")
    assert f"field '{field}'" in message or f"{field} " in message, message


def test_bad_provider_ids(db, write):
    for key in ("Open Router", "../etc", "x" * 61, ""):
        entry = {**SEED_OPENROUTER, "provider_id": key}
        message = import_fails(write({"providers": {key: entry}}))
        assert "provider_id" in message
    message = import_fails(write({"providers": {"openrouter": SEED_DEEPSEEK}}))
    assert "provider 'openrouter', field 'provider_id': provider_id must match its key" in message
    message = import_fails(write({"providers": {"openrouter": ["not", "an", "object"]}}))
    assert "provider 'openrouter'" in message and "must be an object" in message


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = sorted(
    {*SEED_OPENROUTER, "counters", "setup_steps", "key_pattern", "last_verified", "status_pin"}
)


@given(field=st.sampled_from(FIELDS), value=JSON_VALUES)
@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_fields_import_or_fail_cleanly(db, tmp_path, field, value):
    entry = {**copy.deepcopy(SEED_OPENROUTER), field: value}
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps({"providers": {"openrouter": entry}}), encoding="utf-8")
    try:
        call_command("import_registry", str(path), verbosity=0)
    except CommandError as error:
        assert "provider 'openrouter'" in str(error)
    else:
        Provider.objects.get(provider_id="openrouter").full_clean()


# --- export -----------------------------------------------------------------------------


def test_export_is_private_and_in_the_seeds_format(default_providers, tmp_path):
    path = tmp_path / "registry.json"
    path.write_text("old, world-readable")
    os.chmod(path, 0o644)

    call_command("export_registry", str(path), verbosity=0)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    # The seed's three keys, and the catalogue of models and prices (catalog/interchange.py).
    assert set(data) == {"providers", "user_stats", "last_updated", "catalog"}
    openrouter = data["providers"]["openrouter"]
    for field in [
        "provider_id",
        "provider_name",
        "description",
        "star_rating",
        "total_users",
        "active_users",
        "success_rate",
        "difficulty",
        "avg_setup_time_minutes",
        "requires_approval",
        "has_free_tier",
        "status",
        "caution_flags",
        "recommended_for",
        "signup_url",
        "api_key_url",
        "documentation_url",
        "positive_reviews",
        "negative_reviews",
        "common_issues",
        "pro_tips",
    ]:
        assert field in openrouter, field
    assert openrouter["star_rating"] == 4.8
    assert openrouter["success_rate"] == 94.5
    assert openrouter["avg_setup_time_minutes"] == 3
    assert openrouter["status"] == "highly_recommended"
    assert openrouter["trust_score"] == 92.3
    assert data["providers"]["anthropic"]["status"] == "caution"


def test_new_export_file_is_never_world_readable(db, tmp_path):
    old_umask = os.umask(0)
    try:
        call_command("export_registry", str(tmp_path / "new.json"), verbosity=0)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


def test_export_to_a_missing_folder_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_registry", str(tmp_path / "no" / "such.json"), verbosity=0)


def without_timestamp(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["last_updated"]
    return data


def test_export_import_export_round_trips(default_providers, tmp_path):
    # Community data and a maintainer's curation, so more than defaults travel.
    record_user_signup("groq", True, 4)
    add_feedback("groq", 2, "Slow today")
    submit_tip("groq", "Use the batch API for big jobs.")
    groq = Provider.objects.get(provider_id="groq")
    groq.status_pin, groq.status_pin_reason = "avoid", "Keys revoked without notice."
    groq.last_verified = groq.created_at.date()
    groq.is_published = False
    groq.save()
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    call_command("export_registry", str(first), verbosity=0)

    Provider.objects.all().delete()
    Audience.objects.all().delete()
    call_command("import_registry", str(first), verbosity=0)
    call_command("export_registry", str(second), verbosity=0)

    assert without_timestamp(second) == without_timestamp(first)
    groq = Provider.objects.get(provider_id="groq")
    assert (groq.total_users, groq.ratings_count, groq.negative_reviews) == (1, 1, 1)
    assert groq.status_pin_reason == "Keys revoked without notice."
    assert not groq.is_published


def test_reimport_replaces_curation_but_keeps_community_tips(default_providers, write):
    submit_tip("openrouter", "Community tip waiting for review.")
    entry = {**SEED_OPENROUTER, "pro_tips": ["Only this curated tip"], "setup_steps": ["One"]}
    call_command("import_registry", write(seed_file(entry)), verbosity=0)

    p = Provider.objects.get(provider_id="openrouter")
    assert [t.text for t in p.pro_tips.filter(from_community=False)] == ["Only this curated tip"]
    assert p.pro_tips.filter(from_community=True).count() == 1
    assert [s.text for s in p.setup_steps.all()] == ["One"]


def test_only_missing_leaves_existing_providers_alone(default_providers, write):
    entry = {**SEED_OPENROUTER, "provider_name": "Renamed"}
    newcomer = {**SEED_DEEPSEEK, "provider_id": "newco", "provider_name": "Newco"}
    call_command(
        "import_registry", write(seed_file(entry, newcomer)), "--only-missing", verbosity=0
    )
    assert Provider.objects.get(provider_id="openrouter").provider_name == "OpenRouter"
    assert Provider.objects.get(provider_id="newco").provider_name == "Newco"
