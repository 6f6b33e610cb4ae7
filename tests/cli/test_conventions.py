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


def test_help_does_not_import_heavy_libraries():
    """`salesflow --help` must start fast: no Ibis, DuckDB, pandas, SQLAlchemy, Plotly or FastAPI."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from salesflow.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ['ibis', 'duckdb', 'pandas', 'sqlalchemy', 'plotly', 'fastapi', 'statsmodels', 'sklearn']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at start-up: {out.stdout.strip()}"


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
