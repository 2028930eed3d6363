"""The seed's trust score and its lower bound, each as a pure function and its SQL twin.

    (star_rating/5)*30 + (success_rate/100)*40 + min(active_users/100, 1)*15
    + positive/(positive+negative)*15, rounded to one decimal.

`trust_score()` is the reference for the score a visitor sees. `trust_lower_bound()` is
the same formula on the pessimistic ends of its inputs: how high the score is with the data
we have, which a handful of votes cannot lift far:
- success rate and sentiment share: the lower end of their 95% Wilson intervals;
- stars: the lesser of the observed average and a Bayesian average that adds
  STARS_PRIOR_WEIGHT ratings at the registry's mean (`stars_prior`, see
  registry.services.refresh_stars_prior), so a few five-star votes count for little;
- adoption: the active users themselves (a count, not an estimate).
`trust_upper_bound()` is the same on the optimistic ends; the two make the range a
provider page shows. With no ratings the stars term is 0 in the score and the lower bound,
as with no setup reports the success term is: no data is no evidence.

`trust_score_expression()` and `trust_lower_bound_expression()` are the same arithmetic in
the same order as database expressions: Provider.trust_score and trust_lower_bound are
generated columns of them, recomputed by the database on every counter write, so lists
filter and sort on indexed columns. Hypothesis tests hold each pair together. Rounding is
half-up (floor(x*10 + 0.5)/10) everywhere, because SQL ROUND differs between engines and
Python's round() is half-to-even.
"""

import math
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Cast, Floor, Greatest, Least, Sqrt
from django.db.models.lookups import GreaterThanOrEqual

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

# The 95% two-sided normal quantile, and its square as one constant so that Python and SQL
# multiply by the very same double.
Z = 1.959963984540054
Z2 = Z * Z
# The lower bound's stars term adds this many ratings at the registry's mean: ten ratings'
# worth of "probably average", which a provider's own ratings outweigh once it has dozens.
STARS_PRIOR_WEIGHT = 10
# The registry's mean before anyone has rated anything: the middle of the 1-5 scale.
DEFAULT_STARS_PRIOR = 3.0


class Status(models.TextChoices):
    HIGHLY_RECOMMENDED = "highly_recommended", "Highly Recommended"
    RECOMMENDED = "recommended", "Recommended"
    CAUTION = "caution", "Use with Caution"
    AVOID = "avoid", "Avoid"
    NEW = "new", "New"


# Statuses that get_recommended_providers() never returns.
NOT_RECOMMENDABLE = (Status.CAUTION, Status.AVOID, Status.NEW)
# "Most trusted" lists these groups in this order, each by its lower bound.
STATUS_RANK = {
    Status.HIGHLY_RECOMMENDED: 0,
    Status.RECOMMENDED: 1,
    Status.NEW: 2,
    Status.CAUTION: 3,
    Status.AVOID: 4,
}


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
        # Summed in the same order as the SQL twins, so both round the same double.
        return round_half_up(
            self.stars.points + self.success.points + self.adoption.points + self.sentiment.points
        )


def _breakdown(stars, success, active_users, sentiment):
    """The four terms from a star rating (0-5), a success share and a sentiment share (0-1)."""
    return TrustBreakdown(
        stars=TrustTerm("Star rating", STARS_WEIGHT, stars / 5),
        success=TrustTerm("Success rate", SUCCESS_WEIGHT, success),
        adoption=TrustTerm(
            "User adoption", ADOPTION_WEIGHT, min(active_users / ADOPTION_SATURATION, 1.0)
        ),
        sentiment=TrustTerm("Positive sentiment", SENTIMENT_WEIGHT, sentiment),
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
    return _breakdown(
        star_rating,
        success_rate / 100,
        active_users,
        positive_reviews / reviews if reviews else 0.0,
    )


def wilson_bounds(successes, trials):
    """The 95% Wilson score interval of a share; (0, 1) with no trials."""
    if not trials:
        return 0.0, 1.0
    p = successes / trials
    centre = p + Z2 / (2 * trials)
    # max(..., 0): the same as the SQL twin, which must not fail on impossible counters
    # (more successes than trials) before the check constraints refuse them.
    spread = Z * math.sqrt(max(p * (1 - p), 0.0) / trials + Z2 / (4 * trials * trials))
    scale = 1 + Z2 / trials
    return (centre - spread) / scale, (centre + spread) / scale


def stars_bounds(ratings_count, ratings_sum, stars_prior):
    """The observed average and the Bayesian one, lesser first; (0, 5) with no ratings."""
    if not ratings_count:
        return 0.0, 5.0
    observed = ratings_sum / ratings_count
    shrunk = (ratings_sum + STARS_PRIOR_WEIGHT * stars_prior) / (ratings_count + STARS_PRIOR_WEIGHT)
    return min(observed, shrunk), max(observed, shrunk)


def _bounded(end, counters, stars_prior):
    """The formula on the lower (end 0) or upper (end 1) ends of its inputs."""
    reviews = counters["positive_reviews"] + counters["negative_reviews"]
    return _breakdown(
        stars_bounds(counters["ratings_count"], counters["ratings_sum"], stars_prior)[end],
        wilson_bounds(counters["setup_successes"], counters["setup_reports"])[end],
        counters["active_users"],
        wilson_bounds(counters["positive_reviews"], reviews)[end],
    )


def trust_lower_bound(*, stars_prior, **counters):
    """The lower bound: the formula on the pessimistic ends of its inputs (see above)."""
    return _bounded(0, counters, stars_prior)


def trust_upper_bound(*, stars_prior, **counters):
    """The formula on the optimistic ends of its inputs: the top of the shown range."""
    return _bounded(1, counters, stars_prior)


def stars_lower_bound(ratings_count, ratings_sum):
    """The lower end of the 95% Wilson interval of an average rating (1-5 stars), read as
    the share of the 4 stars above the first that people gave: how good the ratings are
    with the data we have, so a few five-star votes cannot outrank many fours. 0 without
    ratings. (Model-level ratings rank by it.)"""
    if not ratings_count:
        return 0.0
    low, _ = wilson_bounds((ratings_sum - ratings_count) / 4, ratings_count)
    return 1.0 + 4.0 * low


def has_data(*, setup_reports, ratings_count):
    """No reports and no ratings is "no community data yet", never a score of 0."""
    return bool(setup_reports or ratings_count)


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


# --- the SQL twins -----------------------------------------------------------------


def _float(name):
    return Cast(F(name), models.FloatField())


def _number(value):
    return Value(float(value))


def ratio(numerator, denominator, *, default=0.0):
    """numerator / denominator (column names) as a float expression, or `default` (None for
    NULL) when the denominator is 0: the one zero-guarded division of every SQL figure."""
    return Case(
        When(**{f"{denominator}__gt": 0}, then=_float(numerator) / _float(denominator)),
        default=Value(default) if default is not None else None,
        output_field=models.FloatField(),
    )


def _adoption():
    return Least(_float("active_users") / _number(ADOPTION_SATURATION), Value(1.0))


def _formula(stars, success, adoption, sentiment):
    """_breakdown(...).total in SQL: stars 0-5, the others 0-1, in the same order."""
    raw = (
        stars / Value(5.0) * _number(STARS_WEIGHT)
        + success * _number(SUCCESS_WEIGHT)
        + adoption * _number(ADOPTION_WEIGHT)
        + sentiment * _number(SENTIMENT_WEIGHT)
    )
    return Cast(Floor(raw * Value(10.0) + Value(0.5)), models.FloatField()) / Value(10.0)


def trust_score_expression():
    """trust_score(...).total as a database expression over Provider's counter columns."""
    star_rating = ratio("ratings_sum", "ratings_count")
    success_rate = ratio("setup_successes", "setup_reports") * Value(100.0)
    sentiment = Case(
        When(
            Q(positive_reviews__gt=0) | Q(negative_reviews__gt=0),
            then=_float("positive_reviews")
            / (_float("positive_reviews") + _float("negative_reviews")),
        ),
        default=Value(0.0),
        output_field=models.FloatField(),
    )
    return _formula(star_rating, success_rate / Value(100.0), _adoption(), sentiment)


def _wilson_lower(successes, trials):
    """wilson_bounds(...)[0] over two expressions, in the same order of operations."""
    n = Cast(trials, models.FloatField())
    p = Cast(successes, models.FloatField()) / n
    centre = p + Value(Z2) / (Value(2.0) * n)
    variance = Greatest(p * (Value(1.0) - p), Value(0.0))
    spread = Value(Z) * Sqrt(variance / n + Value(Z2) / (Value(4.0) * n * n))
    scale = Value(1.0) + Value(Z2) / n
    return (centre - spread) / scale


def trust_lower_bound_expression():
    """trust_lower_bound(...).total as a database expression over Provider's counters and
    its stars_prior column."""
    observed = _float("ratings_sum") / _float("ratings_count")
    shrunk = (_float("ratings_sum") + _number(STARS_PRIOR_WEIGHT) * F("stars_prior")) / (
        _float("ratings_count") + _number(STARS_PRIOR_WEIGHT)
    )
    stars = Case(
        When(ratings_count__gt=0, then=Least(observed, shrunk)),
        default=Value(0.0),
        output_field=models.FloatField(),
    )
    success = Case(
        When(setup_reports__gt=0, then=_wilson_lower(F("setup_successes"), F("setup_reports"))),
        default=Value(0.0),
        output_field=models.FloatField(),
    )
    reviews = F("positive_reviews") + F("negative_reviews")
    sentiment = Case(
        When(
            Q(positive_reviews__gt=0) | Q(negative_reviews__gt=0),
            then=_wilson_lower(F("positive_reviews"), reviews),
        ),
        default=Value(0.0),
        output_field=models.FloatField(),
    )
    return _formula(stars, success, _adoption(), sentiment)


def stars_lower_bound_expression(count="ratings_count", total="ratings_sum"):
    """stars_lower_bound() as a database expression over two counter columns."""
    share = (F(total) - F(count)) / Value(4.0)
    return Case(
        When(
            **{f"{count}__gt": 0},
            then=Value(1.0) + Value(4.0) * _wilson_lower(share, F(count)),
        ),
        default=Value(0.0),
        output_field=models.FloatField(),
    )


def confident_q():
    return Q(setup_reports__gte=MIN_SETUP_REPORTS, ratings_count__gte=MIN_RATINGS)


def status_expression(score=None, *, as_rank=False):
    """status(...) as a database expression over `score` (default: the trust_score column),
    yielding the Status value, or with as_rank its place in STATUS_RANK."""
    score = F("trust_score") if score is None else score

    def out(status):
        return Value(STATUS_RANK[status] if as_rank else status.value)

    not_confident = ~confident_q()
    return Case(
        When(not_confident & Q(status_pin=Status.CAUTION), then=out(Status.CAUTION)),
        When(not_confident, then=out(Status.NEW)),
        *[When(status_pin=pin.value, then=out(pin)) for pin in STATUS_RANK if pin != Status.NEW],
        When(
            GreaterThanOrEqual(score, Value(HIGHLY_RECOMMENDED_AT)),
            then=out(Status.HIGHLY_RECOMMENDED),
        ),
        When(GreaterThanOrEqual(score, Value(RECOMMENDED_AT)), then=out(Status.RECOMMENDED)),
        When(GreaterThanOrEqual(score, Value(CAUTION_AT)), then=out(Status.CAUTION)),
        default=out(Status.AVOID),
        output_field=models.IntegerField() if as_rank else models.CharField(),
    )


def status_rank_expression():
    """The "most trusted" group of a provider, for the generated status_rank column. A
    generated column cannot read another on PostgreSQL, so it computes the score itself."""
    return status_expression(trust_score_expression(), as_rank=True)
