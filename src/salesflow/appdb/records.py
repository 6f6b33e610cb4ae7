"""Plain, frozen records the repositories hand out: no sessions, no lazy loading, JSON-ready.

Callers (CLI, web app, verdict code) read these; ``to_dict()`` gives the JSON shape used in
``--json`` output, history snapshots and the export file (datetimes as ISO 8601 in UTC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AccountEventRecord",
    "CauseRecord",
    "CheckinRecord",
    "DigestRecord",
    "HistoryRecord",
    "ImprovementRecord",
    "InvitationRecord",
    "LinkRecord",
    "SessionRecord",
    "StatementRecord",
    "TokenRecord",
    "UdrRecord",
    "UserRecord",
    "as_utc",
    "iso",
    "now",
]


def now() -> datetime:
    """The current time in UTC; every timestamp salesflow writes comes from here."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes (stored as UTC), PostgreSQL aware ones: make both aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()  # type: ignore[union-attr]


class Record:
    """Shared behaviour: build from an ORM row, dump to JSON-ready dicts."""

    @classmethod
    def from_row(cls, row: Any, **extra: Any) -> Any:
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in extra:
                values[f.name] = extra[f.name]
                continue
            if not hasattr(row, f.name):  # e.g. ``kind``: a constant of the record type
                continue
            value = getattr(row, f.name)
            values[f.name] = as_utc(value) if isinstance(value, datetime) else value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)  # type: ignore[call-overload]
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = iso(value)
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out


@dataclass(frozen=True)
class UdrRecord(Record):
    """An Undesirable Result: the manager's statement, optionally bound to a measure."""

    id: int
    statement: str
    owner: str | None
    tags: list[str]
    binding: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    deleted_at: datetime | None
    kind: str = "udr"


@dataclass(frozen=True)
class CauseRecord(Record):
    """A cause in the why-analysis (a node that is not, or not yet, a measured UDR)."""

    id: int
    text: str
    owner: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    deleted_at: datetime | None
    kind: str = "cause"


@dataclass(frozen=True)
class LinkRecord(Record):
    """``effect_id`` happens because of ``cause_id`` (both node ids: UDRs or causes)."""

    id: int
    effect_id: int
    cause_id: int
    text: str | None
    and_group: str | None
    is_loop: bool
    evidence: list[Any]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    deleted_at: datetime | None


@dataclass(frozen=True)
class ImprovementRecord(Record):
    """An improvement framed by the three questions; ``attacks`` lists node ids, sorted."""

    id: int
    title: str
    objective: str
    why: str | None
    theory: str | None
    countermeasure: str | None
    measure: dict[str, Any] | None
    status: str
    owner: str | None
    attacks: tuple[int, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    deleted_at: datetime | None
    cadence: str = "weekly"


@dataclass(frozen=True)
class CheckinRecord(Record):
    """The three questions asked again on a date, with the answers and the measure's value then."""

    id: int
    improvement_id: int
    asked_at: datetime
    asked_by: str | None
    answered_by: str | None
    objective_answer: str | None
    method_answer: str | None
    measure_answer: str | None
    measure_value: float | None
    note: str | None


@dataclass(frozen=True)
class HistoryRecord(Record):
    """One recorded change: full snapshots of the entity before and after it."""

    id: int
    entity: str
    entity_id: int
    action: str
    who: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class UserRecord(Record):
    """A web app account; ``password_hash`` is kept out of ``repr`` and ``to_dict``."""

    id: int
    name: str
    role: str
    created_at: datetime
    disabled: bool
    version: int = 1
    email: str | None = None
    password_hash: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("password_hash")
        return out


@dataclass(frozen=True)
class TokenRecord(Record):
    """An API token for integrations (only its hash is stored)."""

    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    token_hash: str = field(repr=False)
    expires_at: datetime | None = None

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("token_hash")
        return out


@dataclass(frozen=True)
class SessionRecord(Record):
    """A signed-in browser (the cookie's key is never stored, only its hash)."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client: str | None
    user_agent: str | None
    user: str = ""


@dataclass(frozen=True)
class AccountEventRecord(Record):
    """One entry of the accounts' audit trail."""

    id: int
    at: datetime
    who: str
    action: str
    account: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class InvitationRecord(Record):
    """An invitation to one person (the link's key is never stored, only its hash)."""

    id: int
    name: str
    email: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    key_hash: str = field(default="", repr=False)

    def state(self, at: datetime) -> str:
        """``open``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= at else "open"

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("key_hash")
        out["state"] = self.state(now())
        return out


@dataclass(frozen=True)
class StatementRecord(Record):
    """A result someone dislikes, in their words; ``udr_id`` once merged into a UDR."""

    id: int
    author: str
    invitation_id: int | None
    difficulty: str
    evidence: str | None
    goal: str | None
    created_at: datetime
    udr_id: int | None
    merged_by: str | None
    merged_at: datetime | None


@dataclass(frozen=True)
class DigestRecord(Record):
    """A digest that was sent, with the state it reported (see ``workbench/digest.py``)."""

    id: int
    sent_at: datetime
    sent_by: str
    today: str
    state: dict[str, Any]
    recipients: list[Any]
