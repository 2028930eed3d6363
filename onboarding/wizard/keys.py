"""Step 6: checking a key's format, and handing it to the host project if it asks.

The key is compared with the provider's curated pattern and dropped; only its masked form
(the first 6 characters) is ever shown.
"""

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from registry.secrets import mask_key

logger = logging.getLogger(__name__)

# Below this length the first six characters would give away most of the key.
SHORTEST_MASKED_KEY = 12


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


class KeyReceiverError(Exception):
    pass


def receiver_configured():
    return bool(getattr(settings, "BYOK_API_KEY_RECEIVER", None))


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
