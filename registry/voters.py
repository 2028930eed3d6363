"""Voter keys: anonymous, unlinkable identities per day, for the abuse limits.

Each submission carries three HMAC-SHA256 keys under the day's random salt:
- visitor: network + User-Agent. One rating and one setup report per provider per day;
  it tells apart two people behind one NAT. The User-Agent is a hint, never an identity:
- network: the IPv4 address, or the IPv6 /64 (what one visitor controls);
- range: the IPv4 /24, or the IPv6 /48.
A client cannot change its network or range by changing headers, so the per-network and
per-range limits (registry.services) hold however often it rotates its User-Agent.

No IP address, User-Agent or range is stored. The salt is random, made on first use each
day and deleted after two days, so yesterday's keys cannot be recomputed or linked to
today's.
"""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction

from . import services
from .models import VoterSalt, today

SALT_DAYS_KEPT = 2


# Each process keeps the committed salts it has read, by database and day: a salt never
# changes once made and is only deleted days after its day, so re-reading it on every
# submission bought nothing (~7% of a rating POST). The database stays the source of truth:
# a salt is read or made there first, and one read inside a transaction (which could still
# roll back, as every pytest-django `db` test does) is never kept.
_committed_salts = {}


def daily_salt(day=None):
    day = day or today()
    connection = connections[router.db_for_write(VoterSalt)]
    if connection.in_atomic_block:
        return _salt_from_database(day)
    key = (connection.alias, connection.settings_dict["NAME"], day)
    salt = _committed_salts.get(key)
    if salt is None:
        salt = _salt_from_database(day)
        if len(_committed_salts) > 8:
            _committed_salts.clear()  # yesterday's salts: no need to keep them
        _committed_salts[key] = salt
    return salt


def _salt_from_database(day):
    salt = VoterSalt.objects.filter(day=day).values_list("salt", flat=True).first()
    if salt is not None:
        return salt
    try:
        with transaction.atomic():
            VoterSalt.objects.create(day=day, salt=secrets.token_hex(32))
            # The first visitor of a day retires the old salts, and starts the day's upkeep
            # of the limits and the score: no cron needed.
            VoterSalt.objects.filter(day__lt=day - timedelta(days=SALT_DAYS_KEPT)).delete()
            services.daily_upkeep(day)
    except IntegrityError:
        pass  # another request made today's salt first
    return VoterSalt.objects.get(day=day).salt


def client_ip(request):
    """REMOTE_ADDR, or the address the last trusted proxy saw, if proxies are configured."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REGISTRY_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return address


def _ip(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def network_of(address):
    """An IPv6 visitor controls a whole /64, so that is what counts as one address."""
    ip = _ip(address)
    if ip is None:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def range_of(address):
    """The IPv4 /24 or the IPv6 /48 around an address: one provider's or site's block."""
    ip = _ip(address)
    if ip is None:
        return "unknown"
    prefix = 48 if ip.version == 6 else 24
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True)
class Voter:
    """Who sent a submission, as the day's HMACs: never the address or headers themselves.

    `quota` is set for an API client token (token_voter): its own daily quota replaces the
    per-network, per-range and daily caps of registry.limits."""

    visitor: str
    network: str
    range: str
    quota: int | None = None


def _hmac(salt, material):
    return hmac.new(salt.encode(), material.encode(), hashlib.sha256).hexdigest()


def network_key(request):
    """Only the network's key of voter_for(): what the API's per-network read limit counts
    (registry.limits.take_reads), without the range, whose /24 costs more to compute."""
    return _hmac(daily_salt(), f"network|{network_of(client_ip(request))}")


def voter_for(request, day=None):
    address = client_ip(request)
    network = network_of(address)
    salt = daily_salt(day)
    return Voter(
        visitor=_hmac(salt, f"visitor|{network}|{request.META.get('HTTP_USER_AGENT', '')}"),
        network=_hmac(salt, f"network|{network}"),
        range=_hmac(salt, f"range|{range_of(address)}"),
    )


# A token's visitor keys start with this and the token's id, so the admin can tell which
# host application sent an event (for review), while the user part stays a daily HMAC.
TOKEN_VISITOR_PREFIX = "api"  # noqa: S105 (a prefix, not a secret)


def token_voter(token_id, quota, end_user=""):
    """The Voter of a request that bears an API client token (api.tokens): limited per
    token instead of per network. The token is its network and its range, so a host
    application's submissions count against its own daily `quota`, wherever it runs.

    The per-visitor rule stays meaningful: `end_user` is the host application's opaque
    name for the person it submits for, kept only inside the visitor key's HMAC, so each
    of its users counts once per provider per day. Without one, the whole token is one
    visitor."""
    salt = daily_salt()
    prefix = f"{TOKEN_VISITOR_PREFIX}{token_id}:"
    network = _hmac(salt, f"token|{token_id}")
    visitor = _hmac(salt, f"token-visitor|{token_id}|{end_user}")
    return Voter(
        visitor=prefix + visitor[: 64 - len(prefix)],  # Event.voter_key holds 64
        network=network,
        range=network,
        quota=quota,
    )
