"""How figures read on the site: plain functions, shared by the template filters
(templatetags/registry_widgets.py) and the comparison rows (compare.py)."""

from registry.models import Difficulty

DIFFICULTY_ICONS = {
    Difficulty.EASY: "🟢",
    Difficulty.MODERATE: "🟡",
    Difficulty.ADVANCED: "🟠",
    Difficulty.EXPERT: "🔴",
}


def _difficulty(value):
    """A Difficulty from a curated value or an average felt difficulty (rounded)."""
    return Difficulty(int(float(value) + 0.5))


def difficulty_icon(value):
    """🟢🟡🟠🔴 for Easy, Moderate, Advanced, Expert (the seed's colours)."""
    try:
        return DIFFICULTY_ICONS[_difficulty(value)]
    except (TypeError, ValueError, KeyError):
        return ""


def difficulty_label(value):
    try:
        return _difficulty(value).label
    except (TypeError, ValueError):
        return ""


def star_bar(rating):
    """A 5-star bar such as ★★★★☆ for 4.3 (rounded to the nearest whole star)."""
    try:
        full = max(0, min(5, int(float(rating) + 0.5)))
    except (TypeError, ValueError):
        full = 0
    return "★" * full + "☆" * (5 - full)


def approval_text(provider):
    """⚡ Instant, or ⏳ Manual with the maintainers' note ("Manual (1-2 days)" or "1-2 days")."""
    if not provider.requires_approval:
        return "⚡ Instant"
    note = provider.approval_note.strip()
    if not note:
        return "⏳ Manual"
    if note.lower().startswith("manual"):
        return f"⏳ {note}"
    return f"⏳ Manual ({note})"


def free_tier_text(provider):
    """🆓 Free Tier (with the maintainers' note, e.g. "very limited"), or 🔒 Premium Only."""
    if not provider.has_free_tier:
        return "🔒 Premium Only"
    if provider.free_tier_note:
        return f"🆓 Free Tier ({provider.free_tier_note})"
    return "🆓 Free Tier"


def minutes(value):
    """Setup time in words: "~3 minutes", "~1 h 30 min", or "no data yet"."""
    if value is None:
        return "no data yet"
    value = int(value + 0.5)
    if value < 60:
        return f"~{value} minute{'' if value == 1 else 's'}"
    hours, rest = divmod(value, 60)
    return f"~{hours} h {rest} min" if rest else f"~{hours} h"


def trust_terms(provider):
    """The provider page's breakdown: each term's points, its lower-bound points and the
    counts behind it, in words."""
    sided = provider.positive_reviews + provider.negative_reviews
    basis = (
        f"{provider.star_rating:.2f} average from {provider.ratings_count:,} rating"
        f"{'' if provider.ratings_count == 1 else 's'}"
        if provider.ratings_count
        else "no ratings yet",
        f"{provider.setup_successes:,} of {provider.setup_reports:,} setups worked"
        if provider.setup_reports
        else "no setup reports yet",
        f"{provider.active_users:,} active users (100 fill it)",
        f"{provider.positive_reviews:,} of {sided:,} ratings that took a side gave 4-5 stars"
        if sided
        else "no 1-2 or 4-5 star ratings yet",
    )
    return [
        {"term": term, "low": low, "basis": text}
        for term, low, text in zip(
            provider.trust.terms, provider.trust_low.terms, basis, strict=True
        )
    ]
