"""Forms of the browse, provider, compare and suggest pages.

The community forms only shape and check input for the page; registry.services is the
authority and its InvalidSubmissionError lands on the field it names (see add_service_error).
"""

import functools

from django import forms
from django.http import QueryDict
from django.urls import reverse

from catalog.models import Model
from registry.models import (
    Audience,
    Difficulty,
    FreeTierAnswer,
    IssueCategory,
    Provider,
    ProviderLink,
)
from registry.recommend import Needs
from registry.secrets import PASTED_KEY_MESSAGE, looks_like_secret
from registry.services import COMMENT_MAX, REPORT_MAX, SUGGESTION_REASON_MAX, TIP_MAX

SORTS = [
    ("trust", "Trust score"),
    ("rating", "Star rating"),
    ("setup", "Setup time (fastest first)"),
    ("users", "Active users"),
]


class RefusesPastedKeys(forms.Form):
    """Free text that looks like an API key is refused, and is not echoed back: the
    re-rendered form shows the field empty, so the page never repeats the key.

    It reads the text as sent, before the field's own checks: text too long for its
    field, or a key in the URL field, fails those first, and would otherwise be shown
    back whole with their error."""

    free_text_fields = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.free_text_fields:
            if looks_like_secret(self.data.get(name)):
                self.data = self.data.copy()
                self.data[name] = ""
                cleaned.pop(name, None)
                self.errors.pop(name, None)  # the key message instead of, say, a length
                self.add_error(name, PASTED_KEY_MESSAGE)
        return cleaned


class FreeTierField(forms.ChoiceField):
    """The optional "Did you use the free tier? Did it work?" of a rating (shown for
    providers with a curated free tier)."""

    def __init__(self, **kwargs):
        super().__init__(
            label="Did you use the free tier? Did it work? (optional)",
            required=False,
            choices=[("", "I did not use it, or rather not say"), *FreeTierAnswer.choices],
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": "Choose one of the answers about the free tier."},
            **kwargs,
        )


def model_families():
    """The families of the models the registry's providers serve, for the needs fields
    (called only when the field is rendered or validated)."""
    families = (
        Model.objects.filter(offerings__catalog_provider__provider__is_published=True)
        .exclude(family="")
        .order_by("family")
        .values_list("family", flat=True)
        .distinct()
    )
    return [("", "Any model"), *((family, family) for family in families)]


class NeedsFields(forms.Form):
    """What the visitor needs (optional), on browse and wizard step 1: they rank the
    providers by fit, they filter none out (registry.services.recommend)."""

    family = forms.ChoiceField(label="Model family", required=False, choices=model_families)
    tools = forms.BooleanField(label="Tool calling", required=False)
    vision = forms.BooleanField(label="Vision (image input)", required=False)
    budget = forms.DecimalField(
        label="Budget per month (US$)",
        required=False,
        min_value=0,
        max_value=100_000,
        decimal_places=2,
        help_text="At 1M input and 200k output tokens a month.",
        error_messages={"invalid": "Enter an amount in dollars, like 5 or 12.50."},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when first rendered or validated, then kept for this form: not one query
        # per look at the choices.
        self.fields["family"].choices = functools.cache(model_families)

    def needs(self, *, free_only):
        """What the visitor needs, as a registry.recommend.Needs (falsy: nothing asked)."""
        data = self.cleaned_data
        return Needs(
            model=data.get("family") or "",
            tool_calling=bool(data.get("tools")),
            vision=bool(data.get("vision")),
            max_monthly_cost=data.get("budget"),
            free_only=free_only,
        )

    def needs_query(self):
        """The needs asked, as query parameters."""
        data = self.cleaned_data
        params = {}
        if data.get("family"):
            params["family"] = data["family"]
        for flag in ("tools", "vision"):
            if data.get(flag):
                params[flag] = "on"
        if data.get("budget") is not None:
            params["budget"] = str(data["budget"])
        return params


def audience_choices():
    # Called only when the field is rendered or an audience is chosen, so a cached browse
    # page costs no query for it.
    return [("", "Anyone"), *Audience.objects.values_list("slug", "name")]


class BrowseFilterForm(NeedsFields, RefusesPastedKeys):
    """The browse filters. A GET form: its state lives in the URL."""

    free_text_fields = ("q",)

    q = forms.CharField(label="Name", required=False, max_length=100)
    free = forms.BooleanField(label="Free tier only", required=False)
    instant = forms.BooleanField(label="Instant approval only", required=False)
    difficulty = forms.TypedChoiceField(
        label="Maximum difficulty",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any")] + [(d.value, d.label) for d in Difficulty],
        error_messages={"invalid_choice": "Maximum difficulty must be 1 (Easy) to 4 (Expert)."},
    )
    min_score = forms.FloatField(
        label="Minimum trust score",
        required=False,
        min_value=0,
        max_value=100,
        error_messages={"invalid": "Minimum trust score must be a number from 0 to 100."},
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal"}),
    )
    audience = forms.ChoiceField(label="Recommended for", required=False, choices=audience_choices)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)
    # The needs fields come after these.
    field_order = ("q", "free", "instant", "difficulty", "min_score", "audience", "sort")

    # What the empty-result hint calls each filter.
    FILTER_NAMES = {
        "q": "the name search",
        "free": "“free tier only”",
        "instant": "“instant approval only”",
        "difficulty": "the maximum difficulty",
        "min_score": "the minimum trust score",
        "audience": "the audience",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].error_messages["invalid_choice"] = (
            "There is no such audience; choose one from the list."
        )
        self.fields["sort"].error_messages["invalid_choice"] = (
            "Sort by trust, rating, setup time or users."
        )

    # The ProviderQuerySet.matching() argument of each filter, where its name differs.
    MATCHING_ARGUMENT = {"min_score": "min_trust"}

    def active_filters(self):
        """Cleaned filters that narrow the list (sort and blanks left out)."""
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: value
            for name, value in cleaned.items()
            if name in self.FILTER_NAMES and value not in (None, "", False)
        }

    def filters(self, *, without=None):
        """The active filters as ProviderQuerySet.matching() arguments."""
        return {
            self.MATCHING_ARGUMENT.get(name, name): value
            for name, value in self.active_filters().items()
            if name != without
        }

    def relax_hints(self):
        """For an empty result: what each active filter, dropped alone, would bring back,
        most first. One COUNT per active filter (six at most)."""
        filters = self.filters()
        counts = Provider.objects.published().relaxation_counts(filters, filters.keys())
        hints = [
            {
                "label": self.FILTER_NAMES[name],
                "count": counts[self.MATCHING_ARGUMENT.get(name, name)],
                "url": self.url(without=name),
            }
            for name in self.active_filters()
        ]
        hints.sort(key=lambda hint: -hint["count"])
        return [hint for hint in hints if hint["count"]]

    def url(self, *, without=None):
        """The browse URL of the filters as sent, less one and the page number."""
        query = self.data.copy()
        for name in (without, "page"):
            query.pop(name, None)
        encoded = query.urlencode()
        return reverse("onboarding:browse") + (f"?{encoded}" if encoded else "")

    def canonical_url(self):
        """The address bar's URL: only the fields that filter, from the form's data (not
        the request), so a refused pasted key is already blanked."""
        query = QueryDict(mutable=True)
        for name, values in self.data.lists():
            kept = [v for v in values if v.strip() and not (name == "sort" and v == "trust")]
            if kept:
                query.setlist(name, kept)
        encoded = query.urlencode()
        return reverse("onboarding:browse") + (f"?{encoded}" if encoded else "")


def add_service_error(form, error):
    """Put a registry InvalidSubmissionError on the field it names (or on the form)."""
    field = error.field if error.field in form.fields else None
    message = error.message
    if field:
        message = message[:1].upper() + message[1:]
    form.add_error(field, message)


class RatingForm(RefusesPastedKeys):
    free_text_fields = ("comment",)

    rating = forms.TypedChoiceField(
        label="Your rating",
        coerce=int,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars."},
    )
    comment = forms.CharField(
        label="Comment (optional, public once a maintainer approves it)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    free_tier = FreeTierField()


class TipForm(RefusesPastedKeys):
    free_text_fields = ("text",)
    text = forms.CharField(
        label="Your tip",
        max_length=TIP_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Tips are public once a maintainer approves them. Never paste an API key.",
    )


class IssueReportForm(RefusesPastedKeys):
    free_text_fields = ("details",)
    # No category is preselected: a report must say what it is about, not default to the
    # first kind.
    category = forms.ChoiceField(
        label="What went wrong?",
        choices=[("", "Choose one…"), *IssueCategory.choices],
        error_messages={"required": "Choose what went wrong."},
    )
    broken_link = forms.ChoiceField(
        label="Which link is broken?",
        required=False,
        choices=[("", "— not a broken link —"), *ProviderLink.choices],
        help_text="Only for “Broken link” reports.",
    )
    details = forms.CharField(
        label="Details",
        max_length=REPORT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did and what you saw. Never paste an API key.",
    )

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("category")
        link = cleaned.get("broken_link")
        if category == IssueCategory.BROKEN_LINK and not link:
            self.add_error("broken_link", "Say which link is broken.")
        elif category and category != IssueCategory.BROKEN_LINK and link:
            self.add_error("broken_link", "Choose a link only for “Broken link” reports.")
        return cleaned


class SuggestionForm(RefusesPastedKeys):
    free_text_fields = ("name", "website", "reason")
    name = forms.CharField(label="Provider name", max_length=100)
    website = forms.URLField(
        label="Website",
        max_length=300,
        assume_scheme="https",
        help_text="The provider's home page, e.g. https://example.com/",
    )
    reason = forms.CharField(
        label="Why should it be listed?",
        max_length=SUGGESTION_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
