"""``salesflow cause``, ``why`` and ``causes``: the why-analysis; also registers the ``udr`` and
``improve`` workbench commands (:mod:`salesflow.cli.udr_cmds`, :mod:`salesflow.cli.improve_cmds`).

Thin adapters over :class:`salesflow.workbench.service.Workbench`; SQLAlchemy, Ibis and the
analysis are imported inside the commands so ``salesflow --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    SalesflowGroup,
    VersionOption,
    WorkspaceOption,
    expected,
    new_app,
    next_step,
    open_workspace,
    out,
    print_json,
    with_workspace,
    working,
)

if TYPE_CHECKING:
    from salesflow.workbench.service import Workbench

WhoOption = Annotated[
    str | None,
    typer.Option(
        "--who",
        help="Who makes the change (default: SALESFLOW_USER, else your login name).",
        show_default=False,
    ),
]
FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help="column=value the measure is limited to (repeat for more).",
                 show_default=False),
]  # fmt: skip
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", help="name=value for the metric's parameters (repeat).",
                 show_default=False),
]  # fmt: skip
PeriodOption = Annotated[
    str, typer.Option("--period", help="week, month or quarter: one chart point per period.")
]
BadIfOption = Annotated[
    str,
    typer.Option("--bad-if", help="'above' if higher is bad, 'below' if lower is bad.",
                 show_default=False),
]  # fmt: skip
NodeArgument = Annotated[int, typer.Argument(help="The id (see `salesflow causes`).")]
COLOURS = {
    "confirmed": "red",
    "contradicted": "green",
    "improved": "green",
    "worse": "red",
    "no_signal": "yellow",
    "too_early": "cyan",
    "insufficient_data": "cyan",
    "unbound": "dim",
    "not_measured": "dim",
}


def open_bench(workspace: Path, who: str | None = None, as_of: str | None = None) -> Workbench:
    """The workbench of a workspace, with the person making changes; verdicts are judged at
    ``as_of`` (``--as-of``; default: the data's latest timestamp)."""
    from salesflow.workbench.service import Workbench
    from salesflow.workspace import resolve_as_of

    ws = open_workspace(workspace)
    moment = None if as_of is None else resolve_as_of(ws.settings, ws.data, as_of)
    return Workbench(ws, who=who, as_of=moment)


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    from salesflow.workbench.measures import parse_pairs

    return parse_pairs(values or [], option=option)


def verdict_line(verdict: dict[str, Any] | None) -> str:
    """``CONFIRMED BY THE DATA — sentence`` in colour, for the terminal: the web's and the
    report's words for the verdict."""
    from rich.markup import escape

    from salesflow.workbench.verdict import IMPROVEMENT_LABELS, UDR_LABELS

    if not verdict:
        return ""
    colour = COLOURS.get(verdict["verdict"], "white")
    labels = {**UDR_LABELS, **IMPROVEMENT_LABELS}
    word = labels.get(verdict["verdict"], verdict["verdict"].replace("_", " ")).upper()
    return f"[bold {colour}]{word}[/] — {escape(verdict['sentence'])}"


def cause_add(
    text: Annotated[str, typer.Argument(help="The cause, in a sentence.")],
    owner: Annotated[str | None, typer.Option("--owner", help="Who looks into it.")] = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Add a cause found by asking "why?"; link it with `salesflow why EFFECT_ID CAUSE_ID`.

    Prints the new id (UDRs and causes share one id space).

    Example: `salesflow cause add "Leads wait a day for an owner" --owner Maria`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.add_cause(text, owner=owner)
    if as_json:
        print_json(doc)
        return
    out.print(f"Cause [bold]{doc['id']}[/] added.")
    next_step(workspace, f"`salesflow why EFFECT_ID {doc['id']}`")


def change_command(
    entity: str, action: str, id_argument: Any, doc: str, message: Callable[[int], str]
) -> Callable[..., None]:
    """A ``delete`` or ``restore`` command for ENTITY; MESSAGE(id) is what it says when done."""

    def command(
        id: int,
        version: VersionOption = None,
        who: WhoOption = None,
        workspace: WorkspaceOption = Path("."),
        as_json: JsonOption = False,
    ) -> None:
        with open_bench(workspace, who) as bench:
            result = getattr(bench, action)(entity, id, expected_version=expected(version))
        if as_json:
            print_json(result)
            return
        out.print(with_workspace(message(id), workspace))  # the undo hint runs as written

    command.__annotations__["id"] = id_argument  # each group's own help for the id
    command.__doc__ = doc
    return command


def history_command(entity: str, id_argument: Any, doc: str) -> Callable[..., None]:
    """A ``history`` command for ENTITY: every change, who made it, when, before and after."""

    def command(
        id: int, workspace: WorkspaceOption = Path("."), as_json: JsonOption = False
    ) -> None:
        with open_bench(workspace) as bench:
            changes = bench.history(entity, id)
        if as_json:
            print_json({"entity": entity, "id": id, "history": changes})
            return
        render_history(changes)

    command.__annotations__["id"] = id_argument
    command.__doc__ = doc
    return command


def render_history(changes: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="History")
    for name in ("when (UTC)", "who", "action", "changed"):
        table.add_column(name)
    for h in changes:
        before, after = h["before"] or {}, h["after"] or {}
        skip = {"version", "updated_at", "deleted_at", "created_at"}
        keys = [k for k in after if k not in skip and before.get(k) != after.get(k)]
        changed = ", ".join(keys) if h["action"] == "update" else ""
        table.add_row(h["at"][:16].replace("T", " "), escape(h["who"]), h["action"], changed)
    out.print(table)


def soft_commands(
    app: typer.Typer, entity: str, *, label: str, group: str, id_argument: Any, hides: str
) -> None:
    """``GROUP delete`` and ``GROUP restore`` for ENTITY (``hides``: where a deleted one is gone)."""
    for action, doc in (
        ("delete", f"Delete a {label}: hidden from {hides}, kept in the history, restorable."),
        ("restore", f"Bring back a deleted {label}."),
    ):
        undo = f" Undo with `salesflow {group} restore {{id}}`." if action == "delete" else ""
        app.command(action)(
            change_command(
                entity, action, id_argument, f"{doc}\n\nExample: `salesflow {group} {action} 7`",
                lambda id, action=action, undo=undo: (
                    f"{label[0].upper()}{label[1:]} {id} {action}d.{undo.format(id=id)}"
                ),
            )
        )  # fmt: skip


def edit_cause(
    id: NodeArgument,
    text: Annotated[str | None, typer.Argument(help="The new wording.", show_default=False)] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help='Who looks into it ("" for nobody).')
    ] = None,
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Reword a cause or change its owner; the change is kept in its history.

    Example: `salesflow cause edit 7 "Leads wait a day in a shared queue"`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.edit_cause(id, expected_version=expected(version), text=text, owner=owner)
    if as_json:
        print_json(doc)
        return
    out.print(f"Cause {id} is now at version {doc['version']}.")


def edit_link(
    id: Annotated[int, typer.Argument(help="The link's id (see `salesflow causes --json`).")],
    text: Annotated[
        str | None, typer.Option("--text", help='How the cause leads to the effect ("" clears).')
    ] = None,
    and_group: Annotated[
        str | None, typer.Option("--and-group", help='The AND group ("" takes it out).')
    ] = None,
    version: VersionOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Reword a why-link or change its AND group; kept in its history.

    Example: `salesflow why edit 3 --text "a lead waits until a manager assigns it"`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.edit_link(id, expected_version=expected(version), text=text, group=and_group)
    if as_json:
        print_json(doc)
        return
    out.print(f"Link {id} is now at version {doc['version']}.")


class WhyGroup(SalesflowGroup):
    """``salesflow why EFFECT CAUSE`` runs ``why link``; ``why check`` and the others stay."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["link", *args]  # the group has no options of its own: they are link's
        return super().parse_args(ctx, args)


def why_link(
    effect: Annotated[int, typer.Argument(help="The effect: a UDR or cause id.")],
    cause: Annotated[int, typer.Argument(help="Its cause: a UDR or cause id.")],
    text: Annotated[
        str | None, typer.Option("--text", help="Why: how the cause leads to it.")
    ] = None,
    and_group: Annotated[
        str | None,
        typer.Option(
            "--and-group", help="Name shared by causes that are only sufficient together."
        ),
    ] = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Accept a link that closes a reinforcing loop.")
    ] = False,
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="What you saw that supports the link.")
    ] = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Record "EFFECT happens because of CAUSE" (same as `salesflow why EFFECT CAUSE`).

    A link that would close a loop is refused, with the loop it would close; add `--loop` if
    the loop is real (a reinforcing loop).

    Example: `salesflow why 1 6 --text "leads wait a day for an owner"`
    """
    with open_bench(workspace, who) as bench:
        doc = bench.link(effect, cause, text=text, group=and_group, loop=loop, evidence=evidence)
    if as_json:
        print_json(doc)
        return
    out.print(f"Link [bold]{doc['id']}[/]: {effect} happens because of {cause}.")


def why_check(
    link_id: Annotated[int, typer.Argument(help="The link to check (see `salesflow causes`).")],
    variable: Annotated[
        str,
        typer.Option(
            "--variable",
            help="Operating variable standing for the cause (see `salesflow variables`).",
            show_default=False,
        ),
    ],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="won, cycle_time, stalled or a per-deal metric (see `salesflow drivers --help`).",
            show_default=False,
        ),
    ],
    level: Annotated[
        str | None, typer.Option("--level", help="For a categorical variable: the level to test.")
    ] = None,
    claims: Annotated[
        str,
        typer.Option("--claims", help="'worsens' (more of the variable hurts) or 'improves'."),
    ] = "worsens",
    filters: FilterOption = None,
    params: ParamOption = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Check a why-link against past deals; the answer is stored as the link's evidence.

    Says *supports*, *contradicts* or *inconclusive*, with the effect in plain units, its 95 %
    interval and adjusted p-value: an association in past deals, not proof.

    Example: `salesflow why check 1 --variable first_response_over_48h --outcome won`
    """
    with open_bench(workspace, who) as bench, working("Checking the link against past deals"):
        doc = bench.check_link(
            link_id,
            variable=variable,
            outcome=outcome,
            level=level,
            claims=claims,
            filters=pairs(filters, "--filter"),
            params=pairs(params, "--param"),
        )
    if as_json:
        print_json(doc)
        return
    from rich.markup import escape

    check = doc["check"]
    colour = {"supports": "green", "contradicts": "red"}.get(check["verdict"], "yellow")
    out.print(
        f"Link {link_id}: [bold {colour}]{check['verdict'].upper()}[/] — {escape(check['reason'])}"
    )


def causes(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """The cause-and-effect graph as a tree, with candidate root causes and core problems.

    Each node shows how many of your UDRs it leads to; a core problem leads to at least
    `causes.core_threshold` (70 %) of them.

    Example: `salesflow -w demo-ws causes --json`
    """
    with open_bench(workspace) as bench, working("Ranking the causes"):
        doc = bench.causes()
    if as_json:
        print_json(doc)
        return
    from rich.markup import escape

    if not doc["nodes"]:
        out.print('No UDRs or causes yet. Start with `salesflow udr add "STATEMENT"`.')
        return
    for line in doc["tree"]:
        out.print(escape(line), soft_wrap=True)
    roots = [n for n in doc["nodes"] if n["root"]]
    out.print(f"\n[bold]Candidate root causes[/] ({len(roots)}):")
    for n in roots:
        core = " [bold red]CORE PROBLEM[/]" if n["core"] else ""
        share = f", {n['share']:.0%}" if n["count"] else ""
        out.print(f"  {n['id']}: {escape(n['text'])} — {n['leads_to']}{share}{core}")


cause_app = new_app(
    "Causes found by asking why: add them, then link them with `salesflow why`.\n\n"
    'Example: `salesflow cause add "Leads wait a day for an owner"`'
)
why_app = typer.Typer(
    cls=WhyGroup,
    help="Link an effect to its cause (`salesflow why EFFECT_ID CAUSE_ID`), or check a link "
    "against the data (`salesflow why check LINK_ID`).\n\n"
    'Example: `salesflow why 1 6 --text "leads wait a day"`',
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

cause_app.command("add")(cause_add)
cause_app.command("edit")(edit_cause)
soft_commands(cause_app, "cause", label="cause", group="cause", id_argument=NodeArgument,
              hides="the cause picture and `salesflow causes`")  # fmt: skip
cause_app.command("history")(
    history_command("cause", NodeArgument, "Every change to a cause: who, when, before and "
                    "after.\n\nExample: `salesflow cause history 7 --json`")
)  # fmt: skip
why_app.command("link")(why_link)
why_app.command("check")(why_check)
why_app.command("edit")(edit_link)
soft_commands(why_app, "link", label="link", group="why", id_argument=NodeArgument,
              hides="the cause picture")  # fmt: skip
why_app.command("history")(
    history_command("link", NodeArgument, "Every change to a why-link: who, when, before "
                    "and after.\n\nExample: `salesflow why history 3 --json`")
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``cause``, ``why``, ``causes`` and the workbench's ``udr`` / ``improve`` commands."""
    from salesflow.cli import improve_cmds, udr_cmds, wins_cmds

    app.add_typer(cause_app, name="cause")
    app.add_typer(why_app, name="why")
    app.command("causes")(causes)
    udr_cmds.register(app)
    wins_cmds.register(improve_cmds.improve_app)
    improve_cmds.register(app)
