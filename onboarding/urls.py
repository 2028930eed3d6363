from django.urls import path, register_converter

from . import views
from .wizard import oauth
from .wizard import steps as wizard


class HexConverter:
    """The one-click key's state: lowercase hex, as onboarding.wizard.oauth makes it."""

    regex = "[0-9a-f]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(HexConverter, "hex")

app_name = "onboarding"

urlpatterns = [
    path("", views.browse, name="browse"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("stats/", views.stats, name="stats"),
    path("providers/<slug:provider_id>/", views.provider_detail, name="provider-detail"),
    path("providers/<slug:provider_id>/rate/", views.rate_provider, name="rate"),
    path("providers/<slug:provider_id>/tips/", views.share_tip, name="tip"),
    path("providers/<slug:provider_id>/issues/", views.report_issue, name="issue"),
    path("compare/", views.compare, name="compare"),
    path("suggest/", views.suggest_provider, name="suggest"),
    path("setup/", wizard.start, name="setup"),
    path("setup/<int:step>/", wizard.step, name="setup-step"),
    path("setup/matches/", wizard.match_count, name="setup-matches"),
    path("setup/create-key/", oauth.start, name="create-key"),
    path("setup/create-key/<hex:state>/", oauth.callback, name="create-key-callback"),
]
