"""What the registry saw when it checked itself, and what it remembers from day to day.

- CheckRun: one run of the link or API checker, offline runs included.
- HealthCheck: one row per result (URL, when, status, final URL, latency, error kind).
- HealthState: the current state of each checked target of a provider (its four curated
  links and its API): the one row per target that pages and alerts read.
- DailySnapshot: one row per provider per day: counters, trust score, uptime, link state.
- Alert: a sudden change, opened and resolved by verification.alerts.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from registry.models import Provider


class Target(models.TextChoices):
    """What is checked: a provider's four curated links and its API endpoint."""

    SIGNUP = "signup", "Sign-up page"
    API_KEY = "api_key", "API key page"
    DOCS = "docs", "Docs"
    WEBSITE = "website", "Website"
    API = "api", "API"


# Each link target and the Provider field that holds its URL.
LINK_FIELDS = {
    Target.SIGNUP: "signup_url",
    Target.API_KEY: "api_key_url",
    Target.DOCS: "documentation_url",
    Target.WEBSITE: "website_url",
}


class ErrorKind(models.TextChoices):
    NONE = "", "None"
    DNS = "dns", "DNS lookup failed"
    REFUSED = "refused", "Connection refused"
    UNREACHABLE = "unreachable", "Network unreachable"
    TIMEOUT = "timeout", "Timed out"
    TLS = "tls", "TLS or certificate error"
    RESET = "reset", "Connection reset"
    HTTP = "http", "HTTP error status"
    REDIRECTS = "redirects", "Too many redirects"
    INVALID = "invalid", "Not a checkable URL"


class CheckKind(models.TextChoices):
    LINKS = "links", "Links"
    API = "api", "API"


class CheckRun(models.Model):
    """One run of the checker. An offline run (every host failed at the network level)
    records only this row: no results, no state changes."""

    kind = models.CharField(max_length=10, choices=CheckKind.choices)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    offline = models.BooleanField(default=False)
    targets = models.PositiveIntegerField(default=0)
    hosts = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    peak_concurrency = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "-started_at"], name="checkrun_latest")]

    def __str__(self):
        return f"{self.get_kind_display()} check at {self.started_at:%Y-%m-%d %H:%M}"


class HealthCheck(models.Model):
    """One request's result: what a link check or an API probe saw."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=10, choices=Target.choices)
    url = models.URLField(max_length=300)
    checked_at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=4)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    # Every hop followed, as [status, location] pairs.
    redirects = models.JSONField(default=list, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=12, choices=ErrorKind.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)
    ok = models.BooleanField()

    class Meta:
        ordering = ["-checked_at"]
        # A provider's uptime over a window, and its latest results per target.
        indexes = [
            models.Index(fields=["provider", "target", "checked_at"], name="healthcheck_window")
        ]

    def __str__(self):
        return f"{self.get_target_display()} of {self.provider_id}: {self.outcome}"

    @property
    def outcome(self):
        if self.error_kind and self.error_kind != ErrorKind.HTTP:
            return self.get_error_kind_display()
        return f"HTTP {self.status}"


class State(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked yet"
    OK = "ok", "Working"
    FAILING = "failing", "Last check failed"
    BROKEN = "broken", "Broken"
    MOVED = "moved", "Moved"


class HealthStateQuerySet(models.QuerySet):
    def to_review(self):
        return self.filter(needs_review=True)


class HealthState(models.Model):
    """The current state of one target of one provider, updated by every check.

    A link is broken after LINK_FAILURES_TO_BREAK failures in a row and recovers on one
    success; an API is down (BROKEN) from its first failure. A broken or moved link asks
    maintainers to look once per breakage (needs_review)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="health")
    target = models.CharField(max_length=10, choices=Target.choices)
    url = models.URLField(max_length=300, help_text="The URL this state is about.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.UNCHECKED)
    failures = models.PositiveSmallIntegerField(default=0, help_text="Failures in a row.")
    failing_since = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error_kind = models.CharField(max_length=12, choices=ErrorKind.choices, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    moved_to = models.URLField(max_length=2000, blank=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    review_opened_at = models.DateTimeField(null=True, blank=True)

    objects = HealthStateQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "target"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "target"], name="one_state_per_target")
        ]

    def __str__(self):
        return f"{self.get_target_display()} of {self.provider_id}: {self.get_state_display()}"

    @property
    def last_outcome(self):
        if self.last_error_kind and self.last_error_kind != ErrorKind.HTTP:
            return ErrorKind(self.last_error_kind).label
        return f"HTTP {self.last_status}" if self.last_status else ""


class DailySnapshot(models.Model):
    """A provider as it stood at the end of one day (UTC). Written by snapshot_registry,
    idempotently; rebuilt from the event rows by --backfill."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField()
    # The community counters (registry.interchange.COUNTER_FIELDS) at the end of the day.
    total_users = models.PositiveIntegerField()
    active_users = models.PositiveIntegerField()
    setup_reports = models.PositiveIntegerField()
    setup_successes = models.PositiveIntegerField()
    setup_minutes_sum = models.PositiveBigIntegerField()
    setup_minutes_count = models.PositiveIntegerField()
    felt_difficulty_sum = models.PositiveIntegerField()
    felt_difficulty_count = models.PositiveIntegerField()
    ratings_count = models.PositiveIntegerField()
    ratings_sum = models.PositiveBigIntegerField()
    positive_reviews = models.PositiveIntegerField()
    negative_reviews = models.PositiveIntegerField()
    trust_score = models.FloatField()
    # registry.scoring.trust_lower_bound(); NULL in rows written before it existed.
    trust_lower_bound = models.FloatField(null=True, blank=True)
    # API probes that day and how many found it up; NULL: no probe data for the day.
    api_probes = models.PositiveIntegerField(null=True, blank=True)
    api_up = models.PositiveIntegerField(null=True, blank=True)
    # Curated links broken or moved at the end of the day; NULL: not observed that day.
    links_broken = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "day"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="one_snapshot_per_day")
        ]

    def __str__(self):
        return f"{self.provider_id} on {self.day}"

    @property
    def success_rate(self):
        if not self.setup_reports:
            return None
        return self.setup_successes / self.setup_reports * 100

    @property
    def has_community_data(self):
        return bool(self.setup_reports or self.ratings_count)

    @property
    def uptime(self):
        if not self.api_probes:
            return None
        return self.api_up / self.api_probes * 100


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def recent(self, days=30):
        """Open alerts and those resolved in the last `days` days: the Atom feed."""
        since = timezone.now() - timedelta(days=days)
        return self.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))


class Alert(models.Model):
    """A sudden change in one provider, found by one rule of verification.alerts.

    At most one open alert per provider, rule and key (the key tells apart two alerts of
    one rule, such as two broken links). The detector opens and resolves them."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=30)
    key = models.CharField(max_length=30, blank=True)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    since = models.DateTimeField(help_text="When the change began, as far as the rule can tell.")
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["provider", "resolved_at"], name="alert_by_provider")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "rule", "key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_alert_per_rule",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.resolved_at is None


class ProviderToVerify(Provider):
    """Providers in the admin list of curated facts to verify again."""

    class Meta:
        proxy = True
        verbose_name = "provider to verify"
        verbose_name_plural = "providers to verify"
