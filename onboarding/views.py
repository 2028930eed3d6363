from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from registry.models import Provider


@require_GET
def browse(request):
    providers = Provider.objects.published().with_trust_score().order_by("-trust_score")
    return TemplateResponse(request, "onboarding/browse.html", {"providers": providers})
