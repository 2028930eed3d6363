from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from registry.models import Provider


@require_GET
def browse(request):
    providers = Provider.objects.published().with_trust_score().order_by("-trust_score")
    return TemplateResponse(request, "onboarding/browse.html", {"providers": providers})


def _not_ready(request, *args, **kwargs):
    from django.http import Http404

    raise Http404("This page is being built (issue #3).")


stats = provider_detail = rate_provider = share_tip = report_issue = _not_ready
compare = suggest_provider = _not_ready
