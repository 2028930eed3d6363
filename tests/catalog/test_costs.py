"""The cost calculator's arithmetic: exact decimals, cache prices, zero prices."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.costs import dollars, monthly_cost, per_million
from catalog.forms import CostForm
from catalog.models import Price


def price(input, output, cache_read=None):
    return Price(
        input=None if input is None else Decimal(input),
        output=None if output is None else Decimal(output),
        cache_read=None if cache_read is None else Decimal(cache_read),
    )


def test_a_chat_month_at_groq():
    # 1M in at $0.59 and 200k out at $0.79 per million tokens.
    assert monthly_cost(price("0.59", "0.79"), 1_000_000, 200_000) == Decimal("0.748")


def test_cached_input_is_billed_at_the_cache_read_price():
    # Claude Sonnet 4.5: $3 in, $15 out, $0.30 cache read. 30M in (20M cached), 1M out:
    # 10M x 3 + 20M x 0.3 + 1M x 15 = 30 + 6 + 15.
    cost = monthly_cost(price("3", "15", "0.30"), 30_000_000, 1_000_000, 20_000_000)
    assert cost == Decimal("51")
    assert dollars(cost) == "$51.00"


def test_without_a_cache_price_cached_tokens_cost_as_input():
    assert monthly_cost(price("3", "15"), 30_000_000, 1_000_000, 20_000_000) == Decimal("105")


def test_zero_prices_are_free_and_a_missing_price_is_unknown():
    assert monthly_cost(price("0", "0", "0"), 10**12, 10**12, 10**11) == 0
    assert dollars(Decimal(0)) == "$0.00"
    assert monthly_cost(price(None, "1"), 1, 1) is None
    assert monthly_cost(None, 1, 1) is None
    assert dollars(None) == "price not listed"


def test_cents_round_half_up_and_tiny_amounts_say_so():
    assert dollars(Decimal("0.025")) == "$0.03"  # half up, not banker's rounding to $0.02
    assert dollars(Decimal("0.0049")) == "under $0.01"
    assert dollars(Decimal("1234567.125")) == "$1,234,567.13"
    assert per_million(Decimal("0.037500")) == "$0.0375"
    assert per_million(Decimal("3.000000")) == "$3.00"
    assert per_million(Decimal("0")) == "free"


def test_cached_tokens_cannot_exceed_the_input():
    with pytest.raises(ValueError):
        monthly_cost(price("1", "1"), 10, 0, 11)
    form = CostForm({"input_tokens": "1M", "output_tokens": "0", "cached_tokens": "2M"})
    assert form.usage() is None
    assert form.errors["cached_tokens"] == ["Cached tokens are part of the input: at most that."]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("1000000", 1_000_000), ("1,500,000", 1_500_000), ("1.5M", 1_500_000), ("200k", 200_000)],
)
def test_token_counts_read_like_people_write_them(text, tokens):
    assert CostForm({"input_tokens": text}).usage() == (tokens, 0, 0)


@pytest.mark.parametrize("text", ["lots", "-5", "1e9", "1.5.5M", "9" * 40, "20000000000000"])
def test_bad_token_counts_are_refused(text):
    form = CostForm({"input_tokens": text})
    assert form.usage() is None and "input_tokens" in form.errors


def test_a_preset_wins_and_fills_the_form():
    form = CostForm({"preset": "coding", "input_tokens": "5"})
    assert form.usage() == (30_000_000, 1_000_000, 20_000_000)
    assert form.data["input_tokens"] == "30000000"
    assert "preset" in CostForm({"preset": "nope"}).errors


prices = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False)
counts = st.integers(min_value=0, max_value=10**13)


@given(prices, prices, prices, counts, counts, st.data())
def test_the_cost_is_the_exact_sum(input, output, cache_read, tokens_in, tokens_out, data):
    cached = data.draw(st.integers(min_value=0, max_value=tokens_in))
    cost = monthly_cost(
        Price(input=input, output=output, cache_read=cache_read), tokens_in, tokens_out, cached
    )
    exact = (
        Fraction(input) * (tokens_in - cached)
        + Fraction(cache_read) * cached
        + Fraction(output) * tokens_out
    ) / 1_000_000
    assert isinstance(cost, Decimal)
    assert Fraction(cost) == exact
