"""The API's request and response shapes (django-ninja schemas: pydantic models).

The OpenAPI schema at /api/v1/openapi.json is generated from these, and every response is
checked against them. Field names follow the seed's ProviderRating where it has one.
"""

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool

from registry.models import MAX_SETUP_MINUTES
from registry.services import COMMENT_MAX

PROVIDER_ID = r"^[a-z0-9][a-z0-9_-]{0,59}$"
# No NUL anywhere: the site refuses it in any address or text (byok_site/middleware.py).
NO_NUL = r"^[^\x00]*$"
PAGE_MAX = 100


class Error(Schema):
    code: str = Field(description="Stable: clients may branch on it.", examples=["invalid_input"])
    message: str = Field(description="For people; it never repeats what was sent.")
    field: str | None = Field(
        None, description="The body field, query parameter or header that was refused."
    )


# --- query parameters ------------------------------------------------------------------


class Sort(str, Enum):
    trust = "trust"
    rating = "rating"
    setup = "setup"
    users = "users"


class ProviderFilters(Schema):
    q: str = Field("", max_length=100, pattern=NO_NUL, description="Part of the name or id.")
    free: bool = Field(False, description="Only providers with a free tier.")
    instant: bool = Field(False, description="Only providers with instant approval.")
    difficulty: int | None = Field(None, ge=1, le=4, description="Maximum difficulty, 1-4.")
    min_trust: float | None = Field(None, ge=0, le=100, description="Minimum trust score.")
    audience: str = Field("", pattern=r"^[a-z0-9_-]{0,60}$", description="An audience slug.")
    sort: Sort = Field(
        Sort.trust,
        description="trust: most trusted (status group, then lower bound); rating: stars; "
        "setup: fastest setup; users: most active users.",
    )
    limit: int = Field(20, ge=1, le=PAGE_MAX)
    offset: int = Field(0, ge=0, le=1_000_000)


class RecommendationQuery(Schema):
    free_only: bool = Field(True, description="Only providers with a free tier.")
    min_trust_score: float = Field(70.0, ge=0, le=100)
    difficulty_max: int | None = Field(None, ge=1, le=4, description="Maximum difficulty, 1-4.")


class HistoryQuery(Schema):
    days: int = Field(90, ge=1, le=3660, description="Days of history, ending today.")


class AlertQuery(Schema):
    state: Literal["open", "all"] = Field(
        "open", description="open: open alerts; all: also those resolved in the last 30 days."
    )


class ModelFilters(Schema):
    q: str = Field(
        "", max_length=100, pattern=NO_NUL, description="Part of the name, id or family."
    )
    family: str = Field("", max_length=60, pattern=NO_NUL)
    tools: bool = Field(False, description="Only models with tool calling.")
    vision: bool = Field(False, description="Only models that take images.")
    reasoning: bool = Field(False, description="Only reasoning models.")
    free: bool = Field(False, description="Only models with a free offering.")
    provider: str = Field(
        "", max_length=60, description="Only models this catalogue provider serves."
    )
    limit: int = Field(20, ge=1, le=PAGE_MAX)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- submissions -----------------------------------------------------------------------


def _whole_number(value):
    """JSON Schema's integer: 4, and 4.0 (a number with no fraction), never "4" or true."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


def whole_number(low, high):
    # The bounds inside the Annotated type: on a field of "X | None" pydantic would write
    # them into the JSON schema as "ge"/"le", which no client reads.
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_whole_number)]


class Submission(Schema):
    model_config = ConfigDict(extra="forbid")


class SetupReportIn(Submission):
    success: StrictBool = Field(description="Whether the setup worked.")
    setup_time_minutes: whole_number(0, MAX_SETUP_MINUTES) | None = None
    felt_difficulty: whole_number(1, 4) | None = Field(
        None, description="1 Easy, 2 Moderate, 3 Advanced, 4 Expert."
    )


class RatingIn(Submission):
    rating: whole_number(1, 5) = Field(description="Stars, 1 to 5.")
    comment: str | None = Field(
        None,
        max_length=COMMENT_MAX,
        pattern=NO_NUL,
        description="Public once a maintainer approves it. Text that looks like an API key "
        "is refused.",
    )


class SubmissionOut(Schema):
    status: Literal["counted", "held"] = Field(
        description="counted: in the figures now. held: part of a burst of submissions for "
        "this provider, kept for review; it counts once a maintainer releases it."
    )
    provider_id: str
    comment: Literal["pending"] | None = Field(
        None, description="pending: the comment awaits moderation."
    )
    message: str


# --- providers -------------------------------------------------------------------------


class Choice(Schema):
    value: str
    label: str


class Difficulty(Schema):
    value: int = Field(ge=1, le=4)
    label: str


class TrustTerm(Schema):
    name: str
    weight: int
    points: float = Field(description="Points earned in the score.")
    lower_points: float = Field(description="Points in the lower bound.")
    basis: str = Field(description="The counts behind the term, in words.")


class Links(Schema):
    signup_url: str
    api_key_url: str
    documentation_url: str
    website_url: str


class ProviderSummary(Schema):
    provider_id: str
    provider_name: str
    description: str
    page_url: str = Field(description="The provider's page on this site.")
    status: Choice = Field(description="Computed from the score, or pinned by maintainers.")
    pinned: bool
    pin_reason: str
    confident: bool = Field(description="Enough data (20 setup reports and 10 ratings).")
    has_data: bool = Field(description="Any community data at all.")
    trust_score: float | None = Field(description="The seed's formula; null: no data yet.")
    trust_lower_bound: float | None
    trust_upper_bound: float | None
    star_rating: float | None
    ratings_count: int
    success_rate: float | None = Field(description="Percent of setups that worked.")
    setup_reports: int
    total_users: int
    active_users: int
    positive_reviews: int
    negative_reviews: int
    avg_setup_time_minutes: float | None
    difficulty: Difficulty
    requires_approval: bool
    approval_note: str
    has_free_tier: bool
    free_tier_note: str
    flags: list[str] = Field(
        description="free_tier or premium_only, issues_reported, new (low confidence)."
    )
    caution_flags: list[str]
    recommended_for: list[Choice]
    links: Links


class CommonIssue(Schema):
    problem: str
    solution: str


class Review(Schema):
    rating: int
    text: str
    created_at: datetime


class IssueReport(Schema):
    category: Choice
    broken_link: str
    details: str
    created_at: datetime


class LinkState(Schema):
    target: Choice
    url: str
    state: Choice = Field(description="unchecked, ok, failing, broken or moved.")
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    last_status: int | None
    moved_to: str


class ProviderDetail(ProviderSummary):
    trust_terms: list[TrustTerm]
    counters: dict[str, int] = Field(description="The raw community counters.")
    felt_difficulty: float | None = Field(description="Average felt difficulty, 1-4.")
    held_submissions: int = Field(description="Ratings and setup reports held for review.")
    recent_issue_reports: int = Field(description="Approved issue reports, last 30 days.")
    open_alerts: int
    key_env_var: str
    key_pattern: str = Field(description="The key format the setup wizard checks.")
    api_base_url: str
    last_verified: date | None
    setup_steps: list[str]
    common_issues: list[CommonIssue]
    pro_tips: list[str] = Field(description="Approved tips, curated and from the community.")
    reviews: list[Review] = Field(description="The newest approved reviews.")
    issue_reports: list[IssueReport] = Field(description="The newest approved issue reports.")
    link_checks: list[LinkState] = Field(description="Each curated link and the API, as checked.")


class ProviderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProviderSummary]


class Recommendations(Schema):
    free_only: bool
    min_trust_score: float
    difficulty_max: int | None
    items: list[ProviderSummary]


class TopProvider(Schema):
    provider_id: str
    provider_name: str
    trust_score: float
    status: Choice
    page_url: str


class Statistics(Schema):
    providers: int
    active_users: int
    setup_reports: int
    average_success_rate: float | None = Field(description="Over every setup report.")
    top: list[TopProvider] = Field(description="The top three recommended providers.")


class HistoryDay(Schema):
    day: date
    trust_score: float
    trust_lower_bound: float | None
    star_rating: float | None
    ratings_count: int
    success_rate: float | None
    setup_reports: int
    total_users: int
    active_users: int
    uptime: float | None = Field(description="Percent of API probes up that day.")
    api_probes: int | None
    links_broken: int | None


class History(Schema):
    provider_id: str
    days: int
    items: list[HistoryDay]


class Alert(Schema):
    rule: str
    title: str
    detail: str
    since: datetime
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    open: bool


class Alerts(Schema):
    provider_id: str
    items: list[Alert]


# --- models ----------------------------------------------------------------------------


class Price(Schema):
    input: str | None = Field(description="US dollars per million tokens, as a decimal string.")
    output: str | None
    cache_read: str | None
    cache_write: str | None
    reasoning: str | None
    valid_from: date
    source: str


class Offering(Schema):
    provider: str = Field(description="The catalogue's provider id.")
    provider_name: str
    registry_provider_id: str | None = Field(description="The registry's provider, if any.")
    provider_model_id: str
    name: str
    status: str
    is_free: bool
    context_limit: int | None
    input_limit: int | None
    output_limit: int | None
    price: Price | None


class ModelSummary(Schema):
    model_id: str
    name: str
    family: str
    release_date: date | None
    knowledge_cutoff: str
    open_weights: bool
    reasoning: bool
    tool_call: bool
    attachment: bool
    structured_output: bool
    input_modalities: list[str]
    output_modalities: list[str]
    page_url: str


class ModelDetail(ModelSummary):
    offerings: list[Offering]


class ModelPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ModelSummary]


# --- the registry file and its snapshots ---------------------------------------------------


class RegistryFile(Schema):
    """The seed's registry format (registry/interchange.py), as export_registry writes it."""

    providers: dict[str, dict] = Field(description="Each provider's ProviderRating fields.")
    user_stats: dict
    last_updated: str
    catalog: dict = Field(description="Models, offerings and prices (catalog/interchange.py).")


class SnapshotEntry(Schema):
    day: date
    url: str
    sha256: str
    size: int = Field(description="Bytes of JSON.")
    providers: int
    taken_at: datetime


class SnapshotList(Schema):
    items: list[SnapshotEntry]


class Index(Schema):
    version: str
    docs: str
    openapi: str
    endpoints: dict[str, str]
