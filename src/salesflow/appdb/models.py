"""The app database's tables, as typed SQLAlchemy 2 models.

UDRs and causes share one id space through ``nodes`` (each ``udrs.id`` and ``causes.id`` is also a
``nodes.id``), so a cause link or an improvement points at "node 7" with a real foreign key, and
``salesflow why 7 12`` needs no kind prefix. Edited entities (and accounts) carry a ``version``
counter (optimistic concurrency, see ``versions.py``; SQLAlchemy also refuses an UPDATE whose
version moved on) and a ``deleted_at`` (soft delete).
Changing a model means writing a migration in ``migrations/versions`` (see docs/appdb.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = [
    "AccountEvent",
    "ApiToken",
    "Base",
    "Cause",
    "CauseLink",
    "Checkin",
    "Digest",
    "History",
    "Improvement",
    "ImprovementAttack",
    "Invitation",
    "LoginSession",
    "Node",
    "Statement",
    "Udr",
    "User",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "editor", "viewer")
NODE_KINDS = ("udr", "cause")
STATUSES = ("proposed", "running", "verified", "abandoned")
CADENCES = ("weekly", "fortnightly", "monthly")  # how often the three questions are asked again
ACTIONS = ("create", "update", "delete", "restore")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Versioned:
    """Columns every edited, soft-deletable entity has."""

    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # SQLAlchemy adds "AND version = :old" to each UPDATE and bumps it: a concurrent edit fails.
        return {"version_id_col": cls.__table__.c.version}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES, "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))  # where the weekly digest goes
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class Node(Base):
    """One vertex of the cause graph: a UDR or a cause (the row in that table has the same id)."""

    __tablename__ = "nodes"
    __table_args__ = (_one_of("kind", NODE_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))


class Udr(Versioned, Base):
    __tablename__ = "udrs"

    id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    statement: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]]
    binding: Mapped[dict[str, Any] | None]


class Cause(Versioned, Base):
    __tablename__ = "causes"

    id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))


class CauseLink(Versioned, Base):
    """``effect`` happens because of ``cause``; links sharing an ``and_group`` are jointly sufficient."""

    __tablename__ = "cause_links"
    __table_args__ = (CheckConstraint("effect_id <> cause_id", name="not_self"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    effect_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    and_group: Mapped[str | None] = mapped_column(String(100))
    is_loop: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[list[Any]]


class Improvement(Versioned, Base):
    """The three questions: objective + why, method (theory + countermeasure), measure.

    ``owner`` is a user's name (names are unique and never change; knowledge files carry names);
    ``cadence`` says how often the owner is asked the questions again (``workbench/cadence.py``).
    """

    __tablename__ = "improvements"
    __table_args__ = (
        _one_of("status", STATUSES, "status"),
        _one_of("cadence", CADENCES, "cadence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    objective: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    theory: Mapped[str | None] = mapped_column(Text)
    countermeasure: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(20), server_default="weekly")


class ImprovementAttack(Base):
    """Which nodes of the cause graph an improvement attacks."""

    __tablename__ = "improvement_attacks"

    improvement_id: Mapped[int] = mapped_column(
        ForeignKey("improvements.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True, index=True)


class Checkin(Base):
    """The three questions asked again on a date; append-only."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    improvement_id: Mapped[int] = mapped_column(
        ForeignKey("improvements.id", ondelete="CASCADE"), index=True
    )
    asked_at: Mapped[datetime]
    asked_by: Mapped[str | None] = mapped_column(String(200))
    answered_by: Mapped[str | None] = mapped_column(String(200))
    objective_answer: Mapped[str | None] = mapped_column(Text)
    method_answer: Mapped[str | None] = mapped_column(Text)
    measure_answer: Mapped[str | None] = mapped_column(Text)
    measure_value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class History(Base):
    """One change to one entity: full snapshots before and after (None on create)."""

    __tablename__ = "history"
    __table_args__ = (
        _one_of("action", ACTIONS, "action"),
        Index("ix_history_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class LoginSession(Base):
    """A signed-in browser: the cookie carries a random key, the table only its SHA-256.

    Deleting the row ends the session at once (sign-out, a new password, a new role, disabling).
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    client: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class AccountEvent(Base):
    """The audit trail of accounts: who changed which account or token, what, and when.

    Kept apart from ``history`` (the team's knowledge, which travels in knowledge files).
    """

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    who: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    account: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any] | None]


class Invitation(Base):
    """A team member asked for their own view: one person, a link until ``expires_at``.

    The link carries a random key, signed; the table keeps only its SHA-256, so a copy of the
    database opens no invitation. Revoking ends the link at once.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Statement(Base):
    """A result someone dislikes, in their words: the three starter questions answered.

    ``udr_id`` is set when a leader merges it into a UDR, which then lists every contributor.
    """

    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(200))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True
    )
    difficulty: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    udr_id: Mapped[int | None] = mapped_column(ForeignKey("udrs.id"), index=True)
    merged_by: Mapped[str | None] = mapped_column(String(200))
    merged_at: Mapped[datetime | None]


class Digest(Base):
    """A digest that was sent: to whom, and the state it reported (verdicts, signals, request
    themes), so the next one says only what changed since."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime]
    sent_by: Mapped[str] = mapped_column(String(200))
    today: Mapped[str] = mapped_column(String(10))  # the day it describes, YYYY-MM-DD
    state: Mapped[dict[str, Any]]
    recipients: Mapped[list[Any]]
