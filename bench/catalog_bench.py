"""Benchmarks for models and prices (issue #14): `sync_models`, then the model pages.

    .venv/bin/python bench/catalog_bench.py                 # both parts, ~4 min on 2 cores
    .venv/bin/python bench/catalog_bench.py --only sync     # the sync timings only
    .venv/bin/python bench/catalog_bench.py --only pages --quick

1. sync_models on the full models.dev snapshot (../shared/data/models-dev-api.json, 5,276
   offerings) into an empty database, again with no changes (it must write nothing: the
   SQL it sends is counted), and with 5% of the prices changed. Times are of the command
   itself (call_command, Django already set up); rows are what its summary reports, and
   the write statements are counted from the connection.
2. The pages under gunicorn with production settings, measured with wrk as bench/run.py
   does (its helpers are imported): /models/ (the full page, and a filtered fragment with
   HX-Request) and a model page with 20 offerings (plain, and with the cost calculator),
   as ratios to /healthz, at the full catalogue and at 10x synthetic scale (every
   provider copied 9 more times with renamed model ids: 10x models, offerings and prices,
   the same 20 offerings on the page under test). wrk repeats one URL, so these are cache
   hits; "cold ms" is the first request of each to a fresh worker (imports, template
   compilation and the cache miss together).
"""

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import run as bench_run  # noqa: E402 (bench/run.py: gunicorn, wrk and their helpers)

CATALOGUE = ROOT.parent / "shared" / "data" / "models-dev-api.json"
SCALES = {"full": 1, "10x": 10}
CHANGED_SHARE = 0.05
PAGE_OFFERINGS = 20
TARGET = 0.5  # of the floor, for cache hits
SCALE_TARGET = 0.8  # of the full catalogue's throughput, at 10x


def parse_args():
    parser = argparse.ArgumentParser(description="Benchmark sync_models and the model pages.")
    parser.add_argument("--only", choices=["sync", "pages"], help="run one part")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 2
    return args


def load_catalogue():
    if not CATALOGUE.exists():
        sys.exit(f"The full catalogue is not at {CATALOGUE} (../shared/data from the repository).")
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def scaled(data, factor):
    """The catalogue with every provider copied factor - 1 more times, model ids renamed
    per copy (so each copy's listings are new models, not more offerings of the same)."""
    providers = dict(data["providers"])
    for k in range(1, factor):
        for pid, provider in data["providers"].items():
            copy_ = copy.deepcopy(provider)
            copy_["id"] = f"{pid}-syn{k}"
            copy_["models"] = {
                f"{mid}-syn{k}": {**entry, "id": f"{mid}-syn{k}"}
                for mid, entry in provider["models"].items()
            }
            providers[copy_["id"]] = copy_
    return {"source": data["source"], "providers": providers}


def changed_prices(data, share, seed=14):
    """A copy with `share` of the priced listings' input price raised by 10%."""
    import random

    changed = copy.deepcopy(data)
    priced = [
        entry
        for provider in changed["providers"].values()
        for entry in provider["models"].values()
        if isinstance(entry.get("cost"), dict) and "input" in entry["cost"]
    ]
    picked = random.Random(seed).sample(priced, round(len(priced) * share))
    for entry in picked:
        entry["cost"]["input"] = round(entry["cost"]["input"] * 1.1 + 0.01, 6)
    return changed, len(picked)


# --- part 1: sync_models ------------------------------------------------------------------


def setup_django(database_path):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "byok_site.settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(database_path)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if os.environ.get("DATABASE_URL"):
        call_command("flush", "--noinput", verbosity=0)


def timed_sync(path):
    """(seconds, summary line, write statements) of one `sync_models PATH`."""
    from django.core.management import call_command
    from django.db import connection

    writes = []

    def count_writes(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(sql)
        return execute(sql, params, many, context)

    out = StringIO()
    with connection.execute_wrapper(count_writes):
        started = time.perf_counter()
        call_command("sync_models", str(path), stdout=out)
        seconds = time.perf_counter() - started
    last = out.getvalue().strip().splitlines()[-1]
    return seconds, last, len(writes)


def bench_sync(tmp):
    data = load_catalogue()
    setup_django(Path(tmp) / "sync.sqlite3")
    from catalog.models import Model, Offering, Price

    full = Path(tmp) / "full.json"
    full.write_text(json.dumps(data))
    changed, count = changed_prices(data, CHANGED_SHARE)
    modified = Path(tmp) / "changed.json"
    modified.write_text(json.dumps(changed))
    from django.db import connection

    print(f"\n== sync_models ({connection.vendor}), {CATALOGUE.name}")
    runs = [
        ("into an empty database", full),
        ("again, no changes", full),
        (f"{count} prices changed ({CHANGED_SHARE:.0%})", modified),
    ]
    results = []
    for label, path in runs:
        seconds, summary, writes = timed_sync(path)
        results.append({"run": label, "seconds": seconds, "summary": summary, "writes": writes})
        print(f"  {label:<28} {seconds:6.2f} s  {writes:>5} write statements  {summary}")
    print(
        f"  database: {Model.objects.count()} models, {Offering.objects.count()} offerings, "
        f"{Price.objects.count()} price rows"
    )
    ok = results[1]["writes"] == 0
    print(f"  no-change sync wrote nothing: {'ok' if ok else 'FAIL'}")
    return results


# --- part 2: pages ------------------------------------------------------------------------


def page_model(env):
    """The model id with 20 offerings (or the nearest count) in the synced database."""
    import subprocess

    code = (
        "import django,os;django.setup();"
        "from django.db.models import Count;from catalog.models import Model;"
        "rows=Model.objects.annotate(n=Count('offerings')).values_list('model_id','n');"
        f"print(min(rows,key=lambda r:(abs(r[1]-{PAGE_OFFERINGS}),r[0]))[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def endpoints(model_id):
    return {
        "healthz": {"path": "/healthz"},
        "models": {"path": "/models/"},
        "fragment": {
            "path": "/models/?tools=on&max_input=1",
            "headers": {"HX-Request": "true"},
        },
        "model": {"path": f"/models/{model_id}/"},
        "cost": {"path": f"/models/{model_id}/?preset=chat"},
    }


def bench_pages_at(scale, factor, data, args, tmp):
    print(f"\n== pages at {scale} ({factor}x the catalogue)")
    env = bench_run.server_env(tmp)
    if env.get("SQLITE_PATH"):
        env["SQLITE_PATH"] = str(Path(tmp) / f"pages-{scale}.sqlite3")
    env["MODELS_SYNC_MAX_BYTES"] = str(512 * 1024 * 1024)
    bench_run.manage(env, "migrate", "--noinput", "-v", "0")
    if not env.get("SQLITE_PATH"):
        bench_run.manage(env, "flush", "--noinput", "-v", "0")
    bench_run.manage(env, "load_default_providers", "-v", "0")
    path = Path(tmp) / f"catalogue-{scale}.json"
    path.write_text(json.dumps(scaled(data, factor)))
    started = time.perf_counter()
    bench_run.manage(env, "sync_models", str(path), "-v", "0")
    seconds = time.perf_counter() - started
    print(f"  data: sync of {path.stat().st_size / 1e6:.0f} MB in {seconds:.1f} s")
    model_id = page_model(env)
    bench_run.ENDPOINTS = endpoints(model_id)
    port = bench_run.free_port()
    proc = bench_run.start_server(env, port, args.workers, Path(tmp) / f"gunicorn-{scale}.log")
    try:
        first = {}
        for name, spec in bench_run.ENDPOINTS.items():
            started = time.perf_counter()
            status, _, body = bench_run.fetch(port, spec["path"], headers=spec.get("headers"))
            first[name] = (time.perf_counter() - started) * 1000
            size = len(body)
            print(
                f"  probe {name:<9} {spec['path']:<44} {status} {size:>7} B {first[name]:7.1f} ms"
            )
        for name, spec in bench_run.ENDPOINTS.items():  # warm every worker's cache
            bench_run.run_wrk(port, name, spec.get("headers", {}), 1, args)
        rounds = {name: [] for name in bench_run.ENDPOINTS}
        for _ in range(args.rounds):
            for name, spec in bench_run.ENDPOINTS.items():
                rounds[name].append(
                    bench_run.run_wrk(port, name, spec.get("headers", {}), args.duration, args)
                )
    finally:
        bench_run.stop_server(proc)
    results = {name: bench_run.summarize(runs) for name, runs in rounds.items()}
    floor = results["healthz"]["rps"] or 1
    for name, result in results.items():
        result["ratio"] = result["rps"] / floor
        result["first_ms"] = first[name]
    return {"model_id": model_id, "endpoints": results}


def print_pages(scale, result):
    print(f"\n-- {scale}: medians; model page = /models/{result['model_id']}/")
    print(
        f"  {'endpoint':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>14}"
        f"  {'x floor':>7} {'target':>11} {'cold ms':>8}"
    )
    for name, e in result["endpoints"].items():
        goal = ""
        if name != "healthz":
            ok = e["ratio"] >= TARGET and e["errors"] == 0
            goal = f">={TARGET:.2f} {bench_run.mark(ok)}"
        print(
            f"  {name:<9} {e['rps']:8.0f} {e['p50_ms']:8.2f} {e['p99_ms']:8.2f} "
            f"{e['errors']:>6}/{e['requests']:<7}  {e['ratio']:7.2f} {goal:>11} "
            f"{e['first_ms']:8.1f}"
        )


def print_scale(results):
    base, big = results["full"]["endpoints"], results["10x"]["endpoints"]
    print("\n-- 10x against full: req/s (x of floor ratio)")
    for name in base:
        raw = big[name]["rps"] / base[name]["rps"] if base[name]["rps"] else 0
        norm = big[name]["ratio"] / base[name]["ratio"] if base[name]["ratio"] else 0
        ok = name == "healthz" or raw >= SCALE_TARGET
        print(
            f"  {name:<9} {base[name]['rps']:7.0f} -> {big[name]['rps']:7.0f}  "
            f"x{raw:4.2f} ({norm:4.2f}) {bench_run.mark(ok)}"
        )
    print(f"  target: every page >= {SCALE_TARGET}x its full-catalogue figure")


def bench_pages(args, tmp):
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: sudo apt-get install wrk")
    data = load_catalogue()
    env = bench_run.server_env(tmp)
    bench_run.manage(env, "collectstatic", "--noinput", "-v", "0")
    results = {}
    for scale, factor in SCALES.items():
        results[scale] = bench_pages_at(scale, factor, data, args, tmp)
        print_pages(scale, results[scale])
    print_scale(results)
    return results


def main():
    args = parse_args()
    tmp = tempfile.mkdtemp(prefix="byok-bench-catalog-")
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "args": vars(args)}
    try:
        if args.only in (None, "pages"):
            report["pages"] = bench_pages(args, tmp)
        if args.only in (None, "sync"):
            report["sync"] = bench_sync(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = BENCH / "results" / "catalog.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
