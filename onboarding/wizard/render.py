"""The page around each wizard step: title, progress bar, Back and Next, the pushed URL."""

from django.contrib import messages
from django.shortcuts import redirect
from django_htmx.http import push_url

from ..htmx import is_fragment, render_page

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
    response = render_page(request, TEMPLATE, "step", context, status=status)
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


def go_to_step(request, state, step_view, step, message, level=messages.INFO):
    """Send the visitor to another step with a message: that step in place for htmx, a
    redirect with the message otherwise."""
    if is_fragment(request):
        return step_view(request, state, notice=message)
    messages.add_message(request, level, message)
    return redirect(state.url(step))
