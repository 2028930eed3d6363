"""The seed's trust score, as one pure function and its SQL twin.

    (star_rating/5)*30 + (success_rate/100)*40 + min(active_users/100, 1)*15
    + positive/(positive+negative)*15, rounded to one decimal.

`trust_score()` is the reference. `trust_score_expression()` is the same arithmetic in
the same order as a database expression: Provider.trust_score is a generated column of it,
which the database recomputes on every counter write, so lists filter and sort on an
indexed column. A hypothesis test holds the two together. Rounding is half-up
(floor(x*10 + 0.5)/10) in both, because SQL ROUND differs between engines and Python's
round() is half-to-even.
"""

import math
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Cast, Floor, Least

STARS_WEIGHT = 30
SUCCESS_WEIGHT = 40
ADOPTION_WEIGHT = 15
SENTIMENT_WEIGHT = 15
ADOPTION_SATURATION = 100  # active users at which the adoption term is full

MIN_SETUP_REPORTS = 20
MIN_RATINGS = 10

HIGHLY_RECOMMENDED_AT = 85.0
RECOMMENDED_AT = 70.0
CAUTION_AT = 50.0


class Status(models.TextChoices):
    HIGHLY_RECOMMENDED = "highly_recommended", "Highly Recommended"
    RECOMMENDED = "recommended", "Recommended"
    CAUTION = "caution", "Use with Caution"
    AVOID = "avoid", "Avoid"
    NEW = "new", "New"


# Statuses that get_recommended_providers() never returns.
NOT_RECOMMENDABLE = (Status.CAUTION, Status.AVOID, Status.NEW)


def round_half_up(value):
    return math.floor(value * 10 + 0.5) / 10


@dataclass(frozen=True)
class TrustTerm:
    name: str
    weight: int
    fraction: float  # 0..1, how much of the weight was earned

    @property
    def points(self):
        return self.fraction * self.weight


@dataclass(frozen=True)
class TrustBreakdown:
    stars: TrustTerm
    success: TrustTerm
    adoption: TrustTerm
    sentiment: TrustTerm

    @property
    def terms(self):
        return (self.stars, self.success, self.adoption, self.sentiment)

    @property
    def total(self):
        # Summed in the same order as the SQL twin, so both round the same double.
        return round_half_up(
            self.stars.points + self.success.points + self.adoption.points + self.sentiment.points
        )


def trust_score(
    *,
    ratings_count,
    ratings_sum,
    setup_reports,
    setup_successes,
    active_users,
    positive_reviews,
    negative_reviews,
):
    """The trust score from raw community counters: total and its four terms."""
    star_rating = ratings_sum / ratings_count if ratings_count else 0.0
    success_rate = setup_successes / setup_reports * 100 if setup_reports else 0.0
    reviews = positive_reviews + negative_reviews
    return TrustBreakdown(
        stars=TrustTerm("Star rating", STARS_WEIGHT, star_rating / 5),
        success=TrustTerm("Success rate", SUCCESS_WEIGHT, success_rate / 100),
        adoption=TrustTerm(
            "User adoption", ADOPTION_WEIGHT, min(active_users / ADOPTION_SATURATION, 1.0)
        ),
        sentiment=TrustTerm(
            "Positive sentiment",
            SENTIMENT_WEIGHT,
            positive_reviews / reviews if reviews else 0.0,
        ),
    )


def is_confident(*, setup_reports, ratings_count):
    return setup_reports >= MIN_SETUP_REPORTS and ratings_count >= MIN_RATINGS


def band(score):
    if score >= HIGHLY_RECOMMENDED_AT:
        return Status.HIGHLY_RECOMMENDED
    if score >= RECOMMENDED_AT:
        return Status.RECOMMENDED
    if score >= CAUTION_AT:
        return Status.CAUTION
    return Status.AVOID


def status(score, *, confident, pin=""):
    """The status a visitor sees.

    A maintainer's pin wins over the score, except that a handful of votes must never
    promote (or condemn) a provider: with low confidence only a warning pin shows.
    """
    if not confident:
        return Status.CAUTION if pin == Status.CAUTION else Status.NEW
    return Status(pin) if pin else band(score)


# --- the SQL twin ------------------------------------------------------------------


def _float(name):
    return Cast(F(name), models.FloatField())


def ratio(numerator, denominator, *, default=0.0):
    """numerator / denominator (column names) as a float expression, or `default` (None for
    NULL) when the denominator is 0: the one zero-guarded division of every SQL figure."""
    return Case(
        When(**{f"{denominator}__gt": 0}, then=_float(numerator) / _float(denominator)),
        default=Value(default) if default is not None else None,
        output_field=models.FloatField(),
    )


def trust_score_expression():
    """trust_score(...).total as a database expression over Provider's counter columns."""
    star_rating = ratio("ratings_sum", "ratings_count")
    success_rate = ratio("setup_successes", "setup_reports") * Value(100.0)
    adoption = Least(_float("active_users") / Value(float(ADOPTION_SATURATION)), Value(1.0))
    sentiment = Case(
        When(
            Q(positive_reviews__gt=0) | Q(negative_reviews__gt=0),
            then=_float("positive_reviews")
            / (_float("positive_reviews") + _float("negative_reviews")),
        ),
        default=Value(0.0),
        output_field=models.FloatField(),
    )
    raw = (
        star_rating / Value(5.0) * Value(float(STARS_WEIGHT))
        + success_rate / Value(100.0) * Value(float(SUCCESS_WEIGHT))
        + adoption * Value(float(ADOPTION_WEIGHT))
        + sentiment * Value(float(SENTIMENT_WEIGHT))
    )
    return Cast(Floor(raw * Value(10.0) + Value(0.5)), models.FloatField()) / Value(10.0)


def confident_q():
    return Q(setup_reports__gte=MIN_SETUP_REPORTS, ratings_count__gte=MIN_RATINGS)


def status_expression(score="trust_score"):
    """status(...) as a database expression; needs the trust score annotated as `score`."""
    return Case(
        When(~confident_q() & Q(status_pin=Status.CAUTION), then=Value(Status.CAUTION.value)),
        When(~confident_q(), then=Value(Status.NEW.value)),
        When(~Q(status_pin=""), then=F("status_pin")),
        When(
            **{f"{score}__gte": HIGHLY_RECOMMENDED_AT}, then=Value(Status.HIGHLY_RECOMMENDED.value)
        ),
        When(**{f"{score}__gte": RECOMMENDED_AT}, then=Value(Status.RECOMMENDED.value)),
        When(**{f"{score}__gte": CAUTION_AT}, then=Value(Status.CAUTION.value)),
        default=Value(Status.AVOID.value),
        output_field=models.CharField(),
    )
