from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """Liveness probe and the performance floor: no database, no templates."""
    return HttpResponse("ok", content_type="text/plain")


admin.site.site_header = "BYOK Provider Registry: maintainers"
admin.site.site_title = "BYOK registry admin"
admin.site.index_title = "Curate providers and moderate the community"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("models/", include("catalog.urls")),
    path("", include("verification.urls")),
    path("", include("onboarding.urls")),
]
