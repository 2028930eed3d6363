"""The shipped default providers: the seed's four with the seed's figures, and more."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.key_patterns import parse_key_pattern
from registry.models import (
    COUNTER_FIELDS,
    Audience,
    CautionFlag,
    CommonIssue,
    Difficulty,
    Moderation,
    ProTip,
    Provider,
    SetupStep,
    https_only,
)
from registry.scoring import STATUS_RANK, Status
from registry.services import add_feedback, record_user_signup

MODELS_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "models-dev-providers.json"

# What the seed prints for each of its four providers (Default Provider Ratings).
SEED_FOUR = {
    "openrouter": dict(
        name="OpenRouter",
        stars="4.8",
        users=(980, 1250),
        success_rate="94.5",
        difficulty="Easy",
        setup_minutes=3,
        free_tier=True,
        free_tier_note="",
        requires_approval=False,
        approval_note="",
        category=Status.HIGHLY_RECOMMENDED,
        recommended_for=["Beginners", "Multiple model access", "Free tier users", "Fast setup"],
        cautions=[],
        pro_tips=[
            "Use :free suffix on model names for guaranteed free access",
            "Sign up with GitHub for instant access",
            "Check model pricing before each request",
        ],
        links=(
            "https://openrouter.ai/auth/signup",
            "https://openrouter.ai/keys",
            "https://openrouter.ai/docs",
        ),
        computed=92.3,
    ),
    "deepseek": dict(
        name="DeepSeek",
        stars="4.3",
        users=(320, 450),
        success_rate="88.2",
        difficulty="Moderate",
        setup_minutes=15,
        free_tier=True,
        free_tier_note="",
        requires_approval=True,
        approval_note="Manual (1-2 days)",
        category=Status.RECOMMENDED,
        recommended_for=[
            "Advanced reasoning tasks",
            "Code generation",
            "Willing to wait for approval",
        ],
        cautions=["Manual approval required (1-2 days)", "Geographic restrictions may apply"],
        pro_tips=[
            "Apply during off-peak hours",
            "Provide accurate use case in application",
            "Check email spam folder for approval",
        ],
        links=(
            "https://platform.deepseek.com/signup",
            "https://platform.deepseek.com/api_keys",
            "https://platform.deepseek.com/docs",
        ),
        computed=79.7,
    ),
    "huggingface": dict(
        name="Hugging Face",
        stars="3.6",
        users=(420, 780),
        success_rate="72.8",
        difficulty="Advanced",
        setup_minutes=25,
        free_tier=True,
        free_tier_note="very limited",
        requires_approval=False,
        approval_note="",
        category=Status.CAUTION,
        recommended_for=["Developers", "Self-hosted models", "Research use"],
        cautions=[
            "Rate limits very restrictive on free tier",
            "Many models require premium",
            "Complex setup for beginners",
            "Frequent 401/403 errors reported",
        ],
        pro_tips=[
            "Use for self-hosted models primarily",
            "Upgrade to Pro if using inference API",
            "Check model card for usage requirements",
        ],
        links=(
            "https://huggingface.co/join",
            "https://huggingface.co/settings/tokens",
            "https://huggingface.co/docs/api-inference",
        ),
        computed=65.7,  # the seed printed 63.4, which its formula cannot give
    ),
    "anthropic": dict(
        name="Anthropic (Claude)",
        stars="4.7",
        users=(720, 890),
        success_rate="96.3",
        difficulty="Easy",
        setup_minutes=5,
        free_tier=False,
        free_tier_note="",
        requires_approval=False,
        approval_note="",
        category=Status.CAUTION,
        recommended_for=["Premium users only", "Enterprise use", "Advanced capabilities needed"],
        cautions=[
            "NO FREE TIER - Paid credits required",
            "High pricing compared to alternatives",
            "Credit purchase minimum: $5",
        ],
        pro_tips=[
            "Only use if budget allows",
            "Monitor usage carefully",
            "Consider OpenRouter for Claude access with free tier",
        ],
        links=(
            "https://console.anthropic.com/signup",
            "https://console.anthropic.com/settings/keys",
            "https://docs.anthropic.com/",
        ),
        computed=81.7,  # the seed printed 71.8, which its formula cannot give
    ),
}


def curated_tips(provider):
    return [t.text for t in provider.pro_tips.filter(status=Moderation.APPROVED)]


@pytest.mark.parametrize("provider_id", SEED_FOUR)
def test_seed_four_show_the_seeds_figures(default_providers, provider_id):
    seed = SEED_FOUR[provider_id]
    p = Provider.objects.get(provider_id=provider_id)

    assert p.provider_name == seed["name"]
    assert f"{p.star_rating:.1f}" == seed["stars"]
    assert (p.active_users, p.total_users) == seed["users"]
    assert f"{p.success_rate:.1f}" == seed["success_rate"]
    assert Difficulty(p.difficulty).label == seed["difficulty"]
    assert p.avg_setup_time_minutes == seed["setup_minutes"]
    assert p.has_free_tier is seed["free_tier"]
    assert p.free_tier_note == seed["free_tier_note"]
    assert p.requires_approval is seed["requires_approval"]
    assert p.approval_note == seed["approval_note"]
    assert sorted(a.name for a in p.recommended_for.all()) == sorted(seed["recommended_for"])
    assert [c.text for c in p.caution_flags.all()] == seed["cautions"]
    assert curated_tips(p) == seed["pro_tips"]
    assert (p.signup_url, p.api_key_url, p.documentation_url) == seed["links"]
    assert p.is_confident
    assert p.status == seed["category"]
    assert p.get_trust_score() == seed["computed"]
    stored = Provider.objects.get(pk=p.pk)
    assert stored.trust_score == seed["computed"]
    assert stored.status_rank == STATUS_RANK[seed["category"]]
    # The seed's figures are the baseline: no visitor has reported yet.
    assert stored.baseline == {name: getattr(stored, name) for name in COUNTER_FIELDS}


def test_only_anthropic_needs_a_pin(default_providers):
    """Pins go where the computed band differs from the seed's category, with a reason."""
    pinned = {p.provider_id: p for p in Provider.objects.exclude(status_pin="")}
    assert list(pinned) == ["anthropic"]
    anthropic = pinned["anthropic"]
    assert anthropic.is_pinned
    assert anthropic.status_pin == Status.CAUTION
    assert "free tier" in anthropic.status_pin_reason.lower()
    # Without the pin its score would make it Recommended.
    anthropic.status_pin = ""
    assert anthropic.status == Status.RECOMMENDED
    # The others are in the seed's category by their own score.
    for provider_id in ("openrouter", "deepseek", "huggingface"):
        assert not Provider.objects.get(provider_id=provider_id).is_pinned


def test_at_least_eight_more_providers_curated_without_community_data(default_providers):
    others = Provider.objects.exclude(provider_id__in=SEED_FOUR)
    assert others.count() >= 8
    for p in others:
        for url in (p.signup_url, p.api_key_url, p.documentation_url, p.website_url):
            https_only(url)
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", p.key_env_var), p.provider_id
        if p.key_pattern:
            re.compile(p.key_pattern)
        assert p.difficulty in Difficulty.values
        assert p.total_users == p.ratings_count == p.setup_reports == 0
        assert not p.is_confident
        assert p.status == Status.NEW
        p.full_clean()
    assert others.exclude(key_pattern="").count() >= 8
    names = set(others.values_list("provider_name", flat=True))
    assert {"OpenAI", "Google Gemini", "Groq", "Mistral AI"} <= names


@pytest.mark.skipif(not MODELS_DEV.exists(), reason="models.dev reference data not found")
def test_env_vars_agree_with_models_dev(default_providers):
    reference = {p["id"]: p for p in json.loads(MODELS_DEV.read_text())["providers"]}
    for p in Provider.objects.all():
        if p.provider_id in reference:
            assert p.key_env_var in reference[p.provider_id]["env"], p.provider_id


@pytest.mark.parametrize(
    ("provider_id", "key"),
    [
        ("openrouter", "sk-or-v1-" + "0123abcd" * 8),
        ("anthropic", "sk-ant-api03-" + "Ab3_-x" * 10),
        ("huggingface", "hf_" + "aBcD1234" * 4),
        ("groq", "gsk_" + "aBcD1234" * 6),
        ("google", "AIza" + "Sy" + "aBcD_-12" * 4 + "x"),
    ],
)
def test_key_patterns_accept_well_formed_keys(default_providers, provider_id, key):
    pattern = Provider.objects.get(provider_id=provider_id).key_pattern
    assert re.fullmatch(pattern, key)
    assert not re.fullmatch(pattern, key[:12])  # cut short
    assert not re.fullmatch(pattern, "not a key")
    # The wizard's linear matcher says the same.
    key_format = parse_key_pattern(pattern)
    assert key_format.matches(key)
    assert not key_format.matches(key[:12])
    assert not key_format.matches("not a key")


def test_every_default_provider_is_valid(default_providers):
    for p in Provider.objects.all():
        p.full_clean()
        assert p.setup_steps.exists(), p.provider_id


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Provider, Audience, SetupStep, CautionFlag, CommonIssue, ProTip)
    }


def test_loading_twice_adds_nothing(default_providers):
    before = row_counts()
    assert before["Provider"] >= 12
    call_command("load_default_providers", verbosity=0)
    assert row_counts() == before


def test_loading_again_keeps_maintainer_edits_and_community_data(default_providers):
    groq = Provider.objects.get(provider_id="groq")
    groq.description = "Edited by a maintainer."
    groq.signup_url = "https://console.groq.com/signup-moved"
    groq.save()
    groq.setup_steps.all().delete()
    groq.recommended_for.clear()
    record_user_signup("groq", True, 2)
    add_feedback("groq", 4)
    Provider.objects.get(provider_id="cohere").delete()  # to be added back: it is missing

    call_command("load_default_providers", verbosity=0)

    groq = Provider.objects.get(provider_id="groq")
    assert groq.description == "Edited by a maintainer."
    assert groq.signup_url == "https://console.groq.com/signup-moved"
    assert not groq.setup_steps.exists()
    assert not groq.recommended_for.exists()
    assert (groq.total_users, groq.ratings_count) == (1, 1)
    assert Provider.objects.filter(provider_id="cohere").exists()
