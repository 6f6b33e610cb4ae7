"""Export and import the whole knowledge base as one JSON document, losslessly.

The document mirrors the tables: ids, versions, timestamps, soft-deleted rows, check-ins and the
full history travel as they are, so export → import into an empty DB → export gives the same
document. Accounts travel without password hashes and API tokens unless ``include_secrets`` is
set (a knowledge file is something people e-mail around). See docs/appdb.md for the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Table, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesflow.appdb.errors import InvalidRecordError
from salesflow.appdb.migrate import head_revision
from salesflow.appdb.models import Base
from salesflow.appdb.records import as_utc, iso
from salesflow.appdb.store import KnowledgeStore

__all__ = ["FORMAT", "FORMAT_VERSION", "export_knowledge", "import_knowledge"]

FORMAT = "salesflow-knowledge"
FORMAT_VERSION = 1
ACCOUNT_TABLES = ("users", "api_tokens")
KNOWLEDGE_TABLES = (
    "nodes",
    "udrs",
    "causes",
    "cause_links",
    "improvements",
    "improvement_attacks",
    "checkins",
    "history",
    "invitations",
    "statements",
)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def export_knowledge(store: KnowledgeStore, *, include_secrets: bool = False) -> dict[str, Any]:
    """The whole knowledge base (and accounts) as a JSON-ready document."""
    names = ACCOUNT_TABLES + KNOWLEDGE_TABLES if include_secrets else ("users", *KNOWLEDGE_TABLES)
    with store.transaction() as session:
        tables = {name: _dump(session, _table(name)) for name in names}
    if not include_secrets:
        for row in tables["users"]:
            row.pop("password_hash")
        for row in tables["invitations"]:  # no hash of a link's key: imported links never open
            row["key_hash"] = f"not-exported-{row['id']}"
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": head_revision(),
        "includes_secrets": include_secrets,
        "tables": tables,
    }


def _dump(session: Session, table: Table) -> list[dict[str, Any]]:
    order = list(table.primary_key.columns)
    rows = session.execute(select(table).order_by(*order)).mappings()
    return [{key: _jsonable(value) for key, value in row.items()} for row in rows]


def _jsonable(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def import_knowledge(
    store: KnowledgeStore, doc: Mapping[str, Any], *, replace: bool = False
) -> dict[str, int]:
    """Load an exported document; returns rows imported per table.

    The knowledge base must be empty unless ``replace`` (then its knowledge is replaced). Accounts
    are kept: document users whose name is new are added; ids and tokens are taken over only
    when the app DB has no users yet.
    """
    tables = _check_document(doc)
    if not replace and not store.is_empty():
        raise InvalidRecordError(
            "The app database already holds UDRs, causes or improvements; nothing was imported",
            hint="Import into a new workspace, or pass --replace to replace its knowledge",
        )
    counts: dict[str, int] = {}
    try:
        with store.transaction() as session:
            for name in reversed(KNOWLEDGE_TABLES):
                session.execute(delete(_table(name)))
            counts.update(_import_accounts(session, tables))
            for name in KNOWLEDGE_TABLES:
                counts[name] = _insert(session, _table(name), tables.get(name, []))
            _reset_sequences(session)
    except IntegrityError as exc:
        raise InvalidRecordError(
            f"The knowledge file is inconsistent: {exc.orig}",
            hint="Use a file written by `salesflow export`, unedited",
        ) from None
    return counts


def _check_document(doc: Mapping[str, Any]) -> Mapping[str, list[dict[str, Any]]]:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise InvalidRecordError(
            'This is not a salesflow knowledge file (no "format": "salesflow-knowledge")',
            hint="Use a file written by `salesflow export`",
        )
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise InvalidRecordError(
            f"Knowledge file format version {version!r} is not supported (this salesflow reads "
            f"{FORMAT_VERSION})",
            hint="Export it again with this salesflow release, or upgrade salesflow",
        )
    tables = doc.get("tables")
    if not isinstance(tables, Mapping):
        raise InvalidRecordError('The knowledge file has no "tables" section')
    for name, rows in tables.items():
        if name not in ACCOUNT_TABLES + KNOWLEDGE_TABLES:
            raise InvalidRecordError(f"The knowledge file has an unknown table {name!r}")
        columns = set(_table(name).columns.keys())
        for number, row in enumerate(rows, start=1):
            extra = set(row) - columns if isinstance(row, Mapping) else {"(not an object)"}
            if extra:
                raise InvalidRecordError(
                    f"Unknown field(s) {', '.join(sorted(extra))}",
                    where=f"table {name}, row {number}",
                    hint="Use a file written by `salesflow export`",
                )
    return tables


def _import_accounts(session: Session, tables: Mapping[str, Any]) -> dict[str, int]:
    users = _table("users")
    rows = tables.get("users", [])
    if not session.scalar(select(func.count()).select_from(users)):
        return {
            "users": _insert(session, users, rows),
            "api_tokens": _insert(session, _table("api_tokens"), tables.get("api_tokens", [])),
        }
    known = set(session.scalars(select(users.c.name)))
    fresh = [
        {k: v for k, v in row.items() if k != "id"} for row in rows if row["name"] not in known
    ]
    return {"users": _insert(session, users, fresh), "api_tokens": 0}


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dates = {c.name for c in table.columns if isinstance(c.type, DateTime)}
    values = [{k: _parse(v) if k in dates else v for k, v in row.items()} for row in rows]
    if table.name == "users":
        values = [{"password_hash": None, **row} for row in values]
    session.execute(insert(table), values)
    return len(values)


def _parse(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        raise InvalidRecordError(
            f"{value!r} is not a date and time",
            hint="Write ISO 8601, e.g. 2026-03-01T09:00:00+00:00",
        ) from None


def _reset_sequences(session: Session) -> None:
    """PostgreSQL does not advance a serial's sequence on explicit ids: move it past the max."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or table.c.id.foreign_keys:
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
            )
        )
