from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import ngettext

from .models import (
    Audience,
    CautionFlag,
    CommonIssue,
    IssueReport,
    Moderation,
    ProTip,
    Provider,
    ProviderSuggestion,
    Rating,
    Review,
    SetupReport,
    SetupStep,
)
from .scoring import Status


class SetupStepInline(admin.TabularInline):
    model = SetupStep
    extra = 1


class CautionFlagInline(admin.TabularInline):
    model = CautionFlag
    extra = 1


class CommonIssueInline(admin.TabularInline):
    model = CommonIssue
    extra = 1


class ProTipInline(admin.TabularInline):
    model = ProTip
    extra = 1
    fields = ("position", "text", "status", "from_community")
    readonly_fields = ("from_community",)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        # A tip a maintainer writes here is curated: public at once unless they say not.
        if db_field.name == "status":
            kwargs["initial"] = Moderation.APPROVED
        return super().formfield_for_choice_field(db_field, request, **kwargs)


PENDING = Q(status=Moderation.PENDING)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = (
        "provider_name",
        "trust_score_display",
        "status_display",
        "confidence_display",
        "has_free_tier",
        "difficulty",
        "pending_display",
        "is_published",
    )
    list_filter = ("is_published", "has_free_tier", "difficulty", "requires_approval", "status_pin")
    search_fields = ("provider_name", "provider_id", "description")
    prepopulated_fields = {"provider_id": ("provider_name",)}
    filter_horizontal = ("recommended_for",)
    inlines = (SetupStepInline, ProTipInline, CommonIssueInline, CautionFlagInline)
    readonly_fields = (
        "trust_score_display",
        "status_display",
        "confidence_display",
        "community_counters",
    )
    fieldsets = (
        (None, {"fields": ("provider_name", "provider_id", "description", "is_published")}),
        (
            "Links (https only)",
            {
                "fields": (
                    "website_url",
                    "signup_url",
                    "api_key_url",
                    "documentation_url",
                    "api_base_url",
                )
            },
        ),
        (
            "Setup",
            {
                "fields": (
                    "difficulty",
                    ("requires_approval", "approval_note"),
                    ("has_free_tier", "free_tier_note"),
                    ("key_env_var", "key_pattern"),
                    "recommended_for",
                    "last_verified",
                )
            },
        ),
        (
            "Status",
            {
                "description": "The trust score decides the status unless you pin one. "
                "A pin needs a public reason; with too little data only a caution pin shows.",
                "fields": (
                    ("trust_score_display", "status_display", "confidence_display"),
                    ("status_pin", "status_pin_reason"),
                ),
            },
        ),
        ("Community counters (read-only)", {"fields": ("community_counters",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_tips=Count(
                    "pro_tips", filter=Q(pro_tips__status=Moderation.PENDING), distinct=True
                ),
                pending_reviews=Count(
                    "reviews", filter=Q(reviews__status=Moderation.PENDING), distinct=True
                ),
                pending_reports=Count(
                    "issue_reports",
                    filter=Q(issue_reports__status=Moderation.PENDING),
                    distinct=True,
                ),
            )
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Inlines (steps, tips, cautions) and audiences show on the pages: render them afresh.
        Provider.objects.filter(pk=form.instance.pk).bump_version()

    @admin.display(description="Trust score", ordering="trust_score")
    def trust_score_display(self, provider):
        return f"{provider.get_trust_score():.1f}"

    @admin.display(description="Status")
    def status_display(self, provider):
        label = Status(provider.status).label
        return f"{label} (pinned)" if provider.is_pinned else label

    @admin.display(description="Confidence")
    def confidence_display(self, provider):
        return "enough data" if provider.is_confident else "low: not enough data yet"

    @admin.display(description="Pending")
    def pending_display(self, provider):
        return (
            getattr(provider, "pending_tips", 0)
            + getattr(provider, "pending_reviews", 0)
            + getattr(provider, "pending_reports", 0)
        )

    @admin.display(description="Counters")
    def community_counters(self, provider):
        return (
            f"{provider.active_users} active / {provider.total_users} total users; "
            f"{provider.setup_successes} of {provider.setup_reports} setups succeeded; "
            f"{provider.ratings_count} ratings averaging {provider.star_rating:.2f}; "
            f"{provider.positive_reviews} positive, {provider.negative_reviews} negative."
        )


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    # An audience's name shows on its providers' pages and in the browse filters.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        obj.providers.all().bump_version()

    def delete_model(self, request, obj):
        providers = list(obj.providers.values_list("pk", flat=True))
        super().delete_model(request, obj)
        Provider.objects.filter(pk__in=providers).bump_version()

    def delete_queryset(self, request, queryset):
        providers = list(
            Provider.objects.filter(recommended_for__in=queryset).values_list("pk", flat=True)
        )
        super().delete_queryset(request, queryset)
        Provider.objects.filter(pk__in=providers).bump_version()


def providers_of(submissions):
    """The providers whose pages show these submissions (reviews, tips, issue reports)."""
    if not hasattr(submissions.model, "provider"):
        return []
    return list(submissions.values_list("provider", flat=True))


def bump_versions(provider_pks):
    """After approving, rejecting, editing or deleting submissions: their providers' pages
    (reviews, tips, the recent-issues caution) are rendered afresh. Called after the
    write, with the providers looked up before it (a status filter may no longer match)."""
    Provider.objects.filter(pk__in=provider_pks).bump_version()


class ModerationAdmin(admin.ModelAdmin):
    """Bulk approve/reject, with the number pending shown by the status filter's facets."""

    list_filter = ("status",)
    show_facets = admin.ShowFacets.ALWAYS
    actions = ("approve", "reject")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    def _moderate(self, request, queryset, status, verb):
        providers = providers_of(queryset)
        count = queryset.update(status=status)
        bump_versions(providers)
        self.message_user(
            request,
            ngettext("%(n)d submission %(verb)s.", "%(n)d submissions %(verb)s.", count)
            % {"n": count, "verb": verb},
            messages.SUCCESS,
        )

    @admin.action(description="Approve selected (make public)")
    def approve(self, request, queryset):
        self._moderate(request, queryset, Moderation.APPROVED, "approved")

    @admin.action(description="Reject selected")
    def reject(self, request, queryset):
        self._moderate(request, queryset, Moderation.REJECTED, "rejected")

    def save_model(self, request, obj, form, change):
        before = providers_of(type(obj).objects.filter(pk=obj.pk))  # if moved to another
        super().save_model(request, obj, form, change)
        bump_versions([*before, *providers_of(type(obj).objects.filter(pk=obj.pk))])

    def delete_model(self, request, obj):
        providers = providers_of(type(obj).objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        bump_versions(providers)

    def delete_queryset(self, request, queryset):
        providers = providers_of(queryset)
        super().delete_queryset(request, queryset)
        bump_versions(providers)

    def changelist_view(self, request, extra_context=None):
        pending = self.get_queryset(request).filter(PENDING).count()
        extra_context = {
            **(extra_context or {}),
            "title": f"{self.model._meta.verbose_name_plural.capitalize()}: {pending} pending",
        }
        return super().changelist_view(request, extra_context)


@admin.register(Review)
class ReviewAdmin(ModerationAdmin):
    list_display = ("text", "provider", "rating", "status", "created_at")
    list_filter = ("status", "rating", "provider")
    list_select_related = ("provider",)
    search_fields = ("text",)
    fields = ("provider", "rating", "text", "status", "created_at")


@admin.register(ProTip)
class ProTipAdmin(ModerationAdmin):
    list_display = ("text", "provider", "from_community", "status", "created_at")
    list_filter = ("status", "from_community", "provider")
    list_select_related = ("provider",)
    search_fields = ("text",)
    fields = ("provider", "position", "text", "status", "created_at")


@admin.register(IssueReport)
class IssueReportAdmin(ModerationAdmin):
    list_display = ("details", "provider", "category", "broken_link", "status", "created_at")
    list_filter = ("status", "category", "provider")
    list_select_related = ("provider",)
    search_fields = ("details",)
    fields = ("provider", "category", "broken_link", "details", "status", "created_at")


@admin.register(ProviderSuggestion)
class ProviderSuggestionAdmin(ModerationAdmin):
    list_display = ("name", "website", "status", "created_at")
    search_fields = ("name", "reason")
    fields = ("name", "website_as_text", "reason", "status", "created_at")
    readonly_fields = ("website_as_text", "created_at")

    @admin.display(description="Website (as sent, not a link)")
    def website_as_text(self, suggestion):
        # A visitor's URL is never a live link, not even for maintainers: copy it to check it.
        return suggestion.website


class EventAdmin(admin.ModelAdmin):
    """Community events are the audit trail: visible, never edited by hand."""

    list_select_related = ("provider",)
    list_filter = ("provider",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SetupReport)
class SetupReportAdmin(EventAdmin):
    list_display = ("provider", "success", "minutes", "felt_difficulty", "created_at")


@admin.register(Rating)
class RatingAdmin(EventAdmin):
    list_display = ("provider", "stars", "created_at")
