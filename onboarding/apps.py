from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
