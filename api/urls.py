from django.urls import path

from .endpoints import api

urlpatterns = [path("v1/", api.urls)]
