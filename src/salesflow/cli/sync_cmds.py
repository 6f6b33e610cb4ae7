"""``salesflow sync folder|salesforce|hubspot|log``: keep the workspace current from a watched folder of
exports or straight from the CRM."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    WorkspaceOption,
    err,
    new_app,
    open_workspace,
    out,
    print_json,
)
from salesflow.errors import ConfigError, SalesflowError

sync_app = new_app(
    "Keep the workspace current: sync from Salesforce or HubSpot, or import the exports that "
    "land in a watched folder."
)


def folder(
    once: Annotated[
        bool, typer.Option("--once", help="Import what is new or changed, then stop.")
    ] = False,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Without --once: seconds between two looks.")
    ] = 60,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Import every new or changed file in the [sync.folder] path, each one all or nothing.

    A file that fails keeps its error in the sync log and is tried again only once it changes.
    Exits non-zero when a file failed. Without --once, keeps watching until stopped (Ctrl-C).

    Example: `salesflow sync folder --once --json`
    """
    if as_json and not once:
        raise ConfigError("--json prints one result, so it needs --once")
    while True:
        failed = _sync_once(workspace, as_json)
        if once:
            if failed:
                raise typer.Exit(1)
            return
        time.sleep(every)


def _sync_once(workspace: Path, as_json: bool) -> bool:
    from salesflow.sync import sync_folder

    with open_workspace(workspace) as ws:
        results = [r.to_dict() for r in sync_folder(ws)]
    if as_json:
        print_json({"files": results})
    else:
        _print(results, empty="Nothing new in the watched folder.")
    return any(r["status"] == "failed" for r in results)


def salesforce(
    once: Annotated[
        bool, typer.Option("--once", help="Fetch and apply what changed, then stop.")
    ] = False,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Without --once: seconds between two syncs.")
    ] = 3600,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Bring the deals, their history and their activities from Salesforce up to date.

    Fetches only what changed since the last sync ([sync.salesforce] instance_url, token from
    SALESFORCE_ACCESS_TOKEN) and applies it all or nothing: a failed sync changes nothing, is
    recorded in the sync log and exits non-zero. A deal deleted in Salesforce is removed with its
    history. Without --once, syncs every --every seconds until stopped (Ctrl-C), carrying on
    after a failed sync. See docs/crm-salesforce.md.

    Example: `salesflow sync salesforce --once --json`
    """
    _crm_loop(workspace, "salesforce", once=once, every=every, as_json=as_json)


def hubspot(
    once: Annotated[
        bool, typer.Option("--once", help="Fetch and apply what changed, then stop.")
    ] = False,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Without --once: seconds between two syncs.")
    ] = 3600,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Bring the deals, their stage history and their calls, e-mails and meetings from HubSpot
    up to date.

    Fetches only what changed since the last sync ([sync.hubspot] base_url, the private app's
    token from HUBSPOT_ACCESS_TOKEN) and applies it all or nothing: a failed sync changes
    nothing, is recorded in the sync log and exits non-zero. A deal deleted in HubSpot is
    removed with its history. Without --once, syncs every --every seconds until stopped
    (Ctrl-C), carrying on after a failed sync. See docs/crm-hubspot.md.

    Example: `salesflow sync hubspot --once --json`
    """
    _crm_loop(workspace, "hubspot", once=once, every=every, as_json=as_json)


def _crm_loop(workspace: Path, crm: str, *, once: bool, every: int, as_json: bool) -> None:
    if as_json and not once:
        raise ConfigError("--json prints one result, so it needs --once")
    while True:
        try:
            _crm_once(workspace, crm, as_json)
        except SalesflowError as exc:
            if once:
                raise
            from rich.markup import escape

            err.print(f"[red]Sync failed:[/] {escape(exc.message)}", soft_wrap=True)
        if once:
            return
        time.sleep(every)


def _crm_once(workspace: Path, crm: str, as_json: bool) -> None:
    if crm == "hubspot":
        from salesflow.sync.hubspot import sync_hubspot as sync_crm
    else:
        from salesflow.sync.salesforce import sync_salesforce as sync_crm

    with open_workspace(workspace) as ws, _progress(quiet=as_json) as say:
        result = sync_crm(ws, progress=say)
    if as_json:
        print_json({"source": crm, "tables": result.tables, "warnings": result.warnings})
        return
    _print_crm(crm, result.tables)
    _print_warnings(result.warnings)


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Callable[[str], None]]:
    """Each step of a sync on stderr: a spinner on a terminal, one line per step otherwise."""
    if quiet:
        yield lambda _m: None
        return
    if not err.is_terminal:
        yield lambda m: err.print(m, soft_wrap=True, markup=False)
        return
    with err.status("Starting the sync…", spinner="dots") as status:
        yield lambda m: status.update(m)


def _print_crm(crm: str, rows: dict[str, dict[str, int]], when: str = "") -> None:
    from salesflow.sync.crm import crm_name

    name = crm_name(crm)
    changed = {t: n for t, n in rows.items() if n["added"] or n["updated"] or n["deleted"]}
    if not changed:
        out.print(f"{when}Synced from {name}: nothing changed.")
        return
    parts = [
        f"[bold]{t}[/] {n['added']:,} new, {n['updated']:,} updated, {n['deleted']:,} removed"
        + (f", {n['unchanged']:,} unchanged" if n.get("unchanged") else "")
        for t, n in changed.items()
    ]
    out.print(f"{when}Synced from {name}: " + "; ".join(parts), soft_wrap=True)


def _print_warnings(warnings: list[str]) -> None:
    from rich.markup import escape

    for warning in warnings:
        out.print(f"  [yellow]Warning:[/] {escape(warning)}", soft_wrap=True)


def log(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """The sync log: each file imported and each CRM sync, when, how many rows, or why not.

    Example: `salesflow sync log --json`
    """
    from salesflow.sync import read_log

    with open_workspace(workspace) as ws:
        entries = read_log(ws.path)
    if as_json:
        print_json({"entries": entries})
        return
    _print(entries, empty="Nothing has been synced yet.")


def _print(rows: list[dict[str, Any]], *, empty: str) -> None:
    from rich.markup import escape

    from salesflow.sync.crm import crm_name

    if not rows:
        out.print(empty)
    for r in rows:
        when = f"{r['at']}  " if "at" in r else ""
        what = r.get("file") or crm_name(r.get("source", ""))
        if r["status"] == "failed":
            out.print(f"{when}[red]Failed[/] {escape(what)}: {escape(r['error'])}", soft_wrap=True)
            continue
        if r.get("source") and not r.get("file"):
            _print_crm(r["source"], r["rows"] or {}, when)
            _print_warnings(r.get("warnings") or [])
            continue
        n = r["rows"]
        out.print(
            f"{when}Imported {escape(r['file'])} into [bold]{r['table']}[/] "
            f"({n['added']:,} new, {n['updated']:,} updated"
            + (f", {n['unchanged']:,} unchanged)" if n.get("unchanged") else ")"),
            soft_wrap=True,
        )
        _print_warnings(r.get("warnings") or [])


def register(app: typer.Typer) -> None:
    """Add the ``sync`` group to the root app."""
    sync_app.command("folder")(folder)
    sync_app.command("salesforce")(salesforce)
    sync_app.command("hubspot")(hubspot)
    sync_app.command("log")(log)
    app.add_typer(sync_app, name="sync")
