"""/alerts.atom: open alerts and those resolved in the last 30 days, newest change first."""

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Alert

FEED_ITEMS = 50


class AlertFeed(Feed):
    feed_type = Atom1Feed
    title = "BYOK Provider Registry: alerts"
    subtitle = (
        "Sudden changes the registry found in its own checks: setup success or trust "
        "score dropping, APIs down, broken links. Entries are updated when they resolve."
    )
    author_name = "BYOK Provider Registry"

    def link(self):
        return reverse("onboarding:browse")

    def items(self):
        return (
            Alert.objects.recent()
            .filter(provider__is_published=True)
            .select_related("provider")
            .annotate(changed=Greatest(F("updated_at"), F("opened_at")))
            .order_by("-changed", "-pk")[:FEED_ITEMS]
        )

    def item_title(self, alert):
        prefix = "" if alert.is_open else "Resolved: "
        return f"{prefix}{alert.provider.provider_name}: {alert.title}"

    def item_description(self, alert):
        state = "Open" if alert.is_open else f"Resolved {alert.resolved_at:%d %b %Y %H:%M} UTC"
        return f"{alert.detail} {state}; since {alert.since:%d %b %Y %H:%M} UTC."

    def item_link(self, alert):
        url = reverse("onboarding:provider-detail", args=[alert.provider.provider_id])
        return f"{url}#alerts"

    def item_guid(self, alert):
        return f"tag:byok-registry,{alert.opened_at:%Y-%m-%d}:alert-{alert.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, alert):
        return alert.opened_at

    def item_updateddate(self, alert):
        return alert.updated_at
