"""Plain words for the report: verdict labels, chart readings, lint status and a glossary.

A sales VP reads "a real change, not noise: 9 months in a row below the old average", not
"Western Electric rule 4". Signal sentences come from :func:`salesflow.spc.explain` (already in
each signal's ``explanation``); this module frames them.

>>> chart_words({"chart": {"status": "ok"}, "signals": []})
'Routine variation only: no period stands out from the others, so none needs its own explanation.'
>>> fmt(0.312, "%"), fmt(5.25, "days"), fmt(1234, "rows")
('31 %', '5.2 days', '1,234')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from salesflow.workbench.verdict import IMPROVEMENT_LABELS, UDR_LABELS

__all__ = [
    "GLOSSARY",
    "IMPROVEMENT_LABELS",
    "UDR_LABELS",
    "chart_words",
    "fmt",
    "lint_words",
    "pipeline_words",
    "signal_words",
    "trend_words",
]

REAL_CHANGE = "A real change, not noise"

GLOSSARY = [
    ("Process behaviour chart", "The measure period by period, with a centre line (the "
     "average) and two limits. Points inside the limits differ only by everyday chance."),
    ("Limits", "The range ordinary ups and downs stay within, computed from the data itself. "
     "They are not targets."),
    ("Signal", "A real change, not noise: a point beyond a limit, or an unusual run such as "
     "8 periods in a row on one side of the average. Something changed and can be found."),
    ("Routine variation", "Ups and downs inside the limits with no unusual run. Asking why one "
     "such period was low wastes time: improve the process instead."),
    ("Baseline", "The periods before a change. Their limits are kept after the change, so we "
     "can see whether the new periods still look like the old ones."),
    ("p chart, Laney p′ chart", "Charts for shares (like win rate) that widen the limits when "
     "few deals are behind a period, and Laney's version when periods vary more than chance."),
    ("Undesirable Result (UDR)", "A result we do not like, stated precisely enough for the data "
     "to confirm or contradict it."),
    ("Root cause, core problem", "A root cause has no deeper cause recorded. A core problem is a "
     "cause behind most of the UDRs: fixing it helps many results at once."),
    ("Median", "The middle value: half the deals took longer, half less."),
]  # fmt: skip


def fmt(value: float | None, unit: str) -> str:
    """A number the way a sales leader says it: ``31 %``, ``5.2 days``, ``1,234``."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.0f} %"
    if unit in ("", "rows"):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return f"{text} {unit}"


def signal_words(signal: Mapping[str, Any]) -> str:
    """One signal as a sentence a VP reads: "A real change, not noise: …"."""
    return f"{REAL_CHANGE}: {signal.get('explanation', signal.get('name', ''))}"


def chart_words(doc: Mapping[str, Any] | None) -> str:
    """What a chart says, in one or two sentences, and which periods it does not judge."""
    if not doc:
        return "No chart: the measure has not been computed."
    said = _chart_words(doc)
    unjudged = doc.get("not_judged")
    return f"{said} {unjudged}" if unjudged else said


def _chart_words(doc: Mapping[str, Any]) -> str:
    chart = doc.get("chart") or {}
    context = _context_words(doc)
    if chart.get("status") != "ok":
        message = (
            chart.get("message") or "Too few periods for limits yet: read the values, not signals."
        )
        return f"{message}{context}"
    signals = doc.get("signals") or []
    if not signals:
        return (
            "Routine variation only: no period stands out from the others, so none needs its "
            f"own explanation.{context}"
        )
    latest = max(signals, key=lambda s: s.get("index", 0))
    more = f" ({len(signals)} signals in all.)" if len(signals) > 1 else ""
    return f"{signal_words(latest)}{more}{context}"


def _context_words(doc: Mapping[str, Any]) -> str:
    """The seasonal pattern and the ramp-up a chart allowed for, as extra sentences."""
    season = (doc.get("seasonality") or {}).get("sentence")
    ramp = ((doc.get("chart") or {}).get("ramp_up") or {}).get("reason")
    return "".join(f" {text}" for text in (season, ramp) if text)


def lint_words(lint: Mapping[str, Any]) -> dict[str, Any]:
    """The lint result as a status and a list of findings in words."""
    findings = [f"{f['code']}: {f['message']}" for f in lint.get("findings", [])]
    if not findings:
        status = "Precise and measurable"
    elif lint.get("measurable"):
        status = "Measurable, with advice"
    else:
        status = "Needs rewording"
    return {"status": status, "ok": not findings, "findings": findings}


def trend_words(trend: Mapping[str, Any]) -> str:
    """A theme's monthly trend in words, and the month it does not judge."""
    said = _trend_words(trend)
    unjudged = trend.get("not_judged")
    return f"{said} ({unjudged})" if said and unjudged else said


def _trend_words(trend: Mapping[str, Any]) -> str:
    growth = trend.get("growth_per_month")
    if growth is None:
        return ""
    if trend.get("growing"):
        return f"growing by about {growth:.1f} requests a month"
    if trend.get("shrinking"):
        return f"shrinking by about {abs(growth):.1f} requests a month"
    return "no clear trend"


def pipeline_words(doc: Mapping[str, Any]) -> str:
    """The quarter's pipeline in one sentence a VP reads aloud."""

    def money(key: str) -> str:
        return f"{doc[key]['amount']:,.0f}"

    came = doc["created"]["amount"] + doc["pulled_in"]["amount"]
    return (
        f"{doc['period']} started with {money('start')} in {doc['start']['count']:,} deals; "
        f"{came:,.0f} came in (created or pulled in), {money('won')} was won, {money('lost')} lost "
        f"and {money('pushed_out')} pushed to a later period, leaving {money('end')} open "
        f"in {doc['end']['count']:,} deals."
    )
