"""``salesflow import``: load a CRM export into a canonical table, all or nothing."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import JsonOption, WorkspaceOption, err, open_workspace, out, print_json


def import_(
    table: Annotated[
        str,
        typer.Argument(
            help="Target table: opportunities, stage_events, activities, requests, forecasts, "
            "opportunity_history."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="The export: .csv, .xlsx or .parquet.")],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="Mapping file (TOML): canonical name = source column."),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", help="Column layout of a known export: salesforce, hubspot, maven-crm."
        ),
    ] = None,
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="How dates are written, e.g. '%d/%m/%Y'.")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding", help="A CSV file's text encoding: utf-8 (default), latin-1, utf-16."
        ),
    ] = None,
    decimal_comma: Annotated[
        bool,
        typer.Option("--decimal-comma", help="Numbers are written 1.234,56 (European exports)."),
    ] = False,
    thousands: Annotated[
        str | None,
        typer.Option(
            "--thousands",
            help="The thousands separator in numbers: ',' (12,500.00), '.' (with "
            "--decimal-comma), ' ' or \"'\".",
        ),
    ] = None,
    replace_history: Annotated[
        bool,
        typer.Option(
            "--replace-history",
            help="stage_events: the file replaces the whole history of each deal it names "
            "(default: its events are added).",
        ),
    ] = False,
    snapshot_date: Annotated[
        datetime | None,
        typer.Option(
            "--snapshot-date",
            formats=["%Y-%m-%d"],
            help="opportunities: the file shows the deals as they were on this day (YYYY-MM-DD); "
            "the changes since the last snapshot go into opportunity_history.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, write nothing.")
    ] = False,
    skip_invalid: Annotated[
        Path | None,
        typer.Option(
            "--skip-invalid", help="Import the valid rows; write rejected rows to this CSV."
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Import a CRM export (CSV, Excel, Parquet) into a canonical table.

    Every row is checked first; one bad row means nothing is written, unless --skip-invalid.
    Re-importing a file updates the same deals instead of duplicating them. Stage events are
    added to each deal's history; --replace-history replaces the history of the deals in the file.

    Example: `salesflow import opportunities sales_pipeline.csv --preset maven-crm`

    A European export (semicolons, 1.234,56, Windows text):
    `salesflow import opportunities deals.csv --mapping deals.toml --decimal-comma --encoding latin-1`

    A weekly export of the open deals, kept as history:
    `salesflow import opportunities open_deals.csv --preset salesforce --snapshot-date 2025-07-07`

    Won deals exported apart from the leads (each deal keeps its first stage):
    `salesflow import stage_events closed_deals.csv --mapping olist.toml`
    """
    from salesflow.ingest import import_file

    with open_workspace(workspace) as ws, _ProgressBar(quiet=False) as bar:
        report = import_file(
            ws,
            table,
            file,
            mapping=mapping,
            preset=preset,
            date_format=date_format,
            encoding=encoding,
            decimal_comma=decimal_comma,
            thousands=thousands,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            replace_history=replace_history,
            snapshot_date=snapshot_date.date() if snapshot_date else None,
            progress=bar.update,
        )
    if as_json:
        print_json(report.to_dict())
        return
    _render(report)


class _ProgressBar:
    """A transient Rich progress bar on stderr, shown only when the import takes over 1 s."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from salesflow.ingest.importer import STEPS

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=quiet,
        )
        self.task = self.progress.add_task("Importing", total=STEPS)
        self.timer = threading.Timer(1.0, self.progress.start)
        self.timer.daemon = True

    def update(self, description: str, step: int, total: int) -> None:
        self.progress.update(self.task, description=description, completed=step - 1, total=total)

    def __enter__(self) -> _ProgressBar:
        self.started = time.monotonic()
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()
        self.progress.stop()


def _render(report) -> None:
    from rich.markup import escape

    verb = "Would import" if report.dry_run else "Imported"
    out.print(
        f"{verb} [bold]{report.rows_written:,}[/] of {report.rows_read:,} rows into "
        f"[bold]{report.table}[/] ({report.inserted:,} new, {report.updated:,} updated"
        f"{f', {report.unchanged:,} unchanged' if report.unchanged else ''}"
        f"{f', {report.rejected:,} rejected' if report.rejected else ''}) in {report.seconds:.1f} s"
    )
    if report.derived_stage_events:
        out.print(f"Derived {report.derived_stage_events:,} stage events from the deals' dates.")
    if report.history_rows:
        out.print(f"Recorded {report.history_rows:,} deal changes since the last snapshot.")
    if report.added_columns:
        out.print(f"New columns: {', '.join(report.added_columns)}")
    for warning in report.warnings:
        err.print(f"[yellow]Note:[/] {escape(warning)}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``import`` command to the root app."""
    app.command("import")(import_)
