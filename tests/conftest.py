import pytest
from django.core.management import call_command


@pytest.fixture
def default_providers(db):
    """The shipped default data, loaded the way `make run` loads it."""
    call_command("load_default_providers", verbosity=0)
