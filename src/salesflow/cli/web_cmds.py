"""``salesflow serve``: run the team web app (its accounts: ``user_cmds.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import WorkspaceOption, err
from salesflow.errors import ConfigError


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for everyone).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than 1 needs PostgreSQL data).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Run the team web app for this workspace.

    Example: `salesflow -w demo-ws serve --port 8000`
    """
    import uvicorn

    from salesflow.cli.user_cmds import open_store
    from salesflow.settings import load_settings
    from salesflow.web.config import web_settings

    settings = load_settings(workspace)
    web = web_settings(settings)  # a weak secret or a bad [web] setting stops here, in one line
    if workers > 1 and settings.resolved_data_url().startswith("duckdb://"):
        raise ConfigError(
            "Several workers on an embedded DuckDB file are not supported yet",
            where="[data] url",
            hint="Run one worker (it serves many people at once), or move the data to "
            "PostgreSQL; see docs/web.md",
        )
    with open_store(workspace) as store:
        has_users = store.users.has_admin()
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    err.print(f"salesflow for {settings.workspace} at [bold]{url}[/]  (Ctrl+C stops it)")
    warning = exposure_warning(host, web.public_url)
    if warning:
        err.print(f"[yellow]Warning:[/] {warning}", soft_wrap=True)
    if not has_users:
        err.print(
            "[yellow]No admin account yet.[/] Create the first admin, in another terminal:\n"
            f"  salesflow -w {settings.workspace} user add NAME --role admin"
        )
    os.environ["SALESFLOW_WORKSPACE"] = str(settings.workspace)
    scheduler = _digest_schedule(settings)
    syncs = _sync_schedule(settings)
    sys.stderr.flush()
    try:
        uvicorn.run(
            "salesflow.web.server:make_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_level="warning",
        )
    finally:
        for running in (scheduler, syncs):
            if running is not None:
                running.shutdown(wait=False)


def _digest_schedule(settings: Any) -> Any:
    """Start sending the weekly digest at ``[notify] schedule`` (None when it is not set)."""
    from salesflow.notify import notify_settings
    from salesflow.notify.schedule import parse_schedule, scheduled_send, start_scheduler

    notify = notify_settings(settings)  # a bad [notify] setting stops the server here
    if not notify.schedule:
        return None
    err.print(f"The weekly digest is sent {notify.schedule} ({settings.timezone}).")
    job = scheduled_send(str(settings.workspace))
    return start_scheduler(parse_schedule(notify.schedule), job, timezone=settings.timezone)


def _sync_schedule(settings: Any) -> Any:
    """Start the syncs of ``[sync] every`` (None when it is not set, or nothing is configured)."""
    from salesflow.sync.schedule import (
        NAMES,
        scheduled_syncs,
        start_sync_scheduler,
        sync_every,
        sync_sources,
    )

    every = sync_every(settings)  # a bad [sync] every stops the server here
    sources = sync_sources(settings)
    if every is None:
        return None
    if not sources:
        err.print(
            "[yellow]Warning:[/] [sync] every is set but no source is: add [sync.folder], "
            "[sync.salesforce] or [sync.hubspot] to salesflow.toml (docs/sync.md)",
            soft_wrap=True,
        )
        return None
    names = ", ".join(NAMES[s] for s in sources)
    err.print(f"Syncing {names} now and every {settings.section('sync')['every']}.")
    job = scheduled_syncs(str(settings.workspace))
    return start_sync_scheduler(every, job, timezone=settings.timezone)


def exposure_warning(host: str, public_url: str | None) -> str | None:
    """What to say when the server listens beyond this machine without HTTPS in front of it."""
    import ipaddress

    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback or (public_url or "").startswith("https://"):
        return None
    return (
        f"salesflow listens on {host}, reachable from other machines, and no "
        '[web] public_url = "https://…" says HTTPS is in front of it: passwords and session '
        "cookies would cross the network readable by anyone on the way. Put it behind a "
        "reverse proxy with HTTPS and set public_url (docs/web.md, Running salesflow for a team)."
    )


def register(app: typer.Typer) -> None:
    """Add `serve` and the `user` group to the root app."""
    from salesflow.cli import user_cmds

    app.command()(serve)
    user_cmds.register(app)
