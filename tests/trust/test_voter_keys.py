"""Voter keys: anonymous, per day, IPv6 /64, X-Forwarded-For only behind trusted proxies."""

from datetime import timedelta

from django.test import RequestFactory

from registry.models import VoterDay, VoterSalt, today
from registry.voters import client_ip, daily_salt, voter_key_for

factory = RequestFactory()


def request_from(address, agent="Firefox", forwarded=None):
    extra = {"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.post("/", **extra)


def test_key_is_an_opaque_hmac_not_the_address(db):
    key = voter_key_for(request_from("203.0.113.9"))
    assert len(key) == 64 and int(key, 16) >= 0
    assert "203.0.113.9" not in key


def test_same_visitor_same_key_other_agent_or_address_other_key(db):
    assert voter_key_for(request_from("203.0.113.9")) == voter_key_for(request_from("203.0.113.9"))
    assert voter_key_for(request_from("203.0.113.9")) != voter_key_for(request_from("203.0.113.10"))
    assert voter_key_for(request_from("203.0.113.9")) != voter_key_for(
        request_from("203.0.113.9", agent="Chrome")
    )


def test_ipv6_addresses_in_one_64_share_a_key(db):
    one = voter_key_for(request_from("2001:db8:1:2::1"))
    same_network = voter_key_for(request_from("2001:db8:1:2:ffff:ffff:ffff:ffff"))
    next_network = voter_key_for(request_from("2001:db8:1:3::1"))
    assert one == same_network
    assert one != next_network


def test_forwarded_for_is_ignored_without_trusted_proxies(db, settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 0
    request = request_from("10.0.0.1", forwarded="198.51.100.7")
    assert client_ip(request) == "10.0.0.1"


def test_forwarded_for_is_read_behind_the_configured_number_of_proxies(db, settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    # A client can put anything at the front of the header; only the address our own
    # proxy appended (the last one) is trusted.
    request = request_from("10.0.0.1", forwarded="6.6.6.6, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 2
    request = request_from("10.0.0.1", forwarded="198.51.100.7, 10.0.0.2")
    assert client_ip(request) == "198.51.100.7"


def test_keys_differ_from_day_to_day(db):
    day = today()
    yesterday = voter_key_for(request_from("203.0.113.9"), day=day - timedelta(days=1))
    assert voter_key_for(request_from("203.0.113.9"), day=day) != yesterday


def test_old_salts_and_counters_are_deleted_by_the_first_visitor_of_a_day(db):
    day = today()
    for age in (1, 2, 3, 10):
        VoterSalt.objects.create(day=day - timedelta(days=age), salt=f"old{age}")
        VoterDay.objects.create(voter_key="k", day=day - timedelta(days=age), submissions=1)

    daily_salt(day)

    kept = sorted(
        (day - salt_day).days for salt_day in VoterSalt.objects.values_list("day", flat=True)
    )
    assert kept == [0, 1, 2]
    assert sorted((day - d).days for d in VoterDay.objects.values_list("day", flat=True)) == [1, 2]


def test_salt_is_made_once_per_day(db):
    assert daily_salt() == daily_salt()
    assert VoterSalt.objects.count() == 1
