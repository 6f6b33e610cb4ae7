"""Conventions every command keeps: help with an example, --json where results are printed, fast start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from salesflow.cli import app

# Commands that only change things (and say so in one line) need no --json.
NO_RESULTS = {"serve"}


def _commands() -> list[tuple[str, object]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(prefix: str, group) -> None:
        for name, cmd in group.commands.items():
            path = f"{prefix} {name}".strip()
            if hasattr(cmd, "commands"):  # a command group (Typer vendors its own click)
                walk(path, cmd)
            else:
                found.append((path, cmd))

    walk("", root)
    return found


COMMANDS = _commands()


def test_the_cli_has_the_foundation_commands():
    names = {name for name, _ in COMMANDS}
    assert {"init", "status"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_with_an_example(name, command):
    assert command.help, f"`salesflow {name}` has no help text"
    assert "Example:" in command.help, f"`salesflow {name}` help lacks an `Example:` line"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_that_prints_results_takes_json(name, command):
    if name in NO_RESULTS:
        return
    options = {opt for p in command.params for opt in getattr(p, "opts", [])}
    assert "--json" in options, f"`salesflow {name}` prints results but has no --json"


HEAVY = ["ibis", "pandas", "pyarrow", "sqlalchemy", "plotly", "fastapi", "statsmodels", "sklearn"]


def _imported_by(args: list[str], heavy: list[str]) -> tuple[str, str]:
    """Runs ``salesflow ARGS`` in a new interpreter: its output and the heavy modules it loaded."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from salesflow.cli import app\n"
        "r = CliRunner().invoke(app, sys.argv[1:])\n"
        "assert r.exit_code == 0, r.output\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
        "print(r.stdout)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    loaded, _, output = run.stdout.partition("\n")
    return output, loaded


def test_help_does_not_import_heavy_libraries():
    """`salesflow --help` must start fast: no Ibis, DuckDB, pandas, SQLAlchemy, Plotly or FastAPI."""
    _, loaded = _imported_by(["--help"], ["duckdb", *HEAVY])
    assert loaded == "", f"heavy modules imported at start-up: {loaded}"


@pytest.fixture
def small_workspace(workspace) -> Path:
    """Three deals with stage histories, flow tables fresh (as after an import)."""
    from salesflow.derived import refresh

    workspace.raw.execute(
        "INSERT INTO opportunities (opportunity_id, created_at, outcome) VALUES "
        "('A', '2026-01-05', 'won'), ('B', '2026-01-06', 'lost'), ('C', '2026-02-01', 'open')"
    )
    workspace.raw.execute(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES "
        "('A', 'Lead', '2026-01-05 09:00'), ('A', 'Won', '2026-01-07 09:00'), "
        "('B', 'Lead', '2026-01-06 09:00'), ('C', 'Lead', '2026-02-01 12:30')"
    )
    refresh(workspace.data, workspace.settings)
    workspace.close()
    return workspace.path


def test_status_and_flow_on_duckdb_import_only_duckdb(small_workspace):
    """A new `status` or `flow` process answers from DuckDB in plain SQL — the stage
    aggregates and the value-stream map alike: no Ibis, pandas, PyArrow or Plotly."""
    import json

    output, loaded = _imported_by(["status", "--json", "-w", str(small_workspace)], HEAVY)
    assert loaded == "", f"`salesflow status` imported {loaded}"
    doc = json.loads(output)
    assert doc["tables"]["stage_events"] == {
        "rows": 4,
        "min_date": "2026-01-05",
        "max_date": "2026-02-01",
    }
    assert doc["outcomes"] == {"open": 1, "won": 1, "lost": 1}
    assert doc["as_of"] == "2026-02-01T12:30:00"
    output, loaded = _imported_by(["flow", "--json", "-w", str(small_workspace)], HEAVY)
    assert loaded == "", f"`salesflow flow` imported {loaded}"
    doc = json.loads(output)
    assert doc["derived_fresh"] and doc["cases"]["count"] == 3
    assert [(e["from"], e["to"], e["count"], e["mean_hours"]) for e in doc["edges"]] == [
        ("Lead", "Won", 1, 48.0)
    ]
    # the map at the data's own moment (C's Lead event): A has left Lead for Won; B and C are
    # still in Lead (B is marked lost but has no closed_at, and its history stops at Lead)
    lead = next(s for s in doc["stages"] if s["stage"] == "Lead")
    assert doc["as_of"] == "2026-02-01T12:30:00"
    assert (lead["wip"], lead["wip_over_p85"]) == (2, 0)


def test_an_events_import_on_duckdb_imports_no_ibis(workspace, tmp_path):
    """`salesflow import` of stage events into a DuckDB workspace writes, checks and refreshes
    the flow tables on DuckDB's own connection: no Ibis, Plotly, SQLAlchemy, FastAPI,
    statsmodels or scikit-learn. (pandas comes with the flow update's Arrow tables: DuckDB
    reads them through ``pyarrow.dataset``, which imports pandas.)"""
    import json

    from salesflow import derived
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace

    deals = tmp_path / "deals.csv"
    deals.write_text("opportunity_id,created_at\nA,2026-01-05\nB,2026-01-06\n")
    import_file(workspace, "opportunities", deals)
    first = tmp_path / "a.csv"
    first.write_text(
        "opportunity_id,stage,entered_at\nA,Lead,2026-01-05 09:00\nB,Lead,2026-01-06\n"
    )
    import_file(workspace, "stage_events", first)
    workspace.close()
    more = tmp_path / "b.csv"
    more.write_text("opportunity_id,stage,entered_at\nA,Won,2026-01-09 09:00\n")
    args = ["-w", str(workspace.path), "import", "stage_events", str(more), "--json"]
    output, loaded = _imported_by(args, [m for m in HEAVY if m not in ("pandas", "pyarrow")])
    assert loaded == "", f"`salesflow import` imported {loaded}"
    assert json.loads(output)["inserted"] == 1
    with Workspace.open(workspace.path) as ws:  # the flow tables were updated, not left stale
        assert derived.is_fresh(ws.data, ws.settings)
        cases = ws.raw.execute("SELECT opportunity_id, last_stage FROM flow_cases ORDER BY 1")
        assert cases.fetchall() == [("A", "Won"), ("B", "Lead")]


def _importtime(args: list[str]) -> tuple[str, set[str]]:
    """``python -X importtime -m salesflow ARGS`` as a user runs it: its output and the
    top-level packages it imported (from the import-time report on stderr)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "salesflow", *args],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "salesflow" in names and "typer" in names  # the report is there to be read
    return run.stdout, names


@pytest.mark.parametrize(
    "args",
    [["--help"], ["status", "--json"], ["flow", "--json"], ["flow", "--help"]],
    ids=["help", "status", "flow", "flow-help"],
)
def test_a_new_process_imports_no_engine_it_does_not_need(small_workspace, args):
    """`python -X importtime -m salesflow …`: `--help` imports no data engine at all; `status`
    and `flow` on DuckDB only DuckDB; and none imports another command's module."""
    import json

    if args[-1] == "--json":
        args = [*args, "-w", str(small_workspace)]
    output, names = _importtime(args)
    engines = {"duckdb", *HEAVY} if "--help" in args else set(HEAVY)
    assert not names & engines, f"`salesflow {' '.join(args)}` imported {names & engines}"
    if args[-1] != "--help":
        assert json.loads(output)["as_of"] == "2026-02-01T12:30:00"
        assert "duckdb" in names


def test_a_command_imports_only_its_own_module(small_workspace):
    run = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "salesflow",
            "flow",
            "--json",
            "-w",
            str(small_workspace),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    cli = sorted(m for m in modules if m.startswith("salesflow.cli."))
    assert cli == ["salesflow.cli.common", "salesflow.cli.flow_cmd"]


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme(name, command):
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"salesflow {name}" in readme, f"README does not document `salesflow {name}`"


def test_version_prints_the_installed_release():
    """`salesflow --version` answers from the package as installed (pyproject's version)."""
    from importlib.metadata import version

    result = subprocess.run(
        [str(Path(sys.executable).with_name("salesflow")), "--version"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"salesflow {version('salesflow')}\n"


def test_make_install_says_how_to_run_salesflow():
    """A newcomer's `make install` (and so `make demo`) ends by saying how to reach the command."""
    root = Path(__file__).parents[2]
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/bin/.installed", "install"],  # the venv is there: just the hint
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert ".venv/bin/salesflow" in result.stdout
    assert "source .venv/bin/activate" in result.stdout
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "pipx install ." in readme and "uv tool install ." in readme
