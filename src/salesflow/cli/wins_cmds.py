"""``salesflow improve wins|engagement``: the team's wins in plain words, and whether the
environment rewards improving (check-ins on time, improvements started and verified, days from a
confirmed UDR to its first improvement)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from salesflow.cli.common import AsOfOption, JsonOption, WorkspaceOption, out, print_json
from salesflow.cli.workbench_cmds import open_bench


def wins(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Improvements whose measure shows a sustained improvement: before and after, and who did it.

    Example: `salesflow -w demo-ws improve wins --json`
    """
    from salesflow.workbench.wins import wins as find_wins

    with open_bench(workspace, as_of=as_of) as bench:
        doc = find_wins(bench)
    if as_json:
        print_json(doc)
        return
    from rich.markup import escape

    if not doc["wins"]:
        out.print("No wins yet: no improvement's chart shows a sustained improvement.")
    for w in doc["wins"]:
        people = ", ".join(w["people"]) or "nobody named yet"
        mark = " (verified)" if w["verified"] else ""
        out.print(f"[bold green]WIN[/] [bold]{escape(w['title'])}[/]{mark} — {escape(people)}")
        out.print(f"  {escape(w['sentence'])}", soft_wrap=True)
    for c in doc["verified_without_shift"]:
        out.print(
            f"[yellow]Marked verified, but the chart does not show it[/]: {escape(c['title'])} — "
            f"{escape(c['sentence'])}",
            soft_wrap=True,
        )


def engagement(
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Whether the questions keep being asked: check-ins on time, improvements started and
    verified per month, and days from a confirmed UDR to its first improvement.

    Example: `salesflow -w demo-ws improve engagement --json`
    """
    from salesflow.workbench.engagement import engagement as measure

    with open_bench(workspace) as bench:
        doc = measure(bench)
    if as_json:
        print_json(doc)
        return
    _print_engagement(doc)


def _print_engagement(doc: dict[str, Any]) -> None:
    from rich.markup import escape

    for key in ("checkins_on_time", "improvements_started", "improvements_verified"):
        part = doc[key]
        out.print(f"[bold]{part['title']}[/] — {escape(part['sentence'])}", soft_wrap=True)
    waits = doc["udr_to_first_improvement"]
    out.print(f"[bold]{waits['title']}[/] — {escape(waits['sentence'])}", soft_wrap=True)


def register(improve_app: typer.Typer) -> None:
    improve_app.command("wins")(wins)
    improve_app.command("engagement")(engagement)
