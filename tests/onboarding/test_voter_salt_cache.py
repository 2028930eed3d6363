"""The per-process cache of the daily voter salt (registry/voters.py).

Transactional tests: the cache only keeps salts read outside a transaction, so in the usual
`db` tests (one transaction each) it is bypassed and tests/trust/test_voter_keys.py sees the
database alone."""

from datetime import timedelta

import pytest
from django.db import transaction

from registry import voters
from registry.models import VoterSalt, today


@pytest.fixture(autouse=True)
def empty_salt_cache():
    voters._committed_salts.clear()
    yield
    voters._committed_salts.clear()


def test_a_committed_salt_is_read_once_per_process(transactional_db, django_assert_num_queries):
    salt = voters.daily_salt()
    assert VoterSalt.objects.get(day=today()).salt == salt
    with django_assert_num_queries(0):
        assert voters.daily_salt() == salt


def test_a_salt_read_inside_a_transaction_is_not_kept(transactional_db):
    with transaction.atomic():
        salt = voters.daily_salt()
    assert not voters._committed_salts
    assert voters.daily_salt() == salt


def test_a_new_day_still_makes_its_salt_and_retires_old_ones(transactional_db):
    day = today()
    voters.daily_salt(day)
    for age in (3, 4):
        VoterSalt.objects.create(day=day - timedelta(days=age), salt=f"old{age}")
    tomorrow = day + timedelta(days=1)
    new = voters.daily_salt(tomorrow)
    assert new != voters.daily_salt(day)
    assert VoterSalt.objects.get(day=tomorrow).salt == new
    assert not VoterSalt.objects.filter(day__lt=tomorrow - timedelta(days=2)).exists()
