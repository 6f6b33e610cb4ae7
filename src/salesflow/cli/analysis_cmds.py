"""``salesflow variables``, ``drivers``, ``prioritise`` and ``requests patterns``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import (
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    new_app,
    next_step,
    open_workspace,
    out,
    print_json,
    with_workspace,
    working,
)
from salesflow.cli.workbench_cmds import pairs
from salesflow.errors import ConfigError

requests_app = new_app(
    "The log of requests a department receives: themes, trends and who causes them.\n\n"
    "Example: `salesflow requests patterns --json`"
)

FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help="Only deals where COLUMN=VALUE (repeatable)."),
]


def variables(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """List the operating variables: what each measures, its type, when it is known, coverage.

    Example: `salesflow -w demo-ws variables --json`
    """
    from salesflow.analysis import describe_variables

    with open_workspace(workspace) as ws:
        rows = describe_variables(ws)
    if as_json:
        print_json({"variables": rows})
        return
    from rich.table import Table

    table = Table(title="Operating variables")
    for col in ("name", "type", "known", "coverage", "description"):
        table.add_column(col, justify="right" if col == "coverage" else "left")
    for r in rows:
        known = "[red]after outcome[/]" if r["when"] == "after" else r["when"]
        table.add_row(r["name"], r["type"], known, f"{r['coverage']:.0%}", r["description"])
    out.print(table)


def drivers(
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="won, cycle_time, stalled, or a metric with a value per deal "
            "(rework_rate, stage_conversion, stage_time, a custom metric…).",
        ),
    ] = "won",
    variables: Annotated[
        str | None,
        typer.Option(
            "--variables",
            help="Comma-separated variable names (default: a set known before the outcome).",
        ),
    ] = None,
    filters: FilterOption = None,
    params: Annotated[
        list[str] | None,
        typer.Option("--param", help="A metric outcome's parameter NAME=VALUE (repeatable)."),
    ] = None,
    stall_days: Annotated[
        int, typer.Option("--stall-days", help="Quiet days that make a deal stalled.")
    ] = 30,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Which operating variables go with winning, speed or stalls, and by how much.

    Effects come with 95 % confidence intervals and p-values adjusted for testing many
    variables at once. They are associations in past deals, not proof. A metric outcome is
    that metric computed on each deal alone; --filter then applies to the metric's rows
    (stage_time needs --filter stage=NAME).

    Example: `salesflow drivers --outcome stage_conversion --param from=Proposal --param to=Won`
    """
    from salesflow.analysis import drivers as run

    names = [v.strip() for v in variables.split(",") if v.strip()] if variables else None
    with open_workspace(workspace) as ws, working("Estimating what goes with the outcome"):
        result = run(
            ws,
            outcome=outcome,
            variables=names,
            filters=pairs(filters, "--filter"),
            stall_days=stall_days,
            params=pairs(params, "--param"),
        )
    if as_json:
        print_json(result.as_dict())
        return
    _render_drivers(result, workspace)


def _render_drivers(result, workspace: Path) -> None:
    from rich.table import Table

    unit = result.effects[0].unit if result.effects else ""
    unit = "%" if unit == "percent" else unit
    table = Table(title=f"Drivers of {result.outcome} — {result.n:,} deals")
    for col in ("variable", "compared", f"effect ({unit})", "95 % CI", "adj. p", "deals"):
        table.add_column(col, justify="left" if col in ("variable", "compared") else "right")
    for e in result.effects:
        style = "bold" if e.significant else "dim"
        compared = f"{e.level} vs {e.reference}" if e.level else e.per
        table.add_row(
            e.variable,
            compared,
            f"{e.effect:+.1f}",
            f"{e.ci_low:+.1f} to {e.ci_high:+.1f}",
            f"{e.p_adj:.3f}",
            f"{e.n:,}",
            style=style,
        )
    out.print(table)
    out.print(result.summary)
    for w in result.warnings:
        out.print(f"[yellow]Warning ({w['kind']}):[/] {w['message']}")
    out.print(f"[green]Next:[/] {with_workspace(result.experiment, workspace)}")
    out.print(f"[dim]Model: {result.model}.[/]")


def prioritise(
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many deals to list.")] = 10,
    cutoff: Annotated[
        str | None,
        typer.Option(
            "--backtest-cutoff",
            metavar="DATE",
            help="Test the ranking on the deals open on this date only "
            "(default: each month from when half of the closed deals had closed).",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Which open deals to work first: win probability × amount per week still to close.

    The win probability is learnt from closed deals using only what is known when a deal is
    created (source, segment, deal size…), each deal comes with the reasons behind its score,
    and a backtest says whether the ranking beat chance on past deals.

    Example: `salesflow -w demo-ws prioritise --top 5 --json`
    """
    from salesflow.analysis import prioritise as run
    from salesflow.settings import parse_moment
    from salesflow.workspace import resolve_as_of

    with open_workspace(workspace) as ws, working("Scoring the open deals", quiet=as_json):
        moment = resolve_as_of(ws.settings, ws.data, as_of)
        start = None if cutoff is None else parse_moment(cutoff, "--backtest-cutoff")
        result = run(ws, as_of=moment, top=top, cutoff=start)
    if as_json:
        print_json(result.as_dict())
        return
    _render_priorities(result.as_dict())


def _render_priorities(doc: dict) -> None:
    from rich.markup import escape

    out.print(
        f"[bold]Work these first[/] — top {len(doc['deals'])} of {doc['open_deals']:,} open deals"
    )
    for d in doc["deals"]:
        facts = [d["opportunity_id"] + (f" ({d['account']})" if d["account"] else "")]
        facts += [d["owner"]] if d["owner"] else []
        facts += [] if d["amount"] is None else [f"{d['amount']:,.0f}"]
        facts.append(f"{d['win_probability']:.0%} chance to win")
        if d["weeks_to_close"] is not None:
            facts.append(f"about {d['weeks_to_close']:.1f} weeks to close")
        out.print(f"{d['rank']:>3}. " + escape(" · ".join(facts)))
        for r in d["reasons"]:
            out.print(f"      {'+' if r['push'] == 'up' else '−'} {escape(r['words'])}")
    out.print(doc["summary"], soft_wrap=True)


@requests_app.command("patterns")
def patterns(
    themes: Annotated[
        int | None,
        typer.Option(
            "--themes", min=2, max=50, help="Number of themes (default: chosen by the data)."
        ),
    ] = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="File the requests under their theme names.")
    ] = False,
    name: Annotated[
        list[str] | None,
        typer.Option("--name", help="Rename a theme before accepting: ID=NAME (repeatable)."),
    ] = None,
    skip: Annotated[
        list[int] | None, typer.Option("--skip", help="Theme ID not to accept (repeatable).")
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Group uncategorised requests into themes, show their trends and who causes them.

    With `--accept` each theme's requests are filed under its name (rename with `--name`),
    all or nothing.

    Example: `salesflow requests patterns --accept --name 3="Delivery delays" --skip 5`
    """
    from salesflow.analysis import categorise, request_patterns

    renamed = {int(k): v for k, v in pairs(name, "--name").items() if k.isdigit()}
    if len(renamed) != len(name or []):
        raise ConfigError(
            "--name takes a theme ID and a name: ID=NAME",
            hint='For example --name 3="Delivery delays"',
        )
    with open_workspace(workspace) as ws:
        with working("Finding themes in the requests"):
            result = request_patterns(ws.data, k=themes)
        names = {
            t.id: renamed.get(t.id, t.label) for t in result.themes if t.id not in set(skip or [])
        }
        filed = 0
        if accept:
            with ws.writing("filing of requests under their themes") as writer:
                filed = categorise(writer.data, result.assignments, names)
    doc = result.as_dict()
    if accept:
        doc["accepted"] = {"requests": filed, "categories": {str(k): v for k, v in names.items()}}
    if as_json:
        print_json(doc)
        return
    _render_patterns(doc, workspace)


def _render_patterns(doc: dict, workspace: Path) -> None:
    from rich.table import Table

    table = Table(title=f"{doc['k']} themes in {doc['uncategorised']:,} uncategorised requests")
    for col in ("id", "suggested category", "requests", "top terms", "trend / month"):
        table.add_column(col, justify="right" if col in ("id", "requests") else "left")
    for t in doc["themes"]:
        trend = t["trend"]
        growth = trend.get("growth_per_month")
        text = (
            "—"
            if growth is None
            else f"{growth:+.1f} %" + (" [red]growing[/]" if trend.get("growing") else "")
        )
        table.add_row(str(t["id"]), t["label"], f"{t['count']:,}", ", ".join(t["terms"][:4]), text)
    out.print(table)
    unjudged = next((t["trend"].get("not_judged") for t in doc["themes"]), None)
    if unjudged:
        out.print(f"[dim]Trends use complete months only: {unjudged}[/]")
    for t in doc["themes"]:
        out.print(f"[bold]{t['id']}. {t['label']}[/] — e.g. " + " | ".join(t["examples"][:2]))
    for key in ("by_segment", "by_amount_band"):
        rows = doc["pareto"].get(key, [])
        if rows:
            text = ", ".join(
                f"{r['name']} {r['requests_per_won_order']:.2f}"
                for r in rows
                if r["requests_per_won_order"] is not None
            )
            out.print(f"Requests per won order {key.replace('_', ' ')}: {text}")
    if "accepted" in doc:
        out.print(f"[green]Filed {doc['accepted']['requests']:,} requests under their themes.[/]")
    else:
        next_step(workspace, "`salesflow requests patterns --accept` files them under these names.")


def register(app: typer.Typer) -> None:
    app.command()(variables)
    app.command()(drivers)
    app.command()(prioritise)
    app.add_typer(requests_app, name="requests")
