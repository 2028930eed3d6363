"""The seven-step setup wizard (being built; see issue #3)."""

from django.http import Http404


def start(request):
    raise Http404("The setup wizard is not ready yet.")


def step(request, step):
    raise Http404("The setup wizard is not ready yet.")
