"""Where an import spends its time: every SQL statement of one real import that takes 0.2 s or
more, with wall and CPU seconds, in order. Uses the files ``bench_import.py`` generated.

    .venv/bin/python benchmarks/profile_import.py --rows 10000000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_import import cpu_seconds, generate

LOG: list[tuple[float, float, str]] = []


def _timed(run: Any, sql: str) -> Any:
    started, cpu = time.perf_counter(), cpu_seconds()
    result = run()
    LOG.append((time.perf_counter() - started, cpu_seconds() - cpu, sql))
    return result


class _Relation:
    """A lazy DuckDB relation whose fetch is timed (that is when its query runs)."""

    def __init__(self, relation: Any, sql: str) -> None:
        self._relation, self._sql = relation, sql

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._relation, name)
        if not name.startswith(("fetch", "to_", "df")):
            return attr
        return lambda *a, **k: _timed(lambda: attr(*a, **k), self._sql)


class _Connection:
    """The importer's engine, with every statement timed."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any) -> Any:
        return _Relation(_timed(lambda: self._con.execute(sql, *args), sql), sql)

    def sql(self, sql: str, *args: Any) -> Any:
        return _Relation(self._con.sql(sql, *args), sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--min", type=float, default=0.2, help="show statements from this many s")
    args = parser.parse_args()
    from salesflow import derived
    from salesflow.ingest import import_file, importer
    from salesflow.workspace import Workspace, init_workspace

    opps, events = generate(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="salesflow-profile-"))
    try:
        init_workspace(folder / "ws").close()
        ws = Workspace.open(folder / "ws")
        import_file(ws, "opportunities", opps)
        engine = importer._engine
        importer._engine = lambda tmp: _Connection(engine(tmp))
        refresh = derived.refresh

        def timed_refresh(con: Any, *a: Any, **k: Any) -> Any:  # the refresh's own connection
            raw, con.con = con.con, _Connection(con.con)
            try:
                return refresh(con, *a, **k)
            finally:
                con.con = raw

        derived.refresh = timed_refresh
        LOG.clear()
        started, cpu = time.perf_counter(), cpu_seconds()
        import_file(ws, "stage_events", events,
                    progress=lambda step, *_: LOG.append((0.0, 0.0, f"== {step}")))  # fmt: skip
        total = (time.perf_counter() - started, cpu_seconds() - cpu)
        ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'wall s':>7} {'CPU s':>6}  statement")
    shown = [0.0, 0.0]
    for wall, cpu, sql in LOG:
        if wall >= args.min or sql.startswith("=="):
            print(f"{wall:7.2f} {cpu:6.2f}  {' '.join(sql.split())[:150]}")
        else:
            shown[0], shown[1] = shown[0] + wall, shown[1] + cpu
    print(f"{shown[0]:7.2f} {shown[1]:6.2f}  the statements under {args.min} s together")
    rest = [total[i] - sum(x[i] for x in LOG) for i in (0, 1)]
    print(f"{rest[0]:7.2f} {rest[1]:6.2f}  outside the statements (Python, file copy, fsync)")
    print(f"{total[0]:7.2f} {total[1]:6.2f}  whole import of {args.rows:,} stage events")


if __name__ == "__main__":
    main()
