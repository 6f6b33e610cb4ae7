"""``salesflow.open(path)``: a workspace for notebooks and scripts, and for the report and CLI.

>>> import salesflow as sf
>>> ws = sf.open(demo_path)                                        # doctest: +SKIP
>>> ws.metric("win_rate", period="quarter").to_pandas()            # doctest: +SKIP
>>> ws.udrs().summary()                                            # doctest: +SKIP
'4 confirmed, 1 contradicted'

Each method calls the same core function as the matching CLI command and returns a result
object (:mod:`salesflow.api.results`) holding that command's ``--json`` document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from salesflow.api.results import (
    ActivitiesResult,
    CausesResult,
    DriversResult,
    EngagementResult,
    FlowResult,
    ImprovementsResult,
    MetricResult,
    PatternsResult,
    PipelineResult,
    UdrsResult,
    WinsResult,
)

if TYPE_CHECKING:
    from salesflow.settings import Settings
    from salesflow.workbench.service import Workbench
    from salesflow.workspace import Workspace as CoreWorkspace

__all__ = ["Workspace", "open"]

F = TypeVar("F", bound=Callable[..., Any])


def _latest(method: F) -> F:
    """Answer from the last published data: reopen if a writer swapped a new file in since."""

    @wraps(method)
    def call(self: Workspace, *args: Any, **kwargs: Any) -> Any:
        self.core.refresh()
        return method(self, *args, **kwargs)

    return call  # type: ignore[return-value]


class Workspace:
    """One salesflow workspace: its sales data, its knowledge base and every analysis on them.

    Open it with :func:`open`; close it (or use ``with``) to release the database files. Each
    call answers from the last data published (an import elsewhere shows in the next call), and
    all figures of one call come from one version of the data.
    """

    def __init__(
        self,
        core: CoreWorkspace,
        *,
        who: str | None = None,
        as_of: date | datetime | str | None = None,
    ) -> None:
        self.core = core
        self._who = who
        self._as_of = as_of

    @cached_property
    def as_of(self) -> datetime:
        """The moment the data describes: ``open(..., as_of=)``, else ``[calendar] as_of``, else
        the data's latest timestamp. Periods not over by then are running and never judged."""
        from salesflow.workspace import resolve_as_of

        return resolve_as_of(self.settings, self.core.data, self._as_of, option="as_of")

    @property
    def path(self) -> Path:
        return self.core.path

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @cached_property
    def workbench(self) -> Workbench:
        """The workbench service, for changes: ``ws.workbench.add_udr("…")``, ``link``, ``checkin``."""
        from salesflow.workbench.service import Workbench

        return Workbench(self.core, who=self._who, as_of=self.as_of)

    def freshness(self, *, refresh: bool | None = None) -> dict:
        """Whether the derived tables match the data (the ``freshness`` document of
        ``salesflow status --json``), rebuilding them when stale if ``refresh`` (read in place:
        also when ``[data] refresh = "auto"``)."""
        from salesflow.derived.freshness import keep_fresh

        self.core.freshness = keep_fresh(self.core, refresh=refresh)
        return self.core.freshness

    def close(self) -> None:
        if "workbench" in self.__dict__:
            self.workbench.close()
            del self.__dict__["workbench"]
        self.core.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<salesflow.Workspace {self.path}>"

    # -- the data ---------------------------------------------------------------------------

    @_latest
    def status(self) -> dict[str, Any]:
        """Rows and date range per table, deals by outcome and ``as_of`` (``salesflow status
        --json``)."""
        from salesflow.workspace import workspace_status

        return workspace_status(self.core, as_of=self.as_of)

    def metrics(self) -> list[dict[str, Any]]:
        """The metric catalog: id, title, definition, unit and parameters of every metric."""
        from salesflow.metrics import catalog

        return [m.describe() for m in catalog(self.settings)]

    @_latest
    def metric(
        self,
        metric_id: str,
        *,
        period: str = "month",
        by: str | None = None,
        filters: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        start: date | None = None,
        end: date | None = None,
        chart: str = "auto",
        trend: str = "auto",
        baseline: tuple[date, date] | None = None,
        phase_from: Sequence[date] = (),
    ) -> MetricResult:
        """One metric per period on a process behaviour chart, or per group of ``by``.

        ``trend``: "auto" lets the limits follow a steady trend the data show, "off" keeps them
        flat, "on" always follows a line (see docs/charts.md, "Trends").

        >>> r = ws.metric("win_rate", period="quarter")      # doctest: +SKIP
        >>> r.to_pandas()[["period", "value", "n"]].head(2)  # doctest: +SKIP
        """
        from salesflow.metrics import breakdown, get, series
        from salesflow.metrics.charted import chart_series

        query = {"filters": filters, "params": params, "start": start, "end": end}
        m = get(metric_id, self.settings)
        if by is None and m.needs_filter and m.needs_filter not in (filters or {}):
            by = m.default_by
        if by is not None:
            result = breakdown(self.core.data, self.settings, metric_id, by=by, **query)
            return MetricResult(result.to_dict(), breakdown=result)
        s = series(
            self.core.data, self.settings, metric_id, period=period, **query, as_of=self.as_of
        )
        how = {"chart": chart, "trend": trend, "baseline": baseline}
        charted = chart_series(s, self.settings, **how, phase_from=list(phase_from))
        return MetricResult(charted.to_dict(), charted=charted)

    @_latest
    def flow(
        self,
        *,
        filters: Mapping[str, Sequence[str]] | None = None,
        top: int = 10,
        clock: Literal["calendar", "business"] = "calendar",
    ) -> FlowResult:
        """The value stream: stages (with the value-stream map's WIP, throughput, time in stage,
        rework, loss and work share at the workspace's as-of moment), transitions, common paths,
        durations and rework, every time on ``clock``; ``.map()`` draws it."""
        from salesflow.metrics.process_map import process_map

        doc = process_map(
            self.core.data, self.settings, filters=filters, top=top, as_of=self.as_of, clock=clock
        )
        return FlowResult(dict(doc))

    @_latest
    def drivers(
        self,
        outcome: str = "won",
        *,
        variables: Sequence[str] | None = None,
        filters: Mapping[str, str] | None = None,
        stall_days: int = 30,
    ) -> DriversResult:
        """Which operating variables go with ``won``, ``cycle_time`` or ``stalled``, and how much."""
        from salesflow.analysis import drivers

        found = drivers(
            self.core, outcome=outcome, variables=variables, filters=filters, stall_days=stall_days
        )
        return DriversResult(found.as_dict())

    @_latest
    def activities(
        self,
        *,
        by: Literal["stage"] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> ActivitiesResult:
        """Which activities add value: the share of effort that is value-adding, necessary or
        waste on won and lost deals (per stage with ``by="stage"``), and which activity types go
        with winning (``salesflow activities --json``)."""
        from salesflow.analysis.activity_value import activity_value

        return ActivitiesResult(
            activity_value(self.core.data, self.settings, by=by, filters=filters)
        )

    @_latest
    def pipeline(
        self,
        period: str,
        *,
        by: str | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> PipelineResult:
        """What happened to the pipeline of ``period`` (``2025-Q3`` or ``2025-07``): start,
        created, pulled in, pushed out, won, lost, amount changes, end (docs/pipeline.md)."""
        from salesflow.analysis.pipeline import pipeline_waterfall

        doc = pipeline_waterfall(
            self.core.data, self.settings.stages, period, by=by, filters=filters
        )
        return PipelineResult(doc)

    @_latest
    def request_patterns(self, *, k: int | None = None) -> PatternsResult:
        """Themes in uncategorised requests, their monthly trend, and Pareto tables."""
        from salesflow.analysis import request_patterns

        return PatternsResult(request_patterns(self.core.data, k=k, as_of=self.as_of).as_dict())

    # -- the knowledge base -----------------------------------------------------------------

    def lint(self, statement: str) -> dict[str, Any]:
        """Is a complaint a precise, measurable Undesirable Result? Findings with suggestions."""
        from salesflow.workbench.service import lint_doc

        return lint_doc(statement)

    @_latest
    def udrs(self) -> UdrsResult:
        """Every UDR with its lint, verdict from data (chart included) and recorded causes."""
        bench = self.workbench
        docs = [bench.show_udr(r["id"]) for r in bench.list_udrs(verdicts=False)]
        return UdrsResult({"udrs": docs})

    @_latest
    def causes(self) -> CausesResult:
        """The cause graph: each node ranked by the UDRs it leads to, root causes, core problems."""
        return CausesResult(self.workbench.causes())

    @_latest
    def improvements(self) -> ImprovementsResult:
        """Every improvement: the three questions, its verdict with the chart, and check-ins."""
        bench = self.workbench
        docs = [bench.show_improvement(i["id"]) for i in bench.list_improvements(verdicts=False)]
        return ImprovementsResult({"improvements": docs})

    @_latest
    def wins(self) -> WinsResult:
        """Improvements whose measure shows a sustained improvement, in words, with who did it."""
        from salesflow.workbench.wins import wins

        return WinsResult(wins(self.workbench))

    @_latest
    def engagement(self) -> EngagementResult:
        """Check-ins on time, improvements started and verified per month, and days from a
        confirmed UDR to its first improvement: does the environment reward improving?"""
        from salesflow.workbench.engagement import engagement

        return EngagementResult(engagement(self.workbench))


def open(
    path: Path | str = ".",
    *,
    read_only: bool = True,
    who: str | None = None,
    as_of: date | datetime | str | None = None,
) -> Workspace:
    """Open the workspace at ``path`` (the folder holding ``salesflow.toml``).

    ``read_only`` applies to the sales data; the knowledge base stays writable through
    ``ws.workbench``, whose changes are recorded under ``who`` (default: ``SALESFLOW_USER`` or
    the login name). ``as_of`` is the moment the data describes (default: its latest timestamp);
    every series and verdict judges only the periods complete by then.
    """
    from salesflow.workspace import Workspace as CoreWorkspace

    return Workspace(CoreWorkspace.open(path, read_only=read_only), who=who, as_of=as_of)
