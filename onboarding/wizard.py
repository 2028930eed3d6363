"""The seven-step setup wizard at /setup/: the seed's "Guided Onboarding".

1 filter providers · 2 community statistics · 3 compare and choose · 4 tips and known
issues · 5 sign-up links · 6 check the API key · 7 rate the experience.

All wizard state lives in the query string (filters, the chosen provider `p`, the signed
start time `t`, the measured minutes `m`), so every step has its own URL and refresh,
Back and bookmarks work. The API key is the exception: it only ever travels in the body
of the step 6 POST, is checked in that request and is then dropped.

With htmx, each step swaps the `#wizard` section ("wizard.html#step") and pushes its URL;
without JavaScript the same links and forms load whole pages.
"""

import logging
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from registry.models import MAX_SETUP_MINUTES, Moderation, Provider, cache_version
from registry.secrets import mask_key
from registry.services import (
    InvalidSubmissionError,
    SubmissionLimitError,
    add_feedback,
    record_user_signup,
)
from registry.voters import voter_key_for

from .page_cache import cached_page
from .wizard_forms import ApiKeyForm, ProviderFilterForm, RateExperienceForm

logger = logging.getLogger(__name__)

TEMPLATE = "onboarding/wizard/wizard.html"

STEPS = (
    (1, "Filter", "Filter providers"),
    (2, "Statistics", "Community statistics"),
    (3, "Compare", "Compare and choose"),
    (4, "Tips", "Tips and known issues"),
    (5, "Sign up", "Sign up and create a key"),
    (6, "API key", "Check your API key"),
    (7, "Rate", "Rate your experience"),
)
LAST_STEP = len(STEPS)
FIRST_PROVIDER_STEP = 4  # steps from here on need a chosen provider
COMPARE_MAX = 4
# Below this length the first six characters would give away most of the key.
SHORTEST_MASKED_KEY = 12

START_SALT = "onboarding.wizard.start"
DONE_SALT = "onboarding.wizard.done"
DONE_MAX_AGE = 24 * 60 * 60

# The field names the services raise InvalidSubmissionError for, mapped to form fields.
SERVICE_FIELDS = {
    "success": "success",
    "setup_time_minutes": "minutes",
    "felt_difficulty": "felt_difficulty",
    "rating": "stars",
    "comment": "comment",
}


# --- state carried in the URL ----------------------------------------------------------


START_SLOT = "wizard-start-slot-5b0d2e"


def start_signer():
    # "." rather than the default ":" between time and signature: every character of the
    # token is then URL-safe, so it reads the same in a link, a hidden input and a header,
    # and a cached step 1 can hold START_SLOT in its place. Made per call, not at import,
    # so it signs with the SECRET_KEY in force.
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


def clamp_minutes(minutes):
    return max(1, min(MAX_SETUP_MINUTES, minutes))


def minutes_since(start):
    return clamp_minutes(math.ceil((time.time() - start) / 60))


def parse_minutes(value):
    try:
        return clamp_minutes(int(value))
    except (TypeError, ValueError, OverflowError):
        return None


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
        filters = ProviderFilterForm(query)
        filters.is_valid()
        token = query.get("t", "")
        started = read_start(token)
        return cls(
            filters=filters,
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


def is_fragment(request):
    # A history restore wants the whole page back, even though htmx sent it.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_step(request, state, step, context, *, status=200, url=None):
    """The whole page, or for htmx the "step" partial, pushing the step's canonical URL."""
    step_title = context.pop("step_title", STEPS[step - 1][2])
    context = {
        "step": step,
        "step_title": step_title,
        "page_title": f"{step_title} · Step {step} of {LAST_STEP} · Setup wizard",
        "step_template": f"onboarding/wizard/step_{step}.html",
        "steps": progress(state, step),
        "state": state,
        "last_step": LAST_STEP,
        "back_url": state.url(step - 1) if step > 1 else None,
        "next_url": state.url(step + 1) if step < LAST_STEP else None,
        "fragment": is_fragment(request),
        **context,
    }
    template = f"{TEMPLATE}#step" if context["fragment"] else TEMPLATE
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-History-Restore-Request"))
    if context["fragment"] and url:
        push_url(response, url)
    return response


def progress(state, current):
    reachable = LAST_STEP if state.provider_id else FIRST_PROVIDER_STEP - 1
    return [
        {
            "number": number,
            "label": short,
            "title": title,
            "current": number == current,
            "done": number < current,
            "url": state.url(number) if number <= reachable and number != current else None,
        }
        for number, short, title in STEPS
    ]


def go_to_step(request, state, step, message, level=messages.INFO):
    """Send the visitor to another step with a message (a redirect without JavaScript)."""
    if is_fragment(request):
        return STEP_VIEWS[step](request, state, notice=message)
    messages.add_message(request, level, message)
    return redirect(state.url(step))


# --- the providers the filters match ---------------------------------------------------


def matching_providers(filters):
    """The matches, with what the shared provider card and compare table show prefetched,
    so steps 2 and 3 cost a fixed number of queries however many providers match."""
    providers = filters.apply(Provider.objects.published())
    return list(
        providers.with_recent_issue_count()
        .order_by("-trust_score", "provider_name")
        .with_card_data()
        .prefetch_related("recommended_for")
    )


def count_matches(filters):
    """How many published providers the valid filters match."""
    return filters.apply(Provider.objects.published()).count()


def relax_advice(filters):
    """For an empty result: which single filter to relax, and how many that would show."""
    return [
        {"description": description, "count": count_matches(filters.without(name))}
        for name, description in filters.relaxations()
    ]


def chosen_provider(state):
    if not state.provider_id:
        return None
    return Provider.objects.published().filter(provider_id=state.provider_id).first()


# --- views -----------------------------------------------------------------------------


@require_GET
def start(request):
    """/setup/ is step 1, kept under its own URL so every step has one."""
    query = request.GET.urlencode()
    target = reverse("onboarding:setup-step", args=[1])
    return HttpResponseRedirect(f"{target}?{query}" if query else target)


@sensitive_post_parameters("api_key")
@never_cache
@require_http_methods(["GET", "POST"])
def step(request, step):
    """One step of the wizard. Steps 6 (the key check) and 7 (the rating) accept POST."""
    if step not in STEP_VIEWS:
        raise Http404(f"The setup wizard has steps 1 to {LAST_STEP}.")
    if request.method == "POST" and step not in POST_STEPS:
        return HttpResponseNotAllowed(["GET"])
    state = WizardState.from_query(request.GET)
    if step > 1 and not state.filters.is_valid():
        message = "Some filters in that link were not valid: check them below."
        if is_fragment(request):
            return filter_step(request, state, notice=message)
        messages.warning(request, message)
        return redirect(raw_step_url(request, 1))
    return STEP_VIEWS[step](request, state)


def raw_step_url(request, step):
    """The step's URL with the query string exactly as it came, errors and all."""
    base = reverse("onboarding:setup-step", args=[step])
    query = request.GET.urlencode()
    return f"{base}?{query}" if query else base


def filter_step(request, state, notice=""):
    if state.started is None:
        # The clock for the setup time starts here, at step 1.
        state.start_token = sign_start(time.time())
        state.started = read_start(state.start_token)
    if notice or not state.filters.is_valid():
        return render_filter_step(request, state, notice)
    # With valid filters and no notice the step is the same for everyone with this query,
    # but for the start time: cached whole with START_SLOT standing in for it.
    start_token, state.start_token = state.start_token, START_SLOT
    query = request.GET.copy()
    query.pop("t", None)
    return cached_page(
        request,
        cache_version(),
        lambda: render_filter_step(request, state, notice),
        slots={START_SLOT: lambda: start_token},
        path=f"{request.path}?{query.urlencode()}",
    )


def render_filter_step(request, state, notice):
    filters = state.filters
    return render_step(
        request,
        state,
        1,
        {
            "filter_form": filters,
            "match_count": count_matches(filters) if filters.is_valid() else None,
            "notice": notice,
            "hidden_state": state.hidden(without=ProviderFilterForm.FIELDS),
        },
        url=state.url(1) if filters.is_valid() else raw_step_url(request, 1),
    )


def statistics_step(request, state, notice=""):
    providers = matching_providers(state.filters)
    return render_step(
        request,
        state,
        2,
        {
            "providers": providers,
            "totals": totals(providers),
            "relax": relax_advice(state.filters) if not providers else [],
            "notice": notice,
        },
        url=state.url(2),
    )


def totals(providers):
    if not providers:
        return None
    reports = sum(p.setup_reports for p in providers)
    successes = sum(p.setup_successes for p in providers)
    return {
        "count": len(providers),
        "active_users": sum(p.active_users for p in providers),
        "total_users": sum(p.total_users for p in providers),
        "success_rate": successes / reports * 100 if reports else None,
        "confident": sum(1 for p in providers if p.is_confident),
    }


def compare_step(request, state, notice=""):
    providers = matching_providers(state.filters)
    compared = providers[:COMPARE_MAX]
    chosen = state.provider_id
    if chosen and chosen not in {p.provider_id for p in providers}:
        chosen = ""
    return render_step(
        request,
        state,
        3,
        {
            "providers": providers,
            "compared": compared,
            "chosen": chosen or (providers[0].provider_id if len(providers) == 1 else ""),
            "relax": relax_advice(state.filters) if not providers else [],
            "notice": notice,
            "hidden_state": state.hidden(without=("p",)),
        },
        url=state.url(3),
    )


def with_provider(step_function):
    """Steps 4 to 7 need a chosen provider; without one, back to step 3 to choose."""

    def wrapper(request, state, notice=""):
        provider = chosen_provider(state)
        if provider is None:
            message = (
                "Choose a provider to continue."
                if not state.provider_id
                else "The provider in that link is not in the registry. Choose one below."
            )
            state.provider_id = ""
            return go_to_step(request, state, 3, message)
        return step_function(request, state, provider, notice=notice)

    wrapper.__name__ = step_function.__name__
    wrapper.__doc__ = step_function.__doc__
    return wrapper


@with_provider
def tips_step(request, state, provider, notice=""):
    return render_step(
        request,
        state,
        4,
        {
            "provider": provider,
            "setup_steps": list(provider.setup_steps.all()),
            "pro_tips": list(provider.pro_tips.filter(status=Moderation.APPROVED)),
            "common_issues": list(provider.common_issues.all()),
            "caution_flags": list(provider.caution_flags.all()),
            "step_title": f"Before you sign up with {provider.provider_name}",
            "notice": notice,
        },
        url=state.url(4),
    )


@with_provider
def signup_step(request, state, provider, notice=""):
    return render_step(
        request,
        state,
        5,
        {
            "provider": provider,
            "step_title": f"Sign up with {provider.provider_name} and create a key",
            "notice": notice,
        },
        url=state.url(5),
    )


@dataclass(frozen=True)
class KeyVerdict:
    kind: str  # "match", "mismatch" or "unknown"
    masked: str
    message: str


@sensitive_variables("api_key")
def check_key(provider, api_key):
    """Compare a key with the provider's curated pattern. Returns only the masked form."""
    masked = mask_key(api_key) if len(api_key) >= SHORTEST_MASKED_KEY else "(too short to show)"
    name = provider.provider_name
    try:
        pattern = re.compile(provider.key_pattern) if provider.key_pattern else None
    except re.error:
        logger.warning("Provider %s has an invalid key_pattern", provider.provider_id)
        pattern = None
    if pattern is None:
        return KeyVerdict(
            "unknown",
            masked,
            f"We have no key format on file for {name}, so we cannot check this one. "
            "Make sure you copied the whole key.",
        )
    if pattern.fullmatch(api_key):
        return KeyVerdict("match", masked, f"It matches the format of {name} keys.")
    prefix = expected_prefix(provider.key_pattern)
    hint = f"{name} keys start with {prefix}." if prefix else "Check that you copied all of it."
    return KeyVerdict(
        "mismatch", masked, f"This does not match the format we expect for {name}: {hint}"
    )


_LITERAL = re.compile(r"[A-Za-z0-9_\-]+")


def expected_prefix(pattern):
    """The literal start of a key pattern, e.g. "sk-or-" for ^sk-or-(v1-)?..., or
    "ghp_ or github_pat_" for ^(ghp_|github_pat_)...; empty when it starts with a class."""
    body = pattern.removeprefix("^")
    group = re.match(r"\(\??:?([A-Za-z0-9_\-|]+)\)", body)
    if group:
        options = group.group(1).split("|")
        if all(options):
            return " or ".join(options)
        return ""
    literal = _LITERAL.match(body)
    if not literal:
        return ""
    text = literal.group(0)
    # A quantifier after the last character makes it optional or repeated: leave it out.
    after = body[len(text) : len(text) + 1]
    if after in {"?", "*", "{", "+"}:
        text = text[:-1]
    return text


@sensitive_variables("api_key")
def pass_key_to_host(request, provider, api_key):
    """Give the key to the host project, the web equivalent of the seed's wizard returning it.

    A Django project that embeds the registry can receive the key a visitor types in step 6
    by naming a callable in its settings::

        BYOK_API_KEY_RECEIVER = "myproject.keys.receive_api_key"

        def receive_api_key(request, provider, api_key):
            ...  # e.g. store it in the host's own secret store for request.user

    It is called with the request, the chosen Provider and the key (stripped of surrounding
    whitespace), after the format check and whatever its verdict. Its return value is
    ignored. The registry itself never keeps the key: None (the default) means the key is
    checked and discarded. Returns True when a receiver took the key.
    """
    path = getattr(settings, "BYOK_API_KEY_RECEIVER", None)
    if not path:
        return False
    receiver = import_string(path)
    try:
        receiver(request, provider, api_key)
    except Exception as error:
        # Never log the exception text: it could repeat the key.
        logger.error("BYOK_API_KEY_RECEIVER %s raised %s", path, type(error).__name__)
        raise KeyReceiverError() from None
    return True


class KeyReceiverError(Exception):
    pass


@with_provider
@sensitive_variables("api_key", "form")
def key_step(request, state, provider, notice=""):
    verdict = None
    handed_over = False
    receiver_failed = False
    form = ApiKeyForm()
    # The clock stops here, at step 6 (a fresh reading, not an `m` left from an earlier walk).
    measured_at_step_6 = (
        minutes_since(state.started) if state.started is not None else state.minutes
    )
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            api_key = form.cleaned_data["api_key"]
            verdict = check_key(provider, api_key)
            try:
                handed_over = pass_key_to_host(request, provider, api_key)
            except KeyReceiverError:
                receiver_failed = True
            del api_key
            form = ApiKeyForm()  # a fresh, empty form: nothing of the key is re-rendered
    next_state = WizardState(
        filters=state.filters,
        provider_id=state.provider_id,
        start_token=state.start_token,
        started=state.started,
        minutes=measured_at_step_6,
    )
    env_var = provider.key_env_var or f"{provider.provider_id.upper().replace('-', '_')}_API_KEY"
    return render_step(
        request,
        state,
        6,
        {
            "provider": provider,
            "key_form": form,
            "verdict": verdict,
            "handed_over": handed_over,
            "receiver_failed": receiver_failed,
            "receiver_configured": bool(getattr(settings, "BYOK_API_KEY_RECEIVER", None)),
            "env_var": env_var,
            "next_url": next_state.url(7),
            "post_url": state.url(6),
            "notice": notice,
        },
        url=state.url(6) if request.method == "GET" else None,
    )


@with_provider
def rate_step(request, state, provider, notice=""):
    done = read_done(request.GET.get("done", ""), provider)
    if done is not None and request.method == "GET":
        return thanks(request, state, provider, done)
    status = 200
    limit_message = ""
    if request.method == "POST":
        form = RateExperienceForm(request.POST)
        valid = form.is_valid()
        if not form.wants_to_share:
            return finish(request, state, provider, {"shared": False})
        if valid:
            before = figures(provider)
            try:
                record_experience(request, provider, form.cleaned_data)
            except SubmissionLimitError as error:
                limit_message = error.message
                status = 429
            except InvalidSubmissionError as error:
                form.add_error(SERVICE_FIELDS.get(error.field), error.message)
            else:
                done = {
                    "shared": True,
                    "commented": bool(form.cleaned_data["comment"]),
                    "before": before,
                }
                return finish(request, state, provider, done)
    else:
        form = RateExperienceForm(initial={"minutes": state.setup_minutes()})
    return render_step(
        request,
        state,
        7,
        {
            "provider": provider,
            "rate_form": form,
            "limit_message": limit_message,
            "post_url": state.url(7),
            "notice": notice,
        },
        status=status,
        url=state.url(7) if request.method == "GET" else None,
    )


def record_experience(request, provider, answers):
    """The setup report and the rating count together or not at all."""
    voter_key = voter_key_for(request)
    with transaction.atomic():
        record_user_signup(
            provider.provider_id,
            answers["success"] == "yes",
            answers["minutes"],
            felt_difficulty=answers["felt_difficulty"],
            voter_key=voter_key,
        )
        add_feedback(
            provider.provider_id,
            answers["stars"],
            answers["comment"] or None,
            voter_key=voter_key,
        )


def figures(provider):
    return [provider.get_trust_score(), round(provider.star_rating, 1), provider.success_rate]


def finish(request, state, provider, done):
    """After step 7: the thank-you page, at a URL that can be refreshed without re-posting."""
    token = signing.dumps({"p": provider.provider_id, **done}, salt=DONE_SALT, compress=True)
    url = WizardState(filters=state.filters, provider_id=provider.provider_id).url(7, done=token)
    if not is_fragment(request):
        return HttpResponseRedirect(url, status=303)
    fresh = chosen_provider(state)
    return thanks(request, state, fresh, done, url=url)


def read_done(token, provider):
    if not token:
        return None
    try:
        done = signing.loads(token, salt=DONE_SALT, max_age=DONE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(done, dict) or done.get("p") != provider.provider_id:
        return None
    return done


def thanks(request, state, provider, done, url=None):
    before = done.get("before") if done.get("shared") else None
    return render_step(
        request,
        state,
        7,
        {
            "provider": provider,
            "done": done,
            "before": before if isinstance(before, list) and len(before) == 3 else None,
            "after": figures(provider),
            "step_title": "Thank you!" if done.get("shared") else "You're all set",
            "step_template": "onboarding/wizard/thanks.html",
        },
        url=url,
    )


STEP_VIEWS = {
    1: filter_step,
    2: statistics_step,
    3: compare_step,
    4: tips_step,
    5: signup_step,
    6: key_step,
    7: rate_step,
}
POST_STEPS = {6, 7}
