"""The comparison table's rows, shared by /compare/ and the wizard's step 3.

Each row is a figure with one cell per provider; "best" is the highest value, or the
lowest for difficulty, setup time and cautions (the free tier is shown, never ranked). A
row where every provider ties, or where fewer than two providers have a value, singles
nothing out.
"""

from registry.scoring import Status

from .display import approval_text, difficulty_icon, difficulty_label, free_tier_text, minutes


def _row(label, displays, values=None, *, highest=True):
    best = _best(values, highest=highest) if values is not None else None
    values = values if values is not None else [None] * len(displays)
    return {
        "label": label,
        "cells": [
            {"display": display, "best": best is not None and value == best}
            for value, display in zip(values, displays, strict=True)
        ],
    }


def _best(values, *, highest):
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return None
    return max(present) if highest else min(present)


def _cautions(provider):
    texts = [c.text for c in provider.caution_flags.all()]
    if provider.has_recent_issues:
        texts.append("Issues reported in the last 30 days")
    return texts


def comparison_rows(providers):
    """Rows for _compare_table.html. The providers need .with_card_data() and a prefetch of
    recommended_for, so the rows cost no query."""
    providers = list(providers)
    scores = [p.get_trust_score() if p.has_data else None for p in providers]
    stars = [round(p.star_rating, 1) if p.ratings_count else None for p in providers]
    rates = [round(p.success_rate, 1) if p.setup_reports else None for p in providers]
    setup = [p.avg_setup_time_minutes for p in providers]
    felt = [p.felt_difficulty for p in providers]
    cautions = [_cautions(p) for p in providers]
    return [
        _row(
            "Trust score",
            [f"{s:.1f}/100" if s is not None else "No community data yet" for s in scores],
            scores,
        ),
        _row(
            "Range with the data we have",
            [
                f"{p.trust_low.total:.1f} to {p.trust_high.total:.1f}" if p.has_data else "—"
                for p in providers
            ],
        ),
        _row(
            "Status",
            [
                f"New: not enough data yet ({p.setup_reports} reports, {p.ratings_count} ratings)"
                if p.status == Status.NEW
                else p.status.label
                for p in providers
            ],
        ),
        _row(
            "Star rating",
            [
                f"{s:.1f}/5 ({p.ratings_count})" if s is not None else "no ratings yet"
                for s, p in zip(stars, providers, strict=True)
            ],
            stars,
        ),
        _row(
            "Success rate",
            [f"{r:.1f}%" if r is not None else "no reports yet" for r in rates],
            rates,
        ),
        _row(
            "Active users",
            [f"{p.active_users:,} of {p.total_users:,}" for p in providers],
            [p.active_users for p in providers],
        ),
        _row(
            "Difficulty",
            [f"{difficulty_icon(p.difficulty)} {p.get_difficulty_display()}" for p in providers],
            [p.difficulty for p in providers],
            highest=False,
        ),
        _row(
            "Difficulty as felt",
            [
                f"{difficulty_icon(f)} {difficulty_label(f)} ({f:.1f})" if f else "no reports yet"
                for f in felt
            ],
            felt,
            highest=False,
        ),
        _row("Setup time", [minutes(m) for m in setup], setup, highest=False),
        _row(
            "Approval",
            [approval_text(p) for p in providers],
            [0 if p.requires_approval else 1 for p in providers],
        ),
        # Not ranked: a free tier is a fact whose worth is in its note ("very limited"), so
        # marking one "best" would praise a tier that may be of little use.
        _row("Free tier", [free_tier_text(p) for p in providers]),
        _row(
            "Cautions",
            ["; ".join(texts) or "none" for texts in cautions],
            [len(texts) for texts in cautions],
            highest=False,
        ),
        _row(
            "Recommended for",
            [", ".join(a.name for a in p.recommended_for.all()) or "—" for p in providers],
        ),
    ]
