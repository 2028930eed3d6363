"""Maintainers curate models, offerings and prices here.

Whatever a maintainer changes in a form is recorded in the row's `curated_fields`, and
the sync never writes those fields again ("Let the catalogue update these again" undoes
that). Prices are never edited: a maintainer adds a new dated row, which becomes current
when it is the newest. Every save bumps the page-cache version, so pages show it at once.
"""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext

from registry.admin import EventAdmin, MarksPagesStale

from .models import CatalogProvider, Model, ModelAlias, Offering, OfferingRating, Price


class CuratedAdmin(MarksPagesStale, admin.ModelAdmin):
    """Maintainers' edits are kept from the sync; every write marks pages stale (the mixin:
    the provider and model pages show these rows)."""

    actions = ("release_to_catalogue",)
    readonly_fields = ("curated_display",)

    def save_model(self, request, obj, form, change):
        edited = form.changed_data if change else list(form.fields)
        obj.curated_fields = sorted(set(obj.curated_fields) | set(edited))
        super().save_model(request, obj, form, change)

    @admin.display(description="Kept from the sync")
    def curated_display(self, obj):
        return ", ".join(obj.curated_fields) or "nothing: the catalogue updates every field"

    @admin.action(description="Let the catalogue update these again (forget maintainer edits)")
    def release_to_catalogue(self, request, queryset):
        count = queryset.update(curated_fields=[])
        self.message_user(
            request,
            ngettext(
                "%d row is updated by the next sync again.",
                "%d rows are updated by the next sync again.",
                count,
            )
            % count,
            messages.SUCCESS,
        )


@admin.register(CatalogProvider)
class CatalogProviderAdmin(CuratedAdmin):
    list_display = ("name", "catalog_id", "provider", "offering_count")
    list_select_related = ("provider",)
    search_fields = ("name", "catalog_id")
    autocomplete_fields = ("provider",)
    fields = ("catalog_id", "name", "provider", "doc_url", "api_url", "env", "curated_display")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offering_count=Count("offerings"))

    @admin.display(description="Offerings", ordering="offering_count")
    def offering_count(self, obj):
        return obj.offering_count


class ModelAliasInline(admin.TabularInline):
    model = ModelAlias
    extra = 1
    verbose_name = "grouping alias"
    verbose_name_plural = (
        "Grouping aliases: listings whose grouping key is one of these belong to this model"
    )


@admin.register(Model)
class ModelAdmin(CuratedAdmin):
    list_display = ("name", "model_id", "family", "offering_count", "tool_call", "reasoning")
    list_filter = ("tool_call", "reasoning", "open_weights", "structured_output")
    search_fields = ("name", "model_id", "family", "group_key")
    inlines = (ModelAliasInline,)
    readonly_fields = ("group_key", "curated_display")

    def get_readonly_fields(self, request, obj=None):
        # The model's URL: set once, so links to it keep working.
        return (*self.readonly_fields, "model_id") if obj else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offering_count=Count("offerings"))

    @admin.display(description="Offerings", ordering="offering_count")
    def offering_count(self, obj):
        return obj.offering_count


class PriceInline(admin.TabularInline):
    """Existing rows are history and read-only; a maintainer's correction is a new row."""

    model = Price
    extra = 0
    fields = (
        "valid_from",
        "input",
        "output",
        "cache_read",
        "cache_write",
        "reasoning",
        "source",
        "observed_at",
        "by_maintainer",
    )
    readonly_fields = ("observed_at", "by_maintainer")
    ordering = ("-valid_from", "-observed_at", "-pk")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["source"].initial = "maintainer"
        formset.form.base_fields["valid_from"].initial = timezone.localdate
        return formset


@admin.register(Offering)
class OfferingAdmin(CuratedAdmin):
    list_display = ("provider_model_id", "catalog_provider", "model", "status", "context_limit")
    list_filter = ("status", "is_free_variant", "catalog_provider")
    list_select_related = ("catalog_provider", "model")
    search_fields = ("provider_model_id", "name", "model__name", "model__model_id")
    autocomplete_fields = ("model",)
    raw_id_fields = ("catalog_provider",)
    ordering = ("catalog_provider__name", "provider_model_id")
    inlines = (PriceInline,)
    fields = (
        "catalog_provider",
        "provider_model_id",
        "model",
        "name",
        "status",
        "is_free_variant",
        "context_limit",
        "input_limit",
        "output_limit",
        "curated_display",
    )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Price:
            return super().save_formset(request, form, formset, change)
        for price in formset.save(commit=False):
            price.observed_at = timezone.now()
            price.by_maintainer = True
            price.save()
        Offering.objects.refresh_current_prices([form.instance.pk])
        return None


@admin.register(OfferingRating)
class OfferingRatingAdmin(EventAdmin):
    """Model ratings: held in bursts, released or discarded like provider ratings."""

    provider_path = "offering__catalog_provider__provider"
    list_select_related = ("offering__model", "offering__catalog_provider__provider")
    list_filter = ("status",)
    list_display = ("offering", "hour", "stars", "tool_calling", "streaming", "status")
