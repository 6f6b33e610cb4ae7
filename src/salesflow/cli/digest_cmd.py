"""``salesflow digest``: the weekly digest — check-ins due, verdicts that changed, confirmed UDRs
nobody acts on yet, new signals and new request patterns — printed, or sent by e-mail and webhook
(``[notify]`` in ``salesflow.toml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import JsonOption, WorkspaceOption, out, print_json
from salesflow.cli.workbench_cmds import open_bench
from salesflow.errors import ConfigError


def digest(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this person's items (an account name).")
    ] = None,
    as_html: Annotated[bool, typer.Option("--html", help="Print the e-mail's HTML.")] = False,
    send: Annotated[
        bool,
        typer.Option("--send", help="E-mail each person their items and post to the webhook."),
    ] = False,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """What needs attention this week, with links into the web app: check-ins due, verdicts that
    changed since the last digest sent, confirmed UDRs without a cause or an improvement, new
    signals on measures and new request patterns.

    Today is the calendar date (`SALESFLOW_TODAY=YYYY-MM-DD` sets it). `--send` delivers it and
    records it, so the next digest reports only what changed since; cron can run it weekly, or
    `[notify] schedule` lets `salesflow serve` do it.

    Example: `salesflow -w demo-ws digest --user "Jonas Berg"`
    """
    from salesflow.notify import notify_settings

    if send and (user or as_html):
        raise ConfigError(
            "--send delivers everyone's digest; it cannot be combined with --user or --html",
            hint="Run `salesflow digest --send` alone",
        )
    with open_bench(workspace) as bench:
        notify = notify_settings(bench.workspace.settings)
        if send:
            from salesflow.notify import send_digest

            _sent(send_digest(bench, notify), as_json, mails=notify.sends_email)
            return
        from salesflow.workbench.digest import build_digest, for_user

        doc = build_digest(bench, base_url=notify.base_url, previous=bench.store.digests.last())
    shown = for_user(doc, user) if user else {k: v for k, v in doc.items() if k != "state"}
    if as_json:
        print_json(shown)
        return
    from salesflow.notify.render import render_html, render_text

    shown.setdefault("notes", [])
    typer.echo(render_html(shown) if as_html else render_text(shown), nl=False)


def _sent(result: dict, as_json: bool, *, mails: bool) -> None:
    if as_json:
        print_json(result)
        return
    for email in result["emails"]:
        out.print(f"E-mailed {email['name']} <{email['to']}>: {email['items']} items", markup=False)
    if not result["emails"]:
        out.print(
            "No e-mail sent: nobody with an address has anything to look at."
            if mails
            else "No e-mail sent: [notify] has no smtp_host.",
            markup=False,
        )
    if result["webhook"]:
        out.print(f"Posted the team's digest ({result['items']} items) to the webhook.")


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
