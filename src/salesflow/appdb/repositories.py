"""Repositories for the knowledge base: create, get, list, update, soft delete, restore, history.

Every method runs in its own transaction and returns frozen records, so callers never hold a
session. Every change is written to ``history`` with full before/after snapshots in the same
transaction. Updates and deletes name the version the caller read, checked by the statement that
locks the row (:mod:`salesflow.appdb.versions`): if it moved on, :class:`StaleEditError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from salesflow.appdb.bindings import normalise_binding
from salesflow.appdb.errors import AlreadyExistsError, InvalidRecordError, StaleEditError
from salesflow.appdb.models import Cause, CauseLink, History, Node, Udr
from salesflow.appdb.records import (
    CauseRecord,
    HistoryRecord,
    LinkRecord,
    Record,
    UdrRecord,
    as_utc,
    now,
)
from salesflow.appdb.versions import CURRENT, Expected, claim, require_version
from salesflow.errors import NotFoundError

if TYPE_CHECKING:
    from salesflow.appdb.store import KnowledgeStore

__all__ = ["CauseRepository", "LinkRepository", "UdrRepository", "VersionedRepository"]

R = TypeVar("R", bound=Record)


class VersionedRepository(Generic[R]):
    """What every versioned, soft-deletable entity shares; subclasses add ``create``."""

    model: ClassVar[type[Any]]
    record: ClassVar[type[Any]]
    entity: ClassVar[str]  # name in history
    label: ClassVar[str]  # name in messages
    editable: ClassVar[frozenset[str]]

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    def get(self, id: int, *, include_deleted: bool = False) -> R:
        with self._store.transaction() as session:
            return self._record(session, self._row(session, id, include_deleted=include_deleted))

    def list(self, *, include_deleted: bool = False) -> list[R]:
        """All entries by id; soft-deleted ones only when asked."""
        with self._store.transaction() as session:
            query = select(self.model).order_by(self.model.id)
            if not include_deleted:
                query = query.where(self.model.deleted_at.is_(None))
            return [self._record(session, row) for row in session.scalars(query)]

    def update(
        self,
        id: int,
        *,
        who: str,
        expected_version: Expected,
        noted: dict[str, Any] | None = None,
        **changes: Any,
    ) -> R:
        """Change fields; ``expected_version`` is the version the caller read (or ``CURRENT``).

        ``noted`` is added to the history entry's ``before`` snapshot: what the old state meant
        and is not stored (an improvement's verdict before its measure was rebound).
        """
        expected = require_version(expected_version, self.label, id)
        unknown = set(changes) - self.editable
        if unknown:
            raise InvalidRecordError(
                f"{self.label} has no editable field {', '.join(sorted(unknown))}",
                hint=f"Editable: {', '.join(sorted(self.editable))}",
            )
        changes = self._normalise(changes)
        with self._store.transaction() as session:
            row = self._claimed(session, id, expected)
            before = self._record(session, row)
            with session.no_autoflush:  # one UPDATE, so one version step per edit
                changed = self._apply(session, row, changes)
            if not changed:
                return before
            row.updated_at = now()
            return self._save(session, row, "update", who, before, noted)

    def delete(self, id: int, *, who: str, expected_version: Expected) -> R:
        """Soft delete: the row stays, hidden from lists, and ``restore`` brings it back."""
        expected = require_version(expected_version, self.label, id)
        with self._store.transaction() as session:
            row = self._claimed(session, id, expected)
            before = self._record(session, row)
            row.deleted_at = row.updated_at = now()
            return self._save(session, row, "delete", who, before)

    def restore(self, id: int, *, who: str, expected_version: Expected = CURRENT) -> R:
        """Undo a soft delete (only a deleted entry changes, so the version is optional)."""
        expected = require_version(expected_version, self.label, id)
        with self._store.transaction() as session:
            table = self.model.__table__
            if not claim(session, table, id, expected, table.c.deleted_at.is_not(None)):
                row = self._row(session, id, include_deleted=True)
                if row.deleted_at is None:
                    raise InvalidRecordError(
                        f"{self.label} {id} is not deleted; nothing to restore"
                    )
                self._check_version(session, row, expected)
            row = self._row(session, id, include_deleted=True)
            self._check_restorable(session, row)
            before = self._record(session, row)
            row.deleted_at = None
            row.updated_at = now()
            return self._save(session, row, "restore", who, before)

    def history(self, id: int) -> list[HistoryRecord]:
        """Every recorded change to this entry, oldest first."""
        return self._store.history(self.entity, id)

    # -- hooks and helpers -------------------------------------------------------------------

    def _record(self, session: Session, row: Any) -> R:
        return self.record.from_row(row)

    def _normalise(self, changes: dict[str, Any]) -> dict[str, Any]:
        return changes

    def _check_restorable(self, session: Session, row: Any) -> None:
        return None

    def _apply(self, session: Session, row: Any, changes: dict[str, Any]) -> bool:
        changed = False
        for key, value in changes.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        return changed

    def _row(self, session: Session, id: int, *, include_deleted: bool = False) -> Any:
        row = session.get(self.model, id)
        if row is None:
            raise NotFoundError(
                f"{self.label} {id} does not exist", hint=_other_kind(session, id, self.model)
            )
        if row.deleted_at is not None and not include_deleted:
            raise NotFoundError(
                f"{self.label} {id} was deleted on {as_utc(row.deleted_at):%Y-%m-%d %H:%M} UTC",
                hint="Restore it first if you want to change it",
            )
        return row

    def _claimed(self, session: Session, id: int, expected: Expected) -> Any:
        """The row, locked for this transaction at the expected version; else why not (404/409)."""
        table = self.model.__table__
        if not claim(session, table, id, expected, table.c.deleted_at.is_(None)):
            row = self._row(session, id)
            self._check_version(session, row, expected)
            raise StaleEditError(  # it moved between our claim and our look: say so, never guess
                f"{self.label} {id} was changed by someone else while you saved; nothing was saved",
                hint="Reload it, apply your change again and save",
                current=self._record(session, row).to_dict(),
            )
        return self._row(session, id)

    def _check_version(self, session: Session, row: Any, expected: Expected) -> None:
        if expected is CURRENT or expected == row.version:
            return
        last = session.scalars(
            select(History)
            .where(History.entity == self.entity, History.entity_id == row.id)
            .order_by(History.id.desc())
            .limit(1)
        ).first()
        by = f" by {last.who} at {as_utc(last.at):%Y-%m-%d %H:%M} UTC" if last else ""
        raise StaleEditError(
            f"{self.label} {row.id} was changed{by} after you opened it "
            f"(you edited version {expected}, it is now version {row.version}); nothing was saved",
            hint="Reload it, apply your change again and save",
            current=self._record(session, row).to_dict(),
        )

    def _save(
        self,
        session: Session,
        row: Any,
        action: str,
        who: str,
        before: R | None,
        noted: dict[str, Any] | None = None,
    ) -> R:
        row_id = row.id
        try:
            session.flush()
        except StaleDataError:
            raise StaleEditError(
                f"{self.label} {row_id} was changed by someone else while you saved; nothing was saved",
                hint="Reload it, apply your change again and save",
            ) from None
        after = self._record(session, row)
        self._store.log(session, self.entity, row.id, action, who, before, after, noted=noted)
        return after

    def _create(self, session: Session, row: Any, who: str) -> R:
        self._add_new(session, row, who)
        return self._save(session, row, "create", who, None)

    def _add_new(self, session: Session, row: Any, who: str) -> None:
        """Stamp a new row with who created it and when, and add it to the session."""
        row.created_by = who
        row.created_at = row.updated_at = now()
        row.deleted_at = None
        session.add(row)


def _new_node(session: Session, kind: str) -> int:
    node = Node(kind=kind)
    session.add(node)
    session.flush()
    return node.id


def _other_kind(session: Session, id: int, model: type) -> str:
    """UDRs and causes share one id space: an id of the other kind says so."""
    node = session.get(Node, id) if model in (Udr, Cause) else None
    if node is None:
        return "Check the id in the list"
    return f"{id} is a {node.kind.upper() if node.kind == 'udr' else node.kind} (UDRs and causes share one id space)"


class UdrRepository(VersionedRepository[UdrRecord]):
    model = Udr
    record = UdrRecord
    entity = "udr"
    label = "UDR"
    editable = frozenset({"statement", "owner", "tags", "binding"})

    def create(
        self,
        statement: str,
        *,
        who: str,
        owner: str | None = None,
        tags: Iterable[str] = (),
        binding: dict[str, Any] | None = None,
    ) -> UdrRecord:
        """Store a new UDR (its id is also its node id in the cause graph)."""
        with self._store.transaction() as session:
            return self.create_in(
                session, statement, who=who, owner=owner, tags=tags, binding=binding
            )

    def create_in(self, session: Session, statement: str, *, who: str, **options: Any) -> UdrRecord:
        """``create`` inside the caller's transaction (a merge of statements into a new UDR)."""
        owner = options.pop("owner", None)
        fields = self._normalise({"statement": statement, "tags": (), "binding": None, **options})
        row = Udr(id=_new_node(session, "udr"), owner=owner, **fields)
        return self._create(session, row, who)

    def _normalise(self, changes: dict[str, Any]) -> dict[str, Any]:
        out = dict(changes)
        if "statement" in out:
            out["statement"] = _text(out["statement"], "A UDR statement")
        if "tags" in out:
            out["tags"] = sorted({str(t).strip() for t in out["tags"] if str(t).strip()})
        if "binding" in out:
            out["binding"] = normalise_binding(out["binding"])
        return out


class CauseRepository(VersionedRepository[CauseRecord]):
    model = Cause
    record = CauseRecord
    entity = "cause"
    label = "Cause"
    editable = frozenset({"text", "owner"})

    def create(self, text: str, *, who: str, owner: str | None = None) -> CauseRecord:
        """Store a new cause (its id is also its node id in the cause graph)."""
        text = _text(text, "A cause")
        with self._store.transaction() as session:
            row = Cause(id=_new_node(session, "cause"), text=text, owner=owner)
            return self._create(session, row, who)

    def promote(
        self,
        id: int,
        *,
        who: str,
        expected_version: Expected,
        statement: str | None = None,
        binding: dict[str, Any] | None = None,
    ) -> UdrRecord:
        """A cause that can now be measured becomes a UDR with the same node id, so its links stay.

        History shows the cause deleted and the UDR created, by ``who``, in one transaction.
        """
        expected = require_version(expected_version, self.label, id)
        udrs = self._store.udrs
        with self._store.transaction() as session:
            row = self._claimed(session, id, expected)
            fields = udrs._normalise(
                {"statement": statement or row.text, "tags": [], "binding": binding}
            )
            before = self._record(session, row)
            row.deleted_at = row.updated_at = now()
            self._save(session, row, "delete", who, before)
            session.get(Node, id).kind = "udr"
            return udrs._create(session, Udr(id=id, owner=row.owner, **fields), who)

    def _check_restorable(self, session: Session, row: Any) -> None:
        if session.get(Node, row.id).kind != "cause":
            raise InvalidRecordError(
                f"Cause {row.id} was promoted to UDR {row.id}", hint="Change the UDR instead"
            )

    def _normalise(self, changes: dict[str, Any]) -> dict[str, Any]:
        if "text" in changes:
            return {**changes, "text": _text(changes["text"], "A cause")}
        return changes


class LinkRepository(VersionedRepository[LinkRecord]):
    """Cause links. Listing hides links whose effect or cause node is deleted (restore shows them)."""

    model = CauseLink
    record = LinkRecord
    entity = "link"
    label = "Cause link"
    editable = frozenset({"text", "and_group", "is_loop", "evidence"})

    def create(
        self,
        effect_id: int,
        cause_id: int,
        *,
        who: str,
        text: str | None = None,
        and_group: str | None = None,
        is_loop: bool = False,
        evidence: Iterable[Any] = (),
    ) -> LinkRecord:
        """Record "effect happens because of cause". Cycle rules are the workbench's to check."""
        if effect_id == cause_id:
            raise InvalidRecordError(
                f"Node {effect_id} cannot be its own cause", hint="Link two different nodes"
            )
        with self._store.transaction() as session:
            # one writer per effect at a time, so two equal links cannot both pass the check below
            nodes = Node.__table__
            session.execute(update(nodes).where(nodes.c.id == effect_id).values(kind=nodes.c.kind))
            active = self._store.active_node_ids(session, (effect_id, cause_id))
            for node in (effect_id, cause_id):
                if node not in active:
                    raise NotFoundError(
                        f"{node} is neither a UDR nor a cause",
                        hint="`salesflow udr list` and `salesflow causes` show the ids",
                    )
            duplicate = session.scalars(
                select(CauseLink.id).where(
                    CauseLink.effect_id == effect_id,
                    CauseLink.cause_id == cause_id,
                    CauseLink.deleted_at.is_(None),
                )
            ).first()
            if duplicate is not None:
                raise AlreadyExistsError(
                    f"{cause_id} is already recorded as a cause of {effect_id} (link {duplicate})",
                    hint="Edit that link instead",
                )
            row = CauseLink(
                effect_id=effect_id,
                cause_id=cause_id,
                text=text,
                and_group=and_group or None,
                is_loop=bool(is_loop),
                evidence=list(evidence),
            )
            return self._create(session, row, who)

    def list(self, *, include_deleted: bool = False) -> list[LinkRecord]:
        links = super().list(include_deleted=include_deleted)
        if include_deleted:
            return links
        with self._store.transaction() as session:
            active = self._store.active_node_ids(session)
        return [x for x in links if x.effect_id in active and x.cause_id in active]

    def _normalise(self, changes: dict[str, Any]) -> dict[str, Any]:
        out = dict(changes)
        if "evidence" in out:
            out["evidence"] = list(out["evidence"])
        if "and_group" in out:
            out["and_group"] = out["and_group"] or None
        if "is_loop" in out:
            out["is_loop"] = bool(out["is_loop"])
        return out


def _text(value: Any, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidRecordError(f"{what} cannot be empty", hint="Write it in a sentence")
    return text
