"""The workbench service: one facade the CLI, the web app and notebooks share.

    with Workbench.open("demo-ws", who="ann") as wb:
        new = wb.add_udr("Win rate was 24 % in Q3, against 30 % planned")
        wb.bind_udr(new["udr"]["id"], metric="win_rate", bad_if="below", threshold="30%")
        wb.show_udr(new["udr"]["id"])["verdict"]["sentence"]

Every method returns JSON-ready dictionaries (the ``--json`` documents of the CLI). Verdicts are
recomputed from the data on every call; nothing about them is stored. Cause links and their data
checks live in :mod:`salesflow.workbench.graph`, improvements in
:mod:`salesflow.workbench.improvements`; this class delegates to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.appdb.bindings import normalise_binding
from salesflow.appdb.versions import CURRENT, Expected
from salesflow.errors import NotFoundError, SalesflowError
from salesflow.workbench import graph, improvements, team_view
from salesflow.workbench.lint import lint
from salesflow.workbench.measures import bad_when, binding_from_options, compute, describe
from salesflow.workbench.verdict import Verdict, cannot_run, judge_udr, with_season_advice

if TYPE_CHECKING:
    from salesflow.appdb import ImprovementRecord, KnowledgeStore, UdrRecord
    from salesflow.workspace import Workspace

__all__ = ["ENTITIES", "Workbench", "resolve_who"]

ENTITIES = ("udr", "cause", "link", "improvement")


def resolve_who(explicit: str | None = None) -> str:
    """Who makes a change: ``--who``, else ``SALESFLOW_USER``, else the operating system user."""
    from salesflow.storage import default_who

    if explicit and explicit.strip():
        return explicit.strip()
    return default_who()


def lint_doc(statement: str) -> dict[str, Any]:
    """The ``udr lint --json`` entry for one statement."""
    return lint(statement).to_dict()


class Workbench:
    """A workspace's data and its knowledge base, with the person making the changes."""

    def __init__(
        self,
        workspace: Workspace,
        store: KnowledgeStore | None = None,
        *,
        who: str | None = None,
        as_of: date | datetime | None = None,
    ) -> None:
        from salesflow.appdb import KnowledgeStore

        self.workspace = workspace
        self.store = store if store is not None else KnowledgeStore.for_workspace(workspace)
        self._owns_store = store is None
        self._owns_workspace = False
        self.who = resolve_who(who)
        self.as_of = as_of
        self._moment: datetime | None = None
        self._frame: Any = None

    @classmethod
    def open(
        cls, path: Path | str = ".", *, who: str | None = None, as_of: date | datetime | None = None
    ) -> Workbench:
        from salesflow.workspace import Workspace

        bench = cls(Workspace.open(path), who=who, as_of=as_of)
        bench._owns_workspace = True
        return bench

    def moment(self) -> datetime:
        """The as-of moment verdicts are judged at: ``as_of`` when given, else the data's latest
        timestamp (or ``[calendar] as_of``), resolved once per workbench."""
        if self._moment is None:
            from salesflow.workspace import resolve_as_of

            data = self.workspace
            self._moment = resolve_as_of(data.settings, data.data, self.as_of)
        return self._moment

    def close(self) -> None:
        if self._owns_store:
            self.store.close()
        if self._owns_workspace:
            self.workspace.close()

    def __enter__(self) -> Workbench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def feature_frame(self) -> Any:
        """The per-deal feature table for data checks, computed once per Workbench."""
        if self._frame is None:
            from salesflow.analysis import feature_frame

            self._frame = feature_frame(self.workspace.data, self.workspace.settings)
        return self._frame

    # -- any entity -------------------------------------------------------------------------

    def repository(self, entity: str) -> Any:
        if entity not in ENTITIES:
            raise NotFoundError(
                f"Unknown kind {entity!r}", hint=f"Use one of {', '.join(ENTITIES)}"
            )
        return {
            "udr": self.store.udrs,
            "cause": self.store.causes,
            "link": self.store.links,
            "improvement": self.store.improvements,
        }[entity]

    def delete(self, entity: str, id: int, *, expected_version: Expected) -> dict:
        """Soft delete: hidden from lists and the cause graph; ``restore`` brings it back.

        ``expected_version`` is the version the person read (``CURRENT``: whatever is stored).
        """
        record = self.repository(entity).delete(id, who=self.who, expected_version=expected_version)
        return record.to_dict()

    def restore(self, entity: str, id: int, *, expected_version: Expected = CURRENT) -> dict:
        repository = self.repository(entity)
        return repository.restore(id, who=self.who, expected_version=expected_version).to_dict()

    def history(self, entity: str, id: int) -> list[dict]:
        """Every change to one entry, oldest first: who, when, before and after."""
        self.repository(entity).get(id, include_deleted=True)  # a clear error for a wrong id
        return [h.to_dict() for h in self.store.history(entity, id)]

    # -- UDRs -------------------------------------------------------------------------------

    def add_udr(
        self, statement: str, *, owner: str | None = None, tags: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Store a UDR in the manager's words; its lint findings come back as advice."""
        record = self.store.udrs.create(statement, who=self.who, owner=owner, tags=tags)
        return {"udr": record.to_dict(), "lint": lint_doc(record.statement)}

    def bind_udr(
        self,
        id: int,
        *,
        metric: str,
        bad_if: str,
        filters: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        period: str = "month",
        season: str | None = None,
        threshold: str | float | None = None,
        expected_version: Expected,
    ) -> dict[str, Any]:
        """Bind a UDR to a measure; the measure is computed first, so a bad one stores nothing.

        ``season`` (``Q4``, ``Nov-Dec``) keeps only the periods in those parts of the year.
        ``CURRENT`` means the version read as this call starts: a change made while the
        measure is computed is still refused, never overwritten.
        """
        current = self.store.udrs.get(id)  # a wrong id fails before the data is read
        if expected_version is CURRENT:
            expected_version = current.version
        binding = binding_from_options(
            metric=metric,
            filters=filters,
            params=params,
            period=period,
            season=season,
            bad_if=bad_if,
            threshold=threshold,
            settings=self.workspace.settings,
        )
        verdict = self.judge_binding(normalise_binding(binding) or {}, strict=True)
        record = self.store.udrs.update(
            id, who=self.who, expected_version=expected_version, binding=binding
        )
        return self._udr_doc(record, verdict, full=True)

    def edit_udr(
        self, id: int, *, expected_version: Expected, unbind: bool = False, **changes: Any
    ) -> dict[str, Any]:
        """Change the statement, owner or tags (None leaves a field as it is); ``unbind`` drops the measure."""
        fields = {k: v for k, v in changes.items() if v is not None}
        if unbind:
            fields["binding"] = None
        record = self.store.udrs.update(
            id, who=self.who, expected_version=expected_version, **fields
        )
        return {"udr": record.to_dict(), "lint": lint_doc(record.statement)}

    def udr_verdict(self, record: UdrRecord) -> Verdict:
        """The UDR's verdict from data, computed now."""
        if record.binding is None:
            return Verdict(
                "unbound",
                "no_binding",
                "Not measured yet: bind it to a metric with `salesflow udr bind`.",
            )
        return self.judge_binding(record.binding)

    def judge_binding(self, binding: dict[str, Any], *, strict: bool = False) -> Verdict:
        """Compute the measure and judge it; a measure that cannot run says why in the verdict."""
        settings = self.workspace.settings
        try:
            measured = compute(self.workspace, binding, as_of=self.moment())
        except SalesflowError as exc:
            if strict:
                raise
            return cannot_run(exc)
        title = describe(binding, settings, with_period=False)
        found = judge_udr(measured.charted, binding, title=title)
        return measured.stamp(with_season_advice(found, measured.charted, binding))

    def list_udrs(self, *, verdicts: bool = True, include_deleted: bool = False) -> list[dict]:
        """UDRs by id, each with its verdict in brief (no chart)."""
        records = self.store.udrs.list(include_deleted=include_deleted)
        return [
            self._udr_doc(r, self.udr_verdict(r) if verdicts else None, full=False) for r in records
        ]

    def show_udr(self, id: int) -> dict[str, Any]:
        """One UDR with its lint, its verdict and evidence (chart included), its causes, and the
        statements it was merged from (its contributors, in their words)."""
        record = self.store.udrs.get(id)
        doc = self._udr_doc(record, self.udr_verdict(record), full=True)
        doc["lint"] = lint_doc(record.statement)
        doc["causes"] = graph.links_of(self, id)
        doc["contributors"] = team_view.contributors(self.store, id)
        return doc

    def _udr_doc(self, record: UdrRecord, verdict: Verdict | None, *, full: bool) -> dict:
        doc = record.to_dict()
        if doc["binding"] is not None:  # bound before seasons existed: no season
            doc["binding"].setdefault("season", None)
        settings, binding = self.workspace.settings, record.binding
        doc["measure"] = describe(binding, settings) if binding else None
        doc["bad_when"] = bad_when(binding, settings) if binding else None
        doc["verdict"] = None if verdict is None else verdict.to_dict(chart=full)
        return doc

    # -- causes and links (see graph.py) ----------------------------------------------------

    def add_cause(self, text: str, *, owner: str | None = None) -> dict[str, Any]:
        """A cause found by asking "why?"; link it with :meth:`link`."""
        return self.store.causes.create(text, who=self.who, owner=owner).to_dict()

    def edit_cause(
        self, id: int, *, expected_version: Expected, text: str | None = None,
        owner: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Reword a cause or change who looks into it ("" clears the owner); kept in its history."""
        fields: dict[str, Any] = {} if text is None else {"text": text}
        if owner is not None:
            fields["owner"] = owner.strip() or None
        record = self.store.causes.update(
            id, who=self.who, expected_version=expected_version, **fields
        )
        return record.to_dict()

    def edit_link(self, id: int, *, expected_version: Expected, **changes: Any) -> dict[str, Any]:
        return graph.edit_link(self, id, expected_version=expected_version, **changes)

    def link(self, effect: int, cause: int, **options: Any) -> dict[str, Any]:
        return graph.link(self, effect, cause, **options)

    def check_link(self, link_id: int, **options: Any) -> dict[str, Any]:
        return graph.check_link(self, link_id, **options)

    def causes(self) -> dict[str, Any]:
        return graph.causes(self)

    # -- improvements (see improvements.py) -------------------------------------------------

    def add_improvement(self, **options: Any) -> dict[str, Any]:
        return improvements.add(self, **options)

    def edit_improvement(
        self, id: int, *, expected_version: Expected, **changes: Any
    ) -> dict[str, Any]:
        return improvements.edit(self, id, expected_version=expected_version, **changes)

    def show_improvement(self, id: int) -> dict[str, Any]:
        return improvements.show(self, id)

    def improvement_verdict(self, record: ImprovementRecord) -> Verdict:
        """The improvement's verdict from data, computed now (the web app serves it from a cache)."""
        return improvements.verdict(self, record)

    def list_improvements(self, *, verdicts: bool = True) -> list[dict[str, Any]]:
        return improvements.list_all(self, verdicts=verdicts)

    def checkin(self, id: int, **answers: Any) -> dict[str, Any]:
        return improvements.checkin(self, id, **answers)

    def due_improvements(self, *, today: date | None = None) -> list[dict[str, Any]]:
        """Check-ins due or overdue (see :mod:`salesflow.workbench.cadence`), with verdicts."""
        return improvements.due(self, today=today)

    def set_status(self, id: int, status: str, *, expected_version: Expected) -> dict[str, Any]:
        return improvements.set_status(self, id, status, expected_version=expected_version)
