"""``salesflow pipeline``: what happened to a quarter's (or month's) pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import JsonOption, WorkspaceOption, open_workspace, out, print_json
from salesflow.cli.flow_cmd import parse_filters


def pipeline(
    period: Annotated[
        str, typer.Option("--period", help="A quarter (2025-Q3) or a month (2025-07).")
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="One waterfall per owner (or any deal column: team, segment…)."),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="Only deals whose COLUMN equals VALUE (owner or any opportunity column).",
            metavar="COLUMN=VALUE",
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """The pipeline waterfall: start, created, pulled in, pushed out, won, lost, amount changes
    and end, by count and amount, for deals expected to close in the period.

    Example: `salesflow pipeline -w demo-ws --period 2025-Q3 --by owner --json`
    """
    from salesflow.analysis.pipeline import pipeline_waterfall

    filters = parse_filters(filter_ or [])
    with open_workspace(workspace) as ws:
        doc = pipeline_waterfall(ws.data, ws.settings.stages, period, by=by, filters=filters)
    if as_json:
        print_json(doc)
        return
    render(doc)


def render(doc: dict[str, Any]) -> None:
    """The waterfall as a table, then one line per group."""
    from rich.table import Table

    from salesflow.analysis.pipeline import AMOUNT_SIGNS, LABELS

    where = ", ".join(f"{k} = {' or '.join(v)}" for k, v in doc["filters"].items())
    table = Table(title=f"Pipeline {doc['period']}" + (f" where {where}" if where else ""))
    for column in ("", "deals", "amount"):
        table.add_column(column, justify="left" if not column else "right")
    for key, label in LABELS.items():
        part, sign = doc[key], {1: "+ ", -1: "− "}.get(AMOUNT_SIGNS.get(key, 0), "[bold]")
        table.add_row(f"{sign}{label}", f"{part['count']:,}", f"{part['amount']:,.2f}")
    out.print(table)
    for group in doc.get("groups", []):
        name = group[doc["by"]] or "(none)"
        out.print(
            f"{name}: {group['start']['amount']:,.2f} → {group['end']['amount']:,.2f} "
            f"(won {group['won']['amount']:,.2f}, pushed out {group['pushed_out']['amount']:,.2f})"
        )


def register(app: typer.Typer) -> None:
    """Add the ``pipeline`` command to the root app."""
    app.command("pipeline")(pipeline)
