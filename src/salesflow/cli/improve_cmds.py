"""``salesflow improve add|checkin|due|show|list|status|edit|delete|restore|history``: improvements framed by the
three questions, whether their measure's chart shows that they worked, and whose check-in is due."""

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
    new_app,
    out,
    print_json,
    working,
)
from salesflow.cli.metrics_cmds import SeasonOption
from salesflow.cli.workbench_cmds import (
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

improve_app = new_app(
    "Improvements: what you want to accomplish and why, what you could do, and how you will "
    "know you succeeded.\n\n"
    'Example: `salesflow improve add --objective "Faster proposals" --metric stage_time ...`'
)
IdArgument = Annotated[
    int, typer.Argument(help="The improvement's id (see `salesflow improve list`).")
]
OwnerOption = Annotated[
    str | None,
    typer.Option("--owner", help="Who leads it and is asked at each check-in: a user's name."),
]
CadenceOption = Annotated[
    str | None,
    typer.Option(
        "--cadence",
        help="How often the three questions are asked again: weekly (default), fortnightly "
        "or monthly.",
        show_default=False,
    ),
]


WhyTextOption = Annotated[str | None, typer.Option("--why", help="…and why?")]
MethodOption = Annotated[
    str | None, typer.Option("--method", help="What could you do: the countermeasure.")
]
TheoryOption = Annotated[str | None, typer.Option("--theory", help="How it acts on the cause.")]
AttacksOption = Annotated[
    list[int] | None,
    typer.Option("--attacks", help="Cause (or UDR) id it works on; repeat.", show_default=False),
]
TitleOption = Annotated[
    str | None, typer.Option("--title", help="Short name (default: the objective).")
]
MetricOption = Annotated[
    str | None, typer.Option("--metric", help="How will you know? A catalog metric.")
]
BadIfOption = Annotated[
    str | None,
    typer.Option(
        "--bad-if",
        help="above|below: the direction that is bad; success is a sustained shift the other way.",
    ),
]
BaselineOption = Annotated[
    str | None,
    typer.Option(
        "--baseline", help="START:END of the 'before' window (default: everything before --start)."
    ),
]
StartOption = Annotated[
    str | None, typer.Option("--start", help="Date the change started, YYYY-MM-DD.")
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="The value you aim for, in the metric's unit: 45% or 0.45 for a share, 6 for 6 days.",
    ),
]


@improve_app.command("add")
def add(
    objective: Annotated[
        str, typer.Option("--objective", help="What do you want to accomplish?", show_default=False)
    ],
    why: WhyTextOption = None,
    method: MethodOption = None,
    theory: TheoryOption = None,
    attacks: AttacksOption = None,
    title: TitleOption = None,
    metric: MetricOption = None,
    bad_if: BadIfOption = None,
    filters: FilterOption = None,
    params: ParamOption = None,
    period: PeriodOption = "month",
    season: SeasonOption = None,
    baseline: BaselineOption = None,
    start: StartOption = None,
    target: TargetOption = None,
    owner: OwnerOption = None,
    status: Annotated[
        str, typer.Option("--status", help="proposed, running, verified or abandoned.")
    ] = "proposed",
    cadence: CadenceOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Add an improvement that answers the three questions; prints its id and current verdict.

    Example: `salesflow improve add --objective "Proposals out within a week" --method "Standard template" --attacks 12 --metric stage_time --filter stage=Proposal --bad-if above --baseline 2024-10-01:2025-09-30 --start 2025-10-01 --target 6 --owner "Jonas Berg" --cadence weekly`
    """  # fmt: skip
    with open_bench(workspace, who) as bench:
        doc = bench.add_improvement(
            objective=objective, why=why, method=method, theory=theory, attacks=attacks or [],
            title=title, metric=metric, bad_if=bad_if, filters=pairs(filters, "--filter"),
            params=pairs(params, "--param"), period=period, season=season, baseline=baseline,
            start=start,
            target=target, owner=owner, status=status, cadence=cadence,
        )  # fmt: skip
    if as_json:
        print_json(doc)
        return
    out.print(f"Improvement [bold]{doc['id']}[/] added ({doc['status']}, asked {doc['cadence']}).")
    out.print(verdict_line(doc["verdict"]), soft_wrap=True)


@improve_app.command("checkin")
def checkin(
    id: IdArgument,
    asked_by: Annotated[
        str | None, typer.Option("--asked-by", help="Who asked the questions.")
    ] = None,
    answered_by: Annotated[str | None, typer.Option("--answered-by", help="Who answered.")] = None,
    objective: Annotated[
        str | None,
        typer.Option("--objective", help="Answer to: what do you want to accomplish, and why?"),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option("--method", help="Answer to: what are you doing that might improve it?"),
    ] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", help="Answer to: how will you know you succeeded?")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Anything else worth keeping.")] = None,
    held_on: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The day a check-in held earlier took place (default: today).",
            show_default=False,
        ),
    ] = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Record the three questions asked again, with the measure's latest complete value.

    Give at least one answer or a note; an answer left out stands as it was at the check-in
    before.

    Example: `salesflow improve checkin 1 --asked-by Maria --answered-by Jonas --objective "Proposals within a week" --method "Template in all teams" --measure "Days in Proposal" --date 2026-11-30`
    """  # fmt: skip
    _said_something(id, objective, method, measure, note)
    with open_bench(workspace, who) as bench:
        doc = bench.checkin(
            id, asked_by=asked_by, answered_by=answered_by, objective=objective,
            method=method, measure=measure, note=note, held_on=held_on,
        )  # fmt: skip
    if as_json:
        print_json(doc)
        return
    shown = (
        f"; the measure was {doc['measure_text']} in the period starting {doc['measure_period']}"
        if doc["measure_value"] is not None
        else ""
    )
    out.print(f"Check-in {doc['id']} on {doc['held_on']} recorded for improvement {id}{shown}.")


def _said_something(id: int, *answers: str | None) -> None:
    """A check-in records what was said: none of the three answers and no note is a slip."""
    if any(a and a.strip() for a in answers):
        return
    from salesflow.errors import ConfigError

    raise ConfigError(
        f"Nothing to record for improvement {id}: no answer and no note",
        hint=f'Give what was said, e.g. `salesflow improve checkin {id} --method "Template in '
        f'all teams"` or `--note "No change since last time"` (answers left out stand as '
        f"they were; `--date YYYY-MM-DD` for a check-in held earlier)",
    )


@improve_app.command("due")
def due(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Improvements whose check-in is due or overdue today, most overdue first, with the last
    answers to the three questions and the measure's verdict.

    Today is the calendar date (`SALESFLOW_TODAY=YYYY-MM-DD` sets it); `--as-of` sets the data
    moment the verdicts are judged at.

    Example: `salesflow -w demo-ws improve due --json`
    """
    with open_bench(workspace, as_of=as_of) as bench, working("Judging the improvements"):
        docs = bench.due_improvements()
    if as_json:
        print_json(docs)
        return
    render_due(docs)


def render_due(docs: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    if not docs:
        out.print("No check-ins are due: every improvement was asked on time.")
        return
    for d in docs:
        late = f"{d['overdue_days']} days overdue" if d["overdue_days"] else "due today"
        owner = escape(d["owner"] or "no owner")
        last = d["last_checkin"] or "never (started " + d["started"] + ")"
        out.print(
            f"[bold]{d['id']}[/] {escape(d['title'])} — {owner}, {late} "
            f"(asked {d['cadence']}; last check-in {last})",
            soft_wrap=True,
        )
        for label, key in ANSWERS:
            if d[key]:
                out.print(f"    {label} {escape(d[key])}", soft_wrap=True)
        out.print("    " + verdict_line(d["verdict"]), soft_wrap=True)


ANSWERS = (
    ("1. Accomplish:", "objective_answer"),
    ("2. Doing:", "method_answer"),
    ("3. Knowing:", "measure_answer"),
)


@improve_app.command("show")
def show(
    id: IdArgument,
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """One improvement: the three questions, its verdict with the chart, and its check-ins.

    Example: `salesflow -w demo-ws improve show 1 --as-of 2026-10-01 --json`
    """
    with open_bench(workspace, as_of=as_of) as bench, working("Judging the improvement"):
        doc = bench.show_improvement(id)
    if as_json:
        print_json(doc)
        return
    render(doc)


def render(doc: dict[str, Any]) -> None:
    from rich.markup import escape

    def line(label: str, value: Any) -> None:
        out.print(f"[bold]{label}[/] {escape(str(value)) if value else '—'}", soft_wrap=True)

    out.print(f"[bold]Improvement {doc['id']}[/]: {escape(doc['title'])} ({doc['status']})")
    line("1. What do you want to accomplish?", doc["objective"])
    line("   …and why?", doc["why"])
    line("2. What could you do?", doc["method"])
    line("   Theory:", doc["theory"])
    attacks = "; ".join(f"{a['id']}: {a['text']}" for a in doc["attacks_detail"])
    line("   Attacks:", attacks)
    line("3. How will you know?", doc["measure_text"])
    out.print(verdict_line(doc["verdict"]), soft_wrap=True)
    line("Owner:", doc["owner"])
    line("Check-ins:", schedule_text(doc["schedule"], doc["cadence"]))
    for c in doc["checkins"]:
        value = "" if c["measure_text"] is None else f" — the measure was {c['measure_text']}"
        out.print(
            f"  check-in {c['held_on']} asked by {c['asked_by']}, answered by {c['answered_by'] or '—'}{value}",
            soft_wrap=True,
        )
        for label, key in ANSWERS:
            if c[key]:
                mark = " [bold](changed)[/]" if key in c["changed"] else ""
                out.print(f"    {label} {escape(c[key])}{mark}", soft_wrap=True)


def schedule_text(schedule: dict[str, Any] | None, cadence: str) -> str:
    """``asked weekly; next due 2026-12-10`` or ``… 3 days overdue``."""
    if schedule is None:
        return f"asked {cadence}; not asked any more (verified or abandoned)"
    days = schedule["overdue_days"]
    when = "due today" if days == 0 else f"{days} days overdue" if days > 0 else "on time"
    return f"asked {cadence}; next due {schedule['due']} ({when})"


@improve_app.command("list")
def list_improvements(
    no_verdicts: Annotated[
        bool, typer.Option("--no-verdicts", help="Skip computing verdicts (faster).")
    ] = False,
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """List improvements with their status and verdict.

    Example: `salesflow -w demo-ws improve list --json`
    """
    with open_bench(workspace, as_of=as_of) as bench, working("Judging the improvements"):
        docs = bench.list_improvements(verdicts=not no_verdicts)
    if as_json:
        print_json({"improvements": docs})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Improvements", show_lines=True)
    for name in ("id", "title", "status", "verdict"):
        table.add_column(name)
    for d in docs:
        table.add_row(str(d["id"]), escape(d["title"]), d["status"], verdict_line(d["verdict"]))
    out.print(table)


@improve_app.command("status")
def status(
    id: IdArgument,
    new: Annotated[str, typer.Argument(help="proposed, running, verified or abandoned.")],
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Move an improvement to running, verified or abandoned (kept in its history).

    Example: `salesflow improve status 1 verified`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.set_status(id, new, expected_version=expected(version))
    if as_json:
        print_json(doc)
        return
    out.print(f"Improvement {id} is now {doc['status']}.")


@improve_app.command("edit")
def edit(
    id: IdArgument,
    objective: Annotated[
        str | None, typer.Option("--objective", help="What do you want to accomplish?")
    ] = None,
    why: WhyTextOption = None,
    method: MethodOption = None,
    theory: TheoryOption = None,
    attacks: AttacksOption = None,
    title: TitleOption = None,
    owner: OwnerOption = None,
    cadence: CadenceOption = None,
    new_status: Annotated[
        str | None, typer.Option("--status", help="proposed, running, verified or abandoned.")
    ] = None,
    metric: MetricOption = None,
    bad_if: BadIfOption = None,
    filters: FilterOption = None,
    params: ParamOption = None,
    period: Annotated[
        str | None, typer.Option("--period", help="week, month or quarter (with --metric).")
    ] = None,
    season: SeasonOption = None,
    baseline: BaselineOption = None,
    start: StartOption = None,
    target: TargetOption = None,
    unmeasure: Annotated[
        bool,
        typer.Option("--no-measure", help="Remove the measure (its verdict stays in history)."),
    ] = False,
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Change an improvement: give only what changes ("" clears a text); kept in its history.

    A new measure (--metric with --bad-if and --start, as in `improve add`) is computed first;
    the verdict of the one it replaces is kept in the history.

    Example: `salesflow improve edit 1 --objective "Proposals out within 5 days" --owner "Jonas Berg" --cadence fortnightly`
    """  # fmt: skip
    measure = {"metric": metric, "bad_if": bad_if, "period": period, "season": season,
               "baseline": baseline, "start": start, "target": target,
               "filters": pairs(filters, "--filter") if filters else None,
               "params": pairs(params, "--param") if params else None}  # fmt: skip
    with open_bench(workspace, who) as bench:
        doc = bench.edit_improvement(
            id, expected_version=expected(version), unmeasure=unmeasure, objective=objective,
            why=why, method=method, theory=theory, attacks=attacks, title=title, owner=owner,
            cadence=cadence, status=new_status, **measure,
        )  # fmt: skip
    if as_json:
        print_json(doc)
        return
    out.print(f"Improvement {id} is now at version {doc['version']}.")


soft_commands(improve_app, "improvement", label="improvement", group="improve",
              id_argument=IdArgument, hides="lists and the check-ins due")  # fmt: skip
improve_app.command("history")(
    history_command(
        "improvement",
        IdArgument,
        "Every change to an improvement: who, when, before and after.\n\n"
        "Example: `salesflow improve history 1 --json`",
    )
)


def register(app: typer.Typer) -> None:
    app.add_typer(improve_app, name="improve")
