"""The seed's "Usage Examples" run word for word (only the import names our module)."""

import re
from pathlib import Path

import pytest

from registry.models import Moderation, Provider, Rating, Review, SetupReport
from tests.seed_examples import BASIC_USAGE, BASIC_USAGE_OUTPUT, RECORD_USER_FEEDBACK, run

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_1af7a514f73e136e.txt"


def seed_example(title):
    text = SEED.read_text(encoding="utf-8")
    match = re.search(rf"### {re.escape(title)}\n```python\n(.*?)```", text, re.DOTALL)
    assert match, f"no {title!r} example in the seed"
    return match.group(1)


@pytest.mark.skipif(not SEED.exists(), reason="the seed is not beside this checkout")
def test_examples_here_are_the_seeds_word_for_word():
    assert (
        seed_example("Basic Usage").replace(
            "from byok_provider_registry import get_registry",
            "from registry.services import get_registry",
        )
        == BASIC_USAGE
    )
    assert seed_example("Record User Feedback") == RECORD_USER_FEEDBACK


def test_basic_usage_prints_openrouter_then_deepseek(default_providers):
    assert run(BASIC_USAGE, {}) == BASIC_USAGE_OUTPUT


def test_record_user_feedback_counts_at_once(default_providers):
    before = Provider.objects.get(provider_id="openrouter")
    namespace = {}
    run(BASIC_USAGE, namespace)

    assert run(RECORD_USER_FEEDBACK, namespace) == ""

    after = Provider.objects.get(provider_id="openrouter")
    assert after.total_users == before.total_users + 1
    assert after.active_users == before.active_users + 1
    assert after.setup_reports == before.setup_reports + 1
    assert after.setup_minutes_sum == before.setup_minutes_sum + 3
    assert after.ratings_count == before.ratings_count + 1
    assert after.ratings_sum == before.ratings_sum + 5
    assert after.positive_reviews == before.positive_reviews + 1
    event = SetupReport.objects.get()
    assert (event.provider, event.success, event.minutes) == (after, True, 3)
    assert Rating.objects.get().stars == 5
    review = Review.objects.get()
    assert review.text == "Super easy setup! Worked first time."
    assert review.status == Moderation.PENDING  # public only once a maintainer approves
    # The real-time update: the example's providers are recomputed on the next call.
    assert run(BASIC_USAGE, namespace) == BASIC_USAGE_OUTPUT
