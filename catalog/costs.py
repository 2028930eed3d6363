"""What a month of tokens costs at an offering, in exact decimal arithmetic.

Prices are US dollars per million tokens. Cached input tokens are billed at the
cache-read price where the offering lists one, and as ordinary input where it does not
(a provider without prompt caching bills them so). No float is involved anywhere.
"""

from decimal import ROUND_HALF_UP, Decimal

MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")


def monthly_cost(price, input_tokens, output_tokens, cached_tokens=0):
    """The exact cost of a month's tokens at `price` (a Price), or None when the offering
    lists no input or output price. `cached_tokens` are part of `input_tokens`."""
    if price is None or price.input is None or price.output is None:
        return None
    if not 0 <= cached_tokens <= input_tokens:
        raise ValueError("cached tokens must be part of the input tokens")
    cache_rate = price.cache_read if price.cache_read is not None else price.input
    total = (
        (input_tokens - cached_tokens) * price.input
        + cached_tokens * cache_rate
        + output_tokens * price.output
    )
    return total / MILLION


def dollars(amount):
    """$1,234.57 (half up to the cent); "under $0.01" for a positive amount below a cent."""
    if amount is None:
        return "price not listed"
    if 0 < amount < CENT:
        return "under $0.01"
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def per_million(price):
    """A price per million tokens as text: "$0.59", "$0.0375", "free" for zero."""
    if price is None:
        return "—"
    if price == 0:
        return "free"
    text = f"{price.normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"
