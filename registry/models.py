from datetime import timedelta
from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from . import scoring
from .key_patterns import GRAMMAR_HELP, validate_key_pattern
from .scoring import Status

https_only = URLValidator(schemes=["https"], message="Enter a full https:// address.")

MAX_SETUP_MINUTES = 24 * 60
# Every community counter a provider keeps (changed only by registry.services).
COUNTER_FIELDS = (
    "total_users",
    "active_users",
    "setup_reports",
    "setup_successes",
    "setup_minutes_sum",
    "setup_minutes_count",
    "felt_difficulty_sum",
    "felt_difficulty_count",
    "ratings_count",
    "ratings_sum",
    "positive_reviews",
    "negative_reviews",
)
GENERATED_FIELDS = ("trust_score", "trust_lower_bound", "status_rank")
RECENT_ISSUE_DAYS = 30
RECENT_ISSUES_CAUTION_AT = 3
# "New" is what low confidence shows; a maintainer cannot pin it.
PINNABLE = [s.value for s in Status if s != Status.NEW]


class Difficulty(models.IntegerChoices):
    EASY = 1, "Easy"
    MODERATE = 2, "Moderate"
    ADVANCED = 3, "Advanced"
    EXPERT = 4, "Expert"

    @classmethod
    def parse(cls, value):
        """A Difficulty from a member, its number or its label ("moderate", as the seed's
        ProviderDifficulty enum spells it)."""
        if isinstance(value, str):
            for choice in cls:
                if value.strip().lower() in (choice.label.lower(), str(choice.value)):
                    return choice
        elif not isinstance(value, bool) and value in cls.values:
            return cls(value)
        else:
            label = getattr(value, "value", None)  # another enum, e.g. the seed's
            if isinstance(label, str | int) and label != value:
                return cls.parse(label)
        raise ValueError(
            f"Unknown difficulty {value!r}: use 1-4 or easy, moderate, advanced, expert."
        )


class Moderation(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


def _big(field):
    # Multiplied in 64 bits, so a large count cannot overflow PostgreSQL's integer.
    return Cast(field, models.BigIntegerField())


class RegistryVersion(models.Model):
    """One row (id 1) that every write a public page can show moves forward: cached pages
    are keyed by it. registry.versioning reads and bumps it; nothing else should."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"registry version {self.value}"


def today():
    return timezone.now().date()


class Audience(models.Model):
    """A "recommended for" audience, shared across providers so visitors can filter by it."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProviderQuerySet(models.QuerySet):
    """Every filter and order a page, the wizard or the Python API applies to providers."""

    def published(self):
        return self.filter(is_published=True)

    # --- filters -------------------------------------------------------------------------

    def search(self, text):
        text = text.strip()
        return self.filter(Q(provider_name__icontains=text) | Q(provider_id__icontains=text))

    def free_tier(self):
        return self.filter(has_free_tier=True)

    def instant_approval(self):
        return self.filter(requires_approval=False)

    def max_difficulty(self, difficulty):
        return self.filter(difficulty__lte=Difficulty.parse(difficulty))

    def min_trust(self, score):
        return self.filter(trust_score__gte=score)

    def for_audience(self, audience):
        """`audience`: an Audience or its slug."""
        slug = getattr(audience, "slug", audience)
        return self.filter(recommended_for__slug=slug)

    def matching(
        self, *, q="", free=False, instant=False, difficulty=None, min_trust=None, audience=None
    ):
        """The browse and wizard filters in one call; empty values filter nothing."""
        providers = self
        if q and q.strip():
            providers = providers.search(q)
        if free:
            providers = providers.free_tier()
        if instant:
            providers = providers.instant_approval()
        if difficulty is not None:
            providers = providers.max_difficulty(difficulty)
        if min_trust is not None:
            providers = providers.min_trust(min_trust)
        if audience:
            providers = providers.for_audience(audience)
        return providers

    def relaxation_counts(self, filters, names):
        """For an empty result: how many providers each named filter, dropped alone from
        `filters` (keyword arguments of matching()), would bring back. One COUNT each."""
        return {
            name: self.matching(**{k: v for k, v in filters.items() if k != name}).count()
            for name in names
        }

    # --- orders --------------------------------------------------------------------------

    def most_trusted(self):
        """The default order: by status group (Highly Recommended, Recommended, new, Use
        with Caution, Avoid; pins count), then by lower bound, so a few votes can never
        outrank many within a group. An index scan (provider_most_trusted)."""
        return self.order_by("status_rank", F("trust_lower_bound").desc(), "provider_name")

    def stably(self):
        """The order so far, with ties broken by provider_id: pages by limit and offset
        then neither repeat nor skip a provider (provider names need not be unique)."""
        return self.order_by(*self.query.order_by, "provider_id")

    def by_score(self):
        """Highest displayed trust score first: the seed's get_recommended_providers order."""
        return self.order_by(F("trust_score").desc(), "provider_name")

    def sorted_by(self, sort):
        """The browse page's orders: "trust" (the default), "rating", "setup", "users".
        Providers without data for the chosen figure come last."""
        if sort == "rating":
            return self.annotate(
                sort_stars=scoring.ratio("ratings_sum", "ratings_count", default=None)
            ).order_by(
                F("sort_stars").desc(nulls_last=True), F("trust_score").desc(), "provider_name"
            )
        if sort == "setup":
            return self.annotate(
                sort_setup=scoring.ratio("setup_minutes_sum", "setup_minutes_count", default=None)
            ).order_by(
                F("sort_setup").asc(nulls_last=True), F("trust_score").desc(), "provider_name"
            )
        if sort == "users":
            return self.order_by(F("active_users").desc(), F("total_users").desc(), "provider_name")
        return self.most_trusted()

    def these_first(self, pks):
        """The providers in `pks` first, then the rest, each group in the order already set
        (registry.recommend.fitting_first)."""
        if not pks:
            return self
        first = Case(When(pk__in=pks, then=Value(0)), default=Value(1))
        return self.order_by(first, *self.query.order_by)

    # --- what pages show -----------------------------------------------------------------

    def with_recent_issue_count(self):
        """`recent_issue_count`: approved issue reports of the last 30 days (read by
        Provider.has_recent_issues). A correlated subquery rather than a join, so it stays
        right next to other multi-valued joins (filtering by audience, say), and it is
        computed only for the rows a page fetches."""
        reports = IssueReport.objects.recent_approved().filter(provider=OuterRef("pk"))
        count = reports.order_by().values("provider").annotate(n=Count("pk")).values("n")
        return self.annotate(
            recent_issue_count=Coalesce(Subquery(count, output_field=models.IntegerField()), 0)
        )

    def with_card_data(self):
        """What a provider card shows, so a page of cards is a fixed number of queries: the
        recent issue count, the cautions, and the top tip as a sliced prefetch (one
        window-function query) into `approved_tips`, one tip per provider however many
        tips the community sends in."""
        return self.with_recent_issue_count().prefetch_related(
            "caution_flags",
            models.Prefetch(
                "pro_tips", queryset=ProTip.objects.approved()[:1], to_attr="approved_tips"
            ),
        )

    def recommended(self, free_only=True, min_trust_score=70.0, difficulty_max=None):
        """The seed's get_recommended_providers() as a chainable queryset."""
        providers = self.published().matching(
            free=free_only, difficulty=difficulty_max, min_trust=min_trust_score
        )
        return providers.exclude(
            status_rank__in=[scoring.STATUS_RANK[s] for s in scoring.NOT_RECOMMENDABLE]
        ).by_score()

    def statistics(self):
        """The statistics widget's figures: two queries whatever the number of providers.

        The average success rate is over every setup report, so each provider weighs as
        much as its reports: one report for a new provider moves it by a hair, not as much
        as 450 for another."""
        totals = self.aggregate(
            providers=Count("pk"),
            active_users=Sum("active_users"),
            setup_reports=Sum("setup_reports"),
            setup_successes=Sum("setup_successes"),
        )
        reports = totals["setup_reports"] or 0
        return {
            "providers": totals["providers"] or 0,
            "active_users": totals["active_users"] or 0,
            "setup_reports": reports,
            "average_success_rate": (
                totals["setup_successes"] * 100 / reports if reports else None
            ),
            "top": list(self.recommended(free_only=False)[:3]),
        }


class Provider(models.Model):
    # Identity
    provider_id = models.SlugField(
        max_length=60, unique=True, help_text="Stable id used in URLs and the Python API."
    )
    provider_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_published = models.BooleanField(default=True, db_index=True)

    # Links (https only)
    website_url = models.URLField(max_length=300, blank=True, validators=[https_only])
    signup_url = models.URLField(max_length=300, validators=[https_only])
    api_key_url = models.URLField(max_length=300, validators=[https_only])
    documentation_url = models.URLField(max_length=300, validators=[https_only])
    # Probed by the verification app's health check: GET {api_base_url}/models, no key.
    api_base_url = models.URLField(
        "API base URL",
        max_length=300,
        blank=True,
        validators=[https_only],
        help_text="e.g. https://api.example.com/v1. Health checks send GET <this>/models "
        "without a key; leave blank to skip them.",
    )

    # User experience (curated)
    difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, default=Difficulty.MODERATE, db_index=True
    )
    requires_approval = models.BooleanField(default=False)
    approval_note = models.CharField(
        max_length=100, blank=True, help_text='Shown with manual approval, e.g. "1-2 days".'
    )
    has_free_tier = models.BooleanField(default=False, db_index=True)
    free_tier_note = models.CharField(
        max_length=100, blank=True, help_text='Qualifies the free tier, e.g. "very limited".'
    )
    key_env_var = models.CharField(
        "key environment variable", max_length=60, blank=True, help_text="e.g. OPENAI_API_KEY"
    )
    key_pattern = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_key_pattern],
        help_text="The format of a well-formed key, for the wizard's check. " + GRAMMAR_HELP,
    )
    last_verified = models.DateField(null=True, blank=True)
    recommended_for = models.ManyToManyField(Audience, blank=True, related_name="providers")

    # Maintainer pin
    status_pin = models.CharField(
        "pinned status",
        max_length=20,
        blank=True,
        choices=[(value, Status(value).label) for value in PINNABLE],
        help_text="Leave blank to let the trust score decide.",
    )
    status_pin_reason = models.CharField("public reason for the pin", max_length=300, blank=True)

    # Community counters: changed only by registry.services, with F() updates.
    total_users = models.PositiveIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)
    setup_reports = models.PositiveIntegerField(default=0)
    setup_successes = models.PositiveIntegerField(default=0)
    setup_minutes_sum = models.PositiveBigIntegerField(default=0)
    setup_minutes_count = models.PositiveIntegerField(default=0)
    felt_difficulty_sum = models.PositiveIntegerField(default=0)
    felt_difficulty_count = models.PositiveIntegerField(default=0)
    ratings_count = models.PositiveIntegerField(default=0)
    ratings_sum = models.PositiveBigIntegerField(default=0)
    positive_reviews = models.PositiveIntegerField(default=0)
    negative_reviews = models.PositiveIntegerField(default=0)

    # The imported or seeded figures the counters started from: the counters always equal
    # this baseline plus the provider's counted events (manage.py verify_counters).
    baseline = models.JSONField(default=dict, blank=True, editable=False)
    # The registry's mean star rating that the lower bound's stars term is pulled toward,
    # copied onto every provider by registry.services.refresh_stars_prior (a generated
    # column can only read its own row).
    stars_prior = models.FloatField(default=scoring.DEFAULT_STARS_PRIOR, editable=False)

    # The SQL twins of registry.scoring, kept by the database: every write of the counters
    # recomputes them, so lists filter and sort on indexed columns instead of computing
    # expressions for every provider in every query. After save() an instance's values
    # are stale until reloaded; get_trust_score() and friends are always current.
    trust_score = models.GeneratedField(
        expression=scoring.trust_score_expression(),
        output_field=models.FloatField(),
        db_persist=True,
    )
    trust_lower_bound = models.GeneratedField(
        expression=scoring.trust_lower_bound_expression(),
        output_field=models.FloatField(),
        db_persist=True,
    )
    # "Most trusted" groups: 0 Highly Recommended, 1 Recommended, 2 new, 3 Use with
    # Caution, 4 Avoid (scoring.STATUS_RANK), pins included.
    status_rank = models.GeneratedField(
        expression=scoring.status_rank_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["provider_name"]
        indexes = [
            models.Index(fields=["is_published", "provider_name"], name="provider_by_name"),
            models.Index(fields=["-trust_score", "provider_name"], name="provider_by_trust"),
            # The default "most trusted" order: by group, then by lower bound.
            models.Index(
                fields=["status_rank", "-trust_lower_bound", "provider_name"],
                name="provider_most_trusted",
            ),
        ]
        # Each message names the counters it is about: the import shows it to the user.
        constraints = [
            models.CheckConstraint(
                condition=Q(active_users__lte=F("total_users")),
                name="active_within_total",
                violation_error_message="active_users must not exceed total_users.",
            ),
            models.CheckConstraint(
                condition=Q(setup_successes__lte=F("setup_reports")),
                name="successes_within_reports",
                violation_error_message="setup_successes must not exceed setup_reports.",
            ),
            models.CheckConstraint(
                condition=Q(setup_minutes_count__lte=F("setup_reports"))
                & Q(setup_minutes_sum__lte=_big("setup_minutes_count") * MAX_SETUP_MINUTES),
                name="setup_minutes_within_reports",
                violation_error_message=(
                    "setup_minutes_count must not exceed setup_reports, and "
                    "setup_minutes_sum must average at most 24 hours per timed setup."
                ),
            ),
            models.CheckConstraint(
                condition=Q(felt_difficulty_count__lte=F("setup_reports"))
                & Q(felt_difficulty_sum__gte=F("felt_difficulty_count"))
                & Q(felt_difficulty_sum__lte=_big("felt_difficulty_count") * 4),
                name="felt_difficulty_within_reports",
                violation_error_message=(
                    "felt_difficulty_count must not exceed setup_reports, and "
                    "felt_difficulty_sum must average 1 to 4."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ratings_sum__gte=F("ratings_count"))
                & Q(ratings_sum__lte=_big("ratings_count") * 5),
                name="ratings_sum_within_stars",
                violation_error_message="ratings_sum must average 1 to 5 stars per rating.",
            ),
            models.CheckConstraint(
                condition=Q(positive_reviews__lte=F("ratings_count") - F("negative_reviews")),
                name="reviews_within_ratings",
                violation_error_message=(
                    "positive_reviews + negative_reviews must not exceed ratings_count."
                ),
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=4), name="difficulty_in_range"
            ),
            models.CheckConstraint(
                condition=Q(status_pin__in=["", *PINNABLE]),
                name="status_pin_is_a_status",
                violation_error_message="status_pin must be empty or a pinnable status.",
            ),
            models.CheckConstraint(
                condition=Q(status_pin="") | ~Q(status_pin_reason=""),
                name="pinned_status_has_reason",
                violation_error_message="A pinned status needs a public reason.",
            ),
        ]

    def __str__(self):
        return self.provider_name

    def clean(self):
        errors = {}
        if self.status_pin and not self.status_pin_reason.strip():
            errors["status_pin_reason"] = "Give the public reason shown with a pinned status."
        if errors:
            raise ValidationError(errors)

    # --- derived values (never stored twice) ---
    @property
    def star_rating(self):
        return self.ratings_sum / self.ratings_count if self.ratings_count else 0.0

    @property
    def success_rate(self):
        return self.setup_successes / self.setup_reports * 100 if self.setup_reports else 0.0

    @property
    def avg_setup_time_minutes(self):
        if not self.setup_minutes_count:
            return None
        return self.setup_minutes_sum / self.setup_minutes_count

    @property
    def felt_difficulty(self):
        if not self.felt_difficulty_count:
            return None
        return self.felt_difficulty_sum / self.felt_difficulty_count

    @cached_property
    def trust(self):
        return scoring.trust_score(**self._counters_for_bounds())

    @classmethod
    def curated_fields(cls):
        """The fields maintainers edit: everything but the counters and what is derived from
        them (the baseline, the prior, the generated scores, the creation time)."""
        derived = {*COUNTER_FIELDS, *GENERATED_FIELDS, "id", "baseline", "stars_prior"}
        return [f.name for f in cls._meta.concrete_fields if f.name not in derived | {"created_at"}]

    def validate_constraints(self, exclude=None):
        # No constraint reads the generated columns. Left in, Django would add their whole
        # expressions to every constraint's check query: 50 ms per provider validated.
        return super().validate_constraints(exclude={*(exclude or ()), *GENERATED_FIELDS})

    def get_trust_score(self):
        return self.trust.total

    @property
    def has_data(self):
        return scoring.has_data(setup_reports=self.setup_reports, ratings_count=self.ratings_count)

    def _counters_for_bounds(self):
        return {
            "ratings_count": self.ratings_count,
            "ratings_sum": self.ratings_sum,
            "setup_reports": self.setup_reports,
            "setup_successes": self.setup_successes,
            "active_users": self.active_users,
            "positive_reviews": self.positive_reviews,
            "negative_reviews": self.negative_reviews,
        }

    @cached_property
    def trust_low(self):
        """The lower bound's breakdown (scoring.trust_lower_bound); .total is the bound."""
        return scoring.trust_lower_bound(
            stars_prior=self.stars_prior, **self._counters_for_bounds()
        )

    @cached_property
    def trust_high(self):
        """The top of the range a provider page shows (scoring.trust_upper_bound)."""
        return scoring.trust_upper_bound(
            stars_prior=self.stars_prior, **self._counters_for_bounds()
        )

    def counter_split(self):
        """Each counter as (from the imported or seeded baseline, from visitors since)."""
        return {
            name: (self.baseline.get(name, 0), getattr(self, name) - self.baseline.get(name, 0))
            for name in COUNTER_FIELDS
        }

    @property
    def is_confident(self):
        return scoring.is_confident(
            setup_reports=self.setup_reports, ratings_count=self.ratings_count
        )

    @property
    def status(self):
        return scoring.status(
            self.get_trust_score(), confident=self.is_confident, pin=self.status_pin
        )

    @property
    def is_pinned(self):
        return bool(self.status_pin) and self.status == self.status_pin

    @property
    def has_recent_issues(self):
        """Needs .with_recent_issue_count(); the "issues reported" caution."""
        return getattr(self, "recent_issue_count", 0) >= RECENT_ISSUES_CAUTION_AT


class OrderedRow(models.Model):
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]


class SetupStep(OrderedRow):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="setup_steps")
    text = models.CharField(max_length=300)

    def __str__(self):
        return self.text


class CautionFlag(OrderedRow):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="caution_flags")
    text = models.CharField(max_length=200)

    def __str__(self):
        return self.text


class CommonIssue(OrderedRow):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="common_issues")
    problem = models.CharField(max_length=200)
    solution = models.CharField(max_length=400)

    def __str__(self):
        return self.problem


class SubmissionQuerySet(models.QuerySet):
    def approved(self):
        """What is public: approved by a maintainer."""
        return self.filter(status=Moderation.APPROVED)

    def pending(self):
        return self.filter(status=Moderation.PENDING)


class Submission(models.Model):
    """Something a visitor sent that a maintainer approves before it is public."""

    status = models.CharField(
        max_length=10, choices=Moderation.choices, default=Moderation.PENDING, db_index=True
    )
    voter_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class ProTip(Submission):
    """Pro tips: curated by maintainers (approved at once) or sent in by the community."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="pro_tips")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    from_community = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["provider", "status", "position"])]

    def __str__(self):
        return self.text


class Review(Submission):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(max_length=2000)

    class Meta(Submission.Meta):
        # The provider page's newest approved reviews.
        indexes = [models.Index(fields=["provider", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            )
        ]

    def __str__(self):
        return f"{self.rating}★ on {self.provider_id}"


class IssueCategory(models.TextChoices):
    SIGNUP_BLOCKED = "signup_blocked", "Sign-up blocked"
    KEY_REJECTED = "key_rejected", "Key rejected (401/403)"
    RATE_LIMITS = "rate_limits", "Rate limits"
    BILLING_CHANGED = "billing_changed", "Billing or free tier changed"
    BROKEN_LINK = "broken_link", "Broken link"
    OTHER = "other", "Other"


class ProviderLink(models.TextChoices):
    SIGNUP = "signup", "Sign-up link"
    API_KEY = "api_key", "API key link"
    DOCS = "docs", "Docs link"


class IssueReportQuerySet(SubmissionQuerySet):
    def recent_approved(self):
        """Approved reports of the last RECENT_ISSUE_DAYS days: what the "issues reported"
        caution counts, wherever a page shows it."""
        since = timezone.now() - timedelta(days=RECENT_ISSUE_DAYS)
        return self.approved().filter(created_at__gte=since)


class IssueReport(Submission):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="issue_reports")
    category = models.CharField(max_length=20, choices=IssueCategory.choices)
    broken_link = models.CharField(max_length=10, choices=ProviderLink.choices, blank=True)
    details = models.TextField(max_length=2000)

    objects = IssueReportQuerySet.as_manager()

    class Meta(Submission.Meta):
        # The recent-issues caution (count in the last 30 days) and the newest reports.
        indexes = [models.Index(fields=["provider", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(category=IssueCategory.BROKEN_LINK) | Q(broken_link=""),
                name="broken_link_only_for_broken_link_reports",
            ),
        ]

    def __str__(self):
        return f"{self.get_category_display()} on {self.provider_id}"


class ProviderSuggestion(Submission):
    name = models.CharField(max_length=100)
    website = models.URLField(max_length=300)
    reason = models.TextField(max_length=1000)

    def __str__(self):
        return self.name


# --- community events: one timestamped row per counter change -------------------------


class EventStatus(models.TextChoices):
    COUNTED = "counted", "Counted"
    HELD = "held", "Held for review"
    DISCARDED = "discarded", "Discarded"


class EventQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(status=EventStatus.COUNTED)

    def held(self):
        return self.filter(status=EventStatus.HELD)


class Event(models.Model):
    day = models.DateField(default=today, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # The visitor's key (registry.voters.Voter.visitor). Empty for calls from the Python
    # API; set for every web submission.
    voter_key = models.CharField(max_length=64, blank=True, editable=False)
    # Counted events are in the counters; a burst is held (not counted) until a maintainer
    # releases it (counted then) or discards it (never counted).
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.COUNTED, editable=False
    )

    objects = EventQuerySet.as_manager()

    # The foreign key to the row whose counters the event adds to, and what that row must
    # be for a new event to count there (registry.services).
    COUNTERS_ON = "provider"
    PUBLISHED = {"is_published": True}

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class SetupReport(Event):
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="setup_report_events"
    )
    success = models.BooleanField()
    minutes = models.PositiveIntegerField(null=True, blank=True)
    felt_difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, null=True, blank=True
    )

    QUOTA_KIND = "setup"  # its daily quotas in registry.limits

    class Meta(Event.Meta):
        # Counters rebuilt from counted events, and the held ones a provider page counts.
        indexes = [models.Index(fields=["provider", "status"], name="setupreport_by_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "voter_key", "day"],
                condition=~Q(voter_key=""),
                name="one_setup_report_per_voter_per_day",
            ),
            models.CheckConstraint(
                condition=Q(minutes__isnull=True) | Q(minutes__lte=MAX_SETUP_MINUTES),
                name="setup_minutes_within_a_day",
            ),
            models.CheckConstraint(
                condition=Q(felt_difficulty__isnull=True)
                | Q(felt_difficulty__gte=1, felt_difficulty__lte=4),
                name="setup_felt_difficulty_in_range",
            ),
        ]

    def __str__(self):
        return f"{'success' if self.success else 'failure'} on {self.provider_id}"

    @staticmethod
    def increments(success, minutes=None, felt_difficulty=None):
        """What one setup report adds to its provider's counters (DESIGN.md's rules)."""
        counters = {"total_users": 1, "setup_reports": 1}
        if success:
            counters.update(active_users=1, setup_successes=1)
        if minutes is not None:
            counters.update(setup_minutes_sum=minutes, setup_minutes_count=1)
        if felt_difficulty is not None:
            counters.update(felt_difficulty_sum=felt_difficulty, felt_difficulty_count=1)
        return counters

    def counter_increments(self):
        return self.increments(self.success, self.minutes, self.felt_difficulty)

    @staticmethod
    def counter_aggregates():
        """increments() summed over many rows, as SQL aggregates (verify_counters)."""
        return {
            "total_users": Count("pk"),
            "setup_reports": Count("pk"),
            "active_users": Count("pk", filter=Q(success=True)),
            "setup_successes": Count("pk", filter=Q(success=True)),
            "setup_minutes_sum": Sum("minutes"),
            "setup_minutes_count": Count("minutes"),
            "felt_difficulty_sum": Sum("felt_difficulty"),
            "felt_difficulty_count": Count("felt_difficulty"),
        }


class FreeTierAnswer(models.TextChoices):
    """The optional "Did you use the free tier? Did it work?" of a rating."""

    WORKED = "worked", "Yes, and it worked"
    NOT_WORKING = "not_working", "Yes, but it did not work"


class Rating(Event):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="rating_events")
    stars = models.PositiveSmallIntegerField()
    # Blank: the visitor did not use the free tier, or did not say.
    free_tier = models.CharField(
        max_length=12, choices=FreeTierAnswer.choices, blank=True, default=""
    )

    QUOTA_KIND = "rating"

    class Meta(Event.Meta):
        indexes = [
            models.Index(fields=["provider", "status"], name="rating_by_status"),
            # The provider page's "confirmed by N people in the last 30 days" reads only the
            # ratings that answered the free-tier question: an index of those alone, so the
            # count costs the same with a million ratings (onboarding.views).
            models.Index(
                fields=["provider", "created_at"],
                condition=~Q(free_tier=""),
                name="rating_free_tier_answer",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "voter_key", "day"],
                condition=~Q(voter_key=""),
                name="one_rating_per_voter_per_day",
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(free_tier__in=["", *FreeTierAnswer.values]),
                name="rating_free_tier_is_an_answer",
            ),
        ]

    def __str__(self):
        return f"{self.stars}★ on {self.provider_id}"

    @staticmethod
    def increments(stars):
        """What one rating adds: 4 or 5 stars is a positive review, 1 or 2 a negative one."""
        counters = {"ratings_count": 1, "ratings_sum": stars}
        if stars >= 4:
            counters["positive_reviews"] = 1
        elif stars <= 2:
            counters["negative_reviews"] = 1
        return counters

    def counter_increments(self):
        return self.increments(self.stars)

    @staticmethod
    def counter_aggregates():
        return {
            "ratings_count": Count("pk"),
            "ratings_sum": Sum("stars"),
            "positive_reviews": Count("pk", filter=Q(stars__gte=4)),
            "negative_reviews": Count("pk", filter=Q(stars__lte=2)),
        }


# --- abuse limits without identity ------------------------------------------------------


class VoterSalt(models.Model):
    """The random salt of one day's voter keys. Deleted after two days, so keys from
    different days can never be linked to each other."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self):
        return str(self.day)


class DailyQuota(models.Model):
    """How much of one daily limit one bucket has used: the daily cap of a network
    ("day:<network key>"), or a kind of submission for one provider from one network or
    range ("rating:<provider pk>:network:<key>"). Written only by registry.services, with
    an atomic conditional upsert that never passes `cap`."""

    bucket = models.CharField(max_length=120)
    day = models.DateField(default=today)
    used = models.PositiveIntegerField(default=0)
    cap = models.PositiveIntegerField(default=0)  # the limit when last used

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "day"], name="one_quota_per_bucket_day"),
            models.CheckConstraint(condition=Q(used__lte=F("cap")), name="quota_within_cap"),
        ]

    def __str__(self):
        return f"{self.bucket[:24]}… on {self.day}: {self.used}/{self.cap}"


class ProviderHour(models.Model):
    """Submissions for one provider in one clock hour: what the burst rule compares with
    the provider's own recent rate (registry.services). Kept for 8 days."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()
    submitted = models.PositiveIntegerField(default=0)  # counted and held
    counted = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "hour"], name="one_row_per_provider_hour")
        ]

    def __str__(self):
        return f"{self.provider_id} at {self.hour:%Y-%m-%d %H}:00"
