"""The ``salesflow`` command line: thin adapters over the core, one module per command group.

Command modules import only Typer and Rich at the top; Ibis, DuckDB, SQLAlchemy and Plotly are
imported inside the commands so ``salesflow --help`` starts fast. A new process registers only
the modules of the command it runs (:func:`main`, :data:`COMMANDS`): ``salesflow flow`` imports
none of the other command modules. ``app`` (what tests and the reference use) has them all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Sequence

HELP = (
    "**salesflow** — improve the way you sell, with data instead of slogans.\n\n"
    "Name your undesirable results, let your own sales data confirm them, ask why, "
    "and prove each improvement on a process behaviour chart.\n\n"
    "Example: `salesflow demo demo-ws && salesflow -w demo-ws status`"
)

#: The command modules, in the order their commands appear in ``salesflow --help``.
MODULES = (
    "workspace_cmds",
    "import_cmd",
    "demo_cmd",
    "metrics_cmds",
    "flow_cmd",
    "pipeline_cmd",
    "lint_cmd",
    "workbench_cmds",
    "invite_cmds",
    "analysis_cmds",
    "activities_cmd",
    "appdb_cmds",
    "report_cmd",
    "digest_cmd",
    "web_cmds",
    "sync_cmds",
)

#: Each top-level command and the modules whose ``register`` builds it (``udr``: the group is
#: lint_cmd's, the workbench adds its subcommands). tests/cli/test_lazy_cli.py checks it.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("workspace_cmds",),
    "status": ("workspace_cmds",),
    "import": ("import_cmd",),
    "demo": ("demo_cmd",),
    "metrics": ("metrics_cmds",),
    "metric": ("metrics_cmds",),
    "flow": ("flow_cmd",),
    "pipeline": ("pipeline_cmd",),
    "udr": ("lint_cmd", "workbench_cmds"),
    "causes": ("workbench_cmds",),
    "cause": ("workbench_cmds",),
    "why": ("workbench_cmds",),
    "improve": ("workbench_cmds",),
    "invite": ("invite_cmds",),
    "statements": ("invite_cmds",),
    "variables": ("analysis_cmds",),
    "drivers": ("analysis_cmds",),
    "prioritise": ("analysis_cmds",),
    "requests": ("analysis_cmds",),
    "activities": ("activities_cmd",),
    "upgrade": ("appdb_cmds",),
    "export": ("appdb_cmds",),
    "import-knowledge": ("appdb_cmds",),
    "report": ("report_cmd",),
    "digest": ("digest_cmd",),
    "serve": ("web_cmds",),
    "user": ("web_cmds",),
    "sync": ("sync_cmds",),
}


def _print_version(asked: bool) -> None:
    if asked:
        from salesflow import __version__

        typer.echo(f"salesflow {__version__}")
        raise typer.Exit()


def _root(
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="Workspace folder for the command that follows."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print salesflow's version and stop.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Let `salesflow -w PATH COMMAND` work as well as `salesflow COMMAND -w PATH`."""
    if workspace is not None:
        os.environ["SALESFLOW_WORKSPACE"] = str(workspace)


def build(command: str | None = None) -> typer.Typer:
    """The root app with every command, or — for a known ``command`` — with just the modules
    that build it (the others are not even imported)."""
    from salesflow.cli.common import new_app

    app = new_app(HELP)
    app.callback()(_root)
    for name in COMMANDS.get(command or "", MODULES):
        module = f"salesflow.cli.{name}"
        __import__(module)  # not importlib's: `python -X importtime` reports only this one
        sys.modules[module].register(app)
    return app


def command_of(args: Sequence[str]) -> str | None:
    """The command ``salesflow ARGS`` runs: the first word after the root's options (None when
    there is none, e.g. ``--help``, or when shell completion asks)."""
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-w", "--workspace"):
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def __getattr__(name: str) -> Any:
    """``app``: the root app with every command, built on first use."""
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(f"module 'salesflow.cli' has no attribute {name!r}")


def main() -> None:
    from salesflow.filemodes import private_umask

    private_umask()  # everything the command writes is for its user only (docs/web.md)
    build(command_of(sys.argv[1:]))()
