"""Benchmark: check 1,000 providers x 5 URLs (four curated links and the API probe)
against HTTP servers on loopback, keeping the per-host rule. Prints the time, the
concurrency used, and what the servers saw per host.

    .venv/bin/python bench/check_links.py [--providers 1000] [--concurrency 32] [--delay 0.25]

Each provider has its own host (127.1.x.y), as real providers do, served by one asyncio
process on every address. Its URLs answer fast (200), slowly (0.2-0.6 s), with a
failure (404, 500, a reset, or no answer within the read timeout) or through a 301/302
chain, in proportions fixed by --seed. The database is a throwaway SQLite file.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"fast": 0.45, "slow": 0.2, "fail": 0.15, "redirect": 0.2}


def address(n):
    return f"127.1.{n // 250}.{n % 250 + 1}"


# --- the servers (a child process) ----------------------------------------------------


def serve(addresses, ready, commands, read_timeout):
    stats = {a: {"requests": 0, "in_flight": 0, "peak": 0, "last_start": None, "min_gap": None}
             for a in addresses}  # fmt: skip

    async def handle(reader, writer):
        host = writer.get_extra_info("sockname")[0]
        s = stats[host]
        start = time.monotonic()
        if s["last_start"] is not None:  # start to start: at least the delay plus a request
            gap = start - s["last_start"]
            s["min_gap"] = gap if s["min_gap"] is None else min(s["min_gap"], gap)
        s["last_start"] = start
        s["requests"] += 1
        s["in_flight"] += 1
        s["peak"] = max(s["peak"], s["in_flight"])
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode().removesuffix("/models")  # API probes
            status, location = 200, None
            if path.startswith("/slow/"):
                await asyncio.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            elif path.startswith("/redirect/"):
                hops = int(path.rsplit("/", 1)[1])
                status = 301 if hops % 2 else 302
                location = f"/redirect/{hops - 1}" if hops > 1 else "/fast"
            elif path.startswith("/fail/"):
                how = path.rsplit("/", 1)[1]
                if how == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if how == "hang":  # no answer: until the client gives up and hangs up
                    await asyncio.wait_for(reader.read(), read_timeout + 5)
                    return
                status = int(how)
            head = f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n"
            if location:
                head += f"Location: {location}\r\n"
            writer.write((head + "\r\n").encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            s["in_flight"] -= 1
            writer.close()

    async def main():
        servers = [await asyncio.start_server(handle, a, 0, backlog=64) for a in addresses]
        ready.send(
            {a: srv.sockets[0].getsockname()[1] for a, srv in zip(addresses, servers, strict=True)}
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, commands.recv)  # "stats"
        commands.send(
            {a: {k: v for k, v in s.items() if k != "last_start"} for a, s in stats.items()}
        )

    asyncio.run(main())


# --- the bench --------------------------------------------------------------------------


def url_for(rng, base):
    kind = rng.choices(list(KINDS), list(KINDS.values()))[0]
    if kind == "fast":
        return kind, base + "/fast"
    if kind == "slow":
        return kind, base + f"/slow/{rng.randint(200, 600)}"
    if kind == "redirect":
        return kind, base + f"/redirect/{rng.randint(1, 3)}"
    return kind, base + "/fail/" + rng.choice(["404", "500", "reset", "hang"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--delay", type=float, default=0.25, help="seconds between requests to a host"
    )
    parser.add_argument("--read-timeout", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="byok-bench-links-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="byok_site.settings",
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        HUEY_STORAGE_URL=f"sqlite:///{tmp / 'huey.sqlite3'}",
        DJANGO_LOG_LEVEL="WARNING",
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from registry.models import Provider
    from verification.health import run_checks
    from verification.models import CheckKind, HealthCheck

    call_command("migrate", verbosity=0)
    addresses = [address(n) for n in range(args.providers)]
    ready_parent, ready_child = multiprocessing.Pipe()
    commands_parent, commands_child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=serve, args=(addresses, ready_child, commands_child, args.read_timeout), daemon=True
    )
    server.start()
    ports = ready_parent.recv()

    rng = random.Random(args.seed)
    kinds = Counter()
    providers = []
    for n, host in enumerate(addresses):
        base = f"http://{host}:{ports[host]}"
        urls = {}
        for field in (
            "signup_url",
            "api_key_url",
            "documentation_url",
            "website_url",
            "api_base_url",
        ):
            kind, url = url_for(rng, base)
            kinds[kind] += 1
            urls[field] = url
        providers.append(
            Provider(provider_id=f"bench-{n:04d}", provider_name=f"Bench {n:04d}", **urls)
        )
    Provider.objects.bulk_create(providers, batch_size=500)

    settings.VERIFICATION_CONCURRENCY = args.concurrency
    settings.VERIFICATION_HOST_DELAY = args.delay
    settings.VERIFICATION_READ_TIMEOUT = args.read_timeout
    settings.VERIFICATION_CONNECT_TIMEOUT = 2.0
    print(f"bench: {args.providers} providers x 5 URLs on {len(addresses)} loopback hosts; "
          f"concurrency {args.concurrency}, {args.delay} s between requests to a host, "
          f"read timeout {args.read_timeout} s")  # fmt: skip
    print("  URL kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    total = time.perf_counter()
    runs = []
    for kind in (CheckKind.LINKS, CheckKind.API):
        started = time.perf_counter()
        run = run_checks(kind)
        seconds = time.perf_counter() - started
        runs.append(run)
        rate = run.targets / seconds
        print(f"  {kind:<5}: {run.targets} URLs in {seconds:6.1f} s ({rate:5.1f}/s), "
              f"peak {run.peak_concurrency} requests in flight, {run.failures} failures, "
              f"offline={run.offline}")  # fmt: skip
    elapsed = time.perf_counter() - total
    commands_parent.send("stats")
    stats = commands_parent.recv()
    server.join(timeout=10)
    peaks = Counter(s["peak"] for s in stats.values())
    gaps = [s["min_gap"] for s in stats.values() if s["min_gap"] is not None]
    requests = sum(s["requests"] for s in stats.values())
    per_host = max(s["requests"] for s in stats.values())
    # Within one run a host's URLs go one after another; the two runs follow each other.
    bound = (per_host - 1) * args.delay
    rows = HealthCheck.objects.count()
    print(f"  total: {elapsed:.1f} s for {requests} requests ({rows} result rows)")
    print(f"  per host, as the servers saw it: most requests in flight at once {dict(peaks)}; "
          f"shortest time from one request's start to the next {min(gaps):.3f} s "
          f"(delay {args.delay} s)")  # fmt: skip
    print(f"  busiest host: {per_host} requests, so at least {bound:.2f} s of its own delays")
    ideal = len(addresses) * 5 * args.delay / args.concurrency
    print(f"  lower bound from the delays alone at this concurrency: ~{ideal:.1f} s")
    summary = {
        "seconds": round(elapsed, 1),
        "requests": requests,
        "peak_concurrency": max(r.peak_concurrency for r in runs),
        "max_in_flight_per_host": max(peaks),
        "min_gap": round(min(gaps), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
