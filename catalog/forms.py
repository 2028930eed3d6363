"""The model list's filters and the model page's cost calculator: GET forms, so their
state lives in the URL and both work without JavaScript."""

import re
from decimal import Decimal, InvalidOperation

from django import forms

from .models import CatalogProvider, Model

SORTS = [
    ("providers", "Most providers"),
    ("trust", "Most trusted provider"),
    ("price", "Lowest input price"),
    ("context", "Longest context"),
    ("newest", "Newest"),
    ("name", "Name"),
]
CONTEXTS = [
    ("", "Any"),
    (8_000, "8k tokens"),
    (32_000, "32k tokens"),
    (128_000, "128k tokens"),
    (200_000, "200k tokens"),
    (1_000_000, "1M tokens"),
]
MAX_PRICE_FILTER = Decimal(100_000)


def provider_choices():
    # Only evaluated when the form is rendered or a provider is chosen: a cached page
    # costs no query for it.
    listed = CatalogProvider.objects.filter(offerings__isnull=False).distinct().order_by("name")
    return [("", "Any provider"), *listed.values_list("catalog_id", "name")]


def family_choices():
    families = Model.objects.exclude(family="").order_by("family").values_list("family", flat=True)
    return [("", "Any family"), *((f, f) for f in families.distinct())]


class PriceField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            min_value=0,
            max_value=MAX_PRICE_FILTER,
            max_digits=12,
            decimal_places=6,
            widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            **kwargs,
        )


class ModelFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    free = forms.BooleanField(label="Free (a zero price or a free variant)", required=False)
    tools = forms.BooleanField(label="Tool calling", required=False)
    vision = forms.BooleanField(label="Vision (image input)", required=False)
    reasoning = forms.BooleanField(label="Reasoning", required=False)
    min_context = forms.TypedChoiceField(
        label="Minimum context",
        required=False,
        coerce=int,
        empty_value=None,
        choices=CONTEXTS,
    )
    max_input = PriceField(
        label="Max input $ / M tokens",
        error_messages={"invalid": "Maximum input price must be a number of dollars."},
    )
    max_output = PriceField(
        label="Max output $ / M tokens",
        error_messages={"invalid": "Maximum output price must be a number of dollars."},
    )
    provider = forms.ChoiceField(label="Provider", required=False, choices=provider_choices)
    family = forms.ChoiceField(label="Family", required=False, choices=family_choices)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)

    FILTER_NAMES = {
        "q": "the search",
        "free": "“free”",
        "tools": "“tool calling”",
        "vision": "“vision”",
        "reasoning": "“reasoning”",
        "min_context": "the minimum context",
        "max_input": "the maximum input price",
        "max_output": "the maximum output price",
        "provider": "the provider",
        "family": "the family",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].error_messages["invalid_choice"] = (
            "There is no provider “%(value)s” in the catalogue; choose one from the list."
        )
        self.fields["family"].error_messages["invalid_choice"] = (
            "There is no family “%(value)s”; choose one from the list."
        )
        self.fields["min_context"].error_messages["invalid_choice"] = (
            "Choose a minimum context from the list; “%(value)s” is not one of them."
        )
        self.fields["sort"].error_messages["invalid_choice"] = (
            "Sort by providers, trust, price, context, newest or name; “%(value)s” is not one of "
            "them."
        )

    def active_filters(self):
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: value
            for name, value in cleaned.items()
            if name in self.FILTER_NAMES and value not in (None, "", False)
        }


# --- the cost calculator ------------------------------------------------------------------

MAX_TOKENS_A_MONTH = 10**13
TOKENS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMbB]?)\s*$")
SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
PRESETS = {
    "chat": {
        "label": "Chat: 1M in, 200k out",
        "input_tokens": 1_000_000,
        "output_tokens": 200_000,
        "cached_tokens": 0,
    },
    "coding": {
        "label": "Coding agent: 30M in (20M from cache), 1M out",
        "input_tokens": 30_000_000,
        "output_tokens": 1_000_000,
        "cached_tokens": 20_000_000,
    },
    "summaries": {
        "label": "Summaries: 5M in, 500k out",
        "input_tokens": 5_000_000,
        "output_tokens": 500_000,
        "cached_tokens": 0,
    },
}
USAGE_FIELDS = ("input_tokens", "output_tokens", "cached_tokens")


class TokenCountField(forms.Field):
    """A number of tokens: 1500000, 1,500,000, 1.5M or 200k."""

    default_error_messages = {
        "invalid": "Write a number of tokens, like 1000000, 1.5M or 200k.",
        "too_big": "That is more than 10 trillion tokens a month.",
    }

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)
        self.widget.attrs.update(inputmode="numeric", autocomplete="off")

    def to_python(self, value):
        text = str(value or "").strip().replace(",", "").replace("_", "")
        if not text:
            return None
        match = TOKENS.match(text) if len(text) <= 30 else None
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            tokens = int(Decimal(match.group(1)) * SCALE[match.group(2).lower()])
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if tokens > MAX_TOKENS_A_MONTH:
            raise forms.ValidationError(self.error_messages["too_big"], code="too_big")
        return tokens


class CostForm(forms.Form):
    """Tokens a month, or a preset. A preset button wins over the typed numbers: it is what
    was clicked."""

    preset = forms.ChoiceField(
        required=False, choices=[("", "—"), *((k, v["label"]) for k, v in PRESETS.items())]
    )
    input_tokens = TokenCountField(label="Input tokens a month")
    output_tokens = TokenCountField(label="Output tokens a month")
    cached_tokens = TokenCountField(
        label="of the input, read from cache",
        help_text="Billed at the cache-read price where the provider lists one.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].error_messages["invalid_choice"] = (
            "There is no preset “%(value)s”; choose chat, coding or summaries."
        )

    def clean(self):
        cleaned = super().clean()
        preset = PRESETS.get(cleaned.get("preset") or "")
        if preset:
            cleaned.update({name: preset[name] for name in USAGE_FIELDS})
            # The re-rendered form shows the preset's figures.
            self.data = self.data.copy()
            for name in USAGE_FIELDS:
                self.data[name] = str(preset[name])
        elif cleaned.get("cached_tokens") and cleaned["cached_tokens"] > (
            cleaned.get("input_tokens") or 0
        ):
            self.add_error("cached_tokens", "Cached tokens are part of the input: at most that.")
        return cleaned

    def usage(self):
        """(input, output, cached) tokens when the form asks for a cost, else None."""
        if not self.is_bound or not self.is_valid():
            return None
        data = self.cleaned_data
        if not (data.get("input_tokens") or data.get("output_tokens")):
            return None
        return tuple(data.get(name) or 0 for name in USAGE_FIELDS)


TRIED = [("", "Did not try it"), ("yes", "Yes, it worked"), ("no", "No, it did not work")]


def _tried(value):
    return {"yes": True, "no": False}.get(value)


class ModelRatingForm(forms.Form):
    """A rating of a model at one provider: the model page's form, and the optional part
    of the wizard's step 7. `offerings` are the rateable (pk, label) choices."""

    offering = forms.TypedChoiceField(
        label="At which provider?",
        coerce=int,
        empty_value=None,
        error_messages={"required": "Choose the provider you used it at."},
    )
    stars = forms.TypedChoiceField(
        label="Your rating of the model",
        coerce=int,
        empty_value=None,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars."},
    )
    tool_calling = forms.ChoiceField(
        label="Did tool calling work?", required=False, choices=TRIED, widget=forms.RadioSelect
    )
    streaming = forms.ChoiceField(
        label="Did streaming work?", required=False, choices=TRIED, widget=forms.RadioSelect
    )

    def __init__(self, *args, offerings=(), optional=False, **kwargs):
        """`optional`: part of a bigger form (the wizard's step 7), where leaving the
        provider unchosen means no model rating."""
        super().__init__(*args, **kwargs)
        self.fields["offering"].choices = [("", "Choose…"), *offerings]
        if optional:
            self.fields["offering"].required = False
            self.fields["offering"].label = "Which model did you use? (optional)"
            self.fields["stars"].required = False
            # Told apart from the provider rating's stars beside them.
            self.fields["stars"].choices = [
                (n, f"{label} for the model") for n, label in self.fields["stars"].choices
            ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("offering") and not cleaned.get("stars"):
            self.add_error("stars", "Choose from 1 to 5 stars for the model.")
        return cleaned

    def rating(self):
        """rate_model()'s arguments, or None when no model was chosen."""
        data = self.cleaned_data
        if not data.get("offering"):
            return None
        return {
            "offering": data["offering"],
            "rating": data["stars"],
            "tool_calling": _tried(data["tool_calling"]),
            "streaming": _tried(data["streaming"]),
        }
