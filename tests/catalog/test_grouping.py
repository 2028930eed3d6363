"""The grouping rule (catalog/grouping.py) on ids from the real catalogue."""

import pytest

from catalog.grouping import group_key, is_free_variant, readable_id

LLAMA_33_70B = [
    "llama-3.3-70b-instruct",  # Azure
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",  # Together
    "meta.llama3-3-70b-instruct-v1:0",  # Bedrock
    "llama-3.3-70b-versatile",  # Groq
    "meta-llama/llama-3.3-70b-instruct:free",  # OpenRouter's free variant
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast",  # Cloudflare
    "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
    "llama3.3-70b-instruct",  # DigitalOcean
]


def test_one_model_under_many_provider_ids():
    assert {group_key(i) for i in LLAMA_33_70B} == {"llama3-3-70b"}
    assert readable_id("meta-llama/Llama-3.3-70B-Instruct-Turbo") == "llama-3.3-70b"


def test_snapshots_and_cloud_prefixes_are_the_same_model():
    ids = [
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "anthropic/claude-sonnet-4.5",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5@20250929",
    ]
    assert {group_key(i) for i in ids} == {"claude-sonnet4-5"}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("grok-4", "grok-4-fast"),
        ("gpt-4", "gpt-4-turbo"),
        ("gpt-4o", "gpt-4o-mini"),
        ("qwen3:8b", "qwen3:14b"),  # a size after ":" is part of the model
        ("llama-3.1-8b", "llama-3.1-70b"),
        ("deepseek-chat", "deepseek-reasoner"),
        ("gemini-2.5-flash", "gemini-2.5-flash-lite"),
    ],
)
def test_different_models_stay_apart(one, other):
    assert group_key(one) != group_key(other)


def test_the_free_variant_is_recognised():
    assert is_free_variant("meta-llama/llama-3.3-70b-instruct:free")
    assert not is_free_variant("meta-llama/llama-3.3-70b-instruct")
    assert not is_free_variant("free-model")
