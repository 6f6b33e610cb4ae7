"""``salesflow demo``: a new workspace holding a realistic fictional B2B company to explore."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import JsonOption, err, out, print_json, working


def demo(
    path: Annotated[Path, typer.Argument(help="Folder for the new demo workspace.")] = Path(
        "demo-workspace"
    ),
    opportunities: Annotated[
        int,
        typer.Option("--opportunities", "-n", min=1, help="About how many deals to generate."),
    ] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 7,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing workspace in PATH.")
    ] = False,
    data_url: Annotated[
        str, typer.Option("--data-url", help="Ibis URL of the data source to fill.")
    ] = "duckdb:///data.duckdb",
    as_json: JsonOption = False,
) -> None:
    """Create a workspace with two years of a fictional B2B company's sales data.

    Deals with stage history, activities, monthly forecasts and a request log, with known
    effects built in for the analysis to find (see docs/demo.md): slow first responses lose
    deals, a process change shortens the Proposal stage, contract-change requests grow, Q4
    forecasts run high, and small orders cause most of the requests.

    Example: `salesflow demo demo-ws --opportunities 20000 --seed 3 && salesflow -w demo-ws status`
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from salesflow.demo import build_demo

    columns = (TextColumn("Generating deals"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("demo", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = build_demo(
            path,
            opportunities=opportunities,
            seed=seed,
            force=force,
            progress=advance,
            data_url=data_url,
        )
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    with working("Writing down the team's UDRs, causes and improvements"):
        seed_demo_knowledge(path)  # UDRs, causes and improvements matching the built-in effects
    if as_json:
        print_json(report.to_dict())
        return
    render(report.to_dict(), path)


def render(doc: dict, path: Path) -> None:
    """A short human summary: what was made, and what to look for in it."""
    from rich.table import Table

    table = Table(title=f"Demo company in {doc['workspace']}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in doc["rows"].items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    period = doc["period"]
    out.print(
        f"Two years of sales, {period['start']} to {period['end']} (seed {doc['seed']}, "
        f"{doc['seconds']:.1f} s). Built in for you to find:"
    )
    for effect in doc["effects"]:
        out.print(f"  • {effect['title']}")
    ws = shlex.quote(str(path))  # as the user typed it: the hints run as written from here
    out.print(f"Next: `salesflow -w {ws} status` and `salesflow -w {ws} flow`")
    out.print(f"The method at work: `salesflow -w {ws} udr list`, `causes`, `improve list`")


def register(app: typer.Typer) -> None:
    """Add ``salesflow demo`` to the root app."""
    app.command()(demo)
