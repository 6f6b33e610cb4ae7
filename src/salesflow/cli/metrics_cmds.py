"""``salesflow metrics`` and ``salesflow metric ID``: the catalog, and one metric on a chart."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_workspace,
    out,
    print_json,
    working,
)
from salesflow.errors import ConfigError

SeasonOption = Annotated[
    str | None,
    typer.Option(
        "--season",
        help="Only these parts of the year: Q4, Q3,Q4, Nov-Dec or 11,12. The chart is drawn "
        "over them alone, so Q4 is compared with other years' Q4.",
        show_default=False,
    ),
]


def metrics(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """List the metric catalog: every built-in and custom metric with its definition.

    Example: `salesflow -w demo-ws metrics --json`
    """
    from salesflow.metrics import catalog
    from salesflow.settings import load_settings

    entries = [m.describe() for m in catalog(load_settings(workspace))]
    if as_json:
        print_json({"metrics": entries})
        return
    from rich.table import Table

    table = Table(title="Metric catalog", show_lines=True)
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("what it measures", ratio=1)
    table.add_column("unit")
    for m in entries:
        params = ", ".join(f"--param {p['name']}={p['default']}" for p in m["params"])
        text = f"{m['title']}: {m['definition']}" + (f" [dim]({params})[/]" if params else "")
        table.add_row(m["id"], text, m["unit"])
    out.print(table)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date", hint="Write it as YYYY-MM-DD"
        ) from None


def _baseline(text: str | None) -> tuple[date, date] | None:
    if text is None:
        return None
    start, sep, end = text.partition(":")
    if not sep:
        raise ConfigError(
            f"--baseline {text!r} is not START:END", hint="e.g. --baseline 2024-01-01:2024-06-30"
        )
    return _day(start, "--baseline start"), _day(end, "--baseline end")  # type: ignore[return-value]


def metric(
    metric_id: Annotated[
        str, typer.Argument(metavar="ID", help="Metric id (see `salesflow metrics`).")
    ],
    period: Annotated[str, typer.Option(help="week, month or quarter.")] = "month",
    by: Annotated[
        str | None,
        typer.Option(
            help="Break down by a column (owner, segment, any attribute): each group on its own limits."
        ),
    ] = None,
    filters: Annotated[
        list[str] | None, typer.Option("--filter", help="column=value; repeat to add more.")
    ] = None,
    params: Annotated[
        list[str] | None, typer.Option("--param", help="name=value metric parameter.")
    ] = None,
    season: SeasonOption = None,
    chart: Annotated[
        str, typer.Option(help="auto, xmr, p, u, laney-p, laney-u, run or none.")
    ] = "auto",
    trend: Annotated[
        str,
        typer.Option(
            help="auto (limits follow a steady trend when the data show one), on or off (flat)."
        ),
    ] = "auto",
    baseline: Annotated[
        str | None, typer.Option(help="START:END dates whose limits are held.")
    ] = None,
    phase_from: Annotated[
        list[str] | None,
        typer.Option("--phase-from", help="DATE a change took effect; new limits from there."),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    html: Annotated[
        Path | None, typer.Option(help="Write an interactive chart to this HTML file.")
    ] = None,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show one metric per period on a process behaviour chart, or broken down with --by.
    Each point says whether it is complete, running or still maturing at the as-of moment;
    only complete ones set the limits.

    Example: `salesflow -w demo-ws metric win_rate --period quarter --filter segment=SMB --json`
    """
    from salesflow.metrics import get
    from salesflow.metrics.filters import parse_pairs
    from salesflow.metrics.seasons import parse_season
    from salesflow.workspace import resolve_as_of

    seasons = parse_season(season)

    query = {
        "filters": parse_pairs(filters or []),
        "params": {k: v[-1] for k, v in parse_pairs(params or [], option="--param").items()},
        "start": _day(start, "--from"),
        "end": _day(end, "--to"),
    }
    with open_workspace(workspace) as ws:
        m = get(metric_id, ws.settings)
        if by is None and m.needs_filter and m.needs_filter not in query["filters"]:
            by = m.default_by
        if by is not None:
            _no_season_by(seasons, by)
            return _breakdown(ws, m, by, query, html, as_json)
        phases = [_day(d, "--phase-from") for d in phase_from or []]
        query["as_of"] = resolve_as_of(ws.settings, ws.data, as_of)
        how = {
            "chart": chart,
            "trend": trend,
            "baseline": _baseline(baseline),
            "phase_from": phases,
        }
        with working(f"Computing {m.title.lower()}"):
            charted = _charted(ws, m, period, query, how, seasons)
    title = f"{m.title}, {seasons.phrase(period)}" if seasons else f"{m.title} per {period}"
    if html is not None:
        from salesflow.metrics.charted import write_html

        write_html(charted, html, title=title)
    if as_json:
        print_json(charted.to_dict())
        return
    _show_series(charted, title)
    if html is not None:
        out.print(f"Chart written to {html}")  # after the table, so the verdict stays in view


def _no_season_by(season: Any, by: str) -> None:
    if season is not None:
        raise ConfigError(
            f"--season {season.label} cannot be combined with --by {by}",
            hint="--season limits a chart per period; leave out --by to chart the season",
        )


def _charted(ws: Any, m: Any, period: str, query: dict, how: dict, season: Any):
    """The series of one metric, limited to its season, on its chart (``how``: chart options)."""
    from salesflow.metrics import series
    from salesflow.metrics.charted import chart_series
    from salesflow.metrics.seasons import in_season, seasonal

    s = in_season(series(ws.data, ws.settings, m.id, period=period, **query), season)
    charted = chart_series(s, ws.settings, **how)
    return seasonal(charted, season)


def _breakdown(ws: Any, m: Any, by: str, query: dict, html: Path | None, as_json: bool) -> None:
    """The metric per group of ``by``, printed, and drawn as bars with --html."""
    from salesflow.metrics import breakdown
    from salesflow.metrics.charted import write_breakdown_html

    result = breakdown(ws.data, ws.settings, m.id, by=by, **query)
    if html is not None:
        write_breakdown_html(result, html, title=f"{m.title} by {by}")
    _show_breakdown(result.to_dict(), as_json)
    if html is not None and not as_json:
        out.print(f"Chart written to {html}")


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if unit == "%":
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _per_point(values: Any, i: int) -> Any:
    if values is None or not isinstance(values, list):
        return values
    return values[i]


BASIC = ("period", "value", "n", "status", "note")
UNJUDGED = {"running": "running, not judged", "maturing": "still maturing, not judged"}


def _show_series(charted: Any, title: str) -> None:
    from rich.table import Table

    doc = charted.to_dict()
    unit, info = doc["unit"], doc["chart"] or {}
    flagged = {i for s in doc["signals"] for i in s.get("points", [])}
    extras = [k for k in (doc["points"][0] if doc["points"] else {}) if k not in BASIC]
    if all(p.get("denominator") == p["n"] for p in doc["points"]):
        extras = [k for k in extras if k != "denominator"]  # the same as n
    table = Table(title=f"{title} ({unit})")
    for col in ("period", "value", "n", *extras, "centre", "lower", "upper", ""):
        table.add_column(col, justify="left" if col == "period" else "right")
    for i, p in enumerate(doc["points"]):
        limits = [_fmt(_per_point(info.get(k), i), unit) for k in ("center", "lcl", "ucl")]
        more = [_fmt(p[k], unit if k == "mean" else "") for k in extras]
        flag = "◀ signal" if i in flagged else UNJUDGED.get(p["status"], p.get("note", ""))
        table.add_row(p["period"], _fmt(p["value"], unit), f"{p['n']:,}", *more, *limits, flag)
    out.print(table)
    if info:
        out.print(f"[dim]{info.get('reason', '')}[/]")
    out.print(charted.verdict())


def _show_breakdown(doc: dict, as_json: bool) -> None:
    if as_json:
        print_json(doc)
        return
    from rich.table import Table

    unit, column = doc["unit"], doc["column"]
    table = Table(title=f"{doc['metric']} by {doc['by']} ({unit})")
    for col in (doc["by"], "value", "n", "numerator", "denominator", "lower", "upper", ""):
        table.add_column(col, justify="left" if col == doc["by"] else "right")
    for g in doc["groups"]:
        table.add_row(
            str(g[column]),
            _fmt(g["value"], unit),
            f"{g['n']:,}",
            _fmt(g["numerator"], ""),
            _fmt(g["denominator"], ""),
            _fmt(g["lower"], unit),
            _fmt(g["upper"], unit),
            f"◀ {g['signal']}" if g["signal"] else "",
        )
    out.print(table)
    comparison = doc["comparison"]
    for d in comparison.get("differences", []):
        out.print(d["sentence"])
    out.print(f"[dim]{comparison['sentence']}[/]")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command()(metrics)
    app.command()(metric)
