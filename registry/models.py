import re
import time
from datetime import timedelta
from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import connections, models
from django.db.models import Case, Count, F, FloatField, OuterRef, Q, Subquery, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from . import scoring
from .scoring import Status

https_only = URLValidator(schemes=["https"], message="Enter a full https:// address.")

MAX_SETUP_MINUTES = 24 * 60
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


def _per(total, count):
    return Case(
        When(
            **{f"{count.name}__gt": 0}, then=Cast(total, FloatField()) / Cast(count, FloatField())
        ),
        output_field=FloatField(),
    )


def cache_version(using="default"):
    """A string that changes with every write a page can show: part of the keys of cached
    fragments. Counter updates and admin edits bump a provider's `version` and, in the same
    transaction, the one-row RegistryVersion; an added, removed or saved provider changes
    the count or the latest `updated_at`.

    It runs on every page view, so it is one plain query, and O(1) in the number of
    providers: SQLite counts rows from the b-tree and finds MAX(updated_at) in the
    provider_cache_version index (a SUM over every provider's version took 140 us at
    1,000 providers, now ~15 us at any size)."""
    connection = connections[using]
    providers = connection.ops.quote_name(Provider._meta.db_table)
    registry = connection.ops.quote_name(RegistryVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {providers}), "  # noqa: S608
            f"(SELECT value FROM {registry} WHERE id = 1), "
            f"(SELECT MAX(updated_at) FROM {providers})"
        )
        count, bumps, last = cursor.fetchone()
    return f"{count}.{bumps or 0}.{last}"


class RegistryVersion(models.Model):
    """One row (id 1): how many times any provider's version was bumped. It moves in the
    transaction of each bump, so cache_version() reads one row instead of summing the
    versions of every provider."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"registry version {self.value}"

    @staticmethod
    def bump(using="default"):
        # An upsert: the row is made by the first bump, and again after a flush. A new row
        # starts at the clock in microseconds, above any value an earlier row reached, so
        # a version string (and a cached page keyed by it) never comes back.
        connection = connections[using]
        table = connection.ops.quote_name(RegistryVersion._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id, value) VALUES (1, %s) "  # noqa: S608
                f"ON CONFLICT (id) DO UPDATE SET value = {table}.value + 1",
                [time.time_ns() // 1000],
            )


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
    def published(self):
        return self.filter(is_published=True)

    def with_status(self):
        """`status_value`: Provider.status as a database expression, to filter on."""
        return self.annotate(status_value=scoring.status_expression("trust_score"))

    def with_recent_issue_count(self):
        """`recent_issue_count`: approved issue reports of the last 30 days (read by
        Provider.has_recent_issues). A correlated subquery rather than a join, so it stays
        right next to other multi-valued joins (filtering by audience, say)."""
        reports = IssueReport.objects.recent_approved().filter(provider=OuterRef("pk"))
        count = reports.order_by().values("provider").annotate(n=Count("pk")).values("n")
        return self.annotate(
            recent_issue_count=Coalesce(Subquery(count, output_field=models.IntegerField()), 0)
        )

    def with_card_data(self):
        """Prefetch what a provider card shows, so a page of cards is a fixed number of
        queries. The top tip is a sliced prefetch (one window-function query), so it
        fetches one tip per provider however many tips the community sends in."""
        top_tip = ProTip.objects.filter(status=Moderation.APPROVED).order_by("position", "pk")
        return self.prefetch_related(
            "caution_flags",
            models.Prefetch("pro_tips", queryset=top_tip[:1], to_attr="approved_tips"),
        )

    def with_sort_fields(self):
        """The derived star rating and average setup time as `sort_stars` and `sort_setup`
        (NULL without data), for the browse page's "rating" and "setup time" orders."""
        return self.annotate(
            sort_stars=_per(F("ratings_sum"), F("ratings_count")),
            sort_setup=_per(F("setup_minutes_sum"), F("setup_minutes_count")),
        )

    def bump_version(self, **counters):
        """Mark these providers changed, so cached fragments of their pages and of the
        lists that show them are rendered afresh (see cache_version()). Counter updates
        from registry.services ride in the same UPDATE. Call it inside a transaction
        when the write it follows is in one."""
        updated = self.update(version=F("version") + 1, **counters)
        RegistryVersion.bump(self.db)
        return updated

    def recommended(self, free_only=True, min_trust_score=70.0, difficulty_max=None):
        """The seed's get_recommended_providers() as a chainable queryset."""
        providers = self.published().with_status()
        if free_only:
            providers = providers.filter(has_free_tier=True)
        if difficulty_max is not None:
            providers = providers.filter(difficulty__lte=Difficulty.parse(difficulty_max))
        return (
            providers.filter(trust_score__gte=min_trust_score)
            .exclude(status_value__in=[s.value for s in scoring.NOT_RECOMMENDABLE])
            .order_by("-trust_score", "provider_name")
        )


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
        help_text="Regular expression a well-formed key matches (the wizard's format check).",
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

    # +1 (with F()) by every write that changes what the site shows about the provider:
    # registry.services' counter updates and admin edits. Part of the cache keys.
    version = models.PositiveBigIntegerField(default=0, editable=False)

    # The SQL twin of scoring.trust_score(), kept by the database: every write of the
    # counters recomputes it, so lists filter and sort on an indexed column instead of
    # computing the expression for every provider in every query. After save() an
    # instance's value is stale until reloaded; get_trust_score() is always current.
    trust_score = models.GeneratedField(
        expression=scoring.trust_score_expression(),
        output_field=models.FloatField(),
        db_persist=True,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["provider_name"]
        indexes = [
            # cache_version() reads only this index; the name orders lists and ties.
            models.Index(fields=["updated_at", "version"], name="provider_cache_version"),
            models.Index(fields=["is_published", "provider_name"], name="provider_by_name"),
            models.Index(fields=["-trust_score", "provider_name"], name="provider_by_trust"),
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
        if self.key_pattern:
            # The wizard matches keys against it: a broken pattern would break the wizard.
            try:
                re.compile(self.key_pattern)
            except re.error as error:
                errors["key_pattern"] = f"Not a valid regular expression: {error}."
        if errors:
            raise ValidationError(errors)

    @property
    def cache_key(self):
        """Changes whenever this provider's page can change (see version)."""
        return f"{self.pk}.{self.version}.{self.updated_at.timestamp()}"

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
        return scoring.trust_score(
            ratings_count=self.ratings_count,
            ratings_sum=self.ratings_sum,
            setup_reports=self.setup_reports,
            setup_successes=self.setup_successes,
            active_users=self.active_users,
            positive_reviews=self.positive_reviews,
            negative_reviews=self.negative_reviews,
        )

    def validate_constraints(self, exclude=None):
        # No constraint reads trust_score. Left in, Django would add the whole generated
        # expression to every constraint's check query: 50 ms per provider validated.
        return super().validate_constraints(exclude={*(exclude or ()), "trust_score"})

    def get_trust_score(self):
        return self.trust.total

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


class Submission(models.Model):
    """Something a visitor sent that a maintainer approves before it is public."""

    status = models.CharField(
        max_length=10, choices=Moderation.choices, default=Moderation.PENDING, db_index=True
    )
    voter_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

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


class IssueReportQuerySet(models.QuerySet):
    def recent_approved(self):
        """Approved reports of the last RECENT_ISSUE_DAYS days: what the "issues reported"
        caution counts, wherever a page shows it."""
        since = timezone.now() - timedelta(days=RECENT_ISSUE_DAYS)
        return self.filter(status=Moderation.APPROVED, created_at__gte=since)


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


class Event(models.Model):
    day = models.DateField(default=today, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # Empty for calls from the Python API; set for every web submission.
    voter_key = models.CharField(max_length=64, blank=True, editable=False)

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

    class Meta(Event.Meta):
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


class Rating(Event):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="rating_events")
    stars = models.PositiveSmallIntegerField()

    class Meta(Event.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "voter_key", "day"],
                condition=~Q(voter_key=""),
                name="one_rating_per_voter_per_day",
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.stars}★ on {self.provider_id}"


# --- abuse limits without identity ------------------------------------------------------


class VoterSalt(models.Model):
    """The random salt of one day's voter keys. Deleted after two days, so keys from
    different days can never be linked to each other."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self):
        return str(self.day)


class VoterDay(models.Model):
    """How many submissions one voter key made on one day: the daily cap's counter."""

    voter_key = models.CharField(max_length=64)
    day = models.DateField(default=today)
    submissions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["voter_key", "day"], name="one_counter_per_voter_day")
        ]

    def __str__(self):
        return f"{self.voter_key[:8]}… on {self.day}"
