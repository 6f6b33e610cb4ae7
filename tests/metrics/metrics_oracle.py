"""Independent answers: each metric recomputed with plain Python loops over the test rows.

Nothing here imports salesflow.metrics, so a mistake in an Ibis expression cannot hide in both.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import date, datetime

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost")
DAY = 86400.0


def month(ts: datetime | date) -> date:
    return date(ts.year, ts.month, 1)


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / DAY


def closed(data) -> list[dict]:
    return [o for o in data.opportunities if o["outcome"] in ("won", "lost") and o["closed_at"]]


def months(data) -> list[date]:
    """Every month from the first creation to the last creation or close."""
    first = min(o["created_at"] for o in data.opportunities)
    last = max(max(o["created_at"], o["closed_at"] or o["created_at"]) for o in data.opportunities)
    out, m = [], month(first)
    while m <= month(last):
        out.append(m)
        m = next_month(m)
    return out


def ratio(pairs: dict) -> dict:
    return {k: (num / den if den else None, num, den) for k, (num, den) in pairs.items()}


def share_by(rows, key, hit) -> dict:
    """{key: (value, numerator, denominator)} for a yes/no question over rows."""
    acc: dict = defaultdict(lambda: [0, 0])
    for r in rows:
        k = key(r)
        acc[k][0] += 1 if hit(r) else 0
        acc[k][1] += 1
    return ratio({k: tuple(v) for k, v in acc.items()})


def open_at(data, end: datetime) -> list[dict]:
    return [
        o
        for o in data.opportunities
        if o["created_at"] < end and (o["closed_at"] is None or o["closed_at"] >= end)
    ]


def snapshot_counts(data, keep) -> dict[date, int]:
    out = {}
    for m in months(data):
        end = datetime.combine(next_month(m), datetime.min.time())
        out[m] = sum(1 for o in open_at(data, end) if keep(o, end))
    return out


def touched(data, oid: str, since: datetime, end: datetime) -> bool:
    times = [e["entered_at"] for e in data.stage_events if e["opportunity_id"] == oid]
    times += [a["occurred_at"] for a in data.activities if a["opportunity_id"] == oid]
    return any(since <= t < end for t in times)


def ordered_events(data) -> dict[str, list[dict]]:
    by_deal: dict[str, list[dict]] = defaultdict(list)
    for e in data.stage_events:
        by_deal[e["opportunity_id"]].append(e)
    for events in by_deal.values():
        events.sort(key=lambda e: (e["entered_at"], STAGES.index(e["stage"])))
    return by_deal


def stage_visits(data) -> list[tuple[str, str, float, datetime]]:
    """(deal, stage, days in stage, left at) for every visit followed by another event."""
    out = []
    for oid, events in ordered_events(data).items():
        for e, nxt in itertools.pairwise(events):
            out.append(
                (oid, e["stage"], days(e["entered_at"], nxt["entered_at"]), nxt["entered_at"])
            )
    return out


def median_mean(values_by_key: dict) -> dict:
    return {
        k: (statistics.median(v), statistics.fmean(v), len(v)) for k, v in values_by_key.items()
    }


def group(rows, key, value) -> dict:
    out: dict = defaultdict(list)
    for r in rows:
        out[key(r)].append(value(r))
    return out


def forecast_rows(data, category: str = "commit") -> list[tuple[date, str, float, float]]:
    """(month, owner, forecast, won amount) per forecast month and owner: the forecast is the
    latest submitted at or before the month's start; later revisions do not count."""
    latest: dict = {}
    for f in data.forecasts:
        if f["category"] != category or f["owner"] is None:
            continue
        if f["submitted_at"] > datetime.combine(f["period_start"], datetime.min.time()):
            continue
        key = (f["period_start"], f["owner"])
        if key not in latest or f["submitted_at"] > latest[key]["submitted_at"]:
            latest[key] = f
    won: dict = defaultdict(float)
    for o in closed(data):
        if o["outcome"] == "won":
            won[(month(o["closed_at"]), o["owner"])] += o["amount"]
    return [(m, owner, f["amount"], won[(m, owner)]) for (m, owner), f in latest.items()]


def rework(data) -> dict[str, bool]:
    out = {}
    for oid, events in ordered_events(data).items():
        ranks = [STAGES.index(e["stage"]) for e in events]
        out[oid] = any(b < a for a, b in itertools.pairwise(ranks))
    return out
