"""Gather the executive report's content from a workspace, through the Python API.

``build_report(ws)`` returns a :class:`Report`: plain dictionaries for each section and the
Plotly figures they show. A section whose data is missing (no forecasts, no request log, an
empty knowledge base) says so in plain words instead of failing the whole report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesflow.errors import SalesflowError, never_a_result
from salesflow.report import figures, words

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from salesflow.api import Workspace

__all__ = ["SECTIONS", "Progress", "Report", "build_report"]

Progress = Callable[[str, int, int], None]
"""Told ``(what is being done, steps done, steps in all)`` before each step of a long job."""

STEP_WORDS = {
    "udrs": "the UDRs and their evidence", "causes": "the cause picture",
    "improvements": "the improvements", "wins": "the wins", "flow": "flow and quality",
    "forecast": "forecast accuracy", "pipeline": "the pipeline", "requests": "request patterns",
}  # fmt: skip

NUMBERS = ("before_median", "after_median", "target", "change")
SECTIONS = (
    "summary", "udrs", "causes", "improvements", "wins", "flow", "forecast", "pipeline", "requests",
    "glossary",
)  # fmt: skip


@dataclass
class Report:
    """Everything the report shows; ``figures`` maps a figure id to its Plotly figure."""

    title: str
    period: str
    as_of: datetime  # the moment the data describes; periods after it are not judged
    meta: dict[str, Any]
    udrs: list[dict[str, Any]] = field(default_factory=list)
    causes: dict[str, Any] | None = None
    improvements: list[dict[str, Any]] = field(default_factory=list)
    wins: dict[str, Any] = field(default_factory=dict)
    flow: dict[str, Any] = field(default_factory=dict)
    forecast: dict[str, Any] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, go.Figure] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # section → why it is empty

    def add_figure(self, name: str, figure: go.Figure) -> str:
        """Keep a figure; its key is also its HTML element id, so it gets its own prefix."""
        key = f"fig-{name}"
        self.figures[key] = figure
        return key


def build_report(
    ws: Workspace,
    *,
    period: str = "month",
    as_of: date | datetime | None = None,
    progress: Progress | None = None,
    total: int | None = None,
) -> Report:
    """Collect every section of the report for ``ws``; ``period`` sets the flow charts' rhythm.
    Everything is judged as of ``as_of`` (default: the workspace's as-of moment). ``progress``
    hears of each section before it is computed (of ``total`` steps, default the sections)."""
    from salesflow.metrics.calendar import check_period
    from salesflow.workspace import as_moment

    check_period(period)
    moment = ws.as_of if as_of is None else as_moment(as_of)
    status = ws.status()
    report = Report(
        title=f"Sales process review — {ws.path.name}",
        period=period,
        as_of=moment,
        meta={
            "workspace": str(ws.path),
            "status": status,
            "week_start": ws.settings.week_start,
            "prepared": ws.settings.today(),
        },
    )
    steps: list[tuple[str, Callable[[Report, Workspace], None]]] = [
        ("udrs", _udrs),
        ("causes", _causes),
        ("improvements", _improvements),
        ("wins", _wins),
        ("flow", _flow),
        ("forecast", _forecast),
        ("pipeline", _pipeline),
        ("requests", _requests),
    ]
    for done, (name, step) in enumerate(steps):
        if progress is not None:
            progress(STEP_WORDS[name], done, total or len(steps))
        try:
            step(report, ws)
        except SalesflowError as exc:  # a section the data cannot fill, never a storage error
            never_a_result(exc)
            report.missing[name] = exc.message
    report.meta["kpis"] = _kpis(report, status)
    return report


def _udrs(report: Report, ws: Workspace) -> None:
    for doc in ws.udrs().to_dict()["udrs"]:
        verdict = doc.get("verdict") or {}
        entry = {
            "doc": doc,
            "label": words.UDR_LABELS.get(verdict.get("verdict"), "Unknown"),
            "verdict": verdict.get("verdict"),
            "lint": words.lint_words(doc.get("lint") or {}),
            "signals": [words.signal_words(s) for s in verdict.get("signals", [])],
            "chart_words": words.chart_words(verdict.get("chart")),
            "figure": None,
        }
        if verdict.get("chart") and verdict["chart"].get("points"):
            entry["figure"] = report.add_figure(f"udr-{doc['id']}", figures.udr_chart(doc))
        report.udrs.append(entry)
    order = {"confirmed": 0, "insufficient_data": 1, "unbound": 2, "contradicted": 3}
    report.udrs.sort(key=lambda u: (order.get(u["verdict"], 9), u["doc"]["id"]))


def _causes(report: Report, ws: Workspace) -> None:
    result = ws.causes()
    doc = result.to_dict()
    if not doc["nodes"]:
        report.missing["causes"] = (
            "No UDRs or causes have been recorded yet: ask why each result happens and record the answer as its cause."
        )
        return
    nodes = {n["id"]: n for n in doc["nodes"]}
    roots = sorted(
        (n for n in doc["nodes"] if n["root"] or n["core"]),
        key=lambda n: (-n["count"], n["id"]),
    )
    report.causes = {
        "doc": doc,
        "svg": result.svg(),
        "roots": roots,
        "udr_text": {n["id"]: n["text"] for n in nodes.values() if n["kind"] == "udr"},
    }


def _improvements(report: Report, ws: Workspace) -> None:
    for doc in ws.improvements().to_dict()["improvements"]:
        verdict = doc.get("verdict") or {}
        entry = {
            "doc": doc,
            "label": words.IMPROVEMENT_LABELS.get(verdict.get("verdict"), "Unknown"),
            "verdict": verdict.get("verdict"),
            "numbers": {**dict.fromkeys(NUMBERS), **(verdict.get("values") or {})},
            "figure": None,
            "checkins": sorted(doc.get("checkins", []), key=lambda c: c["asked_at"]),
            "unit": (verdict.get("chart") or {}).get("unit", ""),
        }
        if verdict.get("chart") and verdict["chart"].get("points"):
            key = f"improvement-{doc['id']}"
            entry["figure"] = report.add_figure(key, figures.improvement_chart(doc))
        report.improvements.append(entry)


def _wins(report: Report, ws: Workspace) -> None:
    """The wins in words, and the engagement measures on their charts."""
    found = ws.wins().to_dict()
    if not ws.workbench.store.improvements.list():
        report.missing["wins"] = (
            "No improvements recorded yet, so there are no wins and no habits to measure."
        )
        return
    measures = ws.engagement()
    doc = measures.to_dict()
    waits = doc["udr_to_first_improvement"]
    report.wins = {
        "wins": found["wins"],
        "verified_without_shift": found["verified_without_shift"],
        "measures": [_engagement_chart(report, key, doc[key]) for key in measures.MONTHLY],
        "waits": waits,
        "wait_figure": None,
    }
    if any(r["days"] or r["waiting_days"] for r in waits["udrs"]):  # bars of all-zero say nothing
        chart = measures.chart("udr_to_first_improvement")
        report.wins["wait_figure"] = report.add_figure("engagement-udr-waits", chart)


def _engagement_chart(report: Report, key: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The measure's chart, unless every month is zero (a flat line at zero says nothing that
    the sentence does not)."""
    if not any(p["value"] for p in doc["points"]):
        return {"figure": None, "sentence": doc["sentence"]}
    title = f"{doc['title']} per month"
    figure = report.add_figure(f"engagement-{key}", figures.metric_chart(doc, title))
    return {"figure": figure, "sentence": doc["sentence"]}


def _metric(report: Report, ws: Workspace, metric_id: str, title: str, **options: Any) -> dict:
    """A metric charted over its periods (the running and maturing ones drawn hollow, never
    judged), with its plain-words reading of the complete ones."""
    result = ws.metric(metric_id, period=report.period, **options)
    doc = result.to_dict()
    key = report.add_figure(metric_id, figures.metric_chart(doc, f"{title} per {report.period}"))
    points = [p for p in doc["points"] if p["value"] is not None and p["status"] == "complete"]
    return {
        "id": metric_id,
        "title": title,
        "figure": key,
        "unit": doc["unit"],
        "latest": points[-1] if points else None,
        "words": words.chart_words(doc),
        "reason": (doc.get("chart") or {}).get("reason", ""),
    }


def _flow(report: Report, ws: Workspace) -> None:
    flow = ws.flow().to_dict()
    if not flow["cases"]["count"]:
        report.missing["flow"] = "No stage history yet: import stage_events or opportunities."
        return
    report.flow = {
        "cases": flow["cases"],
        "stream": _value_stream(ws, flow),
        "window": flow["window"],
        "as_of": flow["as_of"],
        "flow_efficiency": flow["flow_efficiency"],
        "variants": flow["variants"][:5],
        "rework_edges": [e for e in flow["edges"] if e["rework"]][:6],
        "owners": _owners(report, ws),
        "metrics": [
            _metric(report, ws, "win_rate", "Win rate"),
            _metric(report, ws, "cycle_time", "Cycle time (days, median)"),
            _metric(report, ws, "throughput", "Deals closed"),
        ],
    }


def _owners(report: Report, ws: Workspace) -> dict[str, Any]:
    """Win rate per owner on analysis-of-means limits: who is within the system, and by how
    much those outside it differ (the stream above already gives each stage's days)."""
    doc = ws.metric("win_rate", by="owner").to_dict()
    chart = figures.comparison_chart(doc, "Win rate by owner, each on its own limits")
    return {"figure": report.add_figure("owners", chart), "comparison": doc["comparison"]}


#: The value-stream map's figures each stage box of the report carries.
MAP_KEYS = ("wip", "throughput_per_week", "time_p85", "rework_share", "loss_share", "work_share")


def _value_stream(ws: Workspace, flow: dict[str, Any]) -> list[dict[str, Any]]:
    """Each open stage with deals entered, median days, the share reaching the next stage, and
    the value-stream map's figures (deals here now, left per week, 85th percentile, rework…)."""
    stages = {s["stage"]: s for s in flow["stages"]}
    order = [s for s in ws.settings.stages.order if s in stages]
    won = ws.settings.stages.won[0] if ws.settings.stages.won else None
    out = []
    for i, stage in enumerate(order):
        nxt = order[i + 1] if i + 1 < len(order) else won
        out.append({
            "stage": stage, "entries": stages[stage]["entries"],
            "days": None if stages[stage]["median_hours"] is None
            else stages[stage]["median_hours"] / 24,
            "next": nxt, "conversion": _conversion(ws, stage, nxt) if nxt else None,
            **{k: stages[stage].get(k) for k in MAP_KEYS},
        })  # fmt: skip
    return out


def _conversion(ws: Workspace, first: str, then: str) -> float | None:
    """Share of deals that entered ``first`` and later reached ``then`` (whole history)."""
    doc = ws.metric(
        "stage_conversion", period="quarter", params={"from": first, "to": then}, chart="none"
    ).to_dict()
    num = sum(p.get("numerator") or 0 for p in doc["points"])
    den = sum(p.get("denominator") or 0 for p in doc["points"])
    return num / den if den else None


def _forecast(report: Report, ws: Workspace) -> None:
    if not ws.status()["tables"]["forecasts"]["rows"]:
        report.missing["forecast"] = "The workspace holds no forecasts."
        return
    report.forecast = {
        "metrics": [
            _metric(report, ws, "forecast_error", "Forecast error (commit vs won)"),
            _metric(report, ws, "forecast_bias", "Forecast bias (above zero: too high)"),
        ]
    }


def _pipeline(report: Report, ws: Workspace) -> None:
    """The waterfall of the last quarter that ended by the as-of moment."""
    if not ws.status()["tables"]["opportunity_history"]["rows"]:
        report.missing["pipeline"] = "The workspace holds no deal history."
        return
    doc = ws.pipeline(_last_quarter(report.as_of)).to_dict()
    report.pipeline = {
        "doc": doc,
        "figure": report.add_figure("pipeline", figures.pipeline_chart(doc)),
        "words": words.pipeline_words(doc),
    }


def _last_quarter(as_of: datetime) -> str:
    """The last quarter that ended by ``as_of`` (``2026-Q3`` for 1 October 2026)."""
    quarter = (as_of.year * 4 + (as_of.month - 1) // 3) - 1
    return f"{quarter // 4}-Q{quarter % 4 + 1}"


def _requests(report: Report, ws: Workspace) -> None:
    if not ws.status()["tables"]["requests"]["rows"]:
        report.missing["requests"] = "The workspace holds no request log."
        return
    volume = _metric(report, ws, "request_volume", "Requests received")
    patterns = ws.request_patterns().to_dict()
    themes = sorted(patterns["themes"], key=lambda t: -t["count"])
    pareto = patterns.get("pareto", {})
    report.requests = {
        "volume": volume,
        "uncategorised": patterns["uncategorised"],
        "themes": [{**t, "trend_words": words.trend_words(t.get("trend") or {})} for t in themes],
        "theme_figure": report.add_figure("themes", figures.theme_chart(themes))
        if themes
        else None,
        "per_order": [],
    }
    for key, label in (("by_amount_band", "deal size"), ("by_segment", "segment")):
        rows = pareto.get(key) or []
        if rows:
            fig = figures.per_order_chart(rows, label)
            report.requests["per_order"].append(report.add_figure(f"per-order-{key}", fig))


def _kpis(report: Report, status: dict[str, Any]) -> list[dict[str, str]]:
    """The headline numbers on the summary page."""
    outcomes = status["outcomes"]
    closed = outcomes["won"] + outcomes["lost"]
    tables = status["tables"]["opportunities"]
    kpis = [
        {"label": "Deals", "value": f"{sum(outcomes.values()):,}",
         "note": f"{tables['min_date']} to {tables['max_date']}"},
        {"label": "Win rate", "value": f"{outcomes['won'] / closed:.0%}" if closed else "—",
         "note": f"{outcomes['won']:,} won of {closed:,} closed"},
    ]  # fmt: skip
    cases = report.flow.get("cases")
    if cases and cases.get("median_hours") is not None:
        kpis.append({"label": "Typical deal", "value": f"{cases['median_hours'] / 24:.0f} days",
                     "note": "median from first to last stage"})  # fmt: skip
    if report.udrs:
        confirmed = sum(1 for u in report.udrs if u["verdict"] == "confirmed")
        kpis.append({"label": "Undesirable results", "value": f"{confirmed} of {len(report.udrs)}",
                     "note": "confirmed by the data"})  # fmt: skip
    return kpis
