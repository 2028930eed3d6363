from django.contrib import admin, messages
from django.db.models import Count, F, Q
from django.db.models.functions import TruncHour
from django.utils.translation import ngettext

from . import services
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
from .versioning import bump_registry_version


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that jobs write or that never change once written (checks, alerts, dated
    snapshots): visible to maintainers, never added, edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MarksPagesStale:
    """For every ModelAdmin whose objects show on public pages: each admin write path (add,
    change, inlines and many-to-many, delete, bulk delete, bulk actions, list edits) marks
    the cached pages stale. The change form saves the object (save_model), then its inlines
    and many-to-many (save_related), in one transaction, so the bump in save_model covers
    them all; a delete goes through delete_model, and bulk actions (bulk delete among them)
    return through response_action. tests/onboarding/test_admin_writes_show_at_once.py
    tries every path."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        bump_registry_version()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bump_registry_version()

    def response_action(self, request, queryset):
        response = super().response_action(request, queryset)
        bump_registry_version()
        return response


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


@admin.register(Provider)
class ProviderAdmin(MarksPagesStale, admin.ModelAdmin):
    list_display = (
        "provider_name",
        "trust_score_display",
        "lower_bound_display",
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

    def save_model(self, request, obj, form, change):
        # An edit writes only the curated fields: a full save would write back the counters
        # as they were when the form was loaded, losing what was counted meanwhile.
        obj.save(update_fields=Provider.curated_fields() if change else None)
        bump_registry_version()

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

    @admin.display(description="Lower bound", ordering="trust_lower_bound")
    def lower_bound_display(self, provider):
        return f"{provider.trust_low.total:.1f}" if provider.has_data else "no data"

    @admin.display(description="Counters")
    def community_counters(self, provider):
        split = provider.counter_split()
        return (
            f"{provider.active_users} active / {provider.total_users} total users; "
            f"{provider.setup_successes} of {provider.setup_reports} setups succeeded; "
            f"{provider.ratings_count} ratings averaging {provider.star_rating:.2f}; "
            f"{provider.positive_reviews} positive, {provider.negative_reviews} negative. "
            f"Of these, imported or seeded: {split['setup_reports'][0]} setup reports and "
            f"{split['ratings_count'][0]} ratings; from visitors since: "
            f"{split['setup_reports'][1]} setup reports and {split['ratings_count'][1]} ratings."
        )


@admin.register(Audience)
class AudienceAdmin(MarksPagesStale, admin.ModelAdmin):
    """An audience's name shows on its providers' pages and in the browse filters."""

    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class ModerationAdmin(MarksPagesStale, admin.ModelAdmin):
    """Bulk approve/reject, with the number pending shown by the status filter's facets."""

    list_filter = ("status",)
    show_facets = admin.ShowFacets.ALWAYS
    actions = ("approve", "reject")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    def _moderate(self, request, queryset, status, verb):
        count = queryset.update(status=status)
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

    def changelist_view(self, request, extra_context=None):
        pending = self.get_queryset(request).pending().count()
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
    # The website as text in the list too: Django's admin links a URLField by default.
    list_display = ("name", "website_as_text", "status", "created_at")
    search_fields = ("name", "reason")
    fields = ("name", "website_as_text", "reason", "status", "created_at")
    readonly_fields = ("website_as_text", "created_at")

    @admin.display(description="Website (as sent, not a link)")
    def website_as_text(self, suggestion):
        # A visitor's URL is never a live link, not even for maintainers: copy it to check it.
        return suggestion.website


class EventAdmin(MarksPagesStale, admin.ModelAdmin):
    """Community events are the audit trail: never edited by hand. Maintainers release or
    discard the ones held in a burst, and may delete what should never have counted; each
    goes through registry.services, so the counters stay baseline + counted events."""

    # Where the event's provider is: a rating's own, a model rating's offering's.
    provider_path = "provider"
    list_select_related = ("provider",)
    list_filter = ("status", "provider")
    show_facets = admin.ShowFacets.ALWAYS
    date_hierarchy = "created_at"
    actions = ("release", "discard", "delete_selected")
    change_list_template = "admin/registry/event_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_ordering(self, request):
        # Held events in groups: one provider's, newest hour first.
        return (f"{self.provider_path}__provider_name", "-created_at")

    @admin.display(description="Hour", ordering="created_at")
    def hour(self, event):
        return f"{event.created_at:%Y-%m-%d %H}:00"

    def changelist_view(self, request, extra_context=None):
        held = self.model.objects.held()
        name, pk = f"{self.provider_path}__provider_name", f"{self.provider_path}__pk"
        groups = (
            held.annotate(hour_of=TruncHour("created_at"), provider_name=F(name), provider_pk=F(pk))
            .values("provider_name", "provider_pk", "hour_of")
            .annotate(n=Count("pk"))
            .order_by("provider_name", "-hour_of")
        )
        extra_context = {
            **(extra_context or {}),
            "title": f"{self.model._meta.verbose_name_plural.capitalize()}: "
            f"{held.count()} held for review",
            "held_groups": list(groups[:50]),
            "provider_filter": f"{self.provider_path}__id__exact",
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description="Release selected held events (count them)")
    def release(self, request, queryset):
        released = services.release_held(self.model, list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{released} held event(s) released and counted.")

    @admin.action(description="Discard selected held events (never count them)")
    def discard(self, request, queryset):
        discarded = services.discard_held(self.model, list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{discarded} held event(s) discarded.")

    def delete_model(self, request, obj):
        services.delete_events(self.model, [obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_events(self.model, list(queryset.values_list("pk", flat=True)))


@admin.register(SetupReport)
class SetupReportAdmin(EventAdmin):
    list_display = ("provider", "hour", "success", "minutes", "felt_difficulty", "status")


@admin.register(Rating)
class RatingAdmin(EventAdmin):
    list_display = ("provider", "hour", "stars", "status")
