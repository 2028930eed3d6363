"""The site's URLs and two that fail, for the 500 test."""

from django.urls import path

from byok_site.urls import urlpatterns as site


def boom(request):
    raise RuntimeError("boom-detail")


urlpatterns = [path("api/v1/boom", boom), path("boom", boom), *site]
