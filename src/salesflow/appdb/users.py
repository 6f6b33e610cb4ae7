"""Accounts and API tokens for the web app. Hashing is the caller's job: only hashes are stored.

An account change names the version it was based on (``salesflow.appdb.versions``); tokens are
only created and revoked, never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from salesflow.appdb.errors import AlreadyExistsError, InvalidRecordError, StaleEditError
from salesflow.appdb.models import ROLES, ApiToken, User
from salesflow.appdb.records import TokenRecord, UserRecord, as_utc, now
from salesflow.appdb.versions import Expected, claim, require_version
from salesflow.errors import NotFoundError

__all__ = ["UserRepository"]


class UserRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def create(self, name: str, *, role: str, password_hash: str | None = None) -> UserRecord:
        """A new account; names are unique."""
        name = name.strip()
        if not name:
            raise InvalidRecordError("A user needs a name")
        _check_role(role)
        try:
            with self._store.transaction() as session:
                row = User(
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    created_at=now(),
                    disabled=False,
                )
                session.add(row)
                session.flush()
                return UserRecord.from_row(row)
        except IntegrityError:
            raise AlreadyExistsError(
                f"A user named {name!r} already exists", hint="Choose another name"
            ) from None

    def get(self, id: int) -> UserRecord:
        with self._store.transaction() as session:
            return UserRecord.from_row(self._row(session, id))

    def by_name(self, name: str) -> UserRecord | None:
        """The account with this name, or None (login code must not reveal which)."""
        with self._store.transaction() as session:
            row = session.scalars(select(User).where(User.name == name)).first()
            return None if row is None else UserRecord.from_row(row)

    def list(self) -> list[UserRecord]:
        with self._store.transaction() as session:
            return [UserRecord.from_row(r) for r in session.scalars(select(User).order_by(User.id))]

    def update(
        self,
        id: int,
        *,
        expected_version: Expected,
        role: str | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> UserRecord:
        """Change role, disable/enable, or set a new password hash, at the version the caller read."""
        expected = require_version(expected_version, "User", id)
        if role is not None:
            _check_role(role)
        with self._store.transaction() as session:
            if not claim(session, User.__table__, id, expected):
                row = self._row(session, id)
                raise StaleEditError(
                    f"User {row.name} was changed after you read it (you changed version "
                    f"{expected}, it is now version {row.version}); nothing was saved",
                    hint="Reload the account and try again",
                    current=UserRecord.from_row(row).to_dict(),
                )
            row = self._row(session, id)
            if role is not None:
                row.role = role
            if disabled is not None:
                row.disabled = disabled
            if password_hash is not None:
                row.password_hash = password_hash
            session.flush()
            return UserRecord.from_row(row)

    def add_token(self, user_id: int, *, token_hash: str, name: str) -> TokenRecord:
        with self._store.transaction() as session:
            self._row(session, user_id)
            row = ApiToken(user_id=user_id, token_hash=token_hash, name=name, created_at=now())
            session.add(row)
            session.flush()
            return TokenRecord.from_row(row)

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        with self._store.transaction() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
            return None if row is None else TokenRecord.from_row(row)

    def tokens(self, user_id: int) -> list[TokenRecord]:
        with self._store.transaction() as session:
            rows = session.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
            return [TokenRecord.from_row(r) for r in rows]

    def touch_token(self, token_id: int, at: datetime | None = None) -> None:
        """Remember when a token was last used."""
        with self._store.transaction() as session:
            row = session.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = as_utc(at) or now()

    def revoke_token(self, token_id: int) -> None:
        with self._store.transaction() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise NotFoundError(f"API token {token_id} does not exist")
            session.delete(row)

    @staticmethod
    def _row(session: Any, id: int) -> User:
        row = session.get(User, id)
        if row is None:
            raise NotFoundError(
                f"User {id} does not exist", hint="List users with `salesflow user list`"
            )
        return row


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRecordError(f"Role {role!r} is unknown", hint=f"Use {', '.join(ROLES)}")
