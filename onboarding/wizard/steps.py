"""The seven step views of the setup wizard, and the one URL view that dispatches to them.

With htmx, each step swaps the `#wizard` section ("wizard.html#step") and pushes its URL;
without JavaScript the same links and forms load whole pages.
"""

import time

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from catalog.forms import ModelRatingForm
from catalog.models import Offering
from registry.models import EventStatus, ProTip, Provider
from registry.recommend import fitting_first
from registry.services import (
    InvalidSubmissionError,
    SubmissionLimitError,
    UnknownOfferingError,
    share_setup_result,
)
from registry.voters import voter_for

from ..compare import comparison_rows
from ..htmx import HTMX_HEADERS, is_fragment
from ..page_cache import cached_page
from . import oauth
from .forms import ApiKeyForm, ProviderFilterForm, RateExperienceForm
from .keys import expected_format, receiver_configured, take_key
from .render import LAST_STEP, go_to_step, render_step
from .state import START_TOKEN, WizardState, minutes_since, read_start, sign_start

COMPARE_MAX = 4
# Every query parameter the wizard reads: the filters, then WizardState's own, then step
# 3's choice of providers to compare (`c`).
WIZARD_PARAMS = (*ProviderFilterForm.FIELDS, "p", "t", "m", "done", "c")
DONE_SALT = "onboarding.wizard.done"
DONE_MAX_AGE = 24 * 60 * 60

# The field names the services raise InvalidSubmissionError for, mapped to form fields.
SERVICE_FIELDS = {
    "success": "success",
    "setup_time_minutes": "minutes",
    "felt_difficulty": "felt_difficulty",
    "rating": "stars",
    "comment": "comment",
    "free_tier": "free_tier",
}


# --- the providers the filters match ---------------------------------------------------


def matching_providers(filters):
    """The matches, with what the shared provider card and compare table show prefetched,
    so steps 2 and 3 cost a fixed number of queries however many providers match. When the
    visitor said what they need, the ones that fit come first, each with its reasons
    (`provider.fit`, registry.recommend.fitting_first)."""
    providers, fits = fitting_first(
        Provider.objects.published().matching(**filters.filters()).most_trusted(),
        filters.needs(),
    )
    providers = list(providers.with_card_data().prefetch_related("recommended_for"))
    for provider in providers:
        provider.fit = fits.get(provider.pk)
    return providers


def chosen_provider(state):
    if not state.provider_id:
        return None
    return Provider.objects.published().filter(provider_id=state.provider_id).first()


# --- the URL views ---------------------------------------------------------------------


@require_safe
def start(request):
    """/setup/ is step 1, kept under its own URL so every step has one."""
    return HttpResponseRedirect(raw_step_url(request, 1))


@sensitive_post_parameters("api_key")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def step(request, step):
    """One step of the wizard. Steps 6 (the key check) and 7 (the rating) accept POST."""
    if step not in STEP_VIEWS:
        raise Http404(f"The setup wizard has steps 1 to {LAST_STEP}.")
    if request.method == "POST" and step not in POST_STEPS:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    state = WizardState.from_query(request.GET)
    if step > 1 and not state.filters.is_valid():
        message = "Some filters in that link were not valid: check them below."
        if is_fragment(request):
            return filter_step(request, state, notice=message)
        messages.warning(request, message)
        return HttpResponseRedirect(raw_step_url(request, 1))
    return STEP_VIEWS[step](request, state)


def raw_step_url(request, step, **replace):
    """The step's URL with the wizard's own parameters as they came (errors and all), and
    `replace`d. Only those: a link can carry anything, a pasted key included, and a
    redirect or a pushed URL must not copy it."""
    query = QueryDict(mutable=True)
    for name in WIZARD_PARAMS:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    for name, value in replace.items():
        query[name] = value
    base = reverse("onboarding:setup-step", args=[step])
    encoded = query.urlencode()
    return f"{base}?{encoded}" if encoded else base


# --- step 1: filters -------------------------------------------------------------------


def filter_step(request, state, notice=""):
    """Step 1 rendered afresh, with a notice from another step."""
    if state.started is None:
        # The clock for the setup time starts here, at step 1.
        state.start_token = sign_start(time.time())
        state.started = read_start(state.start_token)
    url = state.url(1) if state.filters.is_valid() else raw_step_url(request, 1)
    return render_filter_step(request, state, notice, url=url)


@cached_page(START_TOKEN, ignore_params=("t",))
def cached_filter_step(request, state):
    """Step 1 as most visitors see it: the same for everyone with this query but for the
    start time, so it is cached whole. The state carries START_TOKEN's placeholder instead
    of the visitor's token (into every link, hidden input and the pushed URL), and the page
    cache puts the visitor's own token in per response."""
    state.start_token = START_TOKEN.placeholder
    url = (
        state.url(1) if state.filters.is_valid() else raw_step_url(request, 1, t=state.start_token)
    )
    return render_filter_step(request, state, "", url=url)


def count_matches(filters):
    if not filters.is_valid():
        return None
    return Provider.objects.published().matching(**filters.filters()).count()


@require_safe
def match_count(request):
    """Step 1's "N providers match these filters", recounted as the filters change (htmx).
    Without htmx this address is step 1 with the same filters."""
    state = WizardState.from_query(request.GET)
    if not is_fragment(request):
        return HttpResponseRedirect(raw_step_url(request, 1))
    response = TemplateResponse(
        request,
        "onboarding/wizard/step_1.html#match-count",
        {"match_count": count_matches(state.filters)},
    )
    patch_vary_headers(response, HTMX_HEADERS)
    return response


def render_filter_step(request, state, notice, *, url):
    filters = state.filters
    return render_step(
        request,
        state,
        1,
        {
            "filter_form": filters,
            "match_count": count_matches(filters),
            "notice": notice,
            "hidden_state": state.hidden(without=ProviderFilterForm.FIELDS),
        },
        url=url,
    )


# --- steps 2 and 3: statistics, compare and choose -------------------------------------


def statistics_step(request, state, notice=""):
    providers = matching_providers(state.filters)
    return render_step(
        request,
        state,
        2,
        {
            "providers": providers,
            "totals": totals(providers),
            "relax": state.filters.relax_advice() if not providers else [],
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


def compared_providers(request, providers):
    """Step 3's table: the providers the visitor picked (`c`, 2 to 4 of the matches), else
    the best COMPARE_MAX by the ranking. Returns (providers, notice)."""
    by_id = {provider.provider_id: provider for provider in providers}
    picked = [i for i in dict.fromkeys(request.GET.getlist("c")) if i in by_id]
    if not picked:
        return providers[:COMPARE_MAX], ""
    if len(picked) < 2:
        return providers[:COMPARE_MAX], "Pick at least 2 providers to compare side by side."
    notice = ""
    if len(picked) > COMPARE_MAX:
        notice = f"You can compare {COMPARE_MAX} at once: these are the first {COMPARE_MAX}."
    return [by_id[i] for i in picked[:COMPARE_MAX]], notice


def compare_step(request, state, notice=""):
    providers = matching_providers(state.filters)
    compared, pick_notice = compared_providers(request, providers)
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
            "compared_ids": {provider.provider_id for provider in compared},
            "picked": bool(request.GET.getlist("c")),
            "rows": comparison_rows(compared),
            "chosen": chosen or (providers[0].provider_id if len(providers) == 1 else ""),
            "relax": state.filters.relax_advice() if not providers else [],
            "notice": notice or pick_notice,
            "hidden_state": state.hidden(without=("p",)),
        },
        url=compare_url(state, compared if request.GET.getlist("c") else ()),
    )


def compare_url(state, compared):
    """Step 3's address, with the providers picked for the table (`c`), if any."""
    url = state.url(3)
    if not compared:
        return url
    picks = QueryDict(mutable=True)
    picks.setlist("c", [provider.provider_id for provider in compared])
    return f"{url}{'&' if '?' in url else '?'}{picks.urlencode()}"


# --- steps 4 to 7: the chosen provider ---------------------------------------------------


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
            return go_to_step(request, state, compare_step, 3, message)
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
            "pro_tips": list(ProTip.objects.approved().filter(provider=provider)),
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
            "one_click_url": one_click_url(state),
            "receiver_configured": receiver_configured(),
            "step_title": f"Sign up with {provider.provider_name} and create a key",
            "notice": notice,
        },
        url=state.url(5),
    )


@with_provider
@sensitive_variables("api_key", "form")
def key_step(request, state, provider, notice=""):
    outcome = None
    form = ApiKeyForm()
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            api_key = form.cleaned_data["api_key"]
            outcome = take_key(request, provider, api_key)
            del api_key
            form = ApiKeyForm()  # a fresh, empty form: nothing of the key is re-rendered
    return render_key_step(
        request,
        state,
        provider,
        outcome=outcome,
        form=form,
        notice=notice,
        url=state.url(6) if request.method == "GET" else None,
    )


def render_key_step(
    request,
    state,
    provider,
    *,
    outcome=None,
    form=None,
    notice="",
    problem="",
    status=200,
    url=None,
):
    """Step 6, after a key was typed (or created by the provider: onboarding.wizard.oauth)
    and checked (`outcome`), or with a `problem` of the one-click flow to explain."""
    # The clock stops here, at step 6 (a fresh reading, not an `m` left from an earlier walk).
    measured_at_step_6 = (
        minutes_since(state.started) if state.started is not None else state.minutes
    )
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
            "key_form": form or ApiKeyForm(),
            "verdict": outcome.verdict if outcome else None,
            "created": bool(outcome and outcome.created),
            "handed_over": bool(outcome and outcome.handed_over),
            "receiver_failed": bool(outcome and outcome.receiver_failed),
            "receiver_configured": receiver_configured(),
            "key_format": expected_format(provider),
            "problem": problem,
            "one_click_url": one_click_url(state) if problem else "",
            "env_var": env_var,
            "next_url": next_state.url(7),
            "post_url": state.url(6),
            "canonical_url": state.url(6),
            "notice": notice,
        },
        status=status,
        url=url,
    )


def one_click_url(state):
    """Where "Create a key for me" posts, for a provider with a one-click flow; else ""."""
    if not oauth.flow_for(state.provider_id):
        return ""
    query = QueryDict(mutable=True)
    query.update(state.params())
    return f"{reverse('onboarding:create-key')}?{query.urlencode()}"


@with_provider
def rate_step(request, state, provider, notice=""):
    done = read_done(request.GET.get("done", ""), provider)
    if done is not None and request.method == "GET":
        return thanks(request, state, provider, done)
    status = 200
    limit_message = ""
    model_form = model_rating_form(provider, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        form = RateExperienceForm(request.POST)
        valid = form.is_valid() & model_form.is_valid()
        if not form.wants_to_share:
            return finish(request, state, provider, {"shared": False})
        if valid:
            before = figures(provider)
            answers = form.cleaned_data
            try:
                outcome = share_setup_result(
                    provider.provider_id,
                    success=answers["success"] == "yes",
                    setup_time_minutes=answers["minutes"],
                    felt_difficulty=answers["felt_difficulty"],
                    rating=answers["stars"],
                    comment=answers["comment"] or None,
                    free_tier=answers["free_tier"],
                    model_rating=model_form.rating(),
                    voter=voter_for(request),
                )
            except SubmissionLimitError as error:
                limit_message = error.message
                status = 429
            except UnknownOfferingError:
                model_form.add_error("offering", "Choose a model from the list.")
            except InvalidSubmissionError as error:
                form.add_error(SERVICE_FIELDS.get(error.field), error.message)
            else:
                done = {
                    "shared": True,
                    "held": outcome == EventStatus.HELD,
                    "commented": bool(answers["comment"]),
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
            "model_form": model_form,
            "limit_message": limit_message,
            "post_url": state.url(7),
            "notice": notice,
        },
        status=status,
        url=state.url(7) if request.method == "GET" else None,
    )


def model_rating_form(provider, data=None):
    """Step 7's optional rating of one of the provider's models (the catalog app's form)."""
    offerings = Offering.objects.filter(catalog_provider__provider=provider).rating_choices()
    return ModelRatingForm(data, prefix="model", offerings=offerings, optional=True)


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
    1: cached_filter_step,
    2: statistics_step,
    3: compare_step,
    4: tips_step,
    5: signup_step,
    6: key_step,
    7: rate_step,
}
POST_STEPS = {6, 7}
