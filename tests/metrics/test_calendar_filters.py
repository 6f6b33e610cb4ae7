"""Period bucketing on the workspace calendar, filters on any column, and the errors users see."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

import metrics_oracle as oracle
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from salesflow import metrics
from salesflow.errors import ConfigError, NotFoundError
from salesflow.metrics.calendar import bucket, period_start
from salesflow.settings import WEEKDAYS


def week_of(ts: datetime, first_weekday: int) -> date:
    """Independent rule: step back to the most recent day whose weekday is the week's first."""
    d = ts.date()
    while d.weekday() != first_weekday:
        d -= timedelta(days=1)
    return d


@pytest.mark.parametrize("week_start", ["monday", "sunday"])
def test_weekly_buckets_follow_the_week_start(duck, data, week_start):
    con, settings = duck
    first = WEEKDAYS.index(week_start)
    got = metrics.series(
        con, replace(settings, week_start=week_start), "new_opportunities", period="week"
    )
    expected = Counter(week_of(o["created_at"], first) for o in data.opportunities)
    assert {p.period: p.value for p in got.points if p.value} == expected
    assert all(p.period.weekday() == first for p in got.points)
    gaps = [p for p in got.points if p.value == 0]
    assert gaps and all(p.n == 0 for p in gaps)  # weeks without deals are zeros, not missing


def test_quarters(duck, data):
    con, settings = duck
    got = metrics.series(con, settings, "throughput", period="quarter")
    assert got.points[-1].value == 0.0  # the quarter holding as-of closed nothing yet: a zero
    got = replace(got, points=got.points[:-1])
    expected = Counter(
        date(o["closed_at"].year, 3 * ((o["closed_at"].month - 1) // 3) + 1, 1)
        for o in oracle.closed(data)
    )
    assert {p.period: p.value for p in got.points} == expected


@hsettings(max_examples=25, deadline=None)
@given(
    st.lists(st.datetimes(datetime(2001, 1, 1), datetime(2035, 12, 31)), min_size=1, max_size=40),
    st.sampled_from(WEEKDAYS),
    st.sampled_from(["week", "month", "quarter"]),
)
def test_engine_and_python_calendars_agree(stamps, week_start, period):
    import ibis

    t = ibis.memtable({"ts": stamps}, schema={"ts": "timestamp"})
    expr = t.mutate(p=bucket(t.ts, period, week_start=week_start))
    got = ibis.duckdb.connect().execute(expr)
    for ts, p in zip(got["ts"], got["p"], strict=True):
        assert p.date() == period_start(ts.to_pydatetime(), period, week_start=week_start)


def test_window_from_to(duck, data):
    con, settings = duck
    got = metrics.series(
        con, settings, "new_opportunities", start=date(2024, 3, 10), end=date(2024, 5, 20)
    )
    expected = Counter(
        oracle.month(o["created_at"])
        for o in data.opportunities
        if datetime(2024, 3, 10) <= o["created_at"] < datetime(2024, 5, 21)
    )
    assert {p.period: p.value for p in got.points} == expected


def test_filters_on_attributes_numbers_and_repeated_values(backend, data):
    con, settings = backend
    closed = oracle.closed(data)
    cases = [
        ({"industry": "retail"}, lambda o: o["industry"] == "retail"),
        ({"employees": "250"}, lambda o: o["employees"] == 250),
        ({"owner": ["Ann", "Cem"]}, lambda o: o["owner"] in ("Ann", "Cem")),
        (
            {"segment": "SMB", "industry": "energy"},
            lambda o: o["segment"] == "SMB" and o["industry"] == "energy",
        ),
    ]
    for filters, keep in cases:
        got = metrics.breakdown(con, settings, "win_rate", by="owner", filters=filters)
        expected = oracle.share_by(
            [o for o in closed if keep(o)], lambda o: o["owner"], lambda o: o["outcome"] == "won"
        )
        assert {g.key: (g.numerator, g.denominator) for g in got.groups} == {
            k: (num, den) for k, (_, num, den) in expected.items()
        }, filters


def test_filters_reach_the_deal_from_activities_and_stage_events(backend, data):
    con, settings = backend
    deals = {o["opportunity_id"]: o for o in oracle.closed(data)}
    acts = [a for a in data.activities if a["opportunity_id"] in deals]
    smb = [a for a in acts if deals[a["opportunity_id"]]["segment"] == "SMB"]
    got = metrics.breakdown(con, settings, "effort_on_lost", by="type", filters={"segment": "SMB"})
    expected = oracle.share_by(
        smb, lambda a: a["type"], lambda a: deals[a["opportunity_id"]]["outcome"] == "lost"
    )
    assert {g.key: g.numerator for g in got.groups} == {k: v[1] for k, v in expected.items()}
    # an activity's own owner wins over the deal's owner
    by_own = metrics.breakdown(con, settings, "effort_on_lost", by="owner")
    assert {g.key: g.denominator for g in by_own.groups} == Counter(a["owner"] for a in acts)


def test_errors_name_what_and_how_to_fix(duck):
    con, settings = duck
    with pytest.raises(NotFoundError, match=r"No metric called 'win_rat'.*win_rate"):
        metrics.series(con, settings, "win_rat")
    with pytest.raises(NotFoundError, match=r"no column 'colour'.*Valid columns:.*industry.*owner"):
        metrics.series(con, settings, "win_rate", filters={"colour": "red"})
    with pytest.raises(NotFoundError, match=r"no column 'colour'"):
        metrics.breakdown(con, settings, "request_volume", by="colour")
    with pytest.raises(NotFoundError, match=r"no parameter 'day'.*days"):
        metrics.series(con, settings, "aging_wip", params={"day": 3})
    with pytest.raises(ConfigError, match=r"must be a whole number"):
        metrics.series(con, settings, "aging_wip", params={"days": "ten"})
    with pytest.raises(ConfigError, match=r"needs a stage.*--filter stage=NAME"):
        metrics.series(con, settings, "stage_time")
    with pytest.raises(ConfigError, match=r"'Pricing' is not a configured stage.*Proposal"):
        metrics.series(con, settings, "stage_conversion", params={"from": "Pricing"})
    with pytest.raises(ConfigError, match=r"Unknown period 'year'"):
        metrics.series(con, settings, "win_rate", period="year")
    with pytest.raises(ConfigError, match=r"employees holds"):
        metrics.series(con, settings, "win_rate", filters={"employees": "many"})
