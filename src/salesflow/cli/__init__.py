"""The ``salesflow`` command line: thin adapters over the core, one module per command group.

Command modules import only Typer and Rich at the top; Ibis, DuckDB, SQLAlchemy and Plotly are
imported inside the commands so ``salesflow --help`` starts fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli import (
    activities_cmd,
    analysis_cmds,
    appdb_cmds,
    demo_cmd,
    digest_cmd,
    flow_cmd,
    import_cmd,
    invite_cmds,
    lint_cmd,
    metrics_cmds,
    pipeline_cmd,
    report_cmd,
    sync_cmds,
    web_cmds,
    workbench_cmds,
    workspace_cmds,
)
from salesflow.cli.common import new_app

app = new_app(
    "**salesflow** — improve the way you sell, with data instead of slogans.\n\n"
    "Name your undesirable results, let your own sales data confirm them, ask why, "
    "and prove each improvement on a process behaviour chart.\n\n"
    "Example: `salesflow demo demo-ws && salesflow -w demo-ws status`"
)


def _print_version(asked: bool) -> None:
    if asked:
        from salesflow import __version__

        typer.echo(f"salesflow {__version__}")
        raise typer.Exit()


@app.callback()
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


for module in (
    workspace_cmds,
    import_cmd,
    demo_cmd,
    metrics_cmds,
    flow_cmd,
    pipeline_cmd,
    lint_cmd,
    workbench_cmds,
    invite_cmds,
    analysis_cmds,
    activities_cmd,
    appdb_cmds,
    report_cmd,
    digest_cmd,
    web_cmds,
    sync_cmds,
):
    module.register(app)


def main() -> None:
    from salesflow.filemodes import private_umask

    private_umask()  # everything the command writes is for its user only (docs/web.md)
    app()
