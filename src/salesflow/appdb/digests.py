"""The digests that were sent: append-only, so "what changed since the last digest" has an answer.

store.digests.record(state, recipients=["ann@example.com"], today="2026-06-01", who="cron")
store.digests.last()  # None before the first one
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from salesflow.appdb.models import Digest
from salesflow.appdb.records import DigestRecord, now

__all__ = ["DigestRepository"]


class DigestRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def record(
        self, state: dict[str, Any], *, recipients: list[str], today: str, who: str
    ) -> DigestRecord:
        """Remember a digest that was delivered and the state it reported."""
        with self._store.transaction() as session:
            row = Digest(
                sent_at=now(), sent_by=who, today=today, state=state, recipients=list(recipients)
            )
            session.add(row)
            session.flush()
            return DigestRecord.from_row(row)

    def last(self) -> DigestRecord | None:
        """The latest digest sent, or None before the first."""
        with self._store.transaction() as session:
            row = session.scalars(select(Digest).order_by(Digest.id.desc()).limit(1)).first()
            return None if row is None else DigestRecord.from_row(row)

    def list(self) -> list[DigestRecord]:
        with self._store.transaction() as session:
            return [
                DigestRecord.from_row(r)
                for r in session.scalars(select(Digest).order_by(Digest.id))
            ]
