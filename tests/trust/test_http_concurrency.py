"""No lost updates under concurrent writers, through real HTTP to a live server.

Eight client processes each send 200 mixed submissions (ratings, and wizard results that
record a setup report plus a rating), while a maintainer saves the same providers in the
admin again and again. Afterwards every counter equals its event rows: an admin save
writes only curated fields. Runs on whichever database the suite runs on (SQLite file or
PostgreSQL; on PostgreSQL a full save lost about one rating in nine).
"""

import json
import subprocess
import sys
import time

from django.db import connection
from django.db.models import Count, Sum
from django.test import Client

from registry.models import Provider

PROCESSES = 8
SUBMISSIONS_EACH = 200
# Providers that start with no community data, so counters must equal event rows exactly.
PROVIDERS = ["groq", "mistral", "cohere", "xai"]

WORKER = r"""
import http.client, json, sys, time, urllib.parse

host, port, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
providers = sys.argv[5].split(",")

def request(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response

token = None
for header, value in request("GET", "/providers/groq/").getheaders():
    if header.lower() == "set-cookie" and value.startswith("csrftoken="):
        token = value.split(";")[0].split("=", 1)[1]
assert token, "no CSRF cookie"

outcome = {"rating": 0, "setup": 0, "errors": []}
started = time.monotonic()
for n in range(count):
    provider = providers[(worker + n) % len(providers)]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={token}",
        "X-CSRFToken": token,
        # A new User-Agent per submission gives each its own voter key, so the abuse
        # limits (tested elsewhere) do not refuse any of them.
        "User-Agent": f"load-client/{worker}/{n}",
    }
    if n % 2 == 0:
        path = f"/providers/{provider}/rate/"
        body = {"rating": 1 + n % 5, "comment": ""}
        kind = "rating"
    else:
        path = f"/setup/7/?p={provider}"
        body = {"success": "yes" if n % 3 else "no", "minutes": 1 + n % 30, "stars": 1 + n % 5,
                "felt_difficulty": 1 + n % 4, "comment": "", "share": "on"}
        kind = "setup"
    response = request("POST", path, urllib.parse.urlencode(body), headers)
    if response.status in (302, 303):
        outcome[kind] += 1
    else:
        outcome["errors"].append(f"{path} -> {response.status}")
outcome["seconds"] = time.monotonic() - started
print(json.dumps(outcome))
"""


ADMIN_SAVES = 40

ADMIN_WORKER = r"""
import http.client, json, sys, urllib.parse

host, port, session, saves = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
forms = json.loads(sys.argv[5])  # [(admin change URL, form fields), ...]

def request(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response

token = None
for header, value in request("GET", "/providers/groq/").getheaders():
    if header.lower() == "set-cookie" and value.startswith("csrftoken="):
        token = value.split(";")[0].split("=", 1)[1]
errors = []
for n in range(saves):
    url, fields = forms[n % len(forms)]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={token}; sessionid={session}",
        "X-CSRFToken": token,
    }
    response = request("POST", url, urllib.parse.urlencode(fields, doseq=True), headers)
    if response.status != 302:
        errors.append(f"{url} -> {response.status}")
print(json.dumps({"saves": saves, "errors": errors}))
"""


def counters_and_events():
    providers = Provider.objects.filter(provider_id__in=PROVIDERS)
    result = {}
    for provider in providers:
        ratings = provider.rating_events.aggregate(n=Count("id"), stars=Sum("stars"))
        reports = provider.setup_report_events.all()
        result[provider.provider_id] = {
            "counters": (
                provider.ratings_count,
                provider.ratings_sum,
                provider.setup_reports,
                provider.setup_successes,
                provider.total_users,
                provider.active_users,
                provider.setup_minutes_sum,
            ),
            "events": (
                ratings["n"],
                ratings["stars"] or 0,
                reports.count(),
                reports.filter(success=True).count(),
                reports.count(),
                reports.filter(success=True).count(),
                reports.aggregate(m=Sum("minutes"))["m"] or 0,
            ),
        }
    return result


def test_concurrent_http_submissions_lose_no_update(
    live_server, default_providers, capsys, settings, admin_user, admin_provider_form
):
    # Every request comes from one loopback address, and in a burst: this test is about
    # lost updates, so it lifts the per-network limits and the burst rule (tested in
    # tests/trust/test_trust_integrity.py) out of its way.
    settings.REGISTRY_NETWORK_DAILY_LIMIT = settings.REGISTRY_RANGE_DAILY_LIMIT = 10**6
    settings.REGISTRY_DAILY_SUBMISSION_CAP = 10**6
    settings.REGISTRY_BURST_MIN_SUBMISSIONS = 10**6
    address = live_server.thread.host, str(live_server.thread.port)
    maintainer = Client()
    maintainer.force_login(admin_user)
    forms = [
        (f"/admin/registry/provider/{p.pk}/change/", admin_provider_form(p))
        for p in Provider.objects.filter(provider_id__in=PROVIDERS)
    ]
    admin = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ADMIN_WORKER,
            *address,
            maintainer.cookies["sessionid"].value,
            str(ADMIN_SAVES),
            json.dumps(forms),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                *address,
                str(worker),
                str(SUBMISSIONS_EACH),
                ",".join(PROVIDERS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(PROCESSES)
    ]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        outcomes.append(json.loads(out))
    elapsed = time.monotonic() - started
    admin_out, admin_err = admin.communicate(timeout=600)
    assert admin.returncode == 0, admin_err
    assert json.loads(admin_out) == {"saves": ADMIN_SAVES, "errors": []}

    errors = [error for outcome in outcomes for error in outcome["errors"]]
    ratings = sum(outcome["rating"] for outcome in outcomes)
    setups = sum(outcome["setup"] for outcome in outcomes)
    figures = counters_and_events()

    assert errors == []
    assert ratings + setups == PROCESSES * SUBMISSIONS_EACH
    lost = {
        provider_id: pair
        for provider_id, pair in figures.items()
        if pair["counters"] != pair["events"]
    }
    assert lost == {}
    assert sum(pair["events"][0] for pair in figures.values()) == ratings + setups
    assert sum(pair["events"][2] for pair in figures.values()) == setups

    with capsys.disabled():
        print(
            f"\n[http concurrency, {connection.vendor}] {PROCESSES} processes x "
            f"{SUBMISSIONS_EACH} submissions = {ratings + setups} requests "
            f"({ratings} ratings, {setups} wizard results) and {ADMIN_SAVES} admin saves of "
            f"the same providers in {elapsed:.1f} s: "
            f"{(ratings + setups) / elapsed:.0f} submissions/s, 0 errors, 0 lost updates"
        )
