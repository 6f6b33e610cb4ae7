"""``salesflow upgrade``, ``export`` and ``import-knowledge``: look after the app database.

SQLAlchemy and Alembic are imported inside the commands so ``salesflow --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import JsonOption, WorkspaceOption, open_workspace, out, print_json
from salesflow.errors import SalesflowError

LABELS = {
    "udrs": "UDRs",
    "causes": "causes",
    "cause_links": "cause links",
    "improvements": "improvements",
    "checkins": "check-ins",
    "history": "history entries",
    "users": "users",
}


def upgrade(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Bring the workspace's app database to this release's schema (creates it if missing).

    Back up the database first when it holds your team's work. Safe to run twice.

    Example: `salesflow -w acme-sales upgrade`
    """
    from salesflow.appdb import head_revision
    from salesflow.appdb import upgrade as run_upgrade
    from salesflow.appdb.migrate import describe_url

    url = open_workspace(workspace).settings.resolved_app_url()
    before, after = run_upgrade(url)
    doc = {
        "workspace": str(Path(workspace).resolve()),
        "app_db": describe_url(url),
        "before": before,
        "after": after,
        "head": head_revision(),
    }
    if as_json:
        print_json(doc)
    elif before == after:
        out.print(f"The app database is already at the newest revision ({after}).")
    else:
        out.print(f"App database upgraded from revision {before or '(new)'} to {after}.")


def export(
    file: Annotated[Path, typer.Argument(help="JSON file to write.")],
    workspace: WorkspaceOption = Path("."),
    include_secrets: Annotated[
        bool,
        typer.Option("--include-secrets", help="Also write password hashes and API token hashes."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the whole knowledge base (UDRs, causes, links, improvements, check-ins, history) to a file.

    Deleted entries and every past change are kept, so the file restores the workbench exactly.

    Example: `salesflow -w acme-sales export knowledge.json`
    """
    from salesflow.appdb import KnowledgeStore, export_knowledge

    with KnowledgeStore.for_workspace(open_workspace(workspace)) as store:
        doc = export_knowledge(store, include_secrets=include_secrets)
    try:
        file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SalesflowError(
            f"Cannot write {file}: {exc.strerror}",
            hint="Choose a folder that exists and is writable",
        ) from None
    _report("Exported", file, {name: len(rows) for name, rows in doc["tables"].items()}, as_json)


def import_knowledge(
    file: Annotated[Path, typer.Argument(help="A file written by `salesflow export`.")],
    workspace: WorkspaceOption = Path("."),
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the knowledge this workspace already holds.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load a knowledge file into the workspace's app database (empty unless --replace).

    Example: `salesflow -w new-ws import-knowledge knowledge.json`
    """
    from salesflow.appdb import KnowledgeStore
    from salesflow.appdb import import_knowledge as run_import

    doc = _read(file)
    with KnowledgeStore.for_workspace(open_workspace(workspace)) as store:
        counts = run_import(store, doc, replace=replace)
    _report("Imported", file, counts, as_json)


def _read(file: Path) -> Any:
    if not file.is_file():
        raise SalesflowError(f"No file at {file}", hint="Give the path of a knowledge export")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SalesflowError(
            f"The knowledge file is not valid JSON: {exc.msg}",
            where=f"{file}, line {exc.lineno}, column {exc.colno}",
            hint="Use a file written by `salesflow export`, unedited",
        ) from None


def _report(verb: str, file: Path, counts: dict[str, int], as_json: bool) -> None:
    if as_json:
        print_json({"file": str(file), "rows": counts})
        return
    summary = ", ".join(f"{counts.get(name, 0):,} {label}" for name, label in LABELS.items())
    out.print(f"{verb} {file}: {summary}.")


def register(app: typer.Typer) -> None:
    """Add ``upgrade``, ``export`` and ``import-knowledge`` to the root app."""
    app.command()(upgrade)
    app.command()(export)
    app.command("import-knowledge")(import_knowledge)
