"""Step 6: checking a key's format, and handing it to the host project if it asks.

The key is compared with the provider's curated pattern and dropped; only its masked form
(the first 6 characters) is ever shown.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from registry.key_patterns import check_key_format
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
    """Compare a key with the provider's curated pattern. Returns only the masked form.

    The pattern is matched by registry.key_patterns, whose grammar cannot backtrack: a
    maintainer's pattern can never keep a worker busy, whatever key is sent."""
    masked = mask_key(api_key) if len(api_key) >= SHORTEST_MASKED_KEY else "(too short to show)"
    name = provider.provider_name
    check = check_key_format(provider.key_pattern, api_key)
    if check.verdict == "unknown":
        if provider.key_pattern:
            logger.warning(
                "Provider %s has a key_pattern outside the grammar", provider.provider_id
            )
        return KeyVerdict(
            "unknown",
            masked,
            f"We have no key format on file for {name}, so we cannot check this one. "
            "Make sure you copied the whole key.",
        )
    if check.verdict == "match":
        return KeyVerdict("match", masked, f"It matches the format of {name} keys.")
    prefix = check.expected_prefix
    hint = f"{name} keys start with {prefix}." if prefix else "Check that you copied all of it."
    return KeyVerdict(
        "mismatch", masked, f"This does not match the format we expect for {name}: {hint}"
    )


def expected_format(provider):
    """What the provider's keys look like, said before any key is checked."""
    name = provider.provider_name
    check = check_key_format(provider.key_pattern, "")
    if check.verdict == "unknown":
        return f"We have no key format on file for {name}: make sure you copy the whole key."
    if check.expected_prefix:
        return f"{name} keys start with {check.expected_prefix}."
    return f"We know the format of {name} keys and check it here."


class KeyReceiverError(Exception):
    pass


@dataclass(frozen=True)
class KeyOutcome:
    """What step 6 says about a key: its verdict, and whether the host took it."""

    verdict: KeyVerdict
    handed_over: bool
    receiver_failed: bool
    created: bool = False  # made by the provider for the visitor (onboarding.wizard.oauth)


@sensitive_variables("api_key")
def take_key(request, provider, api_key, *, created=False):
    """Step 6's handling of a key, typed or created: check its format, hand it to the host
    if one is configured, and keep nothing of it but the masked verdict."""
    verdict = check_key(provider, api_key)
    handed_over = receiver_failed = False
    try:
        handed_over = pass_key_to_host(request, provider, api_key)
    except KeyReceiverError:
        receiver_failed = True
    return KeyOutcome(verdict, handed_over, receiver_failed, created)


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
