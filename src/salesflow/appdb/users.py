"""Accounts and API tokens for the web app. Hashing is the caller's job: only hashes are stored.

An account change names the version it was based on (``salesflow.appdb.versions``); tokens are
only created and revoked, never edited. Every change is written to the accounts' audit trail
(``audit.py``) with who made it. A new role, a new password or disabling an account ends that
account's sessions in the same transaction, so no browser keeps rights the account no longer has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from salesflow.appdb.audit import account_events, log_account
from salesflow.appdb.errors import AlreadyExistsError, InvalidRecordError, StaleEditError
from salesflow.appdb.models import ROLES, ApiToken, User
from salesflow.appdb.records import AccountEventRecord, TokenRecord, UserRecord, as_utc, now
from salesflow.appdb.sessions import end_user_sessions
from salesflow.appdb.versions import Expected, claim, require_version
from salesflow.errors import NotFoundError

__all__ = ["UserRepository", "check_email"]


class UserRepository:
    def __init__(self, store: Any) -> None:
        self._store = store

    def create(
        self,
        name: str,
        *,
        role: str,
        password_hash: str | None = None,
        email: str | None = None,
        who: str = "salesflow",
    ) -> UserRecord:
        """A new account; names are unique."""
        name = name.strip()
        if not name:
            raise InvalidRecordError("A user needs a name")
        _check_role(role)
        email = check_email(email)
        try:
            with self._store.transaction() as session:
                row = User(
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    email=email,
                    created_at=now(),
                    disabled=False,
                )
                session.add(row)
                session.flush()
                log_account(session, who, "create", name, role=role, email=email)
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

    def named(self, name: str) -> UserRecord:
        """The account with this name, or a NotFoundError saying how to see the names."""
        user = self.by_name(name.strip())
        if user is None:
            raise NotFoundError(
                f"There is no account named {name!r}",
                hint="List the accounts with `salesflow user list`",
            )
        return user

    def list(self) -> list[UserRecord]:
        with self._store.transaction() as session:
            return [UserRecord.from_row(r) for r in session.scalars(select(User).order_by(User.id))]

    def has_admin(self) -> bool:
        """Whether an enabled admin with a password exists: someone can sign in and add the
        others (the demo's people are accounts without a password)."""
        return any(
            u.role == "admin" and u.password_hash is not None and not u.disabled
            for u in self.list()
        )

    def update(
        self,
        id: int,
        *,
        expected_version: Expected,
        role: str | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        email: str | None = None,
        who: str = "salesflow",
    ) -> UserRecord:
        """Change role, disable/enable, set a new password hash or e-mail address ("" removes
        it), at the version the caller read; ends the account's sessions when its rights change, and refuses to leave the
        workspace without an enabled admin."""
        expected = require_version(expected_version, "User", id)
        if role is not None:
            _check_role(role)
        new_email = None if email is None else (check_email(email) or "")
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
            was_admin = row.role == "admin" and not row.disabled
            changes: dict[str, Any] = {}
            if role is not None and role != row.role:
                changes["role"] = [row.role, role]
                row.role = role
            if disabled is not None and disabled != row.disabled:
                changes["disabled"] = disabled
                row.disabled = disabled
            if password_hash is not None:
                changes["password"] = "changed"
                row.password_hash = password_hash
            if new_email is not None and new_email != (row.email or ""):
                changes["email"] = [row.email, new_email or None]
                row.email = new_email or None
            session.flush()
            if was_admin and (row.role != "admin" or row.disabled):
                _keep_an_admin(session, row.name)
            if changes:
                rights = set(changes) - {"email"}  # a new address leaves sessions alone
                if rights and (rights != {"disabled"} or disabled):
                    changes["sessions_ended"] = end_user_sessions(session, id)
                log_account(session, who, _action(changes), row.name, **changes)
            return UserRecord.from_row(row)

    def events(self, account: str | None = None) -> list[AccountEventRecord]:
        """The audit trail (one account's, or everyone's), oldest first."""
        with self._store.transaction() as session:
            return account_events(session, account)

    def add_token(
        self,
        user_id: int,
        *,
        token_hash: str,
        name: str,
        expires_at: datetime | None = None,
        who: str = "salesflow",
    ) -> TokenRecord:
        """A new API token (its hash); ``expires_at`` None means until revoked."""
        with self._store.transaction() as session:
            user = self._row(session, user_id)
            row = ApiToken(
                user_id=user_id,
                token_hash=token_hash,
                name=name,
                created_at=now(),
                expires_at=as_utc(expires_at),
            )
            session.add(row)
            session.flush()
            log_account(
                session, who, "token-create", user.name, token=row.id, name=name,
                expires_at=None if expires_at is None else as_utc(expires_at).isoformat(),
            )  # fmt: skip
            return TokenRecord.from_row(row)

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        with self._store.transaction() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
            return None if row is None else TokenRecord.from_row(row)

    def tokens(self, user_id: int | None = None) -> list[TokenRecord]:
        """One account's tokens, or everyone's (``user_id`` None)."""
        with self._store.transaction() as session:
            query = select(ApiToken).order_by(ApiToken.id)
            if user_id is not None:
                query = query.where(ApiToken.user_id == user_id)
            return [TokenRecord.from_row(r) for r in session.scalars(query)]

    def touch_token(self, token_id: int, at: datetime | None = None) -> None:
        """Remember when a token was last used."""
        with self._store.transaction() as session:
            row = session.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = as_utc(at) or now()

    def revoke_token(self, token_id: int, *, who: str = "salesflow") -> TokenRecord:
        """Delete a token: the next request carrying it gets 401."""
        with self._store.transaction() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise NotFoundError(
                    f"API token {token_id} does not exist",
                    hint="List tokens with `salesflow user token list`",
                )
            record = TokenRecord.from_row(row)
            session.delete(row)
            owner = self._row(session, row.user_id).name
            log_account(session, who, "token-revoke", owner, token=token_id, name=row.name)
            return record

    @staticmethod
    def _row(session: Any, id: int) -> User:
        row = session.get(User, id)
        if row is None:
            raise NotFoundError(
                f"User {id} does not exist", hint="List users with `salesflow user list`"
            )
        return row


def check_email(email: str | None) -> str | None:
    """A plausible e-mail address (one @, a dot in the domain, no spaces), or None when blank."""
    if email is None or not email.strip():
        return None
    value = email.strip()
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain.strip(".") and "@" not in domain) or any(
        c.isspace() for c in value
    ):
        raise InvalidRecordError(
            f"{value!r} is not an e-mail address", hint="Write it as name@example.com"
        )
    return value


def _action(changes: dict[str, Any]) -> str:
    if "email" in changes and len(changes) == 1:
        return "email"
    if "disabled" in changes:
        return "disable" if changes["disabled"] else "enable"
    return "role" if "role" in changes else "password"


def _keep_an_admin(session: Any, name: str) -> None:
    """Refuse the change that would leave nobody able to manage accounts."""
    admins = select(func.count()).where(User.role == "admin", User.disabled.is_(False))
    if not session.scalar(admins):
        raise InvalidRecordError(
            f"This would leave no enabled admin ({name} is the last one); nothing was changed",
            hint="Make another account admin first: salesflow user role NAME admin",
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRecordError(f"Role {role!r} is unknown", hint=f"Use {', '.join(ROLES)}")
