"""Template tags for provider cards, the compare table and the statistics widget.

The statistics widget (the seed's ``streamlit_provider_stats_widget``) can be dropped into
any page of a host Django project::

    # settings.py: INSTALLED_APPS += ["django_htmx", "template_partials", "registry",
    #                                 "onboarding"]
    # urls.py:     path("byok/", include("onboarding.urls")),   # namespace "onboarding"

    {% load registry_widgets %}
    {% provider_stats_widget %}

It shows the total providers tracked, active users, the average success rate and the top
three recommended providers, and refreshes itself every 30 seconds when htmx is on the
page (``{% load django_htmx %}{% htmx_script %}``); without htmx it is a static snapshot.
Pass ``poll=False`` to turn the refresh off: ``{% provider_stats_widget poll=False %}``.
"""

from django import template
from django.db.models import Avg, Case, Count, F, FloatField, Sum, When
from django.db.models.functions import Cast
from django.utils.functional import SimpleLazyObject

from registry.models import Difficulty, Moderation, Provider, cache_version
from registry.scoring import Status

register = template.Library()

DIFFICULTY_ICONS = {
    Difficulty.EASY: "🟢",
    Difficulty.MODERATE: "🟡",
    Difficulty.ADVANCED: "🟠",
    Difficulty.EXPERT: "🔴",
}


def provider_stats():
    """The widget's figures: two queries whatever the number of providers or events."""
    success_rate = Case(
        When(
            setup_reports__gt=0,
            then=Cast(F("setup_successes"), FloatField())
            * 100.0
            / Cast(F("setup_reports"), FloatField()),
        ),
        output_field=FloatField(),
    )
    totals = Provider.objects.published().aggregate(
        providers=Count("pk"),
        active_users=Sum("active_users"),
        average_success_rate=Avg(success_rate),
    )
    top = list(Provider.objects.recommended(free_only=False)[:3])
    return {
        "providers": totals["providers"] or 0,
        "active_users": totals["active_users"] or 0,
        "average_success_rate": totals["average_success_rate"],
        "top": top,
    }


def provider_stats_context(poll=True, version=None):
    """The widget template's context. The figures are computed only if the template
    renders them, which it does not while its HTML is cached for this registry version."""
    return {
        "stats": SimpleLazyObject(provider_stats),
        "poll": poll,
        "cache_version": version or cache_version(),
    }


@register.inclusion_tag("onboarding/_stats_widget.html", takes_context=True)
def provider_stats_widget(context, poll=True):
    # A page of ours has already read the registry version: no second query.
    return provider_stats_context(poll, context.get("cache_version"))


@register.filter
def difficulty_icon(value):
    """🟢🟡🟠🔴 for Easy, Moderate, Advanced, Expert (the seed's colours)."""
    try:
        return DIFFICULTY_ICONS[Difficulty(int(float(value) + 0.5))]
    except (TypeError, ValueError, KeyError):
        return ""


@register.filter
def difficulty_label(value):
    try:
        return Difficulty(int(float(value) + 0.5)).label
    except (TypeError, ValueError):
        return ""


@register.filter
def star_bar(rating):
    """A 5-star bar such as ★★★★☆ for 4.3 (rounded to the nearest whole star)."""
    try:
        full = max(0, min(5, int(float(rating) + 0.5)))
    except (TypeError, ValueError):
        full = 0
    return "★" * full + "☆" * (5 - full)


@register.filter
def top_pro_tip(provider):
    """The first approved pro tip. Uses the `approved_tips` prefetch when the view made
    one (browse, compare), so a page of cards costs one query, not one per card."""
    tips = getattr(provider, "approved_tips", None)
    if tips is None:
        return provider.pro_tips.filter(status=Moderation.APPROVED).first()
    return tips[0] if tips else None


@register.filter
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


@register.filter
def minutes(value):
    """Setup time in words: "~3 minutes", "~1 h 30 min", or "no data yet"."""
    if value is None:
        return "no data yet"
    value = int(value + 0.5)
    if value < 60:
        return f"~{value} minute{'' if value == 1 else 's'}"
    hours, rest = divmod(value, 60)
    return f"~{hours} h {rest} min" if rest else f"~{hours} h"


def _best(values, *, highest=True):
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return None  # nothing to single out
    return max(present) if highest else min(present)


@register.simple_tag
def compare_rows(providers):
    """Rows of the compare table: (label, [(display, is_best), ...]) per figure.

    "Best" is the highest value, or the lowest for difficulty and setup time; a row where
    every provider ties highlights nothing."""
    providers = list(providers)

    def row(label, values, displays, *, highest=True, compare=True):
        best = _best(values, highest=highest) if compare else None
        cells = [
            {"display": d, "best": best is not None and v == best}
            for v, d in zip(values, displays, strict=True)
        ]
        return {"label": label, "cells": cells}

    scores = [p.get_trust_score() for p in providers]
    stars = [round(p.star_rating, 1) if p.ratings_count else None for p in providers]
    rates = [round(p.success_rate, 1) if p.setup_reports else None for p in providers]
    setup = [p.avg_setup_time_minutes for p in providers]
    felt = [p.felt_difficulty for p in providers]
    return [
        row("Trust score", scores, [f"{s:.1f}/100" for s in scores]),
        row(
            "Status",
            [None] * len(providers),
            [
                "New: not enough data yet" if p.status == Status.NEW else p.status.label
                for p in providers
            ],
            compare=False,
        ),
        row(
            "Star rating",
            stars,
            [
                f"{s:.1f}/5 ({p.ratings_count})" if s is not None else "no ratings yet"
                for s, p in zip(stars, providers, strict=True)
            ],
        ),
        row(
            "Success rate",
            rates,
            [f"{r:.1f}%" if r is not None else "no reports yet" for r in rates],
        ),
        row(
            "Active users",
            [p.active_users for p in providers],
            [f"{p.active_users:,} of {p.total_users:,}" for p in providers],
        ),
        row(
            "Difficulty",
            [p.difficulty for p in providers],
            [f"{difficulty_icon(p.difficulty)} {p.get_difficulty_display()}" for p in providers],
            highest=False,
        ),
        row(
            "Difficulty as felt",
            felt,
            [
                f"{difficulty_icon(f)} {difficulty_label(f)} ({f:.1f})" if f else "no reports yet"
                for f in felt
            ],
            highest=False,
        ),
        row("Setup time", setup, [minutes(m) for m in setup], highest=False),
        row(
            "Approval",
            [0 if p.requires_approval else 1 for p in providers],
            [approval_text(p) for p in providers],
        ),
        row(
            "Free tier",
            [1 if p.has_free_tier else 0 for p in providers],
            [
                (f"🆓 Free Tier ({p.free_tier_note})" if p.free_tier_note else "🆓 Free Tier")
                if p.has_free_tier
                else "🔒 Premium Only"
                for p in providers
            ],
        ),
        row(
            "Cautions",
            [len(p.caution_flags.all()) + (1 if p.has_recent_issues else 0) for p in providers],
            [
                "; ".join(
                    [c.text for c in p.caution_flags.all()]
                    + (["Issues reported in the last 30 days"] if p.has_recent_issues else [])
                )
                or "none"
                for p in providers
            ],
            highest=False,
        ),
        row(
            "Recommended for",
            [None] * len(providers),
            [", ".join(a.name for a in p.recommended_for.all()) or "—" for p in providers],
            compare=False,
        ),
    ]
