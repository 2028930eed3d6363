"""The wizard's state, carried in the query string.

Filters, the chosen provider `p`, the signed start time `t` and the measured minutes `m`
are all in the URL, so every step has its own address and refresh, Back and bookmarks
work. The API key is the exception: it only ever travels in the body of the step-6 POST,
is checked in that request and is then dropped.
"""

import math
import time
from dataclasses import dataclass

from django.core import signing
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from registry.models import MAX_SETUP_MINUTES

from ..page_cache import Slot
from .forms import ProviderFilterForm

START_SALT = "onboarding.wizard.start"


def start_signer():
    # "." rather than the default ":" between time and signature: every character of the
    # token is then URL-safe, so it reads the same in a link, a hidden input and a header,
    # and a cached step 1 can hold START_TOKEN's placeholder in its place. Made per call,
    # not at import, so it signs with the SECRET_KEY in force.
    return signing.Signer(salt=START_SALT, sep=".")


def sign_start(epoch_seconds):
    return start_signer().sign(str(int(epoch_seconds)))


def read_start(token):
    """The start time from a `t` token, or None when it is missing, forged or absurd."""
    if not token:
        return None
    try:
        value = int(start_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return value if value <= time.time() + 60 else None


def start_token_for(request):
    """The visitor's start token: the one in the URL if valid, else a new one, now: the
    clock for the setup time starts at step 1."""
    token = request.GET.get("t", "")
    return token if read_start(token) is not None else sign_start(time.time())


# Wizard step 1 is cached whole, with this placeholder where the visitor's `t` goes.
START_TOKEN = Slot("wizard-start-slot-5b0d2e", start_token_for)


def clamp_minutes(minutes):
    return max(1, min(MAX_SETUP_MINUTES, minutes))


def minutes_since(start):
    return clamp_minutes(math.ceil((time.time() - start) / 60))


def parse_minutes(value):
    try:
        return clamp_minutes(int(value))
    except (TypeError, ValueError, OverflowError):
        return None


def _validated(form):
    form.is_valid()
    return form


@dataclass
class WizardState:
    """What the URL says about this visitor's walk through the wizard."""

    filters: ProviderFilterForm
    provider_id: str = ""
    start_token: str = ""
    started: int | None = None
    minutes: int | None = None

    @classmethod
    def from_query(cls, query):
        token = query.get("t", "")
        started = read_start(token)
        return cls(
            # Built and validated when first read: a cached step 1 never reads it, and
            # building the form was half the cost of serving one.
            filters=SimpleLazyObject(lambda: _validated(ProviderFilterForm(query))),
            provider_id=query.get("p", "")[:100],
            start_token=token if started is not None else "",
            started=started,
            minutes=parse_minutes(query.get("m")),
        )

    def params(self, **changes):
        params = dict(self.filters.query())
        if self.provider_id:
            params["p"] = self.provider_id
        if self.start_token:
            params["t"] = self.start_token
        if self.minutes is not None:
            params["m"] = str(self.minutes)
        for name, value in changes.items():
            if value in (None, ""):
                params.pop(name, None)
            else:
                params[name] = str(value)
        return params

    def url(self, step, **changes):
        query = QueryDict(mutable=True)
        query.update(self.params(**changes))
        base = reverse("onboarding:setup-step", args=[step])
        return f"{base}?{query.urlencode()}" if query else base

    def hidden(self, *, without=()):
        """The state as hidden inputs, for the GET forms that carry it to the next step."""
        return [(name, value) for name, value in self.params().items() if name not in without]

    def setup_minutes(self):
        """Step 7's pre-filled minutes: measured at step 6, else measured now."""
        if self.minutes is not None:
            return self.minutes
        if self.started is not None:
            return minutes_since(self.started)
        return None
