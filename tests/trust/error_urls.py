"""A test-only URLconf: the site's URLs plus views that fail on purpose, to reach the
error pages through real requests (tests/trust/test_error_pages.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.shortcuts import render
from django.urls import include, path

DETAIL = "internal-detail-4f1c"  # must never reach a visitor


def fails(request):
    raise RuntimeError(f"boom: {DETAIL}")


def forbidden(request):
    raise PermissionDenied(DETAIL)


def suspicious(request):
    raise SuspiciousOperation(DETAIL)


def over_the_limit(request):
    return render(request, "429.html", status=429)


urlpatterns = [
    path("test-errors/500/", fails),
    path("test-errors/403/", forbidden),
    path("test-errors/400/", suspicious),
    path("test-errors/429/", over_the_limit),
    path("", include("byok_site.urls")),
]
