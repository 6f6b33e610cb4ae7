"""The workbench service on the demo company, with its knowledge in SQLite and in PostgreSQL.

Known answers come from the demo's injected effects (salesflow.demo.effects) and from the data
read with plain SQL, never from the code under test.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wb_helpers import pg_schema_url, use_app_url

from salesflow.demo import effects

UDR = {"slow": 1, "emea": 2, "contracts": 3, "forecast": 4, "small": 5, "slip": 14}
CAUSE = {"queue": 6, "nobody": 7, "standard": 12, "emea_price": 13}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ws_path(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Path]:
    """The seeded demo: knowledge in its SQLite file, or in a PostgreSQL schema."""
    if request.param == "sqlite":
        yield request.getfixturevalue("seeded")
        return
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("wbpg") / "ws"
    shutil.copytree(request.getfixturevalue("demo_data"), path)
    for url in pg_schema_url(request.getfixturevalue("pg_shared_url")):
        use_app_url(path, url)
        seed_demo_knowledge(path)
        yield path


@pytest.fixture(scope="module")
def bench(ws_path: Path):
    from salesflow.workbench.service import Workbench

    with Workbench.open(ws_path, who="tester") as opened:
        yield opened


@pytest.fixture(scope="module")
def sql(bench):
    """Plain SQL on the demo's DuckDB file (through the one connection DuckDB allows)."""
    con = bench.workspace.data.con
    return lambda query: con.execute(query).fetchall()


def test_demo_udr_verdicts(bench):
    verdicts = {d["id"]: d["verdict"]["verdict"] for d in bench.list_udrs()}
    assert verdicts == {
        UDR["slow"]: "confirmed",
        UDR["emea"]: "contradicted",
        UDR["contracts"]: "confirmed",
        UDR["forecast"]: "confirmed",
        UDR["small"]: "confirmed",
        UDR["slip"]: "confirmed",
    }


def test_slow_response_verdict_matches_plain_sql(bench, sql):
    """The last 3 complete quarters' win rate for first response > 48 h, computed by hand."""
    doc = bench.show_udr(UDR["slow"])
    verdict = doc["verdict"]
    assert verdict["rule"] == "threshold" and verdict["values"]["threshold"] == 0.40
    rows = sql(
        f"""select date_trunc('quarter', closed_at)::date q,
                   avg(case when outcome = 'won' then 1.0 else 0.0 end)
            from opportunities
            where outcome in ('won', 'lost') and first_response_hours > {effects.SLOW_RESPONSE_HOURS}
            group by q order by q"""
    )
    last3 = rows[-3:]
    assert [v["period"] for v in verdict["values"]["recent"]] == [str(q) for q, _ in last3]
    expected = statistics.median(r for _, r in last3)
    assert verdict["values"]["median"] == pytest.approx(expected)
    assert f"{expected * 100:.0f} %" in verdict["sentence"]
    assert "below your threshold of 40 %" in verdict["sentence"]
    assert verdict["chart"]["chart"]["type"] in ("p", "laney-p")  # the evidence carries the chart
    assert len(verdict["chart"]["points"]) == len(rows)


def test_fast_responders_win_more_so_the_threshold_sits_between(sql):
    """The demo's ground truth behind the UDR: slow first response costs about 12 points."""
    ((slow, fast),) = sql(
        f"""select avg(case when outcome='won' then 1.0 else 0 end)
                     filter (where first_response_hours > {effects.SLOW_RESPONSE_HOURS}),
                   avg(case when outcome='won' then 1.0 else 0 end)
                     filter (where first_response_hours <= {effects.SLOW_RESPONSE_HOURS})
            from opportunities where outcome in ('won', 'lost')"""
    )
    assert slow < 0.40 < fast
    assert fast - slow == pytest.approx(-effects.SLOW_RESPONSE_WIN_PP, abs=0.04)


def test_emea_win_rate_is_contradicted_with_numbers(bench, sql):
    verdict = bench.show_udr(UDR["emea"])["verdict"]
    rows = sql(
        """select date_trunc('quarter', closed_at)::date q,
                  avg(case when outcome = 'won' then 1.0 else 0.0 end)
           from opportunities where outcome in ('won', 'lost') and region = 'EMEA'
           group by q order by q"""
    )
    median = statistics.median(r for _, r in rows[-3:])
    assert median > 0.35
    assert verdict["values"]["median"] == pytest.approx(median)
    assert verdict["signals"] == [] and "not below your threshold of 35 %" in verdict["sentence"]


def test_demo_improvement_verdicts(bench):
    verdicts = {d["title"]: d["verdict"]["verdict"] for d in bench.list_improvements()}
    assert verdicts == {
        "Proposal fast-track": "improved",
        "Discovery call checklist": "no_signal",
        "Lead routing within the hour": "not_measured",
    }


def test_proposal_improvement_evidence(bench):
    doc = bench.show_improvement(1)
    v = doc["verdict"]
    values = v["values"]
    assert values["desired"] == "down" and values["periods_after"] == 12
    # The injected effect: Proposal time x 0.70 from 2025-10-01 (medians of monthly medians).
    assert values["after_median"] / values["before_median"] == pytest.approx(
        effects.PROPOSAL_TIME_FACTOR, abs=0.1
    )
    assert v["signals"] and all(s["direction"] == "down" for s in v["signals"])
    assert all(s["period"] >= "2025-10-01" for s in v["signals"])
    chart = v["chart"]["chart"]
    baseline = chart["phases"][0]["basis"]
    labels = [p["period"] for p in v["chart"]["points"]]
    assert labels[baseline[0]] == "2024-10-01" and labels[baseline[1] - 1] == "2025-09-01"
    assert len(doc["checkins"]) == 3 and all(c["measure_value"] for c in doc["checkins"])


def test_checkin_records_the_win_rate_of_the_last_complete_month(bench, sql):
    asked = datetime(2026, 6, 15, 10, tzinfo=UTC)
    doc = bench.checkin(2, asked_by="Maria", answered_by="Ana", objective="o", method="m",
                        measure="win rate", asked_at=asked)  # fmt: skip
    ((expected,),) = sql(
        """select avg(case when outcome = 'won' then 1.0 else 0.0 end) from opportunities
           where outcome in ('won', 'lost') and closed_at >= '2026-05-01' and closed_at < '2026-06-01'"""
    )
    assert doc["measure_period"] == "2026-05-01"
    assert doc["measure_value"] == pytest.approx(expected)
    stored = next(c for c in bench.store.checkins.list(2) if c.id == doc["id"])
    assert (stored.asked_by, stored.answered_by, stored.measure_value) == (
        "Maria",
        "Ana",
        doc["measure_value"],
    )


def _reaches_by_hand(nodes: dict, links: list) -> dict:
    """Plain depth-first search over "effect because of cause": UDRs each node leads to."""
    effects_of: dict = {}
    for link in links:
        effects_of.setdefault(link["cause"], []).append(link["effect"])
    out = {}
    for node in nodes:
        seen, stack = {node}, [node]
        while stack:
            for nxt in effects_of.get(stack.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        out[node] = sorted(n for n in seen if nodes[n] == "udr")
    return out


def test_causes_ranking_matches_an_independent_computation(bench):
    doc = bench.causes()
    against = {
        r.id for r in bench.store.udrs.list() if bench.udr_verdict(r).verdict == "contradicted"
    }
    assert doc["contradicted"] == sorted(against)
    # a contradicted UDR is not happening: it counts toward no cause's share
    kinds = {n["id"]: "contradicted" if n["id"] in against else n["kind"] for n in doc["nodes"]}
    reaches = _reaches_by_hand(kinds, doc["links"])
    n_udrs = sum(1 for k in kinds.values() if k == "udr")
    has_cause = {link["effect"] for link in doc["links"]}
    has_effect = {link["cause"] for link in doc["links"]}
    for node in doc["nodes"]:
        assert node["reaches"] == reaches[node["id"]]
        assert node["share"] == pytest.approx(len(reaches[node["id"]]) / n_udrs)
        assert node["root"] == (node["id"] not in has_cause and node["id"] in has_effect)
        assert node["core"] == (node["share"] >= 0.7)
    core = [n["id"] for n in doc["nodes"] if n["core"]]
    assert core == [CAUSE["standard"]] and doc["nodes"][0]["id"] == CAUSE["standard"]
    assert {"effect", "cause", "group"} <= set(doc["links"][0])


def test_link_checks_are_stored_and_shown(bench):
    causes = bench.show_udr(UDR["slow"])["causes"]
    check = next(c["check"] for c in causes if c["cause"] == CAUSE["queue"])
    assert check["verdict"] == "supports" and check["variable"] == "first_response_over_48h"
    low, high = check["effect"]["ci_low"], check["effect"]["ci_high"]
    assert low <= effects.SLOW_RESPONSE_WIN_PP * 100 <= high  # points, ground truth -12
    region = next(x["check"] for x in bench.causes()["links"] if x["cause"] == CAUSE["emea_price"])
    assert region["verdict"] == "inconclusive"  # region has no effect by design


def test_changes_soft_delete_and_history(private_ws):
    """Cycle refusal with its path, stale edits, soft delete and restore, history."""
    from salesflow.appdb import CURRENT, StaleEditError
    from salesflow.workbench.causes import CauseCycleError
    from salesflow.workbench.service import Workbench

    path = private_ws
    with Workbench.open(path, who="ann") as wb:
        with pytest.raises(CauseCycleError) as refused:
            wb.link(CAUSE["standard"], UDR["slow"])
        assert refused.value.cycle == [UDR["slow"], CAUSE["queue"], CAUSE["standard"]]
        assert wb.link(CAUSE["standard"], UDR["slow"], loop=True)["loop"] is True
        udr = wb.add_udr("Win rate was 24% in Q3 2026, against 30% planned")["udr"]
        wb.edit_udr(udr["id"], expected_version=udr["version"], owner="bob")
        with pytest.raises(StaleEditError):
            wb.edit_udr(udr["id"], expected_version=udr["version"], owner="eve")
        wb.delete("udr", UDR["emea"], expected_version=CURRENT)
        assert UDR["emea"] not in {d["id"] for d in wb.list_udrs(verdicts=False)}
        assert all(x["effect"] != UDR["emea"] for x in wb.causes()["links"])
        wb.restore("udr", UDR["emea"])
        assert any(x["effect"] == UDR["emea"] for x in wb.causes()["links"])
        actions = [(h["action"], h["who"]) for h in wb.history("udr", UDR["emea"])]
        assert actions == [
            ("create", "demo"),
            ("update", "demo"),
            ("delete", "ann"),
            ("restore", "ann"),
        ]


def test_slip_rate_verdict_matches_plain_sql(bench, sql):
    """The last 3 complete months' close-date slip rate, computed by hand from the history: the
    deals open at a month's start with their expected close in it, and the share of them still
    open at its end."""
    doc = bench.show_udr(UDR["slip"])
    verdict = doc["verdict"]
    assert verdict["verdict"] == "confirmed" and verdict["values"]["threshold"] == 0.10
    stages = bench.workspace.settings.stages
    closed = ", ".join(f"'{s}'" for s in (*stages.won, *stages.lost))
    rows = sql(
        f"""with months as (
                select m::date m0, (m + interval 1 month)::date m1
                from range(date '{effects.DATA_START}', date '{effects.DATA_END}',
                           interval 1 month) t(m)),
            at_start as (
                select m0, m1, opportunity_id, arg_max(stage, changed_at) stage,
                       arg_max(close_date, changed_at) close_date
                from months join opportunity_history on changed_at < m0 group by all),
            at_end as (
                select m0, opportunity_id, arg_max(stage, changed_at) stage
                from months join opportunity_history on changed_at < m1 group by all)
            select s.m0, avg(case when e.stage not in ({closed}) then 1.0 else 0.0 end)
            from at_start s join at_end e using (m0, opportunity_id)
            where s.stage not in ({closed}) and s.close_date >= s.m0 and s.close_date < s.m1
            group by s.m0 order by s.m0"""
    )
    last3 = rows[-3:]
    assert [v["period"] for v in verdict["values"]["recent"]] == [str(m) for m, _ in last3]
    assert verdict["values"]["median"] == pytest.approx(statistics.median(r for _, r in last3))
    assert verdict["values"]["median"] > 0.10
