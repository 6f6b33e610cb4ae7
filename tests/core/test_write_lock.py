"""One writer at a time, readers never blocked: the write lock says who holds it, a waiting import
says whom it waits for and gives up cleanly, and a locked or unreadable data file is an error,
never a verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesflow.errors import StorageError, WorkspaceBusy
from salesflow.workspace import Workspace

SALESFLOW = str(Path(sys.executable).with_name("salesflow"))


def run(*args: str | Path, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SALESFLOW, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kw,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from salesflow.demo import build_demo
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("lock") / "demo"
    build_demo(path, opportunities=500, seed=3)
    seed_demo_knowledge(path)
    return path


def opportunities(path: Path) -> int:
    with Workspace.open(path) as ws:
        return int(ws.data.table("opportunities").count().execute())


def test_a_waiting_import_names_the_holder_then_gives_up_cleanly(demo, tmp_path, deals_csv):
    before = opportunities(demo)
    file = deals_csv(tmp_path, "WAIT", 5)
    with Workspace.open(demo).write_lock("import of leads.csv", who="ann"):
        got = run("import", "opportunities", file, "-w", demo, env={"SALESFLOW_WRITE_WAIT": "1"})
    assert got.returncode == WorkspaceBusy.exit_code == 4
    assert "Waiting for the import of leads.csv started by ann at " in got.stderr
    assert "The workspace is busy: the import of leads.csv started by ann" in got.stderr
    assert "SALESFLOW_WRITE_WAIT" in got.stderr
    assert "Traceback" not in got.stderr + got.stdout
    assert opportunities(demo) == before  # nothing was written


def test_an_import_that_waits_runs_once_the_lock_is_free(demo, tmp_path, deals_csv):
    before = opportunities(demo)
    file = deals_csv(tmp_path, "LATER", 7)
    with Workspace.open(demo).write_lock("nightly sync", who="bob"):
        proc = subprocess.Popen(
            [SALESFLOW, "import", "opportunities", str(file), "-w", str(demo)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "SALESFLOW_WRITE_WAIT": "120"},
        )
        waiting = proc.stderr.readline()  # the import tells whom it waits for, then waits
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
    assert waiting.startswith("Waiting for the nightly sync started by bob at ")
    assert opportunities(demo) == before + 7


def test_two_concurrent_cli_imports_both_land_one_after_the_other(demo, tmp_path, deals_csv):
    before = opportunities(demo)
    files = [deals_csv(tmp_path, f"PAR{k}", 300 + k) for k in range(2)]
    procs = [
        subprocess.Popen(
            [SALESFLOW, "import", "opportunities", str(f), "-w", str(demo), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert json.loads(stdout)["inserted"] in (300, 301)
    assert opportunities(demo) == before + 601


@pytest.fixture
def locked(demo):
    """The demo's data file held read-write by another program (a DuckDB shell, say)."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(demo / "data.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    yield demo
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_locked_file_is_an_error_not_a_verdict(locked, monkeypatch):
    monkeypatch.setenv("SALESFLOW_READ_WAIT", "0.5")
    from salesflow.workbench.service import Workbench

    bench = Workbench.open(locked)
    try:
        udr = bench.list_udrs(verdicts=False)[0]
        with pytest.raises(WorkspaceBusy, match="held for writing by another program"):
            bench.show_udr(udr["id"])
    finally:
        bench.close()
    got = run("udr", "list", "--json", "-w", locked, env={"SALESFLOW_READ_WAIT": "0.5"})
    assert got.returncode == WorkspaceBusy.exit_code
    assert "insufficient_data" not in got.stdout and got.stdout == ""
    assert "held for writing by another program" in got.stderr
    assert "Traceback" not in got.stderr
    got = run("metric", "win_rate", "--json", "-w", locked, env={"SALESFLOW_READ_WAIT": "0.5"})
    assert got.returncode == WorkspaceBusy.exit_code and got.stdout == ""


def test_an_unreadable_file_is_a_storage_error(tmp_path, monkeypatch):
    from salesflow.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    (tmp_path / "ws" / "data.duckdb").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError) as caught:
        Workspace.open(ws.path).data.list_tables()
    assert not isinstance(caught.value, WorkspaceBusy)
    assert "data.duckdb" in caught.value.message


def test_the_thread_holding_the_lock_nests_it_and_another_thread_waits(tmp_path):
    """A check made under the lock and the import it guards take the lock twice in one thread:
    that nests; another thread (another web request) still waits its turn and then gives up."""
    import threading

    from salesflow.storage import write_lock

    lock = tmp_path / "data.duckdb.lock"
    seen: list[str] = []
    with write_lock(lock, "change of a request", who="ann"), write_lock(lock, "import", who="ann"):
        seen.append("nested")

        def other() -> None:
            try:
                with write_lock(lock, "a second change", who="bob", wait=0.3, notify=seen.append):
                    seen.append("bob wrote")
            except WorkspaceBusy as exc:
                seen.append(f"busy: {exc.message}")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen[0] == "nested" and seen[1].startswith(
        "Waiting for the change of a request started by ann"
    )
    assert "busy: The workspace is busy: the change of a request started by ann" in seen[2]
    with write_lock(lock, "after", who="bob", wait=0.3):  # released by the outer block
        pass


@pytest.mark.parametrize("value", ["two minutes", "-5", "nan", "inf"])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused_not_ignored(
    demo, tmp_path, deals_csv, value
):
    before = opportunities(demo)
    file = deals_csv(tmp_path, "BADWAIT", 3)
    got = run("import", "opportunities", file, "-w", demo, env={"SALESFLOW_WRITE_WAIT": value})
    assert got.returncode != 0
    assert f"SALESFLOW_WRITE_WAIT={value!r} is not a number of seconds" in got.stderr
    assert "Traceback" not in got.stderr + got.stdout
    assert opportunities(demo) == before


def test_an_empty_or_numeric_wait_is_taken(monkeypatch):
    from salesflow import storage

    monkeypatch.setenv("SALESFLOW_READ_WAIT", "")
    assert storage.read_wait() == 10.0
    monkeypatch.setenv("SALESFLOW_READ_WAIT", " 0.25 ")
    assert storage.read_wait() == 0.25
