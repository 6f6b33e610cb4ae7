"""The request log beyond themes: monthly trends, Pareto tables, and filing themes as categories.

A theme is *growing* when the monthly growth rate of a Poisson log-linear fit (count ~ month) has
a 95 % confidence interval entirely above zero. Requests per won order compare how much
asking each kind of customer does for each deal won ("is any order a good order?").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from salesflow.errors import DataError
from salesflow.source import as_int, require_table

if TYPE_CHECKING:
    import pandas as pd
    from ibis.backends import BaseBackend

__all__ = ["categorise", "monthly_trend", "pareto", "pareto_by_theme", "pareto_per_won_order"]

MIN_MONTHS = 3


def monthly_trend(
    stamps: pd.Series, span: tuple[Any, Any], *, complete_until: Any = None
) -> dict[str, Any]:
    """Monthly counts over ``span`` (first and last month up to as-of) and a growth estimate
    fitted on the complete months only: a month still running at as-of (``complete_until``,
    the first month that is not complete) is shown, marked, and never fitted."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    from salesflow.metrics.asof import period_name

    months = pd.period_range(span[0], span[1], freq="M")
    counts = stamps.dt.to_period("M").value_counts().reindex(months, fill_value=0)
    done = [complete_until is None or m < complete_until for m in months]
    running = [m for m, ok in zip(months, done, strict=True) if not ok]
    doc: dict[str, Any] = {
        "months": [
            {"month": str(m), "count": int(c), "status": "complete" if ok else "running"}
            for (m, c), ok in zip(counts.items(), done, strict=True)
        ],
        "not_judged": " ".join(
            f"{period_name(m.start_time.date(), 'month')} is still running and is not judged."
            for m in running
        )
        or None,
        "growth_per_month": None,
        "ci_low": None,
        "ci_high": None,
        "growing": None,
    }
    counts = counts[done]
    months = counts.index
    if len(months) < MIN_MONTHS or counts.sum() == 0:
        return doc
    x = sm.add_constant(np.arange(len(months), dtype=float))
    fit = sm.GLM(counts.to_numpy(dtype=float), x, family=sm.families.Poisson()).fit()
    lo, hi = fit.conf_int()[1]
    doc.update(
        growth_per_month=float(np.expm1(fit.params[1]) * 100),
        ci_low=float(np.expm1(lo) * 100),
        ci_high=float(np.expm1(hi) * 100),
        growing=bool(lo > 0),
        shrinking=bool(hi < 0),
    )
    return doc


def pareto(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``rows`` largest ``key`` first (ties by name), each with its ``share`` of the total and
    the ``cumulative_share`` up to it."""
    rows = sorted(rows, key=lambda r: (-r[key], str(r.get("name"))))
    total = sum(r[key] for r in rows) or 1
    running = 0
    for r in rows:
        running += r[key]
        r["share"] = r[key] / total
        r["cumulative_share"] = running / total
    return rows


def pareto_by_theme(themes: Sequence[Any]) -> list[dict[str, Any]]:
    """Themes by number of requests, largest first, with cumulative shares."""
    rows = [{"name": t.label, "theme": t.id, "requests": t.count} for t in themes]
    return pareto(rows, "requests")


def pareto_per_won_order(con: BaseBackend) -> dict[str, list[dict[str, Any]]]:
    """Requests about deals per won deal, by segment and by amount band (all requests)."""
    from salesflow.analysis.features import amount_band

    opps = require_table(con, "opportunities")
    requests = require_table(con, "requests")
    opps = opps.select(
        "opportunity_id",
        segment=opps.segment.fill_null("(missing)"),
        amount_band=amount_band(opps.amount),
        won=as_int(opps.outcome.lower() == "won"),
    )
    per_deal = requests.filter(requests.opportunity_id.notnull())
    per_deal = per_deal.group_by("opportunity_id").aggregate(n=per_deal.count())
    joined = opps.left_join(per_deal, "opportunity_id", rname="{name}__r")
    out: dict[str, list[dict[str, Any]]] = {}
    for dim in ("segment", "amount_band"):
        agg = (
            joined.group_by(name=joined[dim])
            .aggregate(requests=joined.n.fill_null(0).sum(), won=joined.won.sum())
            .execute()
        )
        rows = [
            {
                "name": str(r.name),
                "requests": int(r.requests),
                "won": int(r.won),
                "requests_per_won_order": (r.requests / r.won) if r.won else None,
            }
            for r in agg.itertuples()
        ]
        out[f"by_{dim}"] = pareto(rows, "requests")
    return out


def categorise(
    con: BaseBackend, assignments: Sequence[Mapping[str, Any]], names: Mapping[int, str]
) -> int:
    """File each assigned, still uncategorised request under its theme's name, all or nothing.

    One ``UPDATE … FROM (VALUES …)`` statement does the writing, so every row changes or none.
    Returns the number of requests categorised.
    """
    rows = [(a["request_id"], names[a["theme"]]) for a in assignments if a["theme"] in names]
    if not rows:
        return 0
    if any(not str(name).strip() for _, name in rows):
        raise DataError("A category name is empty", hint="Give every accepted theme a name")
    values = ", ".join(f"({_text(rid)}, {_text(name)})" for rid, name in rows)
    before = _uncategorised(con)
    con.raw_sql(
        f"UPDATE requests SET category = v.category FROM (VALUES {values}) "
        "AS v(request_id, category) WHERE requests.request_id = v.request_id "
        "AND (requests.category IS NULL OR trim(requests.category) = '')"
    )
    return before - _uncategorised(con)


def _text(value: Any) -> str:
    """A SQL string literal (values are data, never SQL)."""
    return "'" + str(value).replace("'", "''") + "'"


def _uncategorised(con: BaseBackend) -> int:
    r = con.table("requests")
    empty = r.category.isnull() | (r.category.strip() == "")
    return int(r.filter(empty).count().execute())
