import pytest
from django.test import Client

from api.models import ApiToken


@pytest.fixture
def api(db):
    """A client from one network, as a host application's server would be."""
    return Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="HostApp/1.0")


@pytest.fixture
def issue_token(db):
    """An issued API client token: (its row, the token itself)."""

    def issue(name="Host app", daily_quota=1000):
        token = ApiToken(name=name, daily_quota=daily_quota)
        value = token.issue()
        token.save()
        return token, value

    return issue


def post_json(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def error_of(response, status, code, field=None):
    """Assert the API's JSON error shape, and return its message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"code", "message", "field"}
    assert data["code"] == code
    assert data["field"] == field
    assert data["message"]
    return data["message"]
