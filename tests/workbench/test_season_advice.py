"""A UDR or improvement on a seasonal measure suggests the season-aware binding."""

from __future__ import annotations

from datetime import date

from test_verdict import NOISE, binding, counts, months

from salesflow.metrics.charted import chart_series
from salesflow.metrics.results import Point, Series
from salesflow.workbench.verdict import judge_improvement, judge_udr, with_season_advice

TWO_YEARS = [*NOISE, 11, 9, 12, 10, 8, 11, 13, 10, 9, 12, 11, 10]  # no year repeats the other
QUARTER_END = [
    v + (8 if d.month % 3 == 0 else 0) for v, d in zip(TWO_YEARS, months(24), strict=True)
]


def series(values: list[float]) -> Series:
    return counts(values)


def test_a_quarter_end_measure_suggests_binding_to_quarter_end_months():
    charted = chart_series(series(QUARTER_END), None)
    assert charted.seasonality is not None
    found = with_season_advice(judge_udr(charted, binding(), title="New deals"), charted, binding())
    advice = found.values["seasonality"]
    assert (
        advice["pattern"] == "month_of_quarter" and advice["suggested_season"] == "Mar,Jun,Sep,Dec"
    )
    assert advice["effect"] > 7
    assert found.sentence.endswith(
        "bind the measure to the season Mar,Jun,Sep,Dec (--season Mar,Jun,Sep,Dec)."
    )
    assert "is higher in the last month of each quarter: +" in found.sentence
    # quarter-ends are expected, not signals, once the limits allow for the pattern
    assert charted.result is not None and not charted.result.signals


def test_the_same_advice_on_an_improvement_and_none_once_bound_to_a_season():
    charted = chart_series(
        series(QUARTER_END), None, baseline=(date(2024, 1, 1), date(2024, 12, 31))
    )
    measure = {**binding(), "season": None}
    verdict = judge_improvement(charted, measure, title="New deals", start=date(2025, 1, 1))
    advised = with_season_advice(verdict, charted, measure)
    assert advised.values["seasonality"]["suggested_season"] == "Mar,Jun,Sep,Dec"
    bound = with_season_advice(verdict, charted, {**measure, "season": "Mar,Jun,Sep,Dec"})
    assert bound.values["seasonality"] is None and bound.sentence == verdict.sentence


def test_no_pattern_no_advice():
    charted = chart_series(series(TWO_YEARS), None)
    found = with_season_advice(judge_udr(charted, binding(), title="New deals"), charted, binding())
    assert charted.seasonality is None and found.values["seasonality"] is None
    assert "season" not in found.sentence


def test_a_ramp_up_is_drawn_but_left_out_of_the_limits():
    values = [1, 2, *NOISE]
    days = months(len(values))
    points = [Point(d, float(v), int(v)) for d, v in zip(days, values, strict=True)]
    charted = chart_series(Series("new_opportunities", "month", "opportunities", "count", points))
    assert charted.ramp_up is not None and charted.ramp_up.periods == 2
    assert charted.ramp_up.until == days[2]
    result = charted.result
    assert result is not None and result.phases[0].center == sum(NOISE) / len(NOISE)
    assert not [s for s in result.signals if s.index < 2]  # the low start is not a "signal"
    assert charted.to_dict()["chart"]["ramp_up"]["until"] == days[2].isoformat()
