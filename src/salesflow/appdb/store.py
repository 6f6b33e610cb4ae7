"""``KnowledgeStore``: the team's knowledge base, one object for the CLI, web app and verdict code.

    store = KnowledgeStore.open("sqlite:///app.db")
    udr = store.udrs.create("38% of proposals wait > 10 days for pricing, Q3", who="ann")
    store.udrs.update(udr.id, who="bob", expected_version=udr.version, owner="bob")

Each repository method runs in its own transaction and returns frozen records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, func, inspect, select
from sqlalchemy.orm import Session

from salesflow.appdb.digests import DigestRepository
from salesflow.appdb.engine import make_session_factory
from salesflow.appdb.errors import InvalidRecordError
from salesflow.appdb.improvements import CheckinRepository, ImprovementRepository
from salesflow.appdb.migrate import open_engine
from salesflow.appdb.models import (
    Cause,
    CauseLink,
    Checkin,
    History,
    Improvement,
    Invitation,
    Node,
    Statement,
    Udr,
)
from salesflow.appdb.records import (
    CauseRecord,
    HistoryRecord,
    Record,
    UdrRecord,
    as_utc,
    now,
)
from salesflow.appdb.repositories import CauseRepository, LinkRepository, UdrRepository
from salesflow.appdb.sessions import SessionRepository
from salesflow.appdb.statements import InvitationRepository, StatementRepository
from salesflow.appdb.users import UserRepository
from salesflow.errors import NotFoundError

if TYPE_CHECKING:
    from salesflow.workspace import Workspace

__all__ = ["KnowledgeStore"]

KNOWLEDGE_MODELS = (
    Node, Udr, Cause, CauseLink, Improvement, Checkin, History, Invitation, Statement,
)  # fmt: skip


class KnowledgeStore:
    """Repositories over one app database engine."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._sessions = make_session_factory(engine)
        event.listen(self._sessions, "before_flush", _refuse_nul_characters)
        self.udrs = UdrRepository(self)
        self.causes = CauseRepository(self)
        self.links = LinkRepository(self)
        self.improvements = ImprovementRepository(self)
        self.checkins = CheckinRepository(self)
        self.users = UserRepository(self)
        self.sessions = SessionRepository(self)
        self.invitations = InvitationRepository(self)
        self.statements = StatementRepository(self)
        self.digests = DigestRepository(self)

    @classmethod
    def open(cls, url: str) -> KnowledgeStore:
        """Open the app DB at ``url``: a new one is created, an outdated one refused."""
        return cls(open_engine(url), owns_engine=True)

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> KnowledgeStore:
        """The knowledge base of a workspace (``[app] url`` in its ``salesflow.toml``)."""
        return cls.open(workspace.settings.resolved_app_url())

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> KnowledgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, committed on success and rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def log(
        self,
        session: Session,
        entity: str,
        entity_id: int,
        action: str,
        who: str,
        before: Record | None,
        after: Record | None,
        *,
        noted: dict[str, Any] | None = None,
    ) -> None:
        """Write one history entry inside the caller's transaction (``noted`` joins ``before``)."""
        session.add(
            History(
                entity=entity,
                entity_id=entity_id,
                action=action,
                who=who,
                at=now(),
                before=None if before is None else {**before.to_dict(), **(noted or {})},
                after=None if after is None else after.to_dict(),
            )
        )

    def history(self, entity: str, entity_id: int) -> list[HistoryRecord]:
        """Changes to one entity (``udr``, ``cause``, ``link``, ``improvement``, ``checkin``)."""
        query = select(History).where(History.entity == entity, History.entity_id == entity_id)
        return self._history(query)

    def changes_since(self, since: datetime) -> list[HistoryRecord]:
        """Every change after ``since`` (for "what changed since your last visit")."""
        return self._history(select(History).where(History.at > as_utc(since)))

    def _history(self, query: Any) -> list[HistoryRecord]:
        with self.transaction() as session:
            rows = session.scalars(query.order_by(History.id))
            return [HistoryRecord.from_row(row) for row in rows]

    def node_kind(self, node_id: int) -> str:
        """``udr`` or ``cause`` for a node id shown to users."""
        with self.transaction() as session:
            node = session.get(Node, node_id)
            if node is None:
                raise NotFoundError(
                    f"{node_id} is neither a UDR nor a cause",
                    hint="`salesflow udr list` and `salesflow causes` show the ids",
                )
            return node.kind

    def nodes(self, *, include_deleted: bool = False) -> list[UdrRecord | CauseRecord]:
        """UDRs and causes by id: the vertices of the cause graph (see ``links.list()``)."""
        nodes = [
            *self.udrs.list(include_deleted=include_deleted),
            *self.causes.list(include_deleted=include_deleted),
        ]
        return sorted(nodes, key=lambda node: (node.id, node.kind))

    def active_node_ids(self, session: Session, among: Iterable[int] | None = None) -> set[int]:
        """Ids of UDRs and causes that are not deleted (only those ``among`` the given ids)."""
        udrs = select(Udr.id).where(Udr.deleted_at.is_(None))
        causes = select(Cause.id).where(Cause.deleted_at.is_(None))
        if among is not None:
            ids = list(among)
            udrs, causes = udrs.where(Udr.id.in_(ids)), causes.where(Cause.id.in_(ids))
        return set(session.scalars(udrs.union_all(causes)))

    def is_empty(self) -> bool:
        """True when the knowledge base holds no UDRs, causes, links, improvements, history,
        invitations or statements."""
        with self.transaction() as session:
            return all(
                not session.scalar(select(func.count()).select_from(m)) for m in KNOWLEDGE_MODELS
            )


def _refuse_nul_characters(session: Session, *_args: object) -> None:
    """PostgreSQL text cannot hold NUL: refuse it on every backend so a knowledge file always moves."""
    for obj in (*session.new, *session.dirty):
        for attr in inspect(obj).mapper.column_attrs:
            if _has_nul(getattr(obj, attr.key)):
                raise InvalidRecordError(
                    f"{attr.key} contains a NUL character (\\x00), which cannot be stored",
                    hint="Remove it; it usually comes from a binary file pasted as text",
                )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False
