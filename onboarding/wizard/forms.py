"""Forms of the setup wizard.

Step 1's filters arrive in the query string (GET), so a filtered wizard can be bookmarked.
The key form (step 6) and the rating form (step 7) are POST-only.
"""

from django import forms

from registry.models import MAX_SETUP_MINUTES, Audience, Difficulty, Provider
from registry.services import COMMENT_MAX

from ..forms import FreeTierField, NeedsFields, RefusesPastedKeys

# No provider's key comes near it (the longest we know are about 170 characters), and
# the format check never reads more.
KEY_MAX_LENGTH = 200
FREE_ONLY = "1"
FREE_OR_PAID = "0"

DIFFICULTY_CHOICES = [
    ("", "Any difficulty"),
    (Difficulty.EASY.value, "Easy only"),
    (Difficulty.MODERATE.value, "Up to Moderate"),
    (Difficulty.ADVANCED.value, "Up to Advanced"),
    (Difficulty.EXPERT.value, "Up to Expert"),
]


class ProviderFilterForm(NeedsFields):
    """Step 1. Always bound to the query string; a missing field means "no filter",
    except the free-tier choice, which defaults to free tier only (the seed's default)."""

    free = forms.ChoiceField(
        label="Cost",
        choices=[
            (FREE_ONLY, "Free tier only"),
            (FREE_OR_PAID, "Include paid-only providers"),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    difficulty = forms.TypedChoiceField(
        label="Maximum difficulty",
        choices=DIFFICULTY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={
            "invalid_choice": "Choose a difficulty from the list: Easy, Moderate, Advanced "
            "or Expert."
        },
    )
    min_trust = forms.IntegerField(
        label="Minimum trust score",
        min_value=0,
        max_value=100,
        required=False,
        help_text="0 to 100. New providers without enough community data score low.",
        error_messages={"invalid": "Enter a whole number from 0 to 100."},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )
    audience = forms.ModelChoiceField(
        label="Recommended for",
        queryset=Audience.objects.filter(providers__is_published=True).distinct(),
        to_field_name="slug",
        required=False,
        empty_label="Anyone",
        error_messages={"invalid_choice": "Choose an audience from the list."},
    )

    FIELDS = ("free", "difficulty", "min_trust", "audience", "family", "tools", "vision", "budget")
    field_order = FIELDS

    def __init__(self, query):
        data = {name: query.get(name, "") for name in self.FIELDS}
        if not data["free"]:
            data["free"] = FREE_ONLY
        super().__init__(data)

    def filters(self):
        """The valid filters as ProviderQuerySet.matching() arguments."""
        filters = self.cleaned_data
        return {
            "free": filters.get("free") != FREE_OR_PAID,
            "difficulty": filters.get("difficulty") or None,
            "min_trust": filters.get("min_trust"),
            "audience": filters.get("audience"),
        }

    def needs(self):
        return super().needs(free_only=self.cleaned_data.get("free") != FREE_OR_PAID)

    def query(self):
        """The valid filters as query parameters, defaults left out to keep URLs short."""
        filters = self.cleaned_data
        params = self.needs_query()
        if filters.get("free") == FREE_OR_PAID:
            params["free"] = FREE_OR_PAID
        if filters.get("difficulty"):
            params["difficulty"] = str(filters["difficulty"])
        if filters.get("min_trust") is not None:
            params["min_trust"] = str(filters["min_trust"])
        if filters.get("audience"):
            params["audience"] = filters["audience"].slug
        return params

    # What to tell a visitor to do with each filter, as "relax this" advice.
    RELAX_ADVICE = {
        "free": "include paid-only providers",
        "difficulty": "allow a higher difficulty",
        "min_trust": "lower the minimum trust score",
        "audience": "choose any audience",
    }

    def relax_advice(self):
        """For an empty result: each filter that narrows, with how many providers relaxing
        it alone would show. One COUNT each."""
        filters = self.filters()
        narrowing = [name for name, value in filters.items() if value]  # min_trust 0 is none
        counts = Provider.objects.published().relaxation_counts(filters, narrowing)
        return [
            {"description": self.RELAX_ADVICE[name], "count": counts[name]} for name in narrowing
        ]


class ApiKeyForm(forms.Form):
    """Step 6. The key is checked in the request that carries it and then dropped.

    render_value=False: a re-rendered form never puts the key back into the page.
    """

    api_key = forms.CharField(
        label="Your API key",
        max_length=KEY_MAX_LENGTH,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "aria-describedby": "api-key-format api-key-help",
            },
        ),
        error_messages={
            "required": "Paste your key to check it, or skip this step.",
            "max_length": f"That is longer than any API key we know ({KEY_MAX_LENGTH} characters "
            "at most).",
        },
    )


YES_NO = [("yes", "Yes, it works"), ("no", "No, I got stuck")]
# 5 to 1, as the provider page lists them.
STAR_CHOICES = [(n, "★" * n + "☆" * (5 - n)) for n in range(5, 0, -1)]
FELT_DIFFICULTY_CHOICES = list(Difficulty.choices)


class RateExperienceForm(RefusesPastedKeys):
    """Step 7. Nothing is recorded unless `share` is ticked."""

    free_text_fields = ("comment",)

    success = forms.ChoiceField(
        label="Did the setup succeed?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the setup worked."},
    )
    minutes = forms.IntegerField(
        label="Minutes it took",
        min_value=1,
        max_value=MAX_SETUP_MINUTES,
        required=False,
        help_text="Measured from step 1 to step 6; correct it if you took a break.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
        error_messages={"invalid": f"Enter a whole number of minutes, 1 to {MAX_SETUP_MINUTES}."},
    )
    stars = forms.TypedChoiceField(
        label="Your rating",
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars."},
    )
    felt_difficulty = forms.TypedChoiceField(
        label="How difficult did it feel?",
        choices=FELT_DIFFICULTY_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how difficult it felt."},
    )
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown publicly once a maintainer approves it. Never paste your key here.",
    )
    free_tier = FreeTierField()
    share = forms.BooleanField(
        label="Share my result anonymously",
        required=False,
        help_text="Unticked, nothing is recorded. Ticked, your answers count in the "
        "community figures, without your name, address or key.",
    )

    @property
    def wants_to_share(self):
        return bool(self.fields["share"].clean(self.data.get("share")))
