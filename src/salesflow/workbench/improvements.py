"""Improvements framed by the three questions, their verdicts from data, and check-ins.

1. What do you want to accomplish, and why? — ``objective``, ``why``.
2. What could you do that might create improvement? — the causes it ``attacks``, the ``theory``
   and the countermeasure (``method``).
3. How will you know you succeeded? — the measure: a metric binding (``bad_if`` says which
   direction is bad, so the desired direction is the other one; a ``season`` keeps only those
   parts of the year), a baseline window, a start date and a target.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from salesflow.appdb.versions import CURRENT, Expected
from salesflow.errors import ConfigError, SalesflowError
from salesflow.workbench.cadence import (
    DueImprovement,
    check_cadence,
    check_held_on,
    check_owner,
    checkin_day,
    due_improvements,
    held_at,
    schedules,
)
from salesflow.workbench.measures import (
    binding_from_options,
    compute,
    describe,
    parse_threshold,
    unit_of,
)
from salesflow.workbench.verdict import (
    Verdict,
    cannot_run,
    format_value,
    judge_improvement,
    with_season_advice,
)

if TYPE_CHECKING:
    from salesflow.appdb import CheckinRecord, ImprovementRecord
    from salesflow.workbench.service import Workbench

__all__ = [
    "add",
    "checkin",
    "due",
    "edit",
    "list_all",
    "parse_window",
    "set_status",
    "show",
    "verdict",
]


def parse_window(text: str | tuple[date, date] | None) -> tuple[date, date] | None:
    """``"2024-10-01:2025-09-30"`` → two dates (inclusive)."""
    if text is None or isinstance(text, tuple):
        return text
    first, sep, last = text.partition(":")
    try:
        window = (date.fromisoformat(first.strip()), date.fromisoformat(last.strip()))
    except ValueError:
        window = None
    if not sep or window is None:
        raise ConfigError(
            f"Baseline {text!r} is not START:END",
            hint="Write it like --baseline 2024-10-01:2025-09-30",
        )
    if window[1] < window[0]:
        raise ConfigError(f"Baseline {text} ends before it starts", hint="Write START:END")
    return window


def _day(value: str | date | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not a date", hint="Write YYYY-MM-DD") from None


def add(
    bench: Workbench,
    *,
    objective: str,
    why: str | None = None,
    method: str | None = None,
    theory: str | None = None,
    attacks: Iterable[int] = (),
    title: str | None = None,
    metric: str | None = None,
    bad_if: str | None = None,
    filters: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    period: str = "month",
    season: str | None = None,
    baseline: str | tuple[date, date] | None = None,
    start: str | date | None = None,
    target: str | float | None = None,
    owner: str | None = None,
    status: str = "proposed",
    cadence: str | None = None,
) -> dict[str, Any]:
    """Store an improvement; a measure is computed once first, so a bad one stores nothing.

    ``owner`` must name a user (see :func:`salesflow.workbench.cadence.check_owner`); the
    ``cadence`` (weekly by default) says how often the owner is asked the questions again."""
    owner = check_owner(bench.store, owner)
    cadence = check_cadence(cadence)
    measure = None
    if metric is not None:
        chosen = {"filters": filters, "params": params, "period": period, "season": season}
        measure = _measure(bench, metric, bad_if, chosen, baseline, start, target)
    record = bench.store.improvements.create(
        title or _title(objective),
        objective=objective,
        why=why,
        theory=theory,
        countermeasure=method,
        attacks=attacks,
        measure=measure,
        status=status,
        owner=owner,
        cadence=cadence,
        who=bench.who,
    )
    return _doc(bench, record, bench.improvement_verdict(record), full=True)


#: What ``edit`` changes as given (None: as it is; "" clears an optional text).
TEXTS = ("title", "objective", "why", "theory", "method")
MEASURE_OPTIONS = ("metric", "bad_if", "filters", "params", "period", "season", "baseline",
                   "start", "target")  # fmt: skip


def edit(
    bench: Workbench,
    id: int,
    *,
    expected_version: Expected,
    unmeasure: bool = False,
    **changes: Any,
) -> dict[str, Any]:
    """Change the three questions' answers, owner, cadence, status, attacked causes or measure.

    Each change is kept in the history. A new measure (``metric`` with its options, as in
    :func:`add`) is computed first, so a bad one stores nothing; the verdict of the measure it
    replaces is kept in that history entry as ``before.verdict``. ``CURRENT`` means the version
    read as this call starts: a change made meanwhile is refused, never overwritten.
    """
    current = bench.store.improvements.get(id)  # a wrong id fails before the data is read
    if expected_version is CURRENT:
        expected_version = current.version
    fields = _edited_fields(bench, changes)
    if unmeasure:
        fields["measure"] = None
    noted = None
    if "measure" in fields and fields["measure"] != current.measure:
        from salesflow.workbench.graph import plain

        noted = {"verdict": plain(bench.improvement_verdict(current).to_dict(chart=False))}
    record = bench.store.improvements.update(
        id, who=bench.who, expected_version=expected_version, noted=noted, **fields
    )
    return _doc(bench, record, None, full=False)


def _edited_fields(bench: Workbench, changes: dict[str, Any]) -> dict[str, Any]:
    """The repository's fields for what was given (None leaves a field as it is)."""
    given = {k: v for k, v in changes.items() if v is not None}
    fields: dict[str, Any] = {}
    for key in TEXTS:
        if key in given:
            text = str(given.pop(key)).strip()
            fields["countermeasure" if key == "method" else key] = text or None
    if "objective" in fields and fields["objective"] is None:
        fields["objective"] = ""  # refused by the store with its own words
    if "owner" in given:
        fields["owner"] = check_owner(bench.store, given.pop("owner"))
    if "cadence" in given:
        fields["cadence"] = check_cadence(given.pop("cadence"))
    for key in ("status", "attacks"):
        if key in given:
            fields[key] = given.pop(key)
    measure = {k: given.pop(k) for k in MEASURE_OPTIONS if k in given}
    if given:
        raise ConfigError(f"An improvement has no field {', '.join(sorted(given))} to change")
    if "metric" in measure:
        chosen = {k: measure[k] for k in ("filters", "params", "period", "season") if k in measure}
        fields["measure"] = _measure(
            bench, measure["metric"], measure.get("bad_if"), {"period": "month", **chosen},
            measure.get("baseline"), measure.get("start"), measure.get("target"),
        )  # fmt: skip
    elif measure:
        raise ConfigError(
            "A new measure starts with its metric",
            hint="Give the metric with the bad direction and the start date",
        )
    return fields


def _measure(
    bench: Workbench,
    metric: str,
    bad_if: str | None,
    chosen: dict[str, Any],
    baseline: str | tuple[date, date] | None,
    start: str | date | None,
    target: str | float | None,
) -> dict[str, Any]:
    from salesflow.appdb.bindings import normalise_measure
    from salesflow.metrics import get

    if bad_if is None or start is None:
        raise ConfigError(
            "A measure needs the bad direction and a start date",
            hint="Give --bad-if above|below and --start YYYY-MM-DD",
        )
    window = parse_window(baseline)
    begin = _day(start, "Start date")
    if window is not None and begin is not None and window[1] >= begin:
        raise ConfigError(
            f"The baseline ends on {window[1]}, not before the start on {begin}",
            hint="The baseline is how things were before the change: end it before --start",
        )
    doc = binding_from_options(
        metric=metric, bad_if=bad_if, settings=bench.workspace.settings, **chosen
    )
    doc.pop("threshold")
    doc.pop("mode")
    doc.update(
        target=parse_threshold(target, get(metric, bench.workspace.settings), what="Target"),
        baseline_start=window[0].isoformat() if window else None,
        baseline_end=window[1].isoformat() if window else None,
        start_date=begin.isoformat() if begin else None,
    )
    measure = normalise_measure(doc) or {}
    compute(bench.workspace, measure, as_of=bench.moment())  # a wrong filter fails here, not later
    return measure


def _title(objective: str) -> str:
    first = objective.strip().split(". ")[0]
    return first if len(first) <= 80 else first[:77].rstrip() + "…"


def verdict(bench: Workbench, record: ImprovementRecord, *, as_of: date | None = None) -> Verdict:
    """Did it work? Limits from the baseline, signals after the start date."""
    m = record.measure
    if not m or not m.get("start_date"):
        return Verdict(
            "not_measured",
            "no_measure",
            "No measure yet: answer 'how will you know you succeeded?' with a metric, "
            "a baseline and a start date.",
        )
    start = date.fromisoformat(m["start_date"])
    first = date.fromisoformat(m["baseline_start"]) if m.get("baseline_start") else date.min
    last = date.fromisoformat(m["baseline_end"]) if m.get("baseline_end") else start - timedelta(1)
    title = describe(m, bench.workspace.settings, with_period=False)
    try:
        measured = compute(
            bench.workspace, m, as_of=as_of or bench.moment(), baseline=(first, last)
        )
    except SalesflowError as exc:
        return cannot_run(exc)
    if measured.problem:
        return Verdict(
            "insufficient_data",
            "baseline_too_short",
            f"{title}: {measured.problem}",
            chart=measured.charted.to_dict(),
        )
    found = judge_improvement(measured.charted, m, title=title, start=start)
    return measured.stamp(with_season_advice(found, measured.charted, m))


def _doc(bench: Workbench, record: ImprovementRecord, found: Verdict | None, *, full: bool) -> dict:
    doc = record.to_dict()
    if doc["measure"] is not None:  # measured before seasons existed: no season
        doc["measure"].setdefault("season", None)
    doc["method"] = record.countermeasure
    doc["measure_text"] = (
        describe(record.measure, bench.workspace.settings) if record.measure else None
    )
    doc["verdict"] = None if found is None else found.to_dict(chart=full)
    return doc


def show(bench: Workbench, id: int) -> dict[str, Any]:
    """One improvement: the three questions, the verdict with its chart, attacked causes, check-ins."""
    record = bench.store.improvements.get(id)
    doc = _doc(bench, record, bench.improvement_verdict(record), full=True)
    texts = {
        n.id: (n.kind, getattr(n, "statement", None) or getattr(n, "text", ""))
        for n in bench.store.nodes()
    }
    doc["attacks_detail"] = [
        {"id": n, "kind": texts.get(n, ("deleted", ""))[0], "text": texts.get(n, ("", ""))[1]}
        for n in record.attacks
    ]
    settings = bench.workspace.settings
    doc["checkins"] = answer_history(bench.store.checkins.list(id), settings.zone)
    unit = unit_of(record.measure, settings) if record.measure else ""
    for c in doc["checkins"]:  # "5.2 days", as the check-in said it when it was recorded
        value = c["measure_value"]
        c["measure_text"] = None if value is None else format_value(value, unit)
    found = schedule_of(bench, id)
    doc["schedule"] = None if found is None else found.to_dict()
    return doc


ANSWER_KEYS = ("objective_answer", "method_answer", "measure_answer")


def answer_history(checkins: Iterable[CheckinRecord], zone: tzinfo) -> list[dict[str, Any]]:
    """Check-ins oldest first, each with the day it was held and which of the three answers
    ``changed`` since the check-in before (none at the first)."""
    out: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for c in checkins:
        doc = {**c.to_dict(), "held_on": checkin_day(c, zone).isoformat()}
        doc["changed"] = [k for k in ANSWER_KEYS if before is not None and doc[k] != before[k]]
        out.append(doc)
        before = doc
    return out


def list_all(bench: Workbench, *, verdicts: bool = True) -> list[dict[str, Any]]:
    """Improvements by id with their verdicts in brief (no chart)."""
    return [
        _doc(bench, r, bench.improvement_verdict(r) if verdicts else None, full=False)
        for r in bench.store.improvements.list()
    ]


def due(bench: Workbench, *, today: date | None = None) -> list[dict[str, Any]]:
    """Check-ins due or overdue today (``SALESFLOW_TODAY`` freezes it), most overdue first,
    each with the last answers to the three questions and the measure's verdict now."""
    settings = bench.workspace.settings
    found = due_improvements(bench.store, today or settings.today(), zone=settings.zone)
    return [_due_doc(bench, d) for d in found]


def _due_doc(bench: Workbench, entry: DueImprovement) -> dict[str, Any]:
    record = bench.store.improvements.get(entry.id)
    return {**entry.to_dict(), "verdict": bench.improvement_verdict(record).to_dict(chart=False)}


def schedule_of(bench: Workbench, id: int, *, today: date | None = None) -> DueImprovement | None:
    """Where one improvement stands in its cadence (None once verified or abandoned)."""
    settings = bench.workspace.settings
    found = schedules(bench.store, today or settings.today(), zone=settings.zone)
    return next((d for d in found if d.id == id), None)


def current_value(
    bench: Workbench, record: ImprovementRecord, *, as_of: date | None = None
) -> tuple[float | None, str | None, str]:
    """The measure's value in the latest complete period before ``as_of``, that period, and
    the measure's unit."""
    if not record.measure:
        return None, None, ""
    measured = compute(bench.workspace, record.measure, as_of=as_of or bench.moment())
    points = [p for p in measured.series.points if p.value is not None]
    if not points:
        return None, None, measured.series.unit
    return points[-1].value, points[-1].period.isoformat(), measured.series.unit


def checkin(
    bench: Workbench,
    id: int,
    *,
    asked_by: str | None = None,
    answered_by: str | None = None,
    objective: str | None = None,
    method: str | None = None,
    measure: str | None = None,
    note: str | None = None,
    asked_at: datetime | None = None,
    held_on: str | date | None = None,
) -> dict[str, Any]:
    """Record the three questions asked again, with the measure's value at that moment.

    ``held_on`` records a check-in held earlier (between the start and today). An answer left
    out stands as it was at the check-in before, so each check-in holds all three answers as
    they stood then.
    """
    record = bench.store.improvements.get(id)
    settings = bench.workspace.settings
    today = settings.today()
    if held_on is not None:
        day = check_held_on(record, _day(held_on, "Check-in date"), today, settings.zone)
        asked_at = held_at(day, settings.zone) if day != today else asked_at
    if asked_at is None and settings.frozen_today is not None:
        asked_at = held_at(today, settings.zone)  # a frozen clock dates it too
    day = settings.today(asked_at) if asked_at else None
    before = _answers_before(bench, id, day)
    value, period, unit = current_value(bench, record, as_of=day)
    saved = bench.store.checkins.create(
        id,
        who=bench.who,
        asked_by=asked_by or bench.who,
        answered_by=answered_by,
        objective_answer=objective if objective is not None else before.get("objective_answer"),
        method_answer=method if method is not None else before.get("method_answer"),
        measure_answer=measure if measure is not None else before.get("measure_answer"),
        measure_value=value,
        note=note,
        asked_at=asked_at,
    )
    held = checkin_day(saved, settings.zone).isoformat()
    shown = None if value is None else format_value(value, unit)  # "5.2 days", "24 %"
    return {**saved.to_dict(), "held_on": held, "measure_period": period, "measure_text": shown}


def _answers_before(bench: Workbench, id: int, day: date | None) -> dict[str, Any]:
    """The last check-in held on or before ``day`` (None: any), as a dict ({} without one)."""
    zone = bench.workspace.settings.zone
    earlier = [
        c for c in bench.store.checkins.list(id) if day is None or checkin_day(c, zone) <= day
    ]
    return earlier[-1].to_dict() if earlier else {}


def set_status(
    bench: Workbench, id: int, status: str, *, expected_version: Expected
) -> dict[str, Any]:
    """proposed → running → verified, or abandoned; every change is in the history.

    ``expected_version`` is the version the person read (a stale one is refused), or ``CURRENT``
    for whatever is stored when the change is written.
    """
    updated = bench.store.improvements.update(
        id, who=bench.who, expected_version=expected_version, status=status
    )
    return _doc(bench, updated, None, full=False)
