"""Every built-in metric against an answer computed independently (metrics_oracle), on DuckDB and
on PostgreSQL: the same test body runs on both engines through the ``backend`` fixture."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import metrics_oracle as oracle
import pytest

from salesflow import metrics

APPROX = {"rel": 1e-9, "abs": 1e-9}


def by_period(series) -> dict:
    """The periods with rows; the empty periods filled in (value null, a note) are left out."""
    return {p.period: p for p in series.points if p.n or p.note is None}


def last_day(data) -> date:
    """The last day of the oracle's last month: snapshot series run on to as-of otherwise."""
    return oracle.next_month(max(oracle.months(data))) - timedelta(days=1)


def assert_counts(series, expected: dict) -> None:
    got = {p.period: p.value for p in series.points if p.value}
    assert got == {k: float(v) for k, v in expected.items() if v}
    assert all(p.n == p.value for p in series.points)


def assert_shares(points: dict, expected: dict) -> None:
    assert set(points) == set(expected)
    for key, (value, num, den) in expected.items():
        p = points[key]
        assert (p.numerator, p.denominator, p.n) == (num, den, den), key
        assert p.value == pytest.approx(value, **APPROX), key


def test_new_opportunities_and_throughput(backend, data):
    con, settings = backend
    new = metrics.series(con, settings, "new_opportunities")
    assert_counts(new, Counter(oracle.month(o["created_at"]) for o in data.opportunities))
    done = metrics.series(con, settings, "throughput")
    assert_counts(done, Counter(oracle.month(o["closed_at"]) for o in oracle.closed(data)))


def test_wip_aging_and_stalled_at_each_month_end(backend, data):
    con, settings = backend
    end = last_day(data)
    wip = metrics.series(con, settings, "wip", end=end)
    assert_counts(wip, oracle.snapshot_counts(data, lambda o, end: True))
    aging = metrics.series(con, settings, "aging_wip", params={"days": "45"}, end=end)
    old = oracle.snapshot_counts(data, lambda o, end: o["created_at"] < end - timedelta(days=45))
    assert_counts(aging, old)

    def is_stalled(o, end):
        since = end - timedelta(days=20)
        return o["created_at"] < since and not oracle.touched(data, o["opportunity_id"], since, end)

    stalled = metrics.series(con, settings, "stalled", params={"days": 20}, end=end)
    assert_counts(stalled, oracle.snapshot_counts(data, is_stalled))
    assert sum(stalled.values) > 0  # the data holds stalled deals, so the test can fail


def test_cycle_time_median_and_mean(backend, data):
    con, settings = backend
    got = by_period(metrics.series(con, settings, "cycle_time"))
    expected = oracle.median_mean(
        oracle.group(
            oracle.closed(data),
            lambda o: oracle.month(o["closed_at"]),
            lambda o: oracle.days(o["created_at"], o["closed_at"]),
        )
    )
    assert set(got) == set(expected)
    for m, (median, mean, n) in expected.items():
        assert got[m].value == pytest.approx(median, **APPROX)
        assert got[m].extra["mean"] == pytest.approx(mean, **APPROX)
        assert got[m].n == n


def test_stage_time_for_one_stage_and_by_stage(backend, data):
    con, settings = backend
    visits = oracle.stage_visits(data)
    proposal = [v for v in visits if v[1] == "Proposal"]
    expected = oracle.median_mean(
        oracle.group(proposal, lambda v: oracle.month(v[3]), lambda v: v[2])
    )
    got = by_period(metrics.series(con, settings, "stage_time", filters={"stage": "Proposal"}))
    assert {m: (p.value, p.n) for m, p in got.items()} == {
        m: (pytest.approx(med, **APPROX), n) for m, (med, _, n) in expected.items()
    }
    per_stage = metrics.breakdown(con, settings, "stage_time", by="stage")
    expected_stage = oracle.median_mean(oracle.group(visits, lambda v: v[1], lambda v: v[2]))
    assert [g.key for g in per_stage.groups] == [s for s in oracle.STAGES if s in expected_stage]
    for g in per_stage.groups:
        assert g.value == pytest.approx(expected_stage[g.key][0], **APPROX)
        assert g.n == expected_stage[g.key][2]


def test_velocity(backend, data):
    con, settings = backend
    new = Counter(oracle.month(o["created_at"]) for o in data.opportunities)
    acc = defaultdict(lambda: [0, 0, 0.0, 0.0])  # closed, won, won amount, won days
    for o in oracle.closed(data):
        a = acc[oracle.month(o["closed_at"])]
        a[0] += 1
        if o["outcome"] == "won":
            a[1] += 1
            a[2] += o["amount"]
            a[3] += oracle.days(o["created_at"], o["closed_at"])
    got = by_period(metrics.series(con, settings, "velocity"))
    checked = 0
    for m, (n_closed, won, amount, won_days) in acc.items():
        if won and won_days and new[m]:
            expected = new[m] * (won / n_closed) * (amount / won) / (won_days / won)
            assert got[m].value == pytest.approx(expected, rel=1e-9)
            checked += 1
    assert checked >= 6


def test_win_rate_by_month_and_by_owner(backend, data):
    con, settings = backend
    won = lambda o: o["outcome"] == "won"  # noqa: E731
    closed = oracle.closed(data)
    got = by_period(metrics.series(con, settings, "win_rate"))
    assert_shares(got, oracle.share_by(closed, lambda o: oracle.month(o["closed_at"]), won))
    owners = metrics.breakdown(con, settings, "win_rate", by="owner")
    assert_shares(
        {g.key: g for g in owners.groups}, oracle.share_by(closed, lambda o: o["owner"], won)
    )


def test_cohort_and_stage_conversion(backend, data):
    con, settings = backend
    got = by_period(metrics.series(con, settings, "cohort_conversion"))
    expected = oracle.share_by(
        data.opportunities, lambda o: oracle.month(o["created_at"]), lambda o: o["outcome"] == "won"
    )
    assert_shares(got, expected)
    quick = by_period(
        metrics.series(con, settings, "cohort_conversion", params={"within_days": 30})
    )
    month_ago = timedelta(days=30)
    expected = oracle.share_by(
        data.opportunities,
        lambda o: oracle.month(o["created_at"]),
        lambda o: o["outcome"] == "won" and o["closed_at"] <= o["created_at"] + month_ago,
    )
    assert_shares(quick, expected)
    assert sum(p.numerator for p in quick.values()) < sum(p.numerator for p in got.values())

    first_proposal, reached_won = {}, {}
    for e in data.stage_events:
        oid, at = e["opportunity_id"], e["entered_at"]
        if e["stage"] == "Proposal":
            first_proposal[oid] = min(at, first_proposal.get(oid, at))
        if e["stage"] == "Won":
            reached_won[oid] = at
    entrants = [(oid, at) for oid, at in first_proposal.items()]
    expected = oracle.share_by(
        entrants, lambda r: oracle.month(r[1]), lambda r: reached_won.get(r[0], r[1]) > r[1]
    )
    params = {"from": "Proposal", "to": "Won"}
    assert_shares(
        by_period(metrics.series(con, settings, "stage_conversion", params=params)), expected
    )


def test_rework_rate(backend, data):
    con, settings = backend
    reworked = oracle.rework(data)
    rows = [o for o in oracle.closed(data) if o["opportunity_id"] in reworked]
    expected = oracle.share_by(
        rows, lambda o: oracle.month(o["closed_at"]), lambda o: reworked[o["opportunity_id"]]
    )
    assert any(reworked.values())
    assert_shares(by_period(metrics.series(con, settings, "rework_rate")), expected)


@pytest.mark.parametrize("metric_id", ["forecast_error", "forecast_bias"])
def test_forecast_error_and_bias(backend, data, metric_id):
    con, settings = backend
    rows = oracle.forecast_rows(data)
    error = abs if metric_id == "forecast_error" else (lambda x: x)
    acc = defaultdict(lambda: [0.0, 0.0, 0, 0.0])
    for m, _owner, forecast, actual in rows:
        acc[m][0] += error(forecast - actual)
        acc[m][1] += actual
        acc[m][2] += 1
        acc[m][3] += forecast
    got = by_period(metrics.series(con, settings, metric_id))
    for m, (num, den, n, forecast) in acc.items():
        assert got[m].numerator == pytest.approx(num) and got[m].denominator == pytest.approx(den)
        assert got[m].n == n
        extra = dict(got[m].extra)
        assert extra.pop("submitted_at") == f"{m.isoformat()}T00:00:00"  # the on-time one
        assert extra == pytest.approx(
            {"forecast": forecast, "actual": den, "error": forecast - den}
        )
        assert got[m].value == (pytest.approx(num / den) if den else None)
    owners = metrics.breakdown(con, settings, metric_id, by="owner")
    ann = [(f, a) for _, owner, f, a in rows if owner == "Ann"]
    expected = sum(error(f - a) for f, a in ann) / sum(a for _, a in ann)
    assert owners.get("Ann").value == pytest.approx(expected)
    assert owners.get("Ann").n == 12


def test_requests(backend, data):
    con, settings = backend
    volume = metrics.breakdown(con, settings, "request_volume", by="category")
    assert {g.key: g.value for g in volume.groups} == Counter(r["category"] for r in data.requests)
    answered = [r for r in data.requests if r["first_response_at"]]
    hours = oracle.group(
        answered,
        lambda r: oracle.month(r["received_at"]),
        lambda r: oracle.days(r["received_at"], r["first_response_at"]) * 24,
    )
    got = by_period(metrics.series(con, settings, "first_response_time"))
    assert {m: p.value for m, p in got.items()} == {
        m: pytest.approx(statistics.median(v)) for m, v in hours.items()
    }
    linked = Counter(r["opportunity_id"] for r in data.requests if r["opportunity_id"])
    won = [o for o in oracle.closed(data) if o["outcome"] == "won"]
    per_segment = defaultdict(lambda: [0, 0])
    for o in won:
        per_segment[o["segment"]][0] += linked[o["opportunity_id"]]
        per_segment[o["segment"]][1] += 1
    got = metrics.breakdown(con, settings, "requests_per_order", by="segment")
    assert_shares(
        {g.key: g for g in got.groups}, oracle.ratio({k: tuple(v) for k, v in per_segment.items()})
    )


def test_waste(backend, data):
    con, settings = backend
    deals = {o["opportunity_id"]: o for o in oracle.closed(data)}
    acts = [a for a in data.activities if a["opportunity_id"] in deals]
    expected = oracle.share_by(
        acts,
        lambda a: oracle.month(deals[a["opportunity_id"]]["closed_at"]),
        lambda a: deals[a["opportunity_id"]]["outcome"] == "lost",
    )
    assert_shares(by_period(metrics.series(con, settings, "effort_on_lost")), expected)

    furthest = defaultdict(lambda: -1)
    for e in data.stage_events:
        if e["stage"] in oracle.STAGES[:5]:
            rank = oracle.STAGES.index(e["stage"])
            furthest[e["opportunity_id"]] = max(furthest[e["opportunity_id"]], rank)
    lost = [o for o in deals.values() if o["outcome"] == "lost"]
    expected = oracle.share_by(
        lost,
        lambda o: o["owner"],
        lambda o: furthest[o["opportunity_id"]] >= 3,  # Proposal
    )
    got = metrics.breakdown(con, settings, "late_stage_losses", by="owner")
    assert_shares({g.key: g for g in got.groups}, expected)


def test_breakdowns_cover_the_window_and_snapshots_its_end(backend, data):
    con, settings = backend
    start, end = date(2024, 4, 1), date(2024, 6, 30)
    wip = metrics.breakdown(con, settings, "wip", by="owner", start=start, end=end)
    still_open = oracle.open_at(data, datetime(2024, 7, 1))
    assert {g.key: g.value for g in wip.groups} == Counter(o["owner"] for o in still_open)
    new = metrics.breakdown(con, settings, "new_opportunities", by="segment", start=start, end=end)
    inside = [
        o
        for o in data.opportunities
        if datetime(2024, 4, 1) <= o["created_at"] < datetime(2024, 7, 1)
    ]
    assert {g.key: g.n for g in new.groups} == Counter(o["segment"] for o in inside)
