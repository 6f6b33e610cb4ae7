"""The workbench in the browser: one :class:`Workbench` per request over the server's shared
data connection and app database, verdicts in plain words, measure forms, and the charts.

Pages and their ``/api`` twins call the same :class:`salesflow.workbench.service.Workbench`
methods as the CLI; this module only adapts them (form fields in, figures out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fastapi.responses import RedirectResponse, Response

from salesflow.errors import SalesflowError
from salesflow.web.charts import AMBER, GREY, behaviour_figure, metric_title
from salesflow.web.deps import Caller, state
from salesflow.web.forms import pairs, pairs_from_rows
from salesflow.workbench.verdict import IMPROVEMENT_LABELS, UDR_LABELS

if TYPE_CHECKING:
    from fastapi import Request
    from starlette.datastructures import FormData

    from salesflow.settings import Settings
    from salesflow.workbench.service import Workbench

__all__ = [
    "VERDICT_WORDS",
    "bench",
    "change_then_redirect",
    "delete_at_version",
    "history_of",
    "improvement_figure",
    "measure_fields",
    "metric_choices",
    "restore_at_version",
    "udr_figure",
    "version_of",
]

TONES = {
    "confirmed": "bad",
    "contradicted": "grey",  # not a success: the worry was unfounded
    "insufficient_data": "grey",
    "unbound": "grey",
    "improved": "good",
    "worse": "bad",
    "no_signal": "amber",
    "too_early": "grey",
    "not_measured": "grey",
}
#: verdict → (label a sales leader reads, the same as the report's and the CLI's; css tone)
VERDICT_WORDS = {v: (label, TONES[v]) for v, label in {**UDR_LABELS, **IMPROVEMENT_LABELS}.items()}
PERIODS = ("week", "month", "quarter")


@contextmanager
def bench(request: Request, caller: Caller, *, lock: bool = True) -> Iterator[Workbench]:
    """The workbench for this request, its verdicts from the server's result cache.

    ``lock=True`` holds the data lock (one DuckDB connection per process) for the whole block,
    as anything that reads data directly needs (binding, checking a link, a new measure).
    Pages that only show what is stored, and changes that touch only the knowledge base (an
    edit, a delete, a status), pass ``lock=False``: verdicts take the lock themselves on a cache
    miss, so twenty readers or editors do not queue behind each other (the app DB's version
    check keeps concurrent edits apart).
    """
    from salesflow.web.verdicts import CachedWorkbench

    st = state(request)
    if not lock:
        yield CachedWorkbench(st.data, st.store, who=caller.name, snapshot=True)
        return
    with st.data.reading():
        yield CachedWorkbench(st.data, st.store, who=caller.name)


def change_then_redirect(
    request: Request,
    caller: Caller,
    change: Callable[[Workbench], Any],
    *,
    to: str | Callable[[Any], str],
    on_error: Callable[[SalesflowError], Response],
) -> Response:
    """Post/redirect/get for a form that changes the workbench.

    ``change`` runs inside :func:`bench`; on success the browser is sent (303) to ``to``, or to
    ``to(result)`` when the address depends on what was made. A refused change shows the form
    again through ``on_error``, with the same words as the CLI.
    """
    try:
        with bench(request, caller) as wb:
            result = change(wb)
    except SalesflowError as exc:
        return on_error(exc)
    return RedirectResponse(to(result) if callable(to) else to, status_code=303)


LABELS = {"udr": "UDR", "cause": "cause", "link": "why-link", "improvement": "improvement"}


def delete_at_version(
    request: Request,
    caller: Caller,
    entity: str,
    id: int,
    version: int | None,
    if_match: str | None,
) -> dict[str, Any]:
    """``DELETE /api/{entity}s/{id}``: soft delete at the version named by ``?version=`` or
    ``If-Match`` (none: 428, stale: 409). Knowledge only, so no data lock."""
    from salesflow.web.forms import clean
    from salesflow.web.preconditions import expected

    expected_version = expected(version, if_match, what=f"{LABELS[entity]} {id}")
    with bench(request, caller, lock=False) as wb:
        return clean(wb.delete(entity, id, expected_version=expected_version))


def restore_at_version(
    request: Request, caller: Caller, entity: str, id: int, if_match: str | None
) -> dict[str, Any]:
    """``POST /api/{entity}s/{id}/restore``: only a deleted entry changes, so the version is
    optional (``If-Match`` is checked when sent)."""
    from salesflow.web.forms import clean
    from salesflow.web.preconditions import optional

    expected_version = optional(if_match, what=f"{LABELS[entity]} {id}")
    with bench(request, caller, lock=False) as wb:
        return clean(wb.restore(entity, id, expected_version=expected_version))


def history_of(request: Request, caller: Caller, entity: str, id: int) -> dict[str, Any]:
    """``GET /api/{entity}s/{id}/history``: every change, oldest first."""
    from salesflow.web.forms import clean

    with bench(request, caller, lock=False) as wb:
        return clean({"history": wb.history(entity, id)})


def metric_choices(request: Request) -> list[dict[str, Any]]:
    """The catalog for the metric pickers (same list as the Measures page)."""
    from salesflow.web.routes.measures import catalog_entries

    return catalog_entries(state(request))


def _one_each(items: list[str], name: str) -> dict[str, str]:
    return {k: v[-1] for k, v in pairs(items, name).items()}


def measure_fields(form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """A measure picked in a form: metric, period, season, bad direction, filter and parameter rows."""
    getlist = getattr(form, "getlist", lambda key: [form[key]] if key in form else [])
    period = str(form.get("period") or "month")
    filters = pairs_from_rows(getlist("fcol"), getlist("fval"))
    params = pairs_from_rows(getlist("pname"), getlist("pval"))
    return {
        "metric": str(form.get("metric") or "").strip(),
        "period": period if period in PERIODS else "month",
        "season": text_or_none(form.get("season")),
        "bad_if": str(form.get("bad_if") or "above"),
        "filters": _one_each(filters, "filter"),
        "params": _one_each(params, "param"),
    }


def version_of(form: FormData | Mapping[str, Any]) -> int | None:
    """The version the person read (hidden field); a stale one is refused by the store (409),
    a missing one too (428): a form always carries the version it was drawn from."""
    raw = str(form.get("version") or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def text_or_none(value: Any) -> str | None:
    text = str(value or "").strip()
    return text or None


def _hline(y: float, name: str, color: str) -> dict[str, Any]:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
            "line": {"color": color, "width": 2, "dash": "dot"}, "name": name}  # fmt: skip


def _note(x: Any, y: Any, text: str, *, xref: str = "x", yref: str = "paper") -> dict[str, Any]:
    return {"x": x, "y": y, "xref": xref, "yref": yref, "text": text, "showarrow": False,
            "font": {"size": 11, "color": "#374151"}, "bgcolor": "rgba(255,255,255,.85)",
            "xanchor": "left", "yanchor": "bottom"}  # fmt: skip


def _series(chart: Mapping[str, Any], settings: Settings | None) -> str:
    return metric_title(str(chart.get("metric", "")), settings)


def udr_figure(udr: Mapping[str, Any], settings: Settings | None = None) -> dict[str, Any] | None:
    """The UDR's behaviour chart with its threshold drawn as a dotted line.

    ``settings`` lets the legend use a custom metric's title from ``salesflow.toml``.
    """
    verdict = udr.get("verdict") or {}
    chart = verdict.get("chart")
    if not chart or not chart.get("points"):
        return None
    title = udr.get("measure") or chart.get("metric", "")
    fig = behaviour_figure(chart, title, series=_series(chart, settings))
    threshold = (udr.get("binding") or {}).get("threshold")
    if threshold is not None:
        fig["layout"]["shapes"] = [_hline(threshold, "threshold", AMBER)]
        fig["layout"]["annotations"] = [_note(0, threshold, "your threshold", xref="paper",
                                              yref="y")]  # fmt: skip
    return fig


def improvement_figure(
    doc: Mapping[str, Any], settings: Settings | None = None
) -> dict[str, Any] | None:
    """Before and after: limits from the baseline, the baseline shaded, the start date marked."""
    verdict = doc.get("verdict") or {}
    chart = verdict.get("chart")
    if not chart or not chart.get("points"):
        return None
    title = doc.get("measure_text") or chart.get("metric", "")
    fig = behaviour_figure(chart, title, series=_series(chart, settings))
    m = doc.get("measure") or {}
    shapes, notes = [], []
    if m.get("baseline_start") and m.get("baseline_end"):
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": m["baseline_start"],
                       "x1": m["baseline_end"], "y0": 0, "y1": 1, "fillcolor": "#e5e7eb",
                       "opacity": 0.35, "line": {"width": 0}, "layer": "below"})  # fmt: skip
        notes.append(_note(m["baseline_start"], 1.0, "baseline"))
    if m.get("start_date"):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": m["start_date"],
                       "x1": m["start_date"], "y0": 0, "y1": 1,
                       "line": {"color": "#111827", "width": 2}})  # fmt: skip
        notes.append(_note(m["start_date"], 1.0, f" change started {m['start_date']}"))
    if m.get("target") is not None:
        shapes.append(_hline(m["target"], "target", GREY))
        notes.append(_note(0, m["target"], "target", xref="paper", yref="y"))
    fig["layout"]["shapes"] = shapes
    fig["layout"]["annotations"] = notes
    return fig
