from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@register()
def check_api_key_receiver(app_configs, **kwargs):
    """A mistyped BYOK_API_KEY_RECEIVER should stop the deploy, not fail on a visitor's key."""
    path = getattr(settings, "BYOK_API_KEY_RECEIVER", None)
    if not path:
        return []
    try:
        receiver = import_string(path)
    except ImportError as error:
        return [
            Error(
                f"BYOK_API_KEY_RECEIVER {path!r} cannot be imported: {error}",
                hint="Give the dotted path of a callable(request, provider, api_key).",
                id="onboarding.E001",
            )
        ]
    if not callable(receiver):
        return [Error(f"BYOK_API_KEY_RECEIVER {path!r} is not callable.", id="onboarding.E002")]
    return []


@register()
def check_one_click_keys(app_configs, **kwargs):
    """Each one-click key flow names its two endpoints, over https (plain http only on
    loopback, for a stand-in server): the code and the verifier must not cross a network
    in the clear."""
    problems = []
    for provider_id, entry in getattr(settings, "BYOK_ONE_CLICK_KEYS", {}).items():
        for name in ("auth_url", "keys_url"):
            url = entry.get(name) if isinstance(entry, dict) else None
            parts = urlsplit(url or "")
            secure = parts.scheme == "https" or (
                parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
            )
            if not (url and parts.hostname and secure):
                problems.append(
                    Error(
                        f"BYOK_ONE_CLICK_KEYS[{provider_id!r}][{name!r}] must be an https URL.",
                        hint="Plain http is accepted only on loopback (127.0.0.1, localhost).",
                        id="onboarding.E003",
                    )
                )
    return problems
