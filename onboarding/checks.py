from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


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
