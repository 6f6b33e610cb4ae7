"""``kill -9`` at any point of an import or a demo rebuild leaves the workspace exactly as before or
exactly as after: row counts, row contents and the derived flow tables, and the next command
works without repair. The kill points are drawn from a seeded random stream; half of them fall
inside the write itself (once the next generation of the data file exists)."""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

import pytest

from salesflow.schema import TABLES

TRIES = 20  # imports killed; benchmarks/bench_kill.py runs the same at a larger size
DEMO_TRIES = 4  # demo rebuilds killed
# Jobs start in processes forked from one that has salesflow loaded already: the kill points
# fall in the work, not in Python's start-up, and each try costs a fork, not an interpreter.
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["salesflow.ingest", "salesflow.demo", "ibis.backends.duckdb"])


def job(kind: str, path: str, arg: str) -> None:
    from salesflow.demo import build_demo
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace

    if kind == "import":
        import_file(Workspace.open(path), "stage_events", Path(arg))
    else:
        build_demo(path, opportunities=int(arg), seed=5, force=True)


def state(path: Path) -> dict:
    """Everything an import can change, read the way any reader would (read-only)."""
    from salesflow import derived
    from salesflow.workspace import Workspace

    with Workspace.open(path) as ws:
        raw = ws.data.con
        doc = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        doc["events"] = raw.execute(
            "SELECT sum(hash(opportunity_id, stage, entered_at)) FROM stage_events"
        ).fetchone()[0]
        doc["deals"] = raw.execute(
            "SELECT sum(hash(opportunity_id, stage, outcome, closed_at, amount)) FROM opportunities"
        ).fetchone()[0]
        doc["flow_fresh"] = derived.is_fresh(ws.data, ws.settings)
        doc["flow"] = raw.execute(
            "SELECT (SELECT count(*) FROM flow_cases), (SELECT sum(n_cases) FROM flow_variants), "
            "(SELECT count(*) FROM flow_transitions)"
        ).fetchone()
    return doc


def histories(path: Path, out: Path, n: int) -> Path:
    """A new stage history for ``n`` existing deals: Lead, Qualified, then Won."""
    import duckdb

    con = duckdb.connect(str(path / "data.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT opportunity_id, created_at FROM opportunities ORDER BY opportunity_id LIMIT ?", [n]
    ).fetchall()
    con.close()
    lines = ["opportunity_id,stage,entered_at"]
    for deal, created in rows:
        for stage, days in (("Lead", 0), ("Qualified", 6), ("Won", 30)):
            lines.append(f"{deal},{stage},{(created + _days(days)).isoformat(sep=' ')}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


class Runner:
    """One job in a forked process, started by :meth:`go`."""

    def __init__(self, *args: str) -> None:
        self.proc = FORKS.Process(target=job, args=args)

    def go(self) -> float:
        self.proc.start()
        return time.monotonic()

    def running(self) -> bool:
        return self.proc.is_alive()

    def finish(self) -> None:
        self.proc.join(300)
        assert self.proc.exitcode == 0

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL; a job that finished first counts as "after"
        self.proc.join(60)


def restore(path: Path, saved: bytes) -> None:
    for leftover in ("data.duckdb.next", "data.duckdb.next.wal", "data.duckdb.wal"):
        (path / leftover).unlink(missing_ok=True)
    (path / "data.duckdb").write_bytes(saved)


def timed(runner: Runner, path: Path) -> tuple[float, float]:
    """Run to the end; (seconds in all, seconds from the next file's appearing to the end)."""
    start = runner.go()
    seen = None
    while runner.running():
        if seen is None and (path / "data.duckdb.next").exists():
            seen = time.monotonic()
        time.sleep(0.002)
    runner.finish()
    end = time.monotonic()
    return end - start, end - (seen or start)


def kill_somewhere(runner: Runner, path: Path, rng: random.Random, total: float, write: float):
    """Kill at a random moment: of the whole job, or (every other try) of its write."""
    inside = rng.random() < 0.5
    delay = rng.uniform(0, (write if inside else total) * 1.1)
    start = runner.go()
    if inside:
        while not (path / "data.duckdb.next").exists() and runner.running():
            time.sleep(0.001)
        start = time.monotonic()
    while time.monotonic() - start < delay and runner.running():
        time.sleep(0.001)
    runner.kill()


def kill_trials(folder: Path, *, tries: int, demo_tries: int, deals: int, seed: int) -> dict:
    """Kill ``tries`` imports and ``demo_tries`` demo rebuilds of a ``deals``-deal demo at random
    points; assert each leaves before or after; return how often each was seen."""
    from salesflow.demo import build_demo

    path = folder / "demo"
    build_demo(path, opportunities=deals, seed=11)
    file = histories(path, folder / "history.csv", max(150, deals // 3))
    saved = (path / "data.duckdb").read_bytes()
    before = state(path)
    total, write = timed(Runner("import", str(path), str(file)), path)
    after = state(path)
    assert after != before and after["flow_fresh"] and before["flow_fresh"]

    rng, seen = random.Random(seed), {"before": 0, "after": 0}
    for _ in range(tries):
        restore(path, saved)
        kill_somewhere(Runner("import", str(path), str(file)), path, rng, total, write)
        now = state(path)
        assert now in (before, after)
        seen["before" if now == before else "after"] += 1

    # a killed writer's leftovers need no repair: the next import cleans up and lands
    restore(path, saved)
    kill_somewhere(Runner("import", str(path), str(file)), path, random.Random(1), total, write)
    runner = Runner("import", str(path), str(file))
    runner.go()
    runner.finish()
    assert state(path) == after
    assert not (path / "data.duckdb.next").exists()

    restore(path, saved)
    demo_total, demo_write = timed(Runner("demo", str(path), str(deals)), path)
    demo_after = state(path)
    assert demo_after not in (before, after)
    for _ in range(demo_tries):
        restore(path, saved)
        kill_somewhere(Runner("demo", str(path), str(deals)), path, rng, demo_total, demo_write)
        assert state(path) in (before, demo_after)
    return seen


@pytest.mark.slow
def test_imports_and_rebuilds_killed_anywhere_leave_before_or_after(tmp_path):
    seen = kill_trials(tmp_path, tries=TRIES, demo_tries=DEMO_TRIES, deals=400, seed=14)
    assert seen["before"] > 0  # the kills did land before the end
