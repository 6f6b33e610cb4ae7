"""Each injected effect shows in the generated tables by a simple, independent computation.

Tolerances are about three standard errors at 3,000 deals, so a broken effect fails while the
seeded noise around an intact one passes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from salesflow.demo import effects as fx

WIN = "avg(CASE WHEN outcome = 'won' THEN 1.0 ELSE 0.0 END)"


def win_rates(sql, group: str) -> dict:
    rows = sql(
        f"SELECT {group} g, {WIN}, count(*) FROM opportunities WHERE outcome <> 'open' GROUP BY 1"
    )
    return {g: (rate, n) for g, rate, n in rows}


def test_slow_first_response_costs_about_twelve_points_of_win_rate(sql):
    rates = win_rates(sql, f"first_response_hours > {fx.SLOW_RESPONSE_HOURS}")
    (slow, n_slow), (fast, n_fast) = rates[True], rates[False]
    se = math.sqrt(slow * (1 - slow) / n_slow + fast * (1 - fast) / n_fast)
    assert n_slow > 400
    assert abs((slow - fast) - fx.SLOW_RESPONSE_WIN_PP) < 3 * se


def test_region_has_no_effect_on_win_rate_or_requests(sql):
    # Chi-square test of independence between region and outcome (won/lost).
    table = sql(
        "SELECT region, count(*) FILTER (WHERE outcome = 'won'), count(*) FILTER "
        "(WHERE outcome = 'lost') FROM opportunities GROUP BY 1 ORDER BY 1"
    )
    counts = np.array([[won, lost] for _, won, lost in table])
    assert len(counts) == 4
    assert stats.chi2_contingency(counts).pvalue > 0.01
    per_deal = sql(
        """SELECT o.region, count(r.request_id) / count(DISTINCT o.opportunity_id)
        FROM opportunities o LEFT JOIN requests r USING (opportunity_id) GROUP BY 1"""
    )
    values = [v for _, v in per_deal]
    assert max(values) / min(values) < 1.25
    # The slow-response effect, by contrast, is far beyond chance.
    slow = sql(
        """SELECT first_response_hours > 48, count(*) FILTER (WHERE outcome = 'won'),
        count(*) FILTER (WHERE outcome = 'lost') FROM opportunities
        WHERE first_response_hours IS NOT NULL GROUP BY 1"""
    )
    assert stats.chi2_contingency(np.array([[w, lo] for _, w, lo in slow])).pvalue < 1e-3


def test_proposal_stage_is_about_thirty_percent_shorter_after_the_change(sql):
    rows = sql(
        f"""WITH e AS (SELECT stage, entered_at, lead(entered_at) OVER (
              PARTITION BY opportunity_id ORDER BY entered_at) next_at FROM stage_events)
        SELECT entered_at >= DATE '{fx.CHANGE_DATE}', median(epoch(next_at - entered_at) / 3600),
               count(*)
        FROM e WHERE stage = 'Proposal' AND next_at IS NOT NULL GROUP BY 1"""
    )
    median = {after: (hours, n) for after, hours, n in rows}
    (before, n_before), (after, n_after) = median[False], median[True]
    assert min(n_before, n_after) > 500
    assert abs(after / before - fx.PROPOSAL_TIME_FACTOR) < 0.08


def monthly(sql, where: str) -> np.ndarray:
    rows = sql(
        f"SELECT date_trunc('month', received_at) m, count(*) FROM requests WHERE {where} "
        "GROUP BY 1 ORDER BY 1"
    )
    return np.array([n for _, n in rows], dtype=float)


def test_contract_change_requests_grow_six_percent_a_month(sql):
    growing = monthly(sql, f"topic = '{fx.GROWING_CATEGORY}'")
    others = monthly(sql, f"topic <> '{fx.GROWING_CATEGORY}'")
    assert len(growing) == len(others) == fx.MONTHS
    assert stats.spearmanr(np.arange(fx.MONTHS), growing).statistic > 0.85
    months = np.arange(fx.MONTHS)
    slope = np.polyfit(months, np.log(growing), 1)[0]
    flat = np.polyfit(months, np.log(others), 1)[0]
    assert abs(flat) < 0.015
    assert abs((slope - flat) - math.log1p(fx.GROWTH_PER_MONTH)) < 0.02


def test_q4_commit_forecasts_overshoot_by_about_fifteen_percent(sql):
    rows = sql(
        """WITH won AS (SELECT owner, CAST(date_trunc('month', closed_at) AS DATE) m,
                            sum(amount) amount FROM opportunities WHERE outcome = 'won'
                        GROUP BY 1, 2)
        SELECT month(f.period_start) IN (10, 11, 12), sum(f.amount) / sum(coalesce(w.amount, 0))
        FROM forecasts f LEFT JOIN won w ON w.owner = f.owner AND w.m = f.period_start
        WHERE f.category = 'commit' GROUP BY 1"""
    )
    ratio = dict(rows)
    assert ratio[True] > 1.1
    assert abs(ratio[True] - (1 + fx.Q4_COMMIT_BIAS)) < 0.04
    assert abs(ratio[False] - 1.0) < 0.03


def test_small_orders_raise_most_requests(sql):
    small = f"CASE WHEN o.amount < {fx.SMALL_ORDER_AMOUNT} THEN 1.0 ELSE 0.0 END"
    won_share = sql(f"SELECT avg({small}) FROM opportunities o WHERE outcome = 'won'")[0][0]
    request_share = sql(
        f"""SELECT avg({small}) FROM requests r JOIN opportunities o USING (opportunity_id)
        WHERE o.outcome = 'won'"""
    )[0][0]
    assert 0.3 < won_share < 0.5
    assert request_share > 0.6
    # Requests per won deal, small over large, is the injected multiplier.
    odds = (request_share / (1 - request_share)) / (won_share / (1 - won_share))
    assert abs(odds - fx.SMALL_ORDER_REQUEST_MULTIPLIER) < 0.6
