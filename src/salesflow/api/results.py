"""Result objects of the Python API: the same JSON document the CLI prints, as a table, a chart
and a notebook display.

Every result keeps its document in ``.doc`` (``to_dict()`` returns it) and offers
``to_pandas()``, ``to_polars()`` (if polars is installed), ``chart()`` (a Plotly figure) and
``_repr_mimebundle_()`` for Jupyter: the chart as Plotly's own mime type
(``application/vnd.plotly.v1+json``, drawn by JupyterLab's and VS Code's Plotly renderer with
the plotly.js they ship, so it works offline and each result stays a few KB), the summary and a
short table as HTML, and one line of text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar

from salesflow.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from salesflow.metrics.charted import Charted
    from salesflow.metrics.results import Breakdown

__all__ = [
    "ActivitiesResult",
    "CausesResult",
    "DriversResult",
    "EngagementResult",
    "FlowResult",
    "ImprovementsResult",
    "MetricResult",
    "PatternsResult",
    "PipelineResult",
    "Result",
    "UdrsResult",
    "WinsResult",
]

PREVIEW_ROWS = 12
PLOTLY_MIME = "application/vnd.plotly.v1+json"


@dataclass(frozen=True)
class Result:
    """A JSON document with table, chart and notebook views; subclasses say which rows and chart."""

    doc: dict[str, Any]
    title: ClassVar[str] = "salesflow"

    def to_dict(self) -> dict[str, Any]:
        """The document, the same as the matching CLI command's ``--json`` output."""
        return self.doc

    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_polars(self) -> Any:
        """The rows as a polars DataFrame; polars is optional (``pip install polars``)."""
        try:
            import polars as pl
        except ImportError:
            raise ConfigError(
                "polars is not installed",
                hint="Install it with `pip install polars`, or use to_pandas()",
            ) from None
        return pl.from_pandas(self.to_pandas())

    def chart(self) -> go.Figure:
        """A Plotly figure of the result."""
        raise NotImplementedError

    def summary(self) -> str:
        """One sentence about the result, in a sales leader's words."""
        return ""

    def _repr_html_(self) -> str:
        """The title, the summary and the first rows (no plotly.js: see ``_repr_mimebundle_``)."""
        frame = self.to_pandas()
        more = len(frame) - PREVIEW_ROWS
        table = frame.head(PREVIEW_ROWS).to_html(index=False, border=0, na_rep="—")
        tail = f"<p><small>… and {more} more rows</small></p>" if more > 0 else ""
        return (
            f"<div><strong>{escape(self.title)}</strong><p>{escape(self.summary())}</p>"
            f"{table}{tail}</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """What a notebook shows: the chart as Plotly JSON (the renderer brings plotly.js, so
        nothing is downloaded and no result carries the 4.8 MB library), else the table."""
        import json

        bundle: dict[str, Any] = {"text/html": self._repr_html_(), "text/plain": repr(self)}
        try:
            figure = json.loads(self.chart().to_json())  # plain JSON: NumPy arrays as lists
        except ConfigError:  # nothing to chart yet (no UDR bound): the table says so
            return bundle
        figure["config"] = {"displaylogo": False, "responsive": True}
        return {PLOTLY_MIME: figure, **bundle}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.title}: {self.summary()}>"


@dataclass(frozen=True, repr=False)
class MetricResult(Result):
    """A metric per period on its process behaviour chart, or broken down with ``by``."""

    charted: Charted | None = None
    breakdown: Breakdown | None = None

    @property
    def title(self) -> str:  # type: ignore[override]
        what = f"by {self.doc['by']}" if "by" in self.doc else f"per {self.doc['period']}"
        return f"{self.doc['metric']} {what}"

    def rows(self) -> list[dict[str, Any]]:
        if "groups" in self.doc:
            return [dict(g) for g in self.doc["groups"]]
        chart = self.doc.get("chart") or {}
        out = []
        for i, p in enumerate(self.doc["points"]):
            row = dict(p)
            for key in ("center", "lcl", "ucl"):
                value = chart.get(key)
                row[key] = value[i] if isinstance(value, list) else value
            out.append(row)
        return out

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.rows())
        if "period" in frame:
            frame["period"] = pd.to_datetime(frame["period"]).dt.date
        return frame

    def summary(self) -> str:
        if self.charted is not None:
            return self.charted.verdict()
        comparison = self.doc.get("comparison") or {}
        return comparison.get("sentence") or f"{len(self.doc.get('groups', []))} groups"

    def chart(self) -> go.Figure:
        from salesflow.api import figures

        if "groups" in self.doc:
            return figures.breakdown_bars(self.doc, title=self.title)
        return figures.control_chart(self.doc, title=self.title)


@dataclass(frozen=True, repr=False)
class FlowResult(Result):
    """The value stream (``salesflow flow --json``): stages, transitions, paths, durations."""

    title: ClassVar[str] = "Value stream"

    def rows(self, table: str = "stages") -> list[dict[str, Any]]:
        """``stages`` (default), ``edges`` or ``variants``."""
        if table not in ("stages", "edges", "variants"):
            raise ConfigError(f"Unknown table {table!r}", hint="Use stages, edges or variants")
        return [dict(r) for r in self.doc[table]]

    def to_pandas(self, table: str = "stages") -> pd.DataFrame:
        """One table of the value stream: ``stages`` (default), ``edges`` or ``variants``."""
        import pandas as pd

        return pd.DataFrame(self.rows(table))

    def summary(self) -> str:
        cases = self.doc["cases"]
        days = (cases.get("median_hours") or 0) / 24
        return (
            f"{cases['count']:,} deals, median {days:.0f} days from first to last stage, "
            f"{cases['with_rework']:,} with rework"
        )

    def chart(self) -> go.Figure:
        from salesflow.api import figures

        return figures.stage_times(self.doc["stages"], title="Median days in each stage")

    def map(self) -> go.Figure:
        """The value-stream map: open stages left to right with deals here now, deals that left
        per week, median and 85th-percentile time in stage, rework, loss and work share."""
        from salesflow.api import figures

        return figures.stream_map(self.doc, title="Value-stream map")


@dataclass(frozen=True, repr=False)
class PipelineResult(Result):
    """The pipeline waterfall (``salesflow pipeline --json``): one row per bar."""

    title: ClassVar[str] = "Pipeline waterfall"

    def rows(self) -> list[dict[str, Any]]:
        from salesflow.analysis.pipeline import COMPONENTS, LABELS

        return [{"bar": k, "label": LABELS[k], **self.doc[k]} for k in COMPONENTS]

    def summary(self) -> str:
        d = self.doc
        return (
            f"{d['period']}: pipeline {d['start']['amount']:,.0f} at the start, "
            f"{d['end']['amount']:,.0f} at the end; won {d['won']['amount']:,.0f}, "
            f"pushed out {d['pushed_out']['amount']:,.0f}"
        )

    def chart(self) -> go.Figure:
        from salesflow.api import figures

        return figures.pipeline_waterfall(self.doc, title=f"Pipeline {self.doc['period']}")


def _count_verdicts(rows: list[dict[str, Any]]) -> str:
    """``3 confirmed, 1 unbound``: each verdict with how often it occurs, in order of first sight."""
    verdicts = [r["verdict"] for r in rows]
    return ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))


def _first_measured(entries: list[dict], id: int | None, what: str, *, hint: str) -> dict:
    """The entry with id ``id`` (the first one when None) among those whose verdict has a chart."""
    measured = [e for e in entries if (e.get("verdict") or {}).get("chart")]
    if id is not None:
        measured = [e for e in measured if e["id"] == id]
    if not measured:
        raise ConfigError(f"No measured {what} to chart", hint=hint)
    return measured[0]


@dataclass(frozen=True, repr=False)
class UdrsResult(Result):
    """Undesirable Results with their verdicts from data (``doc["udrs"]``)."""

    title: ClassVar[str] = "Undesirable Results"

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": u["id"],
                "statement": u["statement"],
                "owner": u.get("owner"),
                "measure": u.get("measure"),
                "verdict": (u.get("verdict") or {}).get("verdict"),
                "sentence": (u.get("verdict") or {}).get("sentence"),
            }
            for u in self.doc["udrs"]
        ]

    def summary(self) -> str:
        return _count_verdicts(self.rows()) or "no UDRs yet"

    def chart(self, id: int | None = None) -> go.Figure:
        """The chart of one UDR's measure (the first measured one when ``id`` is None)."""
        from salesflow.api import figures

        u = _first_measured(self.doc["udrs"], id, "UDR", hint="Bind a UDR to a metric first")
        return figures.control_chart(
            u["verdict"]["chart"],
            title=u.get("measure"),
            threshold=(u.get("binding") or {}).get("threshold"),
        )


@dataclass(frozen=True, repr=False)
class CausesResult(Result):
    """The cause-and-effect graph (``salesflow causes --json``): ranked nodes and links."""

    title: ClassVar[str] = "Cause picture"

    def rows(self) -> list[dict[str, Any]]:
        keys = ("id", "kind", "text", "count", "share", "root", "core", "depth")
        return [{k: n.get(k) for k in keys} for n in self.doc["nodes"]]

    def root_causes(self) -> list[dict[str, Any]]:
        """Root causes, those behind the most UDRs first."""
        return [r for r in self.rows() if r["root"]]

    def summary(self) -> str:
        core = [n for n in self.doc["nodes"] if n.get("core")]
        roots = [n for n in self.doc["nodes"] if n.get("root")]
        return f"{len(roots)} root cause(s), {len(core)} core problem(s), {self.doc['udrs']} UDRs"

    def svg(self) -> str:
        """The picture as SVG: UDRs on top, root causes at the bottom, core problems marked."""
        from salesflow.api.cause_picture import cause_svg

        return cause_svg(self.doc)

    def chart(self) -> go.Figure:
        """How many UDRs each cause leads to (the ranking behind the root causes)."""
        import plotly.graph_objects as go

        from salesflow.api.figures import COLORS

        causes = [n for n in self.doc["nodes"] if n["kind"] == "cause"][::-1]
        fig = go.Figure(
            go.Bar(
                y=[f"#{n['id']}" for n in causes],
                x=[n["share"] for n in causes],
                orientation="h",
                marker_color=[COLORS["threshold"] if n["core"] else COLORS["line"] for n in causes],
                hovertext=[n["text"] for n in causes],
            )
        )
        fig.update_layout(title="Share of UDRs each cause leads to", template="plotly_white")
        fig.update_xaxes(tickformat=".0%")
        return fig

    def _repr_html_(self) -> str:
        return (
            f"<div><strong>{self.title}</strong><p>{escape(self.summary())}</p>{self.svg()}</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The picture (SVG in HTML) is the view here, not the bar chart of shares."""
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}


@dataclass(frozen=True, repr=False)
class ImprovementsResult(Result):
    """Improvements with the three questions and their verdicts (``doc["improvements"]``)."""

    title: ClassVar[str] = "Improvements"

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for i in self.doc["improvements"]:
            verdict = i.get("verdict") or {}
            values = verdict.get("values") or {}
            out.append({
                "id": i["id"], "title": i["title"], "status": i["status"],
                "verdict": verdict.get("verdict"), "before": values.get("before_median"),
                "after": values.get("after_median"), "target": values.get("target"),
                "sentence": verdict.get("sentence"),
            })  # fmt: skip
        return out

    def summary(self) -> str:
        return _count_verdicts(self.rows()) or "none yet"

    def chart(self, id: int | None = None) -> go.Figure:
        """Before and after the change on baseline limits (the first measured one by default)."""
        entries = self.doc["improvements"]
        return before_after(
            _first_measured(entries, id, "improvement", hint="Give it a measure first")
        )


def before_after(improvement: Mapping[str, Any]) -> go.Figure:
    """An improvement's measure with the baseline shaded, the change marked, and the target."""
    from salesflow.api import figures

    m = improvement.get("measure") or {}
    base = (m["baseline_start"], m["baseline_end"]) if m.get("baseline_start") else None
    return figures.control_chart(
        improvement["verdict"]["chart"],
        title=improvement.get("measure_text") or improvement["title"],
        target=m.get("target"),
        start=m.get("start_date"),
        baseline=base,
    )


@dataclass(frozen=True, repr=False)
class ActivitiesResult(Result):
    """Which activities add value (``salesflow activities --json``): the mix by class."""

    title: ClassVar[str] = "Which activities add value"

    def rows(self) -> list[dict[str, Any]]:
        """One row per stage (or ``all stages``) and outcome: activities and shares by class."""
        groups = [(s["stage"], s) for s in self.doc.get("stages", [])]
        groups = groups or [("all stages", self.doc["outcomes"])]
        return [
            {
                "stage": name,
                "deals": g,
                "activities": part[g]["activities"],
                **{f"{c}_share": part[g][c]["share"] for c in ("value", "necessary", "waste")},
                **{
                    f"{c}_time_share": part[g][c]["time_share"]
                    for c in ("value", "necessary", "waste")
                },
            }
            for name, part in groups
            for g in ("all", "won", "lost")
        ]

    def summary(self) -> str:
        return self.doc.get("summary") or ""

    def chart(self, *, time: bool = False) -> go.Figure:
        """Shares of activities (or of time, ``time=True``) by class on won and lost deals."""
        from salesflow.api import figures

        what = "time" if time else "activities"
        return figures.activity_mix(self.doc, time=time, title=f"Share of {what} by class")


@dataclass(frozen=True, repr=False)
class DriversResult(Result):
    """Which operating variables go with the outcome (``salesflow drivers --json``)."""

    title: ClassVar[str] = "Drivers"

    def rows(self) -> list[dict[str, Any]]:
        return [dict(e) for e in self.doc["effects"]]

    def summary(self) -> str:
        return self.doc.get("summary") or ""

    def chart(self) -> go.Figure:
        from salesflow.api import figures

        return figures.driver_effects(
            self.doc["effects"], title=f"What goes with {self.doc['outcome']}"
        )


@dataclass(frozen=True, repr=False)
class PatternsResult(Result):
    """Themes in the request log (``salesflow requests patterns --json``)."""

    title: ClassVar[str] = "Request patterns"

    def rows(self) -> list[dict[str, Any]]:
        keys = ("id", "label", "count", "terms", "existing_category")
        return [{k: t.get(k) for k in keys} for t in self.doc["themes"]]

    def summary(self) -> str:
        return f"{len(self.doc['themes'])} themes in {self.doc['uncategorised']:,} uncategorised requests"

    def chart(self) -> go.Figure:
        from salesflow.api import figures

        return figures.theme_bars(self.doc["themes"], title="Requests by theme")


@dataclass(frozen=True, repr=False)
class WinsResult(Result):
    """Improvements whose measure shows a sustained improvement (``salesflow improve wins
    --json``): before and after in words, and who did it."""

    title: ClassVar[str] = "Wins"

    def rows(self) -> list[dict[str, Any]]:
        keys = ("id", "title", "status", "owner", "before", "after", "change", "start_date",
                "periods_after", "sentence")  # fmt: skip
        return [{k: w[k] for k in keys} | {"people": ", ".join(w["people"])}
                for w in self.doc["wins"]]  # fmt: skip

    def summary(self) -> str:
        count = len(self.doc["wins"])
        return f"{count} win{'s' if count != 1 else ''}" if count else "no wins yet"

    def chart(self) -> go.Figure:
        """The change of each win's measure, before to after, in % of the before value."""
        from salesflow.api import figures

        groups = [{"win": w["title"], "value": (w["change"] or 0) * 100, "n": w["periods_after"]}
                  for w in self.doc["wins"]]  # fmt: skip
        doc = {"groups": groups, "column": "win", "unit": "% change"}
        return figures.breakdown_bars(doc, title=self.title)


@dataclass(frozen=True, repr=False)
class EngagementResult(Result):
    """Whether the environment rewards improving (``salesflow improve engagement --json``)."""

    title: ClassVar[str] = "Engagement"
    MONTHLY: ClassVar[tuple[str, ...]] = (
        "checkins_on_time", "improvements_started", "improvements_verified",
    )  # fmt: skip

    def rows(self) -> list[dict[str, Any]]:
        """One row per month: the share of check-ins on time, improvements started and verified."""
        months: dict[str, dict[str, Any]] = {}
        for key in self.MONTHLY:
            for p in self.doc[key]["points"]:
                months.setdefault(p["period"], {"month": p["period"], "status": p["status"]})
                months[p["period"]][key] = p["value"]
        return list(months.values())

    def summary(self) -> str:
        return self.doc["checkins_on_time"]["sentence"]

    def chart(self, measure: str = "checkins_on_time") -> go.Figure:
        """One measure per month on its behaviour chart, or the days from each confirmed UDR to
        its first improvement (``udr_to_first_improvement``)."""
        from salesflow.api import figures

        if measure == "udr_to_first_improvement":
            part = self.doc[measure]
            groups = [{"udr": f"UDR #{r['udr_id']}", "n": None,
                       "value": r["days"] if r["days"] is not None else r["waiting_days"]}
                      for r in part["udrs"]]  # fmt: skip
            doc = {"groups": groups, "column": "udr", "unit": "days"}
            return figures.breakdown_bars(doc, title=part["title"])
        if measure not in self.MONTHLY:
            raise ConfigError(
                f"Unknown engagement measure {measure!r}",
                hint=f"Use one of {', '.join((*self.MONTHLY, 'udr_to_first_improvement'))}",
            )
        part = self.doc[measure]
        return figures.control_chart(part, title=f"{part['title']} per month")
