"""Page latency of the web app: p50/p95 of the main pages under 20 concurrent clients.

Builds the demo workspace (default 5,000 deals) with its seeded knowledge (8 UDRs, causes,
improvements), starts a real ``salesflow serve`` on a free loopback port (one worker), signs in,
requests every page once (cold: the first computation of each page), then runs ``--clients`` threads, each with its own signed-in session, for
``--rounds`` passes over the pages (warm: the server's result cache is in use). Loopback only,
a bounded number of requests.

    .venv/bin/python benchmarks/bench_web.py --clients 20 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PAGES = (
    "/",
    "/measures?metric=win_rate&period=month",
    "/value-stream",
    "/requests",
    "/forecasts",
    "/data",
    "/api/metrics/cycle_time?period=week",
    "/udrs",
    "/udrs?view=board",
    "/udrs/1",
    "/causes",
    "/improvements",
    "/improvements/1",
)
PASSWORD = "benchmark password"
SERVE = (
    "from salesflow.cli.common import new_app; from salesflow.cli import web_cmds; "
    "app = new_app('salesflow'); web_cmds.register(app); app()"
)


def _workspace(folder: Path, deals: int) -> Path:
    from salesflow.appdb import KnowledgeStore
    from salesflow.demo import build_demo
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = folder / "demo"
    build_demo(path, opportunities=deals, seed=7)
    seed_demo_knowledge(path)  # the 8 UDRs, causes and improvements of the demo company
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        store.users.create("bench", role="viewer", password_hash=hash_password(PASSWORD))
    return path


def _client(url: str):
    import httpx

    client = httpx.Client(base_url=url, timeout=60)
    client.get("/login")
    token = client.cookies.get("salesflow_login_csrf")
    r = client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (200, 303), r.text
    return client


def _start(path: Path) -> tuple[subprocess.Popen, str]:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "-w", str(path)],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SALESFLOW_WORKSPACE": str(path)},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/login", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the server did not start")


def _timed(client, page: str) -> float:
    started = time.perf_counter()
    r = client.get(page)
    elapsed = time.perf_counter() - started
    if r.status_code != 200:
        raise SystemExit(f"{page} answered {r.status_code}: {r.text[:200]}")
    return elapsed


def _load(url: str, clients: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    lock = threading.Lock()
    sessions = [_client(url) for _ in range(clients)]
    start = threading.Barrier(clients)

    def run(i: int) -> None:
        start.wait()
        for r in range(rounds):
            for k in range(len(PAGES)):
                page = PAGES[(i + r + k) % len(PAGES)]
                took = _timed(sessions[i], page)
                with lock:
                    times[page].append(took)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--deals", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = _workspace(Path(tmp), args.deals)
        proc, url = _start(path)
        try:
            one = _client(url)
            cold = {p: _timed(one, p) * 1000 for p in PAGES}
            load_before = os.getloadavg()[0]
            wall = time.perf_counter()
            times = _load(url, args.clients, args.rounds)
            wall = time.perf_counter() - wall
            load_after = os.getloadavg()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    total = sum(len(v) for v in times.values())
    print(f"{args.deals:,} deals, {args.clients} clients x {args.rounds} rounds x "
          f"{len(PAGES)} pages = {total} requests in {wall:.1f} s ({total / wall:.0f}/s); "
          f"1-min load average {load_before:.2f} before, {load_after:.2f} after, "
          f"{os.cpu_count()} cores")  # fmt: skip
    print("| page | cold (first) ms | warm p50 ms | warm p95 ms |\n|---|---|---|---|")
    for page, values in times.items():
        print(f"| `{page}` | {cold[page]:,.0f} | {_p(values, 50):,.0f} | {_p(values, 95):,.0f} |")
    every = [v for values in times.values() for v in values]
    print(f"| all pages | — | {_p(every, 50):,.0f} | {_p(every, 95):,.0f} |")


if __name__ == "__main__":
    main()
