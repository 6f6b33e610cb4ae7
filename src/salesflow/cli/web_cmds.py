"""``salesflow serve`` and ``salesflow user …``: run the team web app and manage its accounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import JsonOption, WorkspaceOption, err, new_app, out, print_json
from salesflow.errors import ConfigError

user_app = new_app(
    "Manage the web app's accounts: admins, editors and viewers.\n\n"
    "Example: `salesflow user add ann --role admin`"
)

Role = Annotated[str, typer.Option("--role", help="admin, editor or viewer.")]


def _store(workspace: Path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings

    return KnowledgeStore.open(load_settings(workspace).resolved_app_url())


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the password file: {exc.strerror}", where=str(password_file)
            ) from None
        return lines[0] if lines else ""
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)


def add(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Role = "viewer",
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="Read the password from the first line of FILE."),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Add an account; the password is asked for (hidden) unless --password-file is given.

    Example: `salesflow user add ann --role admin`
    """
    from salesflow.web.auth import ROLES, hash_password

    if role not in ROLES:
        raise ConfigError(f"Role {role!r} is unknown", hint=f"Use {', '.join(ROLES)}")
    password_hash = hash_password(_read_password(password_file))
    with _store(workspace) as store:
        user = store.users.create(name, role=role, password_hash=password_hash)
    if as_json:
        print_json(user.to_dict())
        return
    out.print(f"Added [bold]{user.name}[/] ({user.role}). They can sign in at `salesflow serve`.")


def list_users(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """List the accounts with their roles.

    Example: `salesflow user list --json`
    """
    with _store(workspace) as store:
        users = [u.to_dict() for u in store.users.list()]
    if as_json:
        print_json({"users": users})
        return
    if not users:
        out.print("No accounts yet. Add the first admin: salesflow user add NAME --role admin")
        return
    from rich.table import Table

    table = Table(title="Accounts")
    for col in ("id", "name", "role", "created", "disabled"):
        table.add_column(col)
    for u in users:
        created = str(u["created_at"])[:16]
        table.add_row(str(u["id"]), u["name"], u["role"], created, "yes" if u["disabled"] else "")
    out.print(table)


def token(
    name: Annotated[str, typer.Argument(help="The account the token acts for.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Create an API token for integrations (e.g. a CRM webhook); it is shown only once.

    Example: `salesflow user token crm-bot --label hubspot-webhook`
    """
    from salesflow.errors import NotFoundError
    from salesflow.web.auth import hash_token, new_api_token

    secret = new_api_token()
    with _store(workspace) as store:
        user = store.users.by_name(name)
        if user is None:
            raise NotFoundError(
                f"There is no account named {name!r}",
                hint="Add it with `salesflow user add NAME --role editor`",
            )
        record = store.users.add_token(user.id, token_hash=hash_token(secret), name=label)
    if as_json:
        print_json({"user": user.name, "token": secret, "id": record.id, "label": label})
        return
    out.print(secret, soft_wrap=True)
    err.print(
        f"API token for {user.name} ({user.role}). Store it now: it is not shown again. "
        "Send it as 'Authorization: Bearer TOKEN'."
    )


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

    from salesflow.settings import load_settings

    settings = load_settings(workspace)
    if workers > 1 and settings.resolved_data_url().startswith("duckdb://"):
        raise ConfigError(
            "Several workers on an embedded DuckDB file are not supported yet",
            where="[data] url",
            hint="Run one worker (it serves many people at once), or move the data to "
            "PostgreSQL; see docs/web.md",
        )
    with _store(workspace) as store:
        has_users = bool(store.users.list())
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    err.print(f"salesflow for {settings.workspace} at [bold]{url}[/]  (Ctrl+C stops it)")
    if not has_users:
        err.print(
            "[yellow]No accounts yet.[/] Create the first admin, in another terminal:\n"
            f"  salesflow -w {settings.workspace} user add NAME --role admin"
        )
    os.environ["SALESFLOW_WORKSPACE"] = str(settings.workspace)
    sys.stderr.flush()
    uvicorn.run(
        "salesflow.web.server:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level="warning",
    )


def register(app: typer.Typer) -> None:
    """Add `serve` and the `user` group to the root app."""
    app.command()(serve)
    user_app.command("add")(add)
    user_app.command("list")(list_users)
    user_app.command("token")(token)
    app.add_typer(user_app, name="user")
