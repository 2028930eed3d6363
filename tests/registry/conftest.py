import pytest

from registry.interchange import COUNTER_FIELDS
from registry.models import Provider


@pytest.fixture
def make_provider(db):
    """Provider.objects.create with the required curated fields filled in."""

    def make(provider_id="acme", **fields):
        fields.setdefault("provider_name", provider_id.title())
        fields.setdefault("signup_url", f"https://{provider_id}.example/signup")
        fields.setdefault("api_key_url", f"https://{provider_id}.example/keys")
        fields.setdefault("documentation_url", f"https://{provider_id}.example/docs")
        return Provider.objects.create(provider_id=provider_id, **fields)

    return make


@pytest.fixture
def provider(make_provider):
    return make_provider("acme", provider_name="Acme AI", has_free_tier=True)


@pytest.fixture
def counters_of(db):
    """Every community counter of a provider, fresh from the database."""

    def read(provider_id):
        return Provider.objects.filter(provider_id=provider_id).values(*COUNTER_FIELDS).get()

    return read
