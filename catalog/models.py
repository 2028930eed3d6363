"""Models, the providers that serve them (offerings), and dated prices.

- A Model is the model itself (Llama 3.3 70B), keyed by a stable `model_id` used in URLs.
- A CatalogProvider is a provider as the catalogue (models.dev) lists it; it is linked to
  the registry's curated Provider when the registry has one (same id, or set by hand).
- An Offering is one provider's listing of a model: its own id, limits, status, and a
  pointer to its current Price.
- A Price is one dated row of an offering's prices per million tokens. A change is a new
  row, never an overwrite; the current price is the row with the latest `valid_from`
  (then `observed_at`), which `Offering.current_price` points at.

Maintainer edits are kept: the admin records which fields a maintainer changed in
`curated_fields`, and the sync never writes those fields again.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery, Sum

from registry import scoring
from registry.models import Event, Provider

PRICE_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")
PRICE_PLACES = 6  # a millionth of a dollar per million tokens
MODALITIES = ("text", "image", "audio", "video", "pdf")


def price_field(label):
    return models.DecimalField(
        label,
        max_digits=14,
        decimal_places=PRICE_PLACES,
        null=True,
        blank=True,
        help_text="US dollars per million tokens; blank when not listed.",
    )


class Curated(models.Model):
    """`curated_fields`: the fields a maintainer set by hand, which a sync leaves alone."""

    curated_fields = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        abstract = True

    def is_curated(self, field):
        return field in self.curated_fields


class CatalogProvider(Curated):
    catalog_id = models.CharField(
        max_length=60, unique=True, help_text="The provider's id in the catalogue (models.dev)."
    )
    name = models.CharField(max_length=100)
    doc_url = models.URLField(max_length=300, blank=True)
    api_url = models.CharField(max_length=300, blank=True)
    env = models.CharField("key environment variables", max_length=200, blank=True)
    provider = models.OneToOneField(
        Provider,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="catalog_provider",
        help_text="The registry's provider, for trust scores and setup figures.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        return self.provider.provider_name if self.provider_id else self.name


class ModelQuerySet(models.QuerySet):
    """Filters on what the model is; offering filters are on OfferingQuerySet."""

    def search(self, text):
        text = text.strip()
        return self.filter(
            Q(name__icontains=text) | Q(model_id__icontains=text) | Q(family__icontains=text)
        )

    def family(self, family):
        return self.filter(family=family)

    def tool_calling(self):
        return self.filter(tool_call=True)

    def vision(self):
        return self.filter(input_modalities__contains="image")

    def reasoning(self):
        return self.filter(reasoning=True)

    def served_by(self, offerings):
        """Models with at least one of these offerings."""
        return self.filter(Exists(offerings.filter(model=OuterRef("pk"))))


class Model(Curated):
    model_id = models.CharField(
        max_length=120, unique=True, help_text="Stable id, used in the model's URL."
    )
    group_key = models.CharField(
        max_length=120,
        unique=True,
        help_text="Grouping key (catalog/grouping.py) gathering listings here.",
    )
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=60, blank=True, db_index=True)
    release_date = models.DateField(null=True, blank=True)
    knowledge_cutoff = models.CharField(max_length=10, blank=True, help_text="e.g. 2024-04")
    open_weights = models.BooleanField(default=False)
    reasoning = models.BooleanField(default=False)
    tool_call = models.BooleanField("tool calling", default=False)
    attachment = models.BooleanField("attachments", default=False)
    structured_output = models.BooleanField(default=False)
    input_modalities = models.CharField(
        max_length=60, blank=True, help_text="Comma-separated: text, image, audio, video, pdf."
    )
    output_modalities = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def inputs(self):
        return [m for m in self.input_modalities.split(",") if m]

    @property
    def outputs(self):
        return [m for m in self.output_modalities.split(",") if m]

    @property
    def vision(self):
        return "image" in self.inputs


class ModelAlias(models.Model):
    """A maintainer's grouping override: listings whose key is `key` belong to `model`."""

    key = models.CharField(
        max_length=120,
        unique=True,
        help_text='A grouping key (see catalog/grouping.py), e.g. "llama3-3-70b".',
    )
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        verbose_name_plural = "model aliases"

    def __str__(self):
        return f"{self.key} → {self.model.model_id}"


class OfferingStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    BETA = "beta", "Beta"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class OfferingQuerySet(models.QuerySet):
    """Filters on one offering: chained, they all hold for the same offering."""

    def listed(self):
        return self.exclude(status=OfferingStatus.RETIRED)

    def free(self):
        """A zero input and output price, or a free variant (OpenRouter's ":free")."""
        return self.filter(
            Q(is_free_variant=True) | Q(current_price__input=0, current_price__output=0)
        )

    def max_input_price(self, price):
        return self.filter(current_price__input__lte=price)

    def max_output_price(self, price):
        return self.filter(current_price__output__lte=price)

    def min_context(self, tokens):
        return self.filter(context_limit__gte=tokens)

    def at_provider(self, catalog_id):
        return self.filter(catalog_provider__catalog_id=catalog_id)

    def refresh_current_prices(self, offering_ids):
        """Point each offering's current_price at its newest row (latest `valid_from`,
        then `observed_at`): the one place that keeps the pointer true."""
        newest = Price.objects.filter(offering=OuterRef("pk")).order_by(
            "-valid_from", "-observed_at", "-pk"
        )
        ids = sorted(offering_ids)
        for start in range(0, len(ids), 500):
            self.filter(pk__in=ids[start : start + 500]).update(
                current_price=Subquery(newest.values("pk")[:1])
            )

    def rateable(self):
        """Offerings a visitor may rate: active or beta, at a published registry provider."""
        return self.filter(
            catalog_provider__provider__is_published=True,
            status__in=[OfferingStatus.ACTIVE, OfferingStatus.BETA],
        )

    def rating_choices(self):
        """(pk, "Provider: the provider's model id") for a rating form's select."""
        return [
            (pk, f"{provider}: {model_id}")
            for pk, provider, model_id in self.rateable()
            .order_by("catalog_provider__provider__provider_name", "provider_model_id")
            .values_list("pk", "catalog_provider__provider__provider_name", "provider_model_id")
        ]

    def for_table(self):
        """What a table of offerings shows, in one query."""
        return self.select_related("catalog_provider__provider", "current_price")


def top_confident_trust():
    """An aggregate over offerings: the best trust score among their registry providers
    that have enough data for one (a low-confidence score shows as "new", so it ranks
    nothing)."""
    via = "catalog_provider__provider__"
    return Max(
        f"{via}trust_score",
        filter=Q(
            **{
                f"{via}setup_reports__gte": scoring.MIN_SETUP_REPORTS,
                f"{via}ratings_count__gte": scoring.MIN_RATINGS,
            }
        ),
    )


class Offering(Curated):
    catalog_provider = models.ForeignKey(
        CatalogProvider, on_delete=models.CASCADE, related_name="offerings"
    )
    provider_model_id = models.CharField(
        "provider's model id", max_length=200, help_text="The id the provider's API takes."
    )
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="offerings")
    name = models.CharField(max_length=200, help_text="The provider's name for the model.")
    is_free_variant = models.BooleanField(default=False)
    context_limit = models.PositiveIntegerField(null=True, blank=True)
    input_limit = models.PositiveIntegerField(null=True, blank=True)
    output_limit = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=OfferingStatus.choices, default=OfferingStatus.ACTIVE
    )
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    current_price = models.ForeignKey(
        "Price", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Model-level ratings at this provider: changed only by registry.services, with F()
    # updates, from counted OfferingRating events (no imported baseline).
    ratings_count = models.PositiveIntegerField(default=0, editable=False)
    ratings_sum = models.PositiveBigIntegerField(default=0, editable=False)
    tool_calling_worked = models.PositiveIntegerField(default=0, editable=False)
    tool_calling_failed = models.PositiveIntegerField(default=0, editable=False)
    streaming_worked = models.PositiveIntegerField(default=0, editable=False)
    streaming_failed = models.PositiveIntegerField(default=0, editable=False)
    # registry.scoring.stars_lower_bound(), kept by the database: offerings rank by it.
    rating_lower_bound = models.GeneratedField(
        expression=scoring.stars_lower_bound_expression(),
        output_field=models.FloatField(),
        db_persist=True,
    )

    objects = OfferingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog_provider", "provider_model_id"], name="one_offering_per_listing"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OfferingStatus.values), name="offering_status_known"
            ),
            models.CheckConstraint(
                condition=Q(ratings_sum__gte=F("ratings_count"))
                & Q(ratings_sum__lte=F("ratings_count") * 5),
                name="offering_ratings_within_stars",
            ),
        ]
        indexes = [models.Index(fields=["model", "status"], name="offering_by_model")]

    def __str__(self):
        return f"{self.model} at {self.catalog_provider}"

    @property
    def star_rating(self):
        return self.ratings_sum / self.ratings_count if self.ratings_count else None

    def validate_constraints(self, exclude=None):
        # As Provider's: the generated column is no constraint's concern.
        return super().validate_constraints(exclude={*(exclude or ()), "rating_lower_bound"})

    @property
    def is_free(self):
        price = self.current_price
        return self.is_free_variant or (
            price is not None and price.input == 0 and price.output == 0
        )


class Price(models.Model):
    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="prices")
    input = price_field("input")
    output = price_field("output")
    cache_read = price_field("cache read")
    cache_write = price_field("cache write")
    reasoning = price_field("reasoning")
    valid_from = models.DateField("from", help_text="The day this price took effect.")
    source = models.CharField(max_length=300, help_text="Where this price was read.")
    observed_at = models.DateTimeField(help_text="When it was read.")
    by_maintainer = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-valid_from", "-observed_at", "-pk"]
        indexes = [models.Index(fields=["offering", "valid_from", "observed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(input__isnull=True) | Q(input__gte=0))
                    & (Q(output__isnull=True) | Q(output__gte=0))
                    & (Q(cache_read__isnull=True) | Q(cache_read__gte=0))
                    & (Q(cache_write__isnull=True) | Q(cache_write__gte=0))
                    & (Q(reasoning__isnull=True) | Q(reasoning__gte=0))
                ),
                name="prices_not_negative",
                violation_error_message="Prices cannot be negative.",
            )
        ]

    def __str__(self):
        return f"{self.offering} from {self.valid_from}"

    def values(self):
        return tuple(getattr(self, name) for name in PRICE_FIELDS)

    @property
    def sort_key(self):
        return (self.valid_from, self.observed_at, self.pk or 0)


def quantize(value):
    """A catalogue number as a price Decimal, rounded to PRICE_PLACES."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-PRICE_PLACES))


class OfferingRating(Event):
    """One visitor's rating of a model at one provider: stars, and whether tool calling
    and streaming worked (None: not tried). Counted (or held in a burst) like a provider
    rating, under the same limits, by registry.services.rate_model."""

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="ratings")
    stars = models.PositiveSmallIntegerField()
    tool_calling = models.BooleanField(null=True, blank=True)
    streaming = models.BooleanField(null=True, blank=True)

    QUOTA_KIND = "model"
    COUNTERS_ON = "offering"
    PUBLISHED = {"catalog_provider__provider__is_published": True}

    class Meta(Event.Meta):
        indexes = [models.Index(fields=["offering", "status"], name="offeringrating_by_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "voter_key", "day"],
                condition=~Q(voter_key=""),
                name="one_model_rating_per_voter_per_day",
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="model_rating_stars_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.stars}★ for {self.offering}"

    @staticmethod
    def increments(stars, tool_calling=None, streaming=None):
        counters = {"ratings_count": 1, "ratings_sum": stars}
        if tool_calling is not None:
            counters["tool_calling_worked" if tool_calling else "tool_calling_failed"] = 1
        if streaming is not None:
            counters["streaming_worked" if streaming else "streaming_failed"] = 1
        return counters

    def counter_increments(self):
        return self.increments(self.stars, self.tool_calling, self.streaming)

    @staticmethod
    def counter_aggregates():
        return {
            "ratings_count": Count("pk"),
            "ratings_sum": Sum("stars"),
            "tool_calling_worked": Count("pk", filter=Q(tool_calling=True)),
            "tool_calling_failed": Count("pk", filter=Q(tool_calling=False)),
            "streaming_worked": Count("pk", filter=Q(streaming=True)),
            "streaming_failed": Count("pk", filter=Q(streaming=False)),
        }
