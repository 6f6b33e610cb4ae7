"""``salesflow udr add|bind|list|show|edit|delete|restore|history``: Undesirable Results and
their verdicts from data. ``udr lint`` lives in :mod:`salesflow.cli.lint_cmd`, on the same group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    AsOfOption,
    JsonOption,
    VersionOption,
    WorkspaceOption,
    expected,
    next_step,
    out,
    print_json,
    working,
)
from salesflow.cli.lint_cmd import _render as render_lint
from salesflow.cli.lint_cmd import udr_app
from salesflow.cli.metrics_cmds import SeasonOption
from salesflow.cli.workbench_cmds import (
    BadIfOption,
    FilterOption,
    ParamOption,
    PeriodOption,
    WhoOption,
    history_command,
    open_bench,
    pairs,
    soft_commands,
    verdict_line,
)

IdArgument = Annotated[int, typer.Argument(help="The UDR's id (see `salesflow udr list`).")]


def _print_lint(doc: dict[str, Any]) -> None:
    from salesflow.workbench.lint import lint

    render_lint(lint(doc["statement"]))


@udr_app.command("add")
def add(
    statement: Annotated[str, typer.Argument(help="The undesirable result, in your own words.")],
    owner: Annotated[str | None, typer.Option("--owner", help="Who owns it.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (repeat for more).", show_default=False)
    ] = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Add a UDR; prints its id and the lint's advice on making it measurable.

    Example: `salesflow udr add "Win rate was 24% in Q3, against 30% planned" --owner Maria --tag win-rate`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.add_udr(statement, owner=owner, tags=tag or [])
    if as_json:
        print_json(doc)
        return
    out.print(f"UDR [bold]{doc['udr']['id']}[/] added.")
    _print_lint(doc["lint"])
    next_step(
        workspace, f"`salesflow udr bind {doc['udr']['id']} --metric METRIC --bad-if above|below`"
    )


@udr_app.command("bind")
def bind(
    id: IdArgument,
    metric: Annotated[
        str,
        typer.Option(
            "--metric", help="Catalog metric id (`salesflow metrics`).", show_default=False
        ),
    ],
    bad_if: BadIfOption,
    filters: FilterOption = None,
    params: ParamOption = None,
    period: PeriodOption = "month",
    season: SeasonOption = None,
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold",
            help="Bad beyond this value, in the metric's unit: 0.3 or 30% for a share, "
            "7 for 7 days (no % there). "
            "Without one: any chart signal in the bad direction.",
            show_default=False,
        ),
    ] = None,
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Bind a UDR to a measure from your sales data, and show its verdict right away.

    The verdict uses complete periods only: the median of the last 3 against the threshold,
    and any chart signal in the bad direction touching them. With --season Q4 only Q4 periods
    count (per month: October to December of each year).

    Example: `salesflow udr bind 1 --metric win_rate --filter region=EMEA --bad-if below --threshold 35%`
    """  # fmt: skip
    with open_bench(workspace, who) as bench:
        doc = bench.bind_udr(
            id,
            metric=metric,
            bad_if=bad_if,
            filters=pairs(filters, "--filter"),
            params=pairs(params, "--param"),
            period=period,
            season=season,
            threshold=threshold,
            expected_version=expected(version),
        )
    if as_json:
        print_json(doc)
        return
    out.print(f"UDR {id} is measured by {doc['measure']}; {doc['bad_when']}.")
    out.print(verdict_line(doc["verdict"]), soft_wrap=True)


@udr_app.command("list")
def list_udrs(
    no_verdicts: Annotated[
        bool, typer.Option("--no-verdicts", help="Skip computing verdicts (faster).")
    ] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted UDRs.")] = False,
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the UDRs with their verdicts from data.

    Example: `salesflow -w demo-ws udr list --json`
    """
    with open_bench(workspace, as_of=as_of) as bench, working("Judging each UDR on the data"):
        docs = bench.list_udrs(verdicts=not no_verdicts, include_deleted=deleted)
    if as_json:
        print_json({"udrs": docs})
        return
    if not docs:
        out.print("No UDRs yet: name a result your sales team sees and wishes it did not.")
        next_step(workspace, '`salesflow udr add "Win rate was 24% in Q3, against 30% planned"`')
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Undesirable Results", show_lines=True)
    for name in ("id", "statement", "verdict"):
        table.add_column(name, ratio=None if name == "id" else 1)
    for d in docs:
        gone = " [dim](deleted)[/]" if d["deleted_at"] else ""
        table.add_row(str(d["id"]), escape(d["statement"]) + gone, verdict_line(d["verdict"]))
    out.print(table)


@udr_app.command("show")
def show(
    id: IdArgument,
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """One UDR: its measure, verdict and evidence (values, chart, rule), lint and causes.

    Example: `salesflow -w demo-ws udr show 1 --as-of 2026-10-01 --json`
    """
    with open_bench(workspace, as_of=as_of) as bench, working("Judging the UDR on the data"):
        doc = bench.show_udr(id)
    if as_json:
        print_json(doc)
        return
    from rich.markup import escape

    out.print(f"[bold]UDR {doc['id']}[/]: {escape(doc['statement'])}", soft_wrap=True)
    out.print(f"Owner: {doc['owner'] or '—'}   Tags: {', '.join(doc['tags']) or '—'}")
    bad = f"; {doc['bad_when']}" if doc["bad_when"] else ""
    out.print(f"Measure: {doc['measure'] or 'not bound'}{bad}")
    out.print(verdict_line(doc["verdict"]), soft_wrap=True)
    _print_lint(doc["lint"])
    for c in doc["causes"]:
        check = f" [data check: {c['check']['verdict']}]" if c["check"] else ""
        out.print(
            f"  because of {c['cause']}: {escape((c['cause_text'] or '') + check)} (link {c['id']})"
        )


@udr_app.command("edit")
def edit(
    id: IdArgument,
    statement: Annotated[str | None, typer.Option("--statement", help="New wording.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="New owner.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Replace the tags (repeat for more).", show_default=False),
    ] = None,
    unbind: Annotated[bool, typer.Option("--unbind", help="Remove the measure.")] = False,
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Change a UDR's wording, owner or tags, or remove its measure; the change is kept in its history.

    Example: `salesflow udr edit 1 --statement "Win rate was 24% in Q3 2026, against 30%"`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.edit_udr(
            id,
            expected_version=expected(version),
            unbind=unbind,
            statement=statement,
            owner=owner,
            tags=tag,
        )
    if as_json:
        print_json(doc)
        return
    out.print(f"UDR {id} is now at version {doc['udr']['version']}.")
    _print_lint(doc["lint"])


soft_commands(udr_app, "udr", label="UDR", group="udr", id_argument=IdArgument,
              hides="lists and the cause graph")  # fmt: skip
udr_app.command("history")(
    history_command(
        "udr",
        IdArgument,
        "Every change to a UDR: who, when, and what it was before and after.\n\n"
        "Example: `salesflow udr history 1 --json`",
    )
)


def register(app: typer.Typer) -> None:
    """The commands sit on ``udr_app``, which :mod:`salesflow.cli.lint_cmd` registers."""
