"""Sign-in sessions kept in the app DB, so they can be listed and ended at once.

The browser's cookie carries a random key; only its SHA-256 is stored, so a copy of the database
opens no session. A session ends at its absolute expiry, after an idle period, or when its row is
deleted: by signing out, by an admin, or by a change to the account (see ``users.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from salesflow.appdb.audit import log_account
from salesflow.appdb.models import LoginSession, User
from salesflow.appdb.records import SessionRecord, UserRecord, as_utc, now
from salesflow.errors import NotFoundError

__all__ = ["SessionRepository", "end_user_sessions"]

#: How stale ``last_seen_at`` may get before a request writes it again (saves a write per click).
TOUCH_EVERY = timedelta(seconds=60)


def end_user_sessions(session: Session, user_id: int) -> int:
    """Delete every session of one account inside the caller's transaction; returns how many."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return result.rowcount  # type: ignore[attr-defined]


class SessionRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def start(
        self,
        user_id: int,
        *,
        key_hash: str,
        lifetime: timedelta,
        client: str | None = None,
        user_agent: str | None = None,
    ) -> SessionRecord:
        """A new session (expired ones of everybody are cleared on the way)."""
        at = now()
        with self._store.transaction() as session:
            session.execute(delete(LoginSession).where(LoginSession.expires_at < at))
            row = LoginSession(
                key_hash=key_hash,
                user_id=user_id,
                created_at=at,
                last_seen_at=at,
                expires_at=at + lifetime,
                client=(client or "")[:100] or None,
                user_agent=(user_agent or "")[:200] or None,
            )
            session.add(row)
            session.flush()
            return SessionRecord.from_row(row)

    def resolve(self, key_hash: str, *, idle: timedelta) -> tuple[SessionRecord, UserRecord] | None:
        """The live session with this key and its enabled account, else None (and an expired or
        idle session is deleted)."""
        at = now()
        with self._store.transaction() as session:
            row = session.scalars(
                select(LoginSession).where(LoginSession.key_hash == key_hash)
            ).first()
            if row is None:
                return None
            seen = as_utc(row.last_seen_at)
            if as_utc(row.expires_at) <= at or seen + idle <= at:  # type: ignore[operator]
                session.delete(row)
                return None
            user = session.get(User, row.user_id)
            if user is None or user.disabled:
                return None
            if seen + TOUCH_EVERY <= at:  # type: ignore[operator]
                row.last_seen_at = at
            return SessionRecord.from_row(row, user=user.name), UserRecord.from_row(user)

    def end_key(self, key_hash: str) -> None:
        """Sign-out: end the session with this key (nothing happens when it is gone already)."""
        with self._store.transaction() as session:
            session.execute(delete(LoginSession).where(LoginSession.key_hash == key_hash))

    def end(self, session_id: int, *, who: str) -> SessionRecord:
        """An admin ends one session; written to the audit trail."""
        with self._store.transaction() as session:
            row = session.get(LoginSession, session_id)
            if row is None:
                raise NotFoundError(
                    f"Session {session_id} does not exist or has ended already",
                    hint="List sessions with `salesflow user sessions`",
                )
            name = session.get(User, row.user_id).name  # type: ignore[union-attr]
            record = SessionRecord.from_row(row, user=name)
            session.delete(row)
            log_account(session, who, "session-end", name, session_id=session_id)
            return record

    def end_all(self, user_id: int, *, who: str) -> int:
        """End every session of one account; written to the audit trail."""
        with self._store.transaction() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFoundError(f"User {user_id} does not exist")
            ended = end_user_sessions(session, user_id)
            log_account(session, who, "sessions-end", user.name, sessions=ended)
            return ended

    def list(self, user_id: int | None = None) -> list[SessionRecord]:
        """Sessions not past their absolute expiry, oldest first (with the account name)."""
        at = now()
        with self._store.transaction() as session:
            query = select(LoginSession, User.name).join(User).order_by(LoginSession.id)
            if user_id is not None:
                query = query.where(LoginSession.user_id == user_id)
            return [
                SessionRecord.from_row(row, user=name)
                for row, name in session.execute(query)
                if as_utc(row.expires_at) > at  # type: ignore[operator]
            ]
