"""The seed's "Usage Examples", word for word but for the import, which names
registry.services (tests/registry/test_seed_examples.py checks them against the seed);
over_http() makes it registry.client, to run them against a server
(tests/api/test_client.py)."""

import contextlib
import io

BASIC_USAGE = """\
from registry.services import get_registry

# Get registry instance
registry = get_registry()

# Get recommended free providers
providers = registry.get_recommended_providers(
    free_only=True,
    min_trust_score=70.0
)

for provider in providers:
    print(f"{provider.provider_name}: {provider.get_trust_score()}/100")
"""

RECORD_USER_FEEDBACK = """\
# User successfully signed up
registry.record_user_signup(
    provider_id='openrouter',
    success=True,
    setup_time_minutes=3
)

# User left a review
registry.add_feedback(
    provider_id='openrouter',
    rating=5,
    comment="Super easy setup! Worked first time."
)
"""

# What the basic example prints on the default data.
BASIC_USAGE_OUTPUT = "OpenRouter: 92.3/100\nDeepSeek: 79.7/100\n"


def over_http(example):
    """The example with its import naming registry.client instead (get_registry() there
    reads BYOK_REGISTRY_URL)."""
    return example.replace("from registry.services import", "from registry.client import")


def run(code, namespace):
    """Run an example as a script in `namespace`; what it printed."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "<seed example>", "exec"), namespace)  # noqa: S102
    return output.getvalue()
