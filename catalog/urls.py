from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_list, name="model-list"),
    # Model ids keep the catalogue's dots ("llama-3.3-70b"), so not a slug.
    path("<str:model_id>/", views.model_detail, name="model-detail"),
    path("<str:model_id>/rate/", views.rate_model, name="rate-model"),
]
