"""``salesflow invite add|list|revoke`` and ``salesflow statements [merge]``: everyone's own view
first. Thin adapters over :mod:`salesflow.workbench.team_view`.

Links are signed with the web server's secret (the workspace's ``web-secret.key`` or
``SALESFLOW_SECRET_KEY``), so a link printed here opens on the server of the same workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    SalesflowGroup,
    WorkspaceOption,
    new_app,
    next_step,
    open_workspace,
    out,
    print_json,
)
from salesflow.cli.workbench_cmds import WhoOption

if TYPE_CHECKING:
    from salesflow.appdb import KnowledgeStore
    from salesflow.web.config import WebSettings

invite_app = new_app(
    "Invite team members, one link each, to state the results they dislike in their own words.\n\n"
    "Example: `salesflow invite add Ann --email ann@example.com --expires 14d`"
)
statements_app = typer.Typer(
    cls=SalesflowGroup,
    help="What the team said: statements grouped by what people have in common.\n\n"
    "Example: `salesflow statements --json`",
    invoke_without_command=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@contextmanager
def _opened(workspace: Path) -> Iterator[tuple[KnowledgeStore, WebSettings]]:
    from salesflow.appdb import KnowledgeStore
    from salesflow.web.config import web_settings

    ws = open_workspace(workspace)
    try:
        with KnowledgeStore.for_workspace(ws) as store:
            yield store, web_settings(ws.settings)
    finally:
        ws.close()


def _who(who: str | None) -> str:
    from salesflow.workbench.service import resolve_who

    return resolve_who(who)


@invite_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The person you invite (one link per person).")],
    email: Annotated[
        str | None, typer.Option("--email", help="Their e-mail address, kept for you.")
    ] = None,
    expires: Annotated[
        str, typer.Option("--expires", help="How long the link stays open: 14d, 2w or 48h.")
    ] = "14d",
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Invite one person and print their link (shown once: send it to them yourself).

    The link opens a page with the three starter questions and nothing else of salesflow;
    set `[web] public_url` to print whole addresses.

    Example: `salesflow invite add Ann --email ann@example.com --expires 14d`
    """
    from salesflow.workbench.team_view import invite, parse_expiry

    span = parse_expiry(expires)
    with _opened(workspace) as (store, web):
        made = invite(store, name, secret=web.secret_key, who=_who(who), email=email, expires=span)
        doc = made.to_dict(web.public_url)
    if as_json:
        print_json(doc)
        return
    until = f"{made.invitation.expires_at:%d %b %Y %H:%M} UTC"
    out.print(f"Invitation {doc['id']} for {doc['name']}, open until {until}:", markup=False)
    out.print(doc["link"] or doc["path"], soft_wrap=True, markup=False)
    if not doc["link"]:
        out.print(
            "Put your server's address in front (set [web] public_url to print it).", markup=False
        )


@invite_app.command("list")
def list_(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Every invitation: who, until when, open/expired/revoked, and how many statements came back.

    Example: `salesflow invite list --json`
    """
    with _opened(workspace) as (store, _):
        docs = [
            {**i.to_dict(), "statements": store.statements.count_for(i.id)}
            for i in store.invitations.list()
        ]
    if as_json:
        print_json({"invitations": docs})
        return
    if not docs:
        out.print("No invitations yet. Invite someone with `salesflow invite add NAME`.")
    for d in docs:
        out.print(
            f"{d['id']:>3}  {d['name']}  {d['state']} (until {d['expires_at'][:16]})  "
            f"{d['statements']} statement(s)",
            markup=False,
        )


@invite_app.command("revoke")
def revoke(
    id: Annotated[int, typer.Argument(help="The invitation's id (see `salesflow invite list`).")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Withdraw an invitation: its link stops working at once (statements sent stay).

    Example: `salesflow invite revoke 3`
    """
    with _opened(workspace) as (store, _):
        doc = store.invitations.revoke(id).to_dict()
    if as_json:
        print_json(doc)
        return
    out.print(f"Invitation {id} for {doc['name']} withdrawn.", markup=False)


@statements_app.callback()
def statements(
    ctx: typer.Context, workspace: WorkspaceOption = Path("."), as_json: JsonOption = False
) -> None:
    """What the team said, not merged into a UDR yet, grouped by what people have in common.

    Example: `salesflow statements --json`
    """
    if ctx.invoked_subcommand is not None:
        return
    from salesflow.workbench.team_view import grouped_statements

    with _opened(workspace) as (store, _):
        doc = grouped_statements(store)
    if as_json:
        print_json(doc)
        return
    _render(doc)


def _render(doc: dict[str, Any]) -> None:
    if not doc["groups"]:
        out.print("No statements waiting. Invite people with `salesflow invite add NAME`.")
    for group in doc["groups"]:
        people = ", ".join(group["people"])
        words = f" — in common: {', '.join(group['shared_words'])}" if group["shared_words"] else ""
        out.print(f"[bold]Group {group['group']}[/] ({people}){words}")
        for s in group["statements"]:
            out.print(f"  {s['id']:>3}  {s['author']}: {s['difficulty']}", markup=False)
    if any(g["size"] > 1 for g in doc["groups"]):
        out.print("Merge alike statements with `salesflow statements merge ID ID …`.")


@statements_app.command("merge")
def merge(
    ids: Annotated[list[int], typer.Argument(help="Statement ids (see `salesflow statements`).")],
    into: Annotated[
        int | None, typer.Option("--into", help="Add them to this existing UDR.")
    ] = None,
    statement: Annotated[
        str | None,
        typer.Option("--statement", help="The new UDR's wording (default: the first statement)."),
    ] = None,
    who: WhoOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Merge alike statements into one UDR that keeps every contributor and their words.

    Example: `salesflow statements merge 3 7 --statement "38% of proposals wait over 10 days for pricing in Q3"`
    """  # fmt: skip
    from salesflow.workbench.team_view import merge_statements

    with _opened(workspace) as (store, _):
        doc = merge_statements(store, ids, who=_who(who), into=into, statement=statement)
    if as_json:
        print_json(doc)
        return
    names = ", ".join(sorted({c["author"] for c in doc["contributors"]}))
    out.print(f"UDR {doc['udr']['id']}: {doc['udr']['statement']}", markup=False)
    out.print(f"Contributors: {names}.", markup=False)
    next_step(
        workspace, f"`salesflow udr bind {doc['udr']['id']} --metric METRIC --bad-if above|below`"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
    app.add_typer(statements_app, name="statements")
