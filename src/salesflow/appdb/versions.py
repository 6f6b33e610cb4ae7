"""Optimistic concurrency: every change names the version it was based on, checked as it is written.

A change first *claims* its row with ``UPDATE … SET version = version WHERE id = :id AND
version = :expected``: the statement that checks the version is the one that takes the row's
write lock (PostgreSQL locks the row, SQLite the database), so no other writer can slip in between
the check and the write, on either backend. A claim that matches no row is explained (missing,
deleted, or changed by someone else: then the current record travels with the error).

``CURRENT`` is the deliberate "whatever is stored now" for callers that read and write in one
step (the CLI without ``--version``): the claim then skips the version but still locks the row.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, Table, update
from sqlalchemy.orm import Session

from salesflow.appdb.errors import VersionRequiredError

__all__ = ["CURRENT", "Current", "Expected", "claim", "require_version"]


class Current:
    """The type of :data:`CURRENT`."""

    _instance: Current | None = None

    def __new__(cls) -> Current:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CURRENT"


#: "Change whatever version is stored now": read and checked in the writing transaction.
CURRENT: Final = Current()

#: What a change names: the version the caller read, or :data:`CURRENT`.
Expected = int | Current


def require_version(expected: Any, label: str, id: Any) -> Expected:
    """``expected`` as given, or a clear error when the caller did not say which version it read."""
    if expected is CURRENT:
        return CURRENT
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 1:
        raise VersionRequiredError(
            f"Say which version of {label} {id} you are changing; nothing was saved",
            hint="Send the version you read (it comes with the record), so nobody's change is "
            "overwritten unseen",
        )
    return expected


def claim(
    session: Session, table: Table, id: Any, expected: Expected, *extra: ColumnElement[bool]
) -> bool:
    """Lock row ``id`` for this transaction if it is at ``expected`` (and meets ``extra``).

    Must be the transaction's first statement on SQLite (a read before it would pin an older
    snapshot). Returns False when no row matched; the caller says why.
    """
    where = [table.c.id == id, *extra]
    if expected is not CURRENT:
        where.append(table.c.version == expected)
    result = session.execute(update(table).where(*where).values(version=table.c.version))
    return result.rowcount == 1  # type: ignore[attr-defined]
