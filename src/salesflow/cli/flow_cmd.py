"""``salesflow flow``: the value stream — stages, transitions, variants, deal durations, rework."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesflow.cli.common import (
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    err,
    open_workspace,
    out,
    print_json,
    working,
)
from salesflow.errors import ConfigError

if TYPE_CHECKING:
    from salesflow.metrics.process_map import ProcessMap


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    """``["owner=Ann", "owner=Ben", "segment=SMB"]`` → ``{"owner": ["Ann", "Ben"], "segment": ["SMB"]}``
    (values of one column are alternatives; different columns must all match)."""
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--filter {item!r} is not COLUMN=VALUE", hint="Write it like --filter owner=Ann"
            )
        filters.setdefault(key.strip(), []).append(value.strip())
    return filters


def flow(
    workspace: WorkspaceOption = Path("."),
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="Only deals whose COLUMN equals VALUE (any opportunity column; repeat it).",
            metavar="COLUMN=VALUE",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many variants to show.")] = 10,
    clock: Annotated[
        str,
        typer.Option(
            "--clock",
            help="calendar (elapsed time) or business (only the business hours of workdays "
            "that are not holidays, as [calendar] in salesflow.toml sets them; a day is one "
            "day's business hours).",
        ),
    ] = "calendar",
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the value stream: stages with entries, exits and median time; the value-stream map
    (work in progress at the as-of moment, throughput per week, time in stage, rework, loss and
    work versus waiting, with Little's law checked); transitions with counts and hours; the most
    common stage sequences; deal durations; rework loops.

    Every time is on the --clock: with --clock business, nights, weekends and holidays do not
    count, so waiting and work compare within the hours people work.

    Example: `salesflow flow -w demo-ws --filter segment=Enterprise --top 5 --clock business`
    """
    from salesflow.metrics.clock import CLOCKS
    from salesflow.metrics.process_map import process_map
    from salesflow.workspace import resolve_as_of

    if clock not in CLOCKS:
        raise ConfigError(
            f"--clock {clock!r} is not a clock salesflow knows",
            hint="Use --clock calendar (elapsed time) or --clock business (business hours)",
        )
    filters = parse_filters(filter_ or [])
    with open_workspace(workspace) as ws, working("Computing the value stream"):
        con = ws.data if ws.raw is None else ws.raw  # DuckDB: plain SQL, no Ibis to import
        moment = resolve_as_of(ws.settings, con, as_of)
        doc = process_map(con, ws.settings, filters=filters, top=top, as_of=moment, clock=clock)
    if as_json:
        print_json(doc)
        return
    render(doc)


#: hours in one day on the clock of the map being rendered (24, or one day's business hours)
_DAY = {"hours": 24.0}


def _h(hours: float | None) -> str:
    if hours is None:
        return "—"
    day = _DAY["hours"]
    return f"{hours:,.1f} h" if hours < 3 * day else f"{hours / day:,.1f} d"


def render(doc: ProcessMap) -> None:
    """Rich tables, the value stream as a line, and the rework loops in words."""
    _DAY["hours"] = doc["day_hours"]

    cases = doc["cases"]
    if not cases["count"] and not doc["filters"]:
        out.print("No stage history yet: import it with `salesflow import stage_events FILE`.")
        return
    if not doc["derived_fresh"]:
        err.print(
            "Note: the stage history changed since the flow tables were built, so this map was "
            "computed from it directly (slower); the next `salesflow import` rebuilds them."
        )
    where = ", ".join(f"{k} = {' or '.join(v)}" for k, v in doc["filters"].items())
    out.print(
        f"[bold]Value stream[/] of {cases['count']:,} deals" + (f" where {where}" if where else "")
    )
    if doc["clock"] == "business":
        out.print(
            f"Times on the business clock: h are business hours, d business days of "
            f"{doc['day_hours']:g} h (nights, weekends and holidays do not count)."
        )
    _stream([s for s in doc["stages"] if s["entries"]])
    _table(
        "Stages",
        ["stage", "entries", "exits", "median time in stage"],
        [
            [s["stage"], f"{s['entries']:,}", f"{s['exits']:,}", _h(s["median_hours"])]
            for s in doc["stages"]
        ],
    )
    _map(doc)
    _table(
        "Transitions",
        ["from", "to", "times", "mean", "median", ""],
        [
            [
                e["from"],
                e["to"],
                f"{e['count']:,}",
                _h(e["mean_hours"]),
                _h(e["median_hours"]),
                "[yellow]rework[/]" if e["rework"] else "",
            ]
            for e in doc["edges"]
        ],
    )
    _table(
        "Most common paths",
        ["path", "deals", "share"],
        [
            [" → ".join(v["stages"]), f"{v['count']:,}", f"{v['share']:.0%}"]
            for v in doc["variants"]
        ],
    )
    out.print(
        f"Deal duration (first to last stage event): median {_h(cases['median_hours'])}, "
        f"mean {_h(cases['mean_hours'])}"
    )
    _rework(doc)


def _stream(stages: list) -> None:
    """The stages as one line of arrows, wrapped between stages, never inside one."""
    items = [(s["stage"], f"{s['entries']:,} · {_h(s['median_hours'])}") for s in stages]
    lines: list[str] = []
    width = 0
    for name, figures in items:
        plain = len(name) + len(figures) + 6
        if lines and width + plain <= out.width:
            lines[-1] += f"  →  [bold]{name}[/] {figures}"
            width += plain
        else:
            lines.append(("→  " if lines else "") + f"[bold]{name}[/] {figures}")
            width = plain
    for line in lines or ["no stage events"]:
        out.print(line, soft_wrap=True)


def _share(value: float | None, spec: str = ".0%") -> str:
    return "—" if value is None else format(value, spec)


def _map(doc: ProcessMap) -> None:
    """The value-stream map: one row per open stage, then Little's law in words."""
    shown = [s for s in doc["stages"] if "wip" in s]
    if not shown:
        return
    win = doc["window"]
    work = any("work_share" in s for s in shown)
    rate = "—" if not win["weeks"] else None
    _table(
        f"Value-stream map: work in progress at {doc['as_of'][:16].replace('T', ' ')}; "
        f"the rest over the {win['weeks']} complete weeks from {win['start'][:10]} "
        f"up to {win['end'][:10]}",
        ["stage", "WIP", "left/week", "median", "85 %", "went back", "lost"]
        + (["work"] if work else []),
        [
            [
                s["stage"],
                f"{s['wip']:,}",
                rate or f"{s['throughput_per_week']:,.1f}",
                _h(s["time_median"]),
                _h(s["time_p85"]),
                _share(s["rework_share"]),
                _share(s["loss_share"]),
            ]
            + ([_share(s.get("work_share"), ".1%")] if work else [])
            for s in shown
        ],
    )
    for s in shown:
        out.print(f"  {s['stage']}: {s['littles_law']['sentence']}")
    if doc["flow_efficiency"] is not None:
        out.print(
            f"Flow efficiency: {doc['flow_efficiency']:.1%} of the time in stage is work "
            f"({doc['work_basis']}); the rest is waiting."
        )


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 or col in ("to", "path") else "right")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _rework(doc: ProcessMap) -> None:
    loops = [e for e in doc["edges"] if e["rework"]]
    cases = doc["cases"]
    if not loops:
        out.print("No rework: no deal moved backwards or repeated a stage.")
        return
    share = cases["with_rework"] / cases["count"] if cases["count"] else 0
    n = cases["with_rework"]
    out.print(
        f"[yellow]Rework[/]: {n:,} deal{'' if n == 1 else 's'} ({share:.0%}) "
        "went back or repeated a stage:"
    )
    for e in sorted(loops, key=lambda e: -e["count"]):
        kind = "repeated" if e["from"] == e["to"] else "went back"
        out.print(
            f"  {e['from']} → {e['to']}: {e['count']:,} times {kind}, median {_h(e['median_hours'])}"
        )


def register(app: typer.Typer) -> None:
    """Add ``salesflow flow`` to the root app."""
    app.command()(flow)
