"""Slippage measures from the deal history, against answers worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

OPPS = """opportunity_id,created_at,closed_at,outcome,owner,amount
A,2025-01-05,2025-03-20,won,Ann,1000
B,2025-01-10,2025-03-05,lost,Bob,500
C,2025-02-01,2025-04-10,won,Ann,700
D,2025-02-15,,open,Bob,900
"""
# A: promised 2025-02-28, pushed twice (to 03-31, then 04-30), won 03-20 -> 2 pushes, +20 days
# B: promised 2025-03-31, pulled in to 03-15 (not a push), lost 03-05 -> 0 pushes, -26 days
# C: no date at first, promised 2025-03-31, pushed once (04-15), won 04-10 -> 1 push, +10 days
# D: open, pushed once: not counted (not closed)
HISTORY = """opportunity_id,changed_at,stage,amount,close_date,forecast_category
A,2025-01-05,Lead,1000,2025-02-28,pipeline
A,2025-02-25,Lead,1000,2025-03-31,commit
A,2025-03-01,Proposal,1000,2025-03-31,commit
A,2025-03-18,Proposal,1200,2025-04-30,commit
A,2025-03-20,Won,1200,2025-03-20,closed
B,2025-01-10,Lead,500,2025-03-31,best_case
B,2025-02-01,Lead,500,2025-03-15,commit
B,2025-03-05,Lost,500,2025-03-05,closed
C,2025-02-01,Lead,700,,pipeline
C,2025-02-10,Lead,700,2025-03-31,best_case
C,2025-03-28,Proposal,700,2025-04-15,commit
C,2025-04-10,Won,700,2025-04-10,closed
D,2025-02-15,Lead,900,2025-03-31,commit
D,2025-03-25,Lead,900,2025-05-31,pipeline
"""
# Expected to close in a period at its first moment (last row *before* it; A's 03-01 row is not
# before March): Feb A · Mar A, B, C, D · Apr C · May D. At each period's end: Feb A pushed to
# March · Mar A won, B lost, C and D pushed beyond · Apr C won · May D still open, its date left
# behind in May (slipped, not pushed beyond).
# Commit at the start: Mar A, B, D (A won) · Apr C (won). Best case: Mar C (not won).
# Pipeline at the start: Feb 1000 · Mar 1000+500+700+900 = 3100 · Apr 700 · May 900.
TARGETS = "\n[targets]\nmonth = 2000\n"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    import salesflow as sf
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace, init_workspace

    folder = tmp_path_factory.mktemp("slippage")
    init_workspace(folder / "ws").close()
    core = Workspace.open(folder / "ws")
    for table, text in (("opportunities", OPPS), ("opportunity_history", HISTORY)):
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
        import_file(core, table, folder / f"{table}.csv")
    core.close()
    with (folder / "ws" / "salesflow.toml").open("a", encoding="utf-8") as config:
        config.write(TARGETS)
    with sf.open(folder / "ws", as_of="2025-06-01") as workspace:
        yield workspace


def points(ws, metric: str, **kwargs) -> dict[str, tuple]:
    doc = ws.metric(metric, period="month", chart="none", **kwargs).to_dict()
    return {p["period"][:7]: (p["value"], p["n"]) for p in doc["points"] if p["n"]}


def test_pushes_per_deal(ws):
    assert points(ws, "pushes_per_deal") == {"2025-03": (1.0, 2), "2025-04": (1.0, 1)}


def test_close_date_accuracy(ws):
    # March: A +20 and B -26 days -> median -3; April: C +10
    got = points(ws, "close_date_accuracy")
    assert got == {"2025-03": (pytest.approx(-3.0), 2), "2025-04": (pytest.approx(10.0), 1)}


def test_close_date_slip_rate(ws):
    doc = ws.metric("close_date_slip_rate", period="month", chart="none").to_dict()
    got = {p["period"][:7]: (p["numerator"], p["denominator"], p["pushed_beyond"])
           for p in doc["points"] if p["n"]}  # fmt: skip
    assert got == {
        "2025-02": (1, 1, 1),
        "2025-03": (2, 4, 2),
        "2025-04": (0, 1, 0),
        "2025-05": (1, 1, 0),
    }
    # as-of is 1 June, 00:00: May is over and judged (D's date was left behind in it)
    assert {p["status"] for p in doc["points"]} == {"complete"}
    # by owner, the months over at the data's last moment (10 April) pooled: Ann's A slipped in
    # February and was won in March, her C slipped in March; Bob's B was lost, his D slipped
    groups = ws.metric("close_date_slip_rate", by="owner").to_dict()["groups"]
    assert {g["owner"]: (g["numerator"], g["denominator"]) for g in groups} == {
        "Ann": (2, 3),
        "Bob": (1, 2),
    }


def test_the_running_period_counts_only_what_has_slipped_by_as_of(ws):
    import salesflow as sf

    # at 26 March: A won, B lost, D already pushed to May; C still expected in March (its push on
    # the 28th is after as-of) -> 1 of 4, marked running, never judged
    with sf.open(ws.path, as_of="2025-03-26") as early:
        doc = early.metric("close_date_slip_rate", period="month", chart="none").to_dict()
    march = doc["points"][-1]
    assert march["period"] == "2025-03-01" and march["status"] == "running"
    assert (march["numerator"], march["denominator"], march["value"]) == (1, 4, 0.25)
    assert [(p["period"], p["status"]) for p in doc["points"][:-1]] == [("2025-02-01", "complete")]


def test_commit_accuracy(ws):
    assert points(ws, "commit_accuracy") == {
        "2025-03": (pytest.approx(1 / 3), 3),
        "2025-04": (1.0, 1),
    }
    assert points(ws, "commit_accuracy", params={"category": "best_case"}) == {"2025-03": (0.0, 1)}


def test_pipeline_coverage(ws):
    assert points(ws, "pipeline_coverage") == {
        "2025-02": (0.5, 1),
        "2025-03": (1.55, 4),
        "2025-04": (0.35, 1),
        "2025-05": (0.45, 1),
    }
    # by owner over the window's months that are over at as-of (the data's last moment, 10
    # April: January to March): Ann's A in February and March and C in March, Bob's B and D
    groups = ws.metric("pipeline_coverage", by="owner").to_dict()["groups"]
    got = {g["owner"]: (g["value"], g["pipeline"], g["target"]) for g in groups}
    assert got == {"Ann": (2700 / 6000, 2700, 6000), "Bob": (1400 / 6000, 1400, 6000)}


def test_pipeline_coverage_without_a_target_is_an_error_not_a_zero(ws):
    from dataclasses import replace

    from salesflow import metrics
    from salesflow.errors import ConfigError

    bare = replace(ws.settings, raw={})
    with pytest.raises(ConfigError, match=r"needs a target for each month") as info:
        metrics.series(ws.core.data, bare, "pipeline_coverage")
    assert "[targets] month = " in info.value.hint
    wrong = replace(ws.settings, raw={"targets": {"quarter": "lots"}})
    with pytest.raises(ConfigError, match=r"\[targets\] quarter = 'lots' is not an amount"):
        metrics.series(ws.core.data, wrong, "pipeline_coverage", period="quarter")


ENDS = ("Won", "Lost")


def _state(rows: list[dict], at: datetime) -> dict | None:
    """The deal's last history row before ``at`` (rows sorted by time)."""
    before = [r for r in rows if r["changed_at"] < at]
    return before[-1] if before else None


def _expected(data) -> dict:
    """{month: [(state at its start, state at its end)]} for the deals expected in the month
    at its start: open, expected close date in it."""
    import metrics_oracle as oracle

    by_deal: dict[str, list[dict]] = {}
    for r in sorted(data.opportunity_history, key=lambda r: r["changed_at"]):
        by_deal.setdefault(r["opportunity_id"], []).append(r)
    out: dict = {}
    for m in oracle.months(data):
        p0 = datetime.combine(m, datetime.min.time())
        p1 = datetime.combine(oracle.next_month(m), datetime.min.time())
        for rows in by_deal.values():
            s = _state(rows, p0)
            if s and s["stage"] not in ENDS and m <= s["close_date"] < p1.date():
                out.setdefault(m, []).append((s, _state(rows, p1)))
    return out


@pytest.mark.parametrize(
    ("metric", "keep", "hit"),
    [
        ("close_date_slip_rate", lambda s: True, lambda e: e["stage"] not in ENDS),
        ("commit_accuracy", lambda s: s["forecast_category"] == "commit", lambda e: e["stage"] == "Won"),
    ],
)  # fmt: skip
def test_period_measures_equal_a_loop_over_the_history(backend, data, metric, keep, hit):
    from salesflow import metrics

    con, settings = backend
    got = metrics.series(con, settings, metric)
    want = {}
    for m, deals in _expected(data).items():
        kept = [(s, e) for s, e in deals if keep(s)]
        if kept:
            want[m] = (sum(1 for _, e in kept if hit(e)), len(kept))
    complete = {p.period: (p.numerator, p.denominator) for p in got.points
                if p.n and p.status == "complete"}  # fmt: skip
    assert complete and complete == {m: v for m, v in want.items() if m in complete}
    assert set(want) - set(complete) <= {p.period for p in got.points if p.status == "running"}


def test_coverage_equals_a_loop_over_the_history(duck, data):
    from salesflow import metrics

    con, settings = duck
    target = settings.section("targets")["month"]
    want = {m: sum(s["amount"] for s, _ in deals) / target for m, deals in _expected(data).items()}
    got = metrics.series(con, settings, "pipeline_coverage")
    assert {p.period: p.value for p in got.points if p.n} == pytest.approx(want)
