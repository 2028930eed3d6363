"""Voter keys: anonymous, per day; the visitor (network + User-Agent), the network (IPv4
address, IPv6 /64) and the range (IPv4 /24, IPv6 /48); X-Forwarded-For only behind
trusted proxies."""

from datetime import timedelta

from django.test import RequestFactory
from django.utils import timezone

from registry.models import DailyQuota, ProviderHour, VoterSalt, today
from registry.voters import client_ip, daily_salt, voter_for


def voter_key_for(request, day=None):
    return voter_for(request, day).visitor


factory = RequestFactory()


def request_from(address, agent="Firefox", forwarded=None):
    extra = {"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.post("/", **extra)


def test_keys_are_opaque_hmacs_not_the_address(db):
    voter = voter_for(request_from("203.0.113.9"))
    for key in (voter.visitor, voter.network, voter.range):
        assert len(key) == 64 and int(key, 16) >= 0
        assert "203.0.113" not in key
    assert len({voter.visitor, voter.network, voter.range}) == 3


def test_a_new_user_agent_is_a_new_visitor_on_the_same_network(db):
    firefox = voter_for(request_from("203.0.113.9", agent="Firefox"))
    chrome = voter_for(request_from("203.0.113.9", agent="Chrome"))
    assert firefox.visitor != chrome.visitor
    assert (firefox.network, firefox.range) == (chrome.network, chrome.range)


def test_networks_and_ranges_of_ipv4(db):
    one = voter_for(request_from("203.0.113.9"))
    neighbour = voter_for(request_from("203.0.113.200"))
    elsewhere = voter_for(request_from("203.0.114.9"))
    assert one.network != neighbour.network
    assert one.range == neighbour.range  # the same /24
    assert one.range != elsewhere.range


def test_networks_and_ranges_of_ipv6(db):
    one = voter_for(request_from("2001:db8:1:2::1"))
    same_64 = voter_for(request_from("2001:db8:1:2:ffff:ffff:ffff:ffff"))
    same_48 = voter_for(request_from("2001:db8:1:ffff::1"))
    other_48 = voter_for(request_from("2001:db8:2::1"))
    assert one.network == same_64.network
    assert one.network != same_48.network and one.range == same_48.range
    assert one.range != other_48.range


def test_ipv4_mapped_ipv6_is_the_ipv4_address(db):
    mapped = voter_for(request_from("::ffff:203.0.113.9"))
    assert mapped == voter_for(request_from("203.0.113.9"))


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


def test_old_salts_quotas_and_tallies_are_deleted_by_the_first_visitor_of_a_day(provider):
    day = today()
    now = timezone.now()
    for age in (1, 2, 3, 10):
        VoterSalt.objects.create(day=day - timedelta(days=age), salt=f"old{age}")
        DailyQuota.objects.create(bucket="k", day=day - timedelta(days=age), used=1, cap=3)
        ProviderHour.objects.create(provider=provider, hour=now - timedelta(days=age), submitted=1)

    daily_salt(day)

    kept = sorted(
        (day - salt_day).days for salt_day in VoterSalt.objects.values_list("day", flat=True)
    )
    assert kept == [0, 1, 2]
    quota_days = DailyQuota.objects.values_list("day", flat=True)
    assert sorted((day - d).days for d in quota_days) == [1, 2]
    tally_ages = sorted((now - h).days for h in ProviderHour.objects.values_list("hour", flat=True))
    assert tally_ages == [1, 2, 3]  # the burst rule looks back a week


def test_salt_is_made_once_per_day(db):
    assert daily_salt() == daily_salt()
    assert VoterSalt.objects.count() == 1
