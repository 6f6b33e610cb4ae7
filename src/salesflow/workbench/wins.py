"""Wins: the improvements whose measure shows a sustained improvement, in plain words, with who
did it — so a team sees that improving is noticed.

A win is an improvement (not abandoned, not deleted) whose verdict is **improved**: the rule of
:mod:`salesflow.workbench.shift`, read by :func:`salesflow.workbench.verdict.judge_improvement`
on complete periods only (running and maturing periods never enter a verdict, so they never make
a win). An improvement the team marked *verified* is listed as a win only when its chart agrees;
otherwise it is named in ``verified_without_shift`` with the verdict's reason, so a claimed win
that the data does not (yet) show is not hidden either.

    wins(bench)  # the ``salesflow improve wins --json`` document
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from salesflow.workbench.measures import describe
from salesflow.workbench.verdict import PLURAL, format_value

if TYPE_CHECKING:
    from salesflow.appdb import CheckinRecord, ImprovementRecord
    from salesflow.workbench.service import Workbench
    from salesflow.workbench.verdict import Verdict

__all__ = ["date_words", "win_sentence", "wins"]

SINGULAR = {"week": "week", "month": "month", "quarter": "quarter"}


def date_words(day: date | str) -> str:
    """``12 May 2026``: a date the way people say it."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.day} {value:%B %Y}"


def win_sentence(title: str, values: dict[str, Any], period: str) -> str:
    """The win in one sentence, from the medians per period of the baseline and of the periods
    since: "Time in stage fell from 8.1 days to 5.6 days since 1 October 2025 — sustained over
    12 months." """
    unit = values["unit"]
    moved = "fell" if values["desired"] == "down" else "rose"
    count = values["periods_after"]
    periods = SINGULAR[period] if count == 1 else PLURAL[period]
    text = (
        f"{title} {moved} from {format_value(values['before_median'], unit)} to "
        f"{format_value(values['after_median'], unit)} since {date_words(values['start_date'])}"
        f" — sustained over {count} {periods}"
    )
    if values.get("target_met"):
        text += f"; the target of {format_value(values['target'], unit)} is met"
    return f"{text}."


def _people(record: ImprovementRecord, checkins: list[CheckinRecord]) -> list[str]:
    """The owner first, then everyone who answered the three questions, each once."""
    names = [record.owner, *(c.answered_by for c in checkins)]
    seen: list[str] = []
    for name in names:
        if name and name.strip() and name.strip() not in seen:
            seen.append(name.strip())
    return seen


def _win(
    bench: Workbench, record: ImprovementRecord, found: Verdict, checkins: list[CheckinRecord]
) -> dict[str, Any]:
    measure = record.measure or {}
    period = measure.get("period") or "month"
    title = describe(measure, bench.workspace.settings, with_period=False)
    values = found.values
    answered = [c.answered_by for c in checkins if c.answered_by]
    return {
        "id": record.id,
        "title": record.title,
        "status": record.status,
        "verified": record.status == "verified",
        "owner": record.owner,
        "answered_by": sorted(set(answered)),
        "people": _people(record, checkins),
        "checkins": len(checkins),
        "measure_text": describe(measure, bench.workspace.settings),
        "period": period,
        "unit": values["unit"],
        "desired": values["desired"],
        "before": values["before_median"],
        "after": values["after_median"],
        "change": values["change"],
        "start_date": values["start_date"],
        "periods_after": values["periods_after"],
        "target": values["target"],
        "target_met": values["target_met"],
        "sentence": win_sentence(title, values, period),
        "verdict": found.to_dict(chart=False),
    }


def wins(bench: Workbench) -> dict[str, Any]:
    """Every win, newest start first, and the verified improvements the chart does not show."""
    by_improvement: dict[int, list[CheckinRecord]] = {}
    for c in bench.store.checkins.list():
        by_improvement.setdefault(c.improvement_id, []).append(c)
    found, claimed = [], []
    for record in bench.store.improvements.list():
        if record.status == "abandoned":
            continue
        verdict = bench.improvement_verdict(record)
        checkins = by_improvement.get(record.id, [])
        if verdict.verdict == "improved":
            found.append(_win(bench, record, verdict, checkins))
        elif record.status == "verified":
            claimed.append({"id": record.id, "title": record.title, "owner": record.owner,
                            "verdict": verdict.verdict, "sentence": verdict.sentence})  # fmt: skip
    found.sort(key=lambda w: (w["start_date"], w["id"]), reverse=True)
    return {
        "as_of": bench.moment().isoformat(),
        "wins": found,
        "verified_without_shift": claimed,
    }
