"""Maintainers' view of the registry's own checks: links to review (broken or moved, with
"adopt the new URL"), alerts, check runs (offline ones flagged), the raw results, and the
providers whose curated facts are due for another look."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import F, Q
from django.utils.translation import ngettext

from registry.admin import MarksPagesStale, ReadOnlyAdmin
from registry.models import Provider, today

from .models import (
    LINK_FIELDS,
    Alert,
    CheckRun,
    HealthCheck,
    HealthState,
    ProviderToVerify,
    State,
)

FACTS_STALE_AFTER_DAYS = 90


def _offline_warning(modeladmin, request):
    latest = CheckRun.objects.order_by("-started_at").first()
    if latest is not None and latest.offline:
        modeladmin.message_user(
            request,
            f"The checker was offline at its last run ({latest.started_at:%d %b %H:%M} UTC): "
            f"{latest.summary}",
            messages.WARNING,
        )


@admin.register(HealthState)
class HealthStateAdmin(MarksPagesStale, admin.ModelAdmin):
    """Every checked link and API; a broken or moved link is "to review" once per breakage."""

    list_display = (
        "provider",
        "target",
        "state",
        "failures",
        "last_outcome",
        "last_checked_at",
        "moved_to",
        "needs_review",
    )
    list_filter = ("needs_review", "state", "target")
    list_select_related = ("provider",)
    search_fields = ("provider__provider_name", "url", "moved_to")
    actions = ("adopt_new_url", "mark_reviewed")
    readonly_fields = [field.name for field in HealthState._meta.fields if field.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        _offline_warning(self, request)
        pending = HealthState.objects.to_review().count()
        extra_context = {**(extra_context or {}), "title": f"Link checks: {pending} to review"}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Last result")
    def last_outcome(self, state):
        return state.last_outcome or "-"

    @admin.action(description="Adopt the new URL of selected moved links")
    def adopt_new_url(self, request, queryset):
        adopted = 0
        for state in (
            queryset.filter(state=State.MOVED).exclude(moved_to="").select_related("provider")
        ):
            field = LINK_FIELDS.get(state.target)
            if field is None or not state.moved_to.startswith("https://"):
                continue  # curated links are https only
            # One UPDATE of the one curated field: a full save would write back counters
            # read before it. (The action's pages are marked stale by MarksPagesStale.)
            Provider.objects.filter(pk=state.provider_id).update(**{field: state.moved_to})
            state.url, state.state, state.moved_to = state.moved_to, State.OK, ""
            state.needs_review, state.review_opened_at = False, None
            state.save(
                update_fields=["url", "state", "moved_to", "needs_review", "review_opened_at"]
            )
            adopted += 1
        skipped = queryset.count() - adopted
        self.message_user(
            request,
            ngettext("%(n)d new URL adopted.", "%(n)d new URLs adopted.", adopted) % {"n": adopted}
            + (f" {skipped} skipped (not moved, or not https)." if skipped else ""),
            messages.SUCCESS if adopted else messages.WARNING,
        )

    @admin.action(description="Mark selected as reviewed")
    def mark_reviewed(self, request, queryset):
        count = queryset.update(needs_review=False)
        self.message_user(request, f"{count} marked as reviewed.", messages.SUCCESS)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("title", "provider", "rule", "since", "opened_at", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "rule")
    list_select_related = ("provider",)
    search_fields = ("title", "detail", "provider__provider_name")
    date_hierarchy = "opened_at"

    def changelist_view(self, request, extra_context=None):
        count = Alert.objects.open().count()
        extra_context = {**(extra_context or {}), "title": f"Alerts: {count} open"}
        return super().changelist_view(request, extra_context)


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "kind",
        "offline",
        "targets",
        "hosts",
        "failures",
        "peak_concurrency",
        "summary",
    )
    list_filter = ("kind", "offline")

    def changelist_view(self, request, extra_context=None):
        _offline_warning(self, request)
        return super().changelist_view(request, extra_context)


@admin.register(HealthCheck)
class HealthCheckAdmin(ReadOnlyAdmin):
    list_display = (
        "checked_at",
        "provider",
        "target",
        "url",
        "method",
        "status",
        "error_kind",
        "latency_ms",
        "ok",
    )
    list_filter = ("ok", "target", "error_kind")
    list_select_related = ("provider",)
    search_fields = ("url", "final_url", "provider__provider_name")
    date_hierarchy = "checked_at"
    show_full_result_count = False  # no COUNT(*) over a large table on every page


class StaleFactsFilter(admin.SimpleListFilter):
    title = "facts verified"
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("stale", f"over {FACTS_STALE_AFTER_DAYS} days ago or never"), ("all", "All")]

    def choices(self, changelist):
        # "stale" is the default, so the list opens on the providers to verify.
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "stale") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if (self.value() or "stale") == "stale":
            cutoff = today() - timedelta(days=FACTS_STALE_AFTER_DAYS)
            return queryset.filter(Q(last_verified__isnull=True) | Q(last_verified__lt=cutoff))
        return queryset


@admin.register(ProviderToVerify)
class ProviderToVerifyAdmin(MarksPagesStale, admin.ModelAdmin):
    """Providers whose curated facts were last verified over 90 days ago, oldest first
    (never verified at the top); one action marks them verified today."""

    list_display = ("provider_name", "last_verified", "is_published", "updated_at")
    list_filter = (StaleFactsFilter, "is_published")
    search_fields = ("provider_name", "provider_id")
    actions = ("mark_verified_today",)
    list_display_links = None

    def get_queryset(self, request):
        return super().get_queryset(request).order_by(F("last_verified").asc(nulls_first=True))

    def has_add_permission(self, request):
        return False

    # A proxy of Provider: whoever may change providers may verify them.
    def has_view_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("registry.change_provider")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark selected as verified today")
    def mark_verified_today(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        # Only the date, never a full save. (MarksPagesStale marks the pages stale.)
        count = Provider.objects.filter(pk__in=pks).update(last_verified=today())
        self.message_user(
            request,
            ngettext(
                "%(n)d provider marked verified today.",
                "%(n)d providers marked verified today.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )
