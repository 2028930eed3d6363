"""Reading a catalogue in models.dev's `api.json` format, and checking every value.

    {"<provider id>": {"id", "name", "env": [...], "doc", "api",
                       "models": {"<model id>": {"id", "name", "family", "release_date",
                                                 "limit": {"context", "output"}, "cost": {...},
                                                 "modalities": {"input": [...]}, ...}}}}

The shipped snapshot wraps that map as {"providers": {...}, "source": "..."}; both shapes
are read. Numbers are parsed as Decimal from the JSON text, so a price is never a float
on its way in. Every problem is collected with the provider, model and field it is in;
one problem means nothing is synced.
"""

import datetime
import json
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from . import grouping
from .models import MODALITIES, PRICE_FIELDS, OfferingStatus, quantize

MAX_PRICE = Decimal(100_000)  # dollars per million tokens: far above any real price
MAX_TOKENS = 10**9
ERRORS_SHOWN = 20
# models.dev's own cost keys; a few providers spell the cache prices differently.
COST_KEYS = {name: name for name in PRICE_FIELDS} | {
    "cached_input": "cache_read",
    "cache_input": "cache_read",
    "cached_write": "cache_write",
}
STATUSES = {"alpha": OfferingStatus.BETA, "beta": OfferingStatus.BETA}
STATUSES["deprecated"] = OfferingStatus.DEPRECATED
PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
COMMIT = re.compile(r"\bcommit ([0-9a-f]{7,40})\b")


class CatalogueError(Exception):
    """Bad input: one message, or the list of problems found (each naming where)."""

    def __init__(self, problems):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        shown = self.problems[:ERRORS_SHOWN]
        more = len(self.problems) - len(shown)
        text = shown[0]
        if len(self.problems) > 1:
            text = f"{len(self.problems)} problems:\n" + "\n".join(f"- {p}" for p in shown)
        if more:
            text += f"\n- and {more} more problem{'s' if more > 1 else ''}"
        super().__init__(text)


@dataclass(frozen=True)
class CatalogueProvider:
    catalog_id: str
    name: str
    doc_url: str
    api_url: str
    env: str


@dataclass(frozen=True)
class Listing:
    """One provider's entry for one model, checked and normalised."""

    catalog_id: str
    provider_model_id: str
    name: str
    family: str
    release_date: datetime.date | None
    last_updated: datetime.date | None
    knowledge_cutoff: str
    open_weights: bool
    reasoning: bool
    tool_call: bool
    attachment: bool
    structured_output: bool
    input_modalities: str
    output_modalities: str
    context_limit: int | None
    input_limit: int | None
    output_limit: int | None
    status: str
    prices: tuple | None  # Decimals in PRICE_FIELDS order, or None when no cost is listed

    @property
    def group_key(self):
        return grouping.group_key(self.provider_model_id)

    @property
    def readable_id(self):
        return grouping.readable_id(self.provider_model_id)

    @property
    def is_free_variant(self):
        return grouping.is_free_variant(self.provider_model_id)


@dataclass
class Catalogue:
    source: str
    providers: list = field(default_factory=list)
    listings: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


# --- reading bytes --------------------------------------------------------------------


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme != "https":
            raise CatalogueError(f"{req.full_url} redirects to {newurl}, which is not https.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def read_source(source):
    """The bytes of a file path or an https URL, at most MODELS_SYNC_MAX_BYTES of them.

    Certificates are always verified: against MODELS_SYNC_CA_FILE when it is set, else the
    system's store (which honours SSL_CERT_FILE)."""
    limit = settings.MODELS_SYNC_MAX_BYTES
    scheme = urlsplit(source).scheme.lower()
    if scheme == "https":
        context = ssl.create_default_context(cafile=settings.MODELS_SYNC_CA_FILE or None)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _HttpsOnlyRedirects()
        )
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked: https only)
            source, headers={"User-Agent": "byok-registry-sync_models"}
        )
        try:
            with opener.open(request, timeout=settings.MODELS_SYNC_TIMEOUT) as response:
                body = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            raise CatalogueError(f"{source} answered {error.code} {error.reason}.") from None
        except urllib.error.URLError as error:
            raise CatalogueError(f"Cannot fetch {source}: {error.reason}.") from None
        except (OSError, ValueError) as error:
            raise CatalogueError(f"Cannot fetch {source}: {error}.") from None
    elif scheme in ("http", "ftp", "file", "data"):
        raise CatalogueError(f"{source}: only https URLs or file paths are read.")
    else:
        try:
            with Path(source).open("rb") as catalogue_file:
                body = catalogue_file.read(limit + 1)
        except OSError as error:
            raise CatalogueError(f"Cannot read {source}: {error.strerror}.") from None
    if len(body) > limit:
        raise CatalogueError(
            f"{source} is larger than the {limit:,}-byte limit (MODELS_SYNC_MAX_BYTES)."
        )
    return body


def _no_constants(name):
    raise ValueError(f"{name} is not a number")


def parse_json(body, source):
    try:
        return json.loads(
            body.decode("utf-8"),
            parse_float=Decimal,
            parse_constant=_no_constants,
        )
    except UnicodeDecodeError:
        raise CatalogueError(f"{source} is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise CatalogueError(
            f"{source} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except ValueError as error:
        raise CatalogueError(f"{source} is not valid JSON: {error}.") from None
    except RecursionError:
        raise CatalogueError(f"{source} is nested too deeply to be a catalogue.") from None


def load(source):
    """Read, parse and check SOURCE (a path or an https URL): a Catalogue."""
    data = parse_json(read_source(source), source)
    return parse_catalogue(data, source)


# --- checking values ------------------------------------------------------------------


class _Problems:
    def __init__(self):
        self.found = []
        self.warnings = []

    def add(self, message, provider=None, model=None, field=None):
        self.found.append(self.describe(message, provider, model, field))

    def warn(self, message, provider=None, model=None, field=None):
        self.warnings.append(self.describe(message, provider, model, field))

    @staticmethod
    def describe(message, provider, model, field):
        where = []
        if provider is not None:
            where.append(f"provider {_shown(provider)}")
        if model is not None:
            where.append(f"model {_shown(model)}")
        if field is not None:
            where.append(f"field {field!r}")
        return (", ".join(where) + ": " if where else "") + message


def _shown(value):
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _is_number(value):
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _text(entry, name, problems, where, *, max_length, required=False, default=""):
    value = entry.get(name, None)
    if value is None:
        if required:
            problems.add("is missing", *where, name)
        return default
    if not isinstance(value, str):
        problems.add("must be a string", *where, name)
        return default
    value = value.strip()
    if CONTROL.search(value):
        problems.add("must not contain control characters", *where, name)
        return default
    if len(value) > max_length:
        problems.add(f"must be at most {max_length} characters", *where, name)
        return default
    if required and not value:
        problems.add("must not be empty", *where, name)
    return value


def _flag(entry, name, problems, where):
    value = entry.get(name, False)
    if not isinstance(value, bool):
        problems.add("must be true or false", *where, name)
        return False
    return value


def _date(entry, name, problems, where):
    value = entry.get(name)
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""
    if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", text):
        try:
            return datetime.date.fromisoformat(text if len(text) == 10 else f"{text}-01")
        except ValueError:
            # The right shape but no such day ("2025-25-11" is in the real catalogue):
            # shown as unknown and reported, rather than refusing the whole catalogue.
            problems.warn(f"{text} is not a real date; treated as unknown", *where, name)
            return None
    problems.add("must be a date like 2025-01-31 or 2025-01", *where, name)
    return None


def _limit(limits, name, problems, where):
    value = limits.get(name)
    if value is None:
        return None
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS):
        problems.add(
            f"must be a whole number of tokens from 0 to {MAX_TOKENS:,}", *where, f"limit.{name}"
        )
        return None
    return value or None  # models.dev writes 0 for "not applicable"


def _modalities(entry, problems, where):
    value = entry.get("modalities", {})
    if not isinstance(value, dict):
        problems.add("must be an object", *where, "modalities")
        return "", ""
    result = []
    for side in ("input", "output"):
        items = value.get(side, [])
        if not isinstance(items, list) or not all(
            isinstance(item, str) and item in MODALITIES for item in items
        ):
            problems.add(f"must be a list of {', '.join(MODALITIES)}", *where, f"modalities.{side}")
            items = []
        result.append(",".join(m for m in MODALITIES if m in items))
    return tuple(result)


def _prices(entry, problems, where):
    cost = entry.get("cost")
    if cost is None:
        return None
    if not isinstance(cost, dict):
        problems.add("must be an object", *where, "cost")
        return None
    prices = dict.fromkeys(PRICE_FIELDS)
    for key, value in cost.items():
        name = COST_KEYS.get(key)
        if name is None:
            continue  # tiers, audio and per-request prices are not kept (yet)
        if not (_is_number(value) and 0 <= value <= MAX_PRICE):
            problems.add(
                f"must be a number of dollars from 0 to {MAX_PRICE:,}", *where, f"cost.{key}"
            )
            continue
        if prices[name] is None or key == name:  # the canonical spelling wins
            prices[name] = quantize(value)
    return tuple(prices[name] for name in PRICE_FIELDS)


def _listing(catalog_id, key, entry, problems):
    where = (catalog_id, key)
    if not isinstance(entry, dict):
        problems.add("must be an object", *where)
        return None
    before = len(problems.found)
    model_id = entry.get("id", key)
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > 200:
        problems.add("must be a non-empty string of at most 200 characters", *where, "id")
        return None
    if CONTROL.search(model_id):
        problems.add("must not contain control characters", *where, "id")
        return None
    limits = entry.get("limit", {})
    if not isinstance(limits, dict):
        problems.add("must be an object", *where, "limit")
        limits = {}
    status = entry.get("status")
    if status is not None and status not in STATUSES:
        problems.add(f"must be one of {', '.join(STATUSES)}", *where, "status")
    inputs, outputs = _modalities(entry, problems, where)
    listing = Listing(
        catalog_id=catalog_id,
        provider_model_id=model_id.strip(),
        name=_text(entry, "name", problems, where, max_length=200, default=model_id.strip()),
        family=_text(entry, "family", problems, where, max_length=60),
        release_date=_date(entry, "release_date", problems, where),
        last_updated=_date(entry, "last_updated", problems, where),
        knowledge_cutoff=_text(entry, "knowledge", problems, where, max_length=10),
        open_weights=_flag(entry, "open_weights", problems, where),
        reasoning=_flag(entry, "reasoning", problems, where),
        tool_call=_flag(entry, "tool_call", problems, where),
        attachment=_flag(entry, "attachment", problems, where),
        structured_output=_flag(entry, "structured_output", problems, where),
        input_modalities=inputs,
        output_modalities=outputs,
        context_limit=_limit(limits, "context", problems, where),
        input_limit=_limit(limits, "input", problems, where),
        output_limit=_limit(limits, "output", problems, where),
        status=STATUSES.get(status, OfferingStatus.ACTIVE),
        prices=_prices(entry, problems, where),
    )
    if listing.name == "":
        listing = replace(listing, name=listing.provider_model_id)
    return listing if len(problems.found) == before else None


def _provider(key, entry, problems):
    if not isinstance(key, str) or not PROVIDER_ID.fullmatch(key):
        problems.add("must be lowercase letters, digits, '.', '-' or '_'", key, None, "id")
        return None, []
    if not isinstance(entry, dict):
        problems.add("must be an object", key)
        return None, []
    where = (key,)
    env = entry.get("env", [])
    if not isinstance(env, list) or not all(isinstance(e, str) and len(e) <= 60 for e in env):
        problems.add("must be a list of variable names", key, None, "env")
        env = []
    doc = _text(entry, "doc", problems, where, max_length=300)
    if doc and urlsplit(doc).scheme not in ("https", "http"):
        problems.add("must be an http(s) URL", key, None, "doc")
        doc = ""
    provider = CatalogueProvider(
        catalog_id=key,
        name=_text(entry, "name", problems, where, max_length=100, default=key) or key,
        doc_url=doc,
        api_url=_text(entry, "api", problems, where, max_length=300),
        env=", ".join(env)[:200],
    )
    models = entry.get("models", {})
    if not isinstance(models, dict):
        problems.add("must be an object of models", key, None, "models")
        return provider, []
    listings = []
    seen = set()
    for model_key, model_entry in models.items():
        listing = _listing(key, model_key, model_entry, problems)
        if listing is None:
            continue
        if listing.provider_model_id in seen:
            problems.add("is listed twice", key, model_key, "id")
            continue
        seen.add(listing.provider_model_id)
        listings.append(listing)
    return provider, listings


def source_label(data, source):
    """What a price row says it came from: "models.dev at commit f3fc692", or the URL or
    file name it was read from."""
    described = data.get("source") if isinstance(data, dict) else None
    if isinstance(described, str) and (match := COMMIT.search(described)):
        return f"models.dev at commit {match.group(1)[:7]}"
    if urlsplit(source).scheme == "https":
        return f"models.dev format, {source}"[:300]
    return f"models.dev format, file {Path(source).name}"[:300]


def parse_catalogue(data, source):
    if not isinstance(data, dict):
        raise CatalogueError(f"{source} must hold a JSON object of providers.")
    providers = data
    if isinstance(data.get("providers"), dict) and "models" not in data["providers"]:
        providers = data["providers"]  # the shipped snapshot's wrapper
    problems = _Problems()
    catalogue = Catalogue(source=source_label(data, source))
    for key, entry in providers.items():
        provider, listings = _provider(key, entry, problems)
        if provider is not None:
            catalogue.providers.append(provider)
            catalogue.listings.extend(listings)
    if problems.found:
        raise CatalogueError(problems.found)
    catalogue.warnings = problems.warnings
    if not catalogue.providers:
        raise CatalogueError(f"{source} lists no providers.")
    return catalogue
