from django.urls import path

from .feeds import AlertFeed

app_name = "verification"

urlpatterns = [
    path("alerts.atom", AlertFeed(), name="alerts-feed"),
]
