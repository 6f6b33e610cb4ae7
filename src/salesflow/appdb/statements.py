"""Invitations and the statements people send: everyone's own view before the team's.

An invitation is for one person; its link's key is hashed by the caller (only the hash is
stored). Statements are append-only in their author's words; merging sets the UDR they became, so
a UDR lists every contributor. A merge creates the UDR (or names an existing one) and claims the
statements in one transaction, written to ``history``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from salesflow.appdb.errors import AlreadyExistsError, InvalidRecordError, StaleEditError
from salesflow.appdb.models import Invitation, Statement, Udr
from salesflow.appdb.records import InvitationRecord, StatementRecord, UdrRecord, now
from salesflow.errors import NotFoundError

__all__ = ["MAX_ANSWER", "InvitationRepository", "StatementRepository"]

MAX_ANSWER = 2000  # characters per answer, as a UDR statement


class InvitationRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def create(
        self, name: str, *, key_hash: str, expires_at: datetime, who: str, email: str | None = None
    ) -> InvitationRecord:
        """A new invitation for ``name`` (one person); the link's key is the caller's."""
        name = " ".join(str(name or "").split())
        if not name or len(name) > 200:
            raise InvalidRecordError(
                "An invitation needs the person's name (up to 200 characters)",
                hint="Write the name of the team member you invite",
            )
        email = (email or "").strip() or None
        if email is not None and ("@" not in email or len(email) > 320):
            raise InvalidRecordError(
                f"{email!r} is not an e-mail address", hint="e.g. ann@example.com"
            )
        with self._store.transaction() as session:
            row = Invitation(
                name=name,
                email=email,
                key_hash=key_hash,
                created_by=who,
                created_at=now(),
                expires_at=expires_at,
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            return InvitationRecord.from_row(row)

    def get(self, id: int) -> InvitationRecord:
        with self._store.transaction() as session:
            return InvitationRecord.from_row(_invitation(session, id))

    def by_key(self, key_hash: str) -> InvitationRecord | None:
        with self._store.transaction() as session:
            row = session.scalars(select(Invitation).where(Invitation.key_hash == key_hash)).first()
            return None if row is None else InvitationRecord.from_row(row)

    def list(self) -> list[InvitationRecord]:
        with self._store.transaction() as session:
            rows = session.scalars(select(Invitation).order_by(Invitation.id))
            return [InvitationRecord.from_row(row) for row in rows]

    def revoke(self, id: int) -> InvitationRecord:
        """End the link at once (statements already sent stay)."""
        with self._store.transaction() as session:
            row = _invitation(session, id)
            if row.revoked_at is None:
                row.revoked_at = now()
            return InvitationRecord.from_row(row)


class StatementRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def add(
        self,
        author: str,
        difficulty: str,
        *,
        evidence: str | None = None,
        goal: str | None = None,
        invitation_id: int | None = None,
    ) -> StatementRecord:
        """Store one person's answers as they wrote them (trimmed)."""
        fields = {
            "difficulty": _answer(difficulty, "What is making it difficult", required=True),
            "evidence": _answer(evidence, "What evidence do you have"),
            "goal": _answer(goal, "What do you want to accomplish"),
        }
        with self._store.transaction() as session:
            row = Statement(author=author, invitation_id=invitation_id, created_at=now(), **fields)
            session.add(row)
            session.flush()
            return StatementRecord.from_row(row)

    def count_for(self, invitation_id: int) -> int:
        with self._store.transaction() as session:
            query = select(func.count()).where(Statement.invitation_id == invitation_id)
            return int(session.scalar(query) or 0)

    def list(
        self, *, merged: bool | None = None, invitation_id: int | None = None
    ) -> list[StatementRecord]:
        """Statements by id: all, only those not merged yet (``merged=False``) or merged."""
        query = select(Statement).order_by(Statement.id)
        if merged is not None:
            query = query.where(
                Statement.udr_id.is_not(None) if merged else Statement.udr_id.is_(None)
            )
        if invitation_id is not None:
            query = query.where(Statement.invitation_id == invitation_id)
        with self._store.transaction() as session:
            return [StatementRecord.from_row(row) for row in session.scalars(query)]

    def for_udr(self, udr_id: int) -> list[StatementRecord]:
        """The statements a UDR was made from: its contributors and their words."""
        query = select(Statement).where(Statement.udr_id == udr_id).order_by(Statement.id)
        with self._store.transaction() as session:
            return [StatementRecord.from_row(row) for row in session.scalars(query)]

    def merge(
        self,
        ids: Sequence[int],
        *,
        who: str,
        into: int | None = None,
        statement: str | None = None,
    ) -> tuple[UdrRecord, list[StatementRecord]]:
        """Make the statements one UDR: a new one worded ``statement`` (default: the first
        statement's words), or the existing UDR ``into``. All or nothing."""
        ids = sorted(set(ids))
        if not ids:
            raise InvalidRecordError(
                "Name at least one statement to merge", hint="Pick statements from the list"
            )
        if into is not None and statement:
            raise InvalidRecordError(
                "Merge into an existing UDR or word a new one, not both",
                hint="Leave out the new wording, or the UDR",
            )
        udrs = self._store.udrs
        with self._store.transaction() as session:
            before = [StatementRecord.from_row(row) for row in _unmerged(session, ids)]
            if into is None:
                udr = udrs.create_in(session, statement or before[0].difficulty, who=who)
            else:
                udr = udrs._record(session, udrs._row(session, into))
            claimed = session.execute(  # only statements nobody merged meanwhile
                update(Statement)
                .where(Statement.id.in_(ids), Statement.udr_id.is_(None))
                .values(udr_id=udr.id, merged_by=who, merged_at=now())
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != len(ids):  # type: ignore[attr-defined]
                raise StaleEditError(
                    "Someone merged some of these statements while you did; nothing was changed",
                    hint="Reload the statements and merge again",
                )
            session.expire_all()
            records = []
            for old in before:
                after = StatementRecord.from_row(session.get(Statement, old.id))
                self._store.log(session, "statement", old.id, "update", who, old, after)
                records.append(after)
            return udr, records


def _unmerged(session: Session, ids: list[int]) -> list[Any]:
    """The statements; refused when one is missing or merged already."""
    rows = {row.id: row for row in session.scalars(select(Statement).where(Statement.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFoundError(
            f"Statement {', '.join(map(str, missing))} does not exist",
            hint="List the statements and pick their ids",
        )
    for i in ids:
        if rows[i].udr_id is not None:
            live = session.get(Udr, rows[i].udr_id)
            raise AlreadyExistsError(
                f"Statement {i} is already part of UDR {rows[i].udr_id}"
                + ("" if live is None or live.deleted_at is None else " (deleted)"),
                hint="Merge the others into that UDR instead",
            )
    return [rows[i] for i in ids]


def _invitation(session: Session, id: int) -> Any:
    row = session.get(Invitation, id)
    if row is None:
        raise NotFoundError(f"Invitation {id} does not exist", hint="List them first")
    return row


def _answer(value: str | None, question: str, *, required: bool = False) -> str | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise InvalidRecordError(
                f'"{question}?" needs an answer',
                hint="Describe the result you don't like in a sentence or two",
            )
        return None
    if len(text) > MAX_ANSWER:
        raise InvalidRecordError(
            f'The answer to "{question}?" is {len(text):,} characters long',
            hint=f"Keep each answer under {MAX_ANSWER:,} characters",
        )
    return text
