"""Improvements (the three questions) and their check-ins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from salesflow.appdb.bindings import normalise_measure
from salesflow.appdb.errors import InvalidRecordError
from salesflow.appdb.models import CADENCES, STATUSES, Checkin, Improvement, ImprovementAttack, Node
from salesflow.appdb.records import CheckinRecord, ImprovementRecord, as_utc, now
from salesflow.appdb.repositories import VersionedRepository
from salesflow.appdb.versions import CURRENT, claim
from salesflow.errors import NotFoundError

__all__ = ["CheckinRepository", "ImprovementRepository"]


class ImprovementRepository(VersionedRepository[ImprovementRecord]):
    model = Improvement
    record = ImprovementRecord
    entity = "improvement"
    label = "Improvement"
    editable = frozenset(
        {"title", "objective", "why", "theory", "countermeasure", "measure", "status", "owner"}
        | {"cadence", "attacks"}
    )

    def create(
        self,
        title: str,
        *,
        objective: str,
        who: str,
        why: str | None = None,
        theory: str | None = None,
        countermeasure: str | None = None,
        attacks: Iterable[int] = (),
        measure: dict[str, Any] | None = None,
        status: str = "proposed",
        owner: str | None = None,
        cadence: str = "weekly",
    ) -> ImprovementRecord:
        """Store a new improvement; ``attacks`` are node ids (causes or UDRs) it works on."""
        fields = self._normalise(
            {
                "title": title,
                "objective": objective,
                "measure": measure,
                "status": status,
                "cadence": cadence,
            }
        )
        nodes = _node_ids(attacks)
        with self._store.transaction() as session:
            row = Improvement(
                why=why, theory=theory, countermeasure=countermeasure, owner=owner, **fields
            )
            self._add_new(session, row, who)
            session.flush()  # the id the attacks refer to
            self._set_attacks(session, row.id, nodes)
            return self._save(session, row, "create", who, None)

    def _record(self, session: Session, row: Any) -> ImprovementRecord:
        nodes = session.scalars(
            select(ImprovementAttack.node_id)
            .where(ImprovementAttack.improvement_id == row.id)
            .order_by(ImprovementAttack.node_id)
        )
        return ImprovementRecord.from_row(row, attacks=tuple(nodes))

    def _normalise(self, changes: dict[str, Any]) -> dict[str, Any]:
        out = dict(changes)
        for key in ("title", "objective"):
            if key in out and not str(out[key] or "").strip():
                raise InvalidRecordError(
                    f"An improvement needs a {key}",
                    hint="Say what you want to accomplish, and why",
                )
        if "status" in out and out["status"] not in STATUSES:
            raise InvalidRecordError(
                f"Improvement status {out['status']!r} is unknown",
                hint=f"Use {', '.join(STATUSES)}",
            )
        if "cadence" in out and out["cadence"] not in CADENCES:
            raise InvalidRecordError(
                f"Check-in cadence {out['cadence']!r} is unknown",
                hint=f"Use {', '.join(CADENCES)}",
            )
        if "measure" in out:
            out["measure"] = normalise_measure(out["measure"])
        if "attacks" in out:
            out["attacks"] = _node_ids(out["attacks"])
        return out

    def _apply(self, session: Session, row: Any, changes: dict[str, Any]) -> bool:
        columns = {k: v for k, v in changes.items() if k != "attacks"}
        changed = super()._apply(session, row, columns)
        if "attacks" in changes and self._record(session, row).attacks != changes["attacks"]:
            self._set_attacks(session, row.id, changes["attacks"])
            changed = True
        return changed

    def _set_attacks(self, session: Session, improvement_id: int, nodes: tuple[int, ...]) -> None:
        known = set(session.scalars(select(Node.id).where(Node.id.in_(nodes))))
        missing = [n for n in nodes if n not in known]
        if missing:
            raise NotFoundError(
                f"{missing[0]} is neither a UDR nor a cause",
                hint="An improvement attacks causes by their id: `salesflow causes` shows them",
            )
        session.execute(
            delete(ImprovementAttack).where(ImprovementAttack.improvement_id == improvement_id)
        )
        session.add_all(ImprovementAttack(improvement_id=improvement_id, node_id=n) for n in nodes)


def _node_ids(values: Iterable[int]) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(v) for v in values}))
    except (TypeError, ValueError):
        raise InvalidRecordError("Attacked causes must be given by their numeric id") from None


class CheckinRepository:
    """Check-ins are append-only: the record of what was answered when."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def create(
        self,
        improvement_id: int,
        *,
        who: str,
        asked_by: str | None = None,
        answered_by: str | None = None,
        objective_answer: str | None = None,
        method_answer: str | None = None,
        measure_answer: str | None = None,
        measure_value: float | None = None,
        note: str | None = None,
        asked_at: datetime | None = None,
    ) -> CheckinRecord:
        """Record the three questions asked again (``asked_at`` defaults to now)."""
        with self._store.transaction() as session:
            table = Improvement.__table__
            # locks the improvement, so it cannot be deleted while its check-in is written
            if not claim(session, table, improvement_id, CURRENT, table.c.deleted_at.is_(None)):
                raise NotFoundError(
                    f"Improvement {improvement_id} does not exist",
                    hint="List improvements with `salesflow improve list`",
                )
            row = Checkin(
                improvement_id=improvement_id,
                asked_at=as_utc(asked_at) or now(),
                asked_by=asked_by or who,
                answered_by=answered_by,
                objective_answer=objective_answer,
                method_answer=method_answer,
                measure_answer=measure_answer,
                measure_value=None if measure_value is None else float(measure_value),
                note=note,
            )
            session.add(row)
            session.flush()
            record = CheckinRecord.from_row(row)
            self._store.log(session, "checkin", row.id, "create", who, None, record)
            return record

    def list(self, improvement_id: int | None = None) -> list[CheckinRecord]:
        """Check-ins in the order they were asked, for one improvement or all."""
        with self._store.transaction() as session:
            query = select(Checkin).order_by(Checkin.asked_at, Checkin.id)
            if improvement_id is not None:
                query = query.where(Checkin.improvement_id == improvement_id)
            return [CheckinRecord.from_row(row) for row in session.scalars(query)]
