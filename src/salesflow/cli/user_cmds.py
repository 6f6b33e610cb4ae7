"""``salesflow user …``: the web app's accounts, their sign-in sessions, API tokens and audit trail.

Every change is written to the accounts' audit trail as made by the operating-system user on the
command line. A new role, a new password or disabling ends the account's sessions at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    SalesflowGroup,
    VersionOption,
    WorkspaceOption,
    expected,
    new_app,
    out,
    print_json,
)
from salesflow.errors import ConfigError

user_app = new_app(
    "Manage the web app's accounts: admins, editors and viewers; their sessions and API tokens.\n\n"
    "Example: `salesflow user add ann --role admin`"
)

Role = Annotated[str, typer.Option("--role", help="admin, editor or viewer.")]
NameArg = Annotated[str, typer.Argument(help="The account's sign-in name.")]
EmailOption = Annotated[
    str | None,
    typer.Option("--email", help="Where the weekly digest goes (`salesflow digest --send`)."),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from the first line of FILE."),
]


def open_store(workspace: Path):
    """The app DB of a workspace (the caller closes it)."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings

    return KnowledgeStore.open(load_settings(workspace).resolved_app_url())


def _who() -> str:
    """The audit trail's "who" for a change made here: the operating-system user."""
    import getpass

    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


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


def _check_role(role: str) -> None:
    from salesflow.web.auth import ROLES

    if role not in ROLES:
        raise ConfigError(f"Role {role!r} is unknown", hint=f"Use {', '.join(ROLES)}")


def add(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Role = "viewer",
    password_file: PasswordFile = None,
    email: EmailOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Add an account; the password is asked for (hidden) unless --password-file is given.

    Example: `salesflow user add ann --role admin --email ann@example.com`
    """
    from salesflow.web.auth import hash_password

    _check_role(role)
    password_hash = hash_password(_read_password(password_file))
    with open_store(workspace) as store:
        user = store.users.create(
            name, role=role, password_hash=password_hash, email=email, who=_who()
        )
    if as_json:
        print_json(user.to_dict())
        return
    out.print(f"Added [bold]{user.name}[/] ({user.role}). They can sign in at `salesflow serve`.")


def list_users(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """List the accounts with their roles.

    Example: `salesflow user list --json`
    """
    with open_store(workspace) as store:
        users = [u.to_dict() for u in store.users.list()]
    empty = "No accounts yet. Add the first admin: salesflow user add NAME --role admin"
    _listing("users", users, as_json, empty, "Accounts", {"id": "id", "name": "name",
             "role": "role", "created": "created_at", "disabled": "disabled"})  # fmt: skip


def _listing(
    key: str,
    rows: list[dict[str, Any]],
    as_json: bool,
    empty: str,
    title: str,
    columns: dict[str, str],
) -> None:
    """``{key: rows}`` as JSON, else a table (``columns``: heading → key), or ``empty`` words."""
    if as_json:
        print_json({key: rows})
    elif not rows:
        out.print(empty)
    else:
        _table(title, rows, columns)


def _table(title: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for label in columns:
        table.add_column(label)
    for row in rows:
        cells = [row.get(key) for key in columns.values()]
        table.add_row(*(_cell(c) for c in cells))
    out.print(table)


def _cell(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    text = str(value)
    return text[:16] if len(text) > 16 and text[:4].isdigit() and "T" in text else text


def _change(
    workspace: Path, name: str, as_json: bool, said: str, version: int | None, **change: Any
) -> None:
    with open_store(workspace) as store:
        user = store.users.update(
            store.users.named(name).id, expected_version=expected(version), who=_who(), **change
        )
        ended = store.users.events(user.name)[-1].detail or {}
    if as_json:
        print_json({**user.to_dict(), "sessions_ended": ended.get("sessions_ended", 0)})
        return
    sessions = ended.get("sessions_ended", 0)
    tail = f"; {sessions} session(s) ended" if sessions else ""
    out.print(f"{user.name} {said}{tail}.")


def disable(
    name: NameArg,
    version: VersionOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Disable an account: it cannot sign in, its sessions end and its API tokens stop working.

    Example: `salesflow user disable bob`
    """
    _change(workspace, name, as_json, "is disabled", version, disabled=True)


def enable(
    name: NameArg,
    version: VersionOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Enable a disabled account again.

    Example: `salesflow user enable bob`
    """
    _change(workspace, name, as_json, "is enabled", version, disabled=False)


def role(
    name: NameArg,
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help="admin, editor or viewer.")],
    version: VersionOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Give an account another role; its sessions end, so the new rights apply at once.

    Example: `salesflow user role bob viewer`
    """
    _check_role(new_role)
    _change(workspace, name, as_json, f"is now {new_role}", version, role=new_role)


def edit(
    name: NameArg,
    email: Annotated[
        str,
        typer.Option("--email", help='Where the weekly digest goes; "" removes the address.'),
    ],
    version: VersionOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Change an account's e-mail address (the weekly digest goes there); sessions stay.

    Example: `salesflow user edit ann --email ann@example.com`
    """
    said = f"gets the digest at {email.strip()}" if email.strip() else "has no e-mail address"
    _change(workspace, name, as_json, said, version, email=email)


def reset_password(
    name: NameArg,
    password_file: PasswordFile = None,
    version: VersionOption = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Set a new password (asked for, hidden, unless --password-file); the account's sessions end.

    Example: `salesflow user reset-password bob --password-file new.txt`
    """
    from salesflow.web.auth import hash_password

    password_hash = hash_password(_read_password(password_file))
    _change(workspace, name, as_json, "has a new password", version, password_hash=password_hash)


def sessions(
    name: Annotated[str | None, typer.Argument(help="Only this account's sessions.")] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """List who is signed in to the web app, from where, since when.

    Example: `salesflow user sessions --json`
    """
    with open_store(workspace) as store:
        user_id = None if name is None else store.users.named(name).id
        found = [s.to_dict() for s in store.sessions.list(user_id)]
    _listing("sessions", found, as_json, "Nobody is signed in.", "Sessions", {"id": "id",
             "name": "user", "since": "created_at", "last seen": "last_seen_at",
             "from": "client"})  # fmt: skip


def sign_out(
    name: NameArg,
    session: Annotated[
        int | None, typer.Option("--session", help="End only this session (see `user sessions`).")
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """End an account's web sessions (all of them, or one with --session).

    Example: `salesflow user sign-out bob`
    """
    with open_store(workspace) as store:
        user = store.users.named(name)
        if session is None:
            ended = store.sessions.end_all(user.id, who=_who())
        else:
            if session not in {s.id for s in store.sessions.list(user.id)}:
                from salesflow.errors import NotFoundError

                raise NotFoundError(
                    f"{user.name} has no session {session}",
                    hint=f"List them with `salesflow user sessions {user.name}`",
                )
            store.sessions.end(session, who=_who())
            ended = 1
    if as_json:
        print_json({"user": user.name, "sessions_ended": ended})
        return
    out.print(f"{ended} session(s) of {user.name} ended.")


def history(
    name: Annotated[str | None, typer.Argument(help="Only this account's entries.")] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """The accounts' audit trail: who created, changed, disabled an account or token, and when.

    Example: `salesflow user history bob --json`
    """
    with open_store(workspace) as store:
        events = [e.to_dict() for e in store.users.events(name)]
    _listing("events", events, as_json, "No account changes yet.", "Account changes",
             {"when": "at", "who": "who", "action": "action", "account": "account",
              "detail": "detail"})  # fmt: skip


class TokenGroup(SalesflowGroup):
    """``user token NAME`` creates a token (the original form); ``list`` and ``revoke`` manage."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "create", self.commands["create"], args
        return super().resolve_command(ctx, args)


token_app = typer.Typer(
    cls=TokenGroup,
    help="API tokens for integrations: create (`user token NAME`), list and revoke.\n\n"
    "Example: `salesflow user token crm-bot --label hubspot-webhook`",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def token_create(
    name: Annotated[str, typer.Argument(help="The account the token acts for.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    expires_in: Annotated[
        int | None,
        typer.Option(
            "--expires-in", min=1, help="Days until the token stops working (default: never)."
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Create an API token for integrations (e.g. a CRM webhook); it is shown only once.

    Example: `salesflow user token crm-bot --label hubspot-webhook --expires-in 90`
    """
    from datetime import timedelta

    from salesflow.appdb.records import now
    from salesflow.cli.common import err
    from salesflow.web.auth import hash_token, new_api_token

    secret = new_api_token()
    expires = None if expires_in is None else now() + timedelta(days=expires_in)
    with open_store(workspace) as store:
        user = store.users.named(name)
        record = store.users.add_token(
            user.id, token_hash=hash_token(secret), name=label, expires_at=expires, who=_who()
        )
    if as_json:
        print_json({"user": user.name, "token": secret, "id": record.id, "label": label,
                    "expires_at": record.to_dict()["expires_at"]})  # fmt: skip
        return
    out.print(secret, soft_wrap=True)
    until = f", valid until {expires:%Y-%m-%d}" if expires else ""
    err.print(
        f"API token {record.id} for {user.name} ({user.role}){until}. Store it now: it is not "
        "shown again. Send it as 'Authorization: Bearer TOKEN'."
    )


def token_list(
    name: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """List API tokens (never their secret): id, account, label, last use, expiry.

    Example: `salesflow user token list --json`
    """
    with open_store(workspace) as store:
        names = {u.id: u.name for u in store.users.list()}
        user_id = None if name is None else store.users.named(name).id
        tokens = [{**t.to_dict(), "user": names[t.user_id]} for t in store.users.tokens(user_id)]
    empty = "No API tokens. Create one with `salesflow user token NAME`."
    _listing("tokens", tokens, as_json, empty, "API tokens", {"id": "id", "account": "user",
             "label": "name", "last used": "last_used_at", "expires": "expires_at"})  # fmt: skip


def token_revoke(
    token_id: Annotated[
        int, typer.Argument(metavar="ID", help="The token's id (see `user token list`).")
    ],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token: the next request carrying it gets 401.

    Example: `salesflow user token revoke 3`
    """
    with open_store(workspace) as store:
        record = store.users.revoke_token(token_id, who=_who())
    if as_json:
        print_json({**record.to_dict(), "revoked": True})
        return
    out.print(f"API token {record.id} ({record.name}) is revoked.")


def register(app: typer.Typer) -> None:
    """Add the `user` group to the root app."""
    user_app.command("add")(add)
    user_app.command("list")(list_users)
    user_app.command("disable")(disable)
    user_app.command("enable")(enable)
    user_app.command("role")(role)
    user_app.command("edit")(edit)
    user_app.command("reset-password")(reset_password)
    user_app.command("sessions")(sessions)
    user_app.command("sign-out")(sign_out)
    user_app.command("history")(history)
    token_app.command("create")(token_create)
    token_app.command("list")(token_list)
    token_app.command("revoke")(token_revoke)
    user_app.add_typer(token_app, name="token")
    app.add_typer(user_app, name="user")
