"""``salesflow sync folder|log``: import the exports that land in a watched folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    WorkspaceOption,
    new_app,
    open_workspace,
    out,
    print_json,
)
from salesflow.errors import ConfigError

sync_app = new_app("Keep the workspace current: import the exports that land in a watched folder.")


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


def log(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """The sync log: when each file was imported, into which table, how many rows, or why not.

    Example: `salesflow sync log --json`
    """
    from salesflow.sync import read_log

    with open_workspace(workspace) as ws:
        entries = read_log(ws.path)
    if as_json:
        print_json({"entries": entries})
        return
    _print(entries, empty="No file has been synced yet.")


def _print(rows: list[dict[str, Any]], *, empty: str) -> None:
    from rich.markup import escape

    if not rows:
        out.print(empty)
    for r in rows:
        when = f"{r['at']}  " if "at" in r else ""
        if r["status"] == "failed":
            out.print(
                f"{when}[red]Failed[/] {escape(r['file'])}: {escape(r['error'])}", soft_wrap=True
            )
            continue
        n = r["rows"]
        out.print(
            f"{when}Imported {escape(r['file'])} into [bold]{r['table']}[/] "
            f"({n['added']:,} new, {n['updated']:,} updated)",
            soft_wrap=True,
        )


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
    from salesflow.errors import SalesflowError

    if as_json and not once:
        raise ConfigError("--json prints one result, so it needs --once")
    while True:
        try:
            _hubspot_once(workspace, as_json)
        except SalesflowError as exc:
            if once:
                raise
            from rich.markup import escape

            from salesflow.cli.common import err

            err.print(f"[red]Sync failed:[/] {escape(exc.message)}", soft_wrap=True)
        if once:
            return
        time.sleep(every)


def _hubspot_once(workspace: Path, as_json: bool) -> None:
    from salesflow.cli.common import err
    from salesflow.sync.hubspot import sync_hubspot

    say = None if as_json else (lambda m: err.print(f"{m}…", soft_wrap=True))
    with open_workspace(workspace) as ws:
        rows = sync_hubspot(ws, progress=say)
    if as_json:
        print_json({"source": "hubspot", "tables": rows})
        return
    changed = {t: n for t, n in rows.items() if any(n.values())}
    if not changed:
        out.print("Synced from HubSpot: nothing changed.")
        return
    parts = [
        f"[bold]{t}[/] {n['added']:,} new, {n['updated']:,} updated, {n['deleted']:,} removed"
        for t, n in changed.items()
    ]
    out.print("Synced from HubSpot: " + "; ".join(parts), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``sync`` group to the root app."""
    sync_app.command("folder")(folder)
    sync_app.command("hubspot")(hubspot)
    sync_app.command("log")(log)
    app.add_typer(sync_app, name="sync")
