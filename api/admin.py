"""API client tokens in the admin: issue (the token is shown once), quota, revoke.

The token appears in exactly one response: the page right after it is issued, sent with
Cache-Control: no-store. It is not put in a message (messages travel in a cookie or the
session), and only its SHA-256 is saved.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

from registry.admin import ReadOnlyAdmin
from registry.models import Rating, SetupReport, today
from registry.voters import TOKEN_VISITOR_PREFIX

from .models import ApiToken, RegistrySnapshot


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "shown_as", "daily_quota", "submitted_today", "created_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("name", "contact")
    fields = ("name", "contact", "daily_quota", "shown_as", "created_at", "revoked_at")
    readonly_fields = ("shown_as", "created_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(description="state")
    def state(self, token):
        return "active" if token.is_active else f"revoked {token.revoked_at:%Y-%m-%d}"

    @admin.display(description="ratings and setup reports today")
    def submitted_today(self, token):
        # Its events carry its id in their voter key (registry.voters.token_voter).
        prefix = f"{TOKEN_VISITOR_PREFIX}{token.pk}:"
        return sum(
            model.objects.filter(voter_key__startswith=prefix, day=today()).count()
            for model in (Rating, SetupReport)
        )

    def save_model(self, request, obj, form, change):
        if not change:
            request.issued_token = obj.issue()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/api/token_issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": obj,
                "value": request.issued_token,
                "title": "API client token issued",
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected tokens (requests with them get 401)")
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%d token revoked.", "%d tokens revoked.", revoked) % revoked,
            messages.SUCCESS,
        )


@admin.register(RegistrySnapshot)
class RegistrySnapshotAdmin(ReadOnlyAdmin):
    """Read only: a snapshot never changes once taken."""

    list_display = ("day", "providers", "size", "sha256", "taken_at")
    fields = ("day", "providers", "size", "sha256", "taken_at")
    readonly_fields = fields
