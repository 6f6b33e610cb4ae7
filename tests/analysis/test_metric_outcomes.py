"""Catalog metrics as driver outcomes: effects injected per deal are recovered (see
synthetic_company.py for the truth), non-per-deal metrics are refused, leakage is flagged."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from salesflow.analysis import analyse, drivers, link_verdict, prepare_outcome, variable_effect
from salesflow.analysis.features import feature_frame
from salesflow.cli import analysis_cmds
from salesflow.cli.common import new_app
from salesflow.workspace import Workspace

from .synthetic_company import ENTERPRISE_FACTOR, REWORK_EFFECT, SLOW_EFFECT, STAGES

ORDER = {s: i for i, s in enumerate((*STAGES, "Won", "Lost"))}
CUSTOM = """
[metrics.big_deal_win_rate]
title = "Win rate on deals over 20k"
table = "opportunities"
time = "closed_at"
filter = { outcome = ["won", "lost"], amount = { ">=" = 20000 } }
measure = "ratio"
numerator = { outcome = "won" }

[metrics.mean_list_price]
table = "opportunities"
measure = "mean"
column = "list_price"
unit = "currency"
"""


@pytest.fixture(scope="module")
def ws(synthetic):
    with Workspace.open(synthetic.path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def custom(synthetic, tmp_path_factory):
    """A copy of the synthetic company with two custom metrics declared."""
    path = tmp_path_factory.mktemp("custom") / "ws"
    shutil.copytree(synthetic.path, path)
    config = path / "salesflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + CUSTOM, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(ws):
    return feature_frame(ws.data, ws.settings)


@pytest.fixture(scope="module")
def run(ws, data):
    """``drivers`` on the module's feature table, built once."""

    def fit(outcome, variables, **options):
        frame, cat = data
        frame, spec = prepare_outcome(ws, frame, outcome, **options)
        return analyse(frame, spec, [cat.get(v) for v in variables])

    return fit


def _one(result, variable, level=None):
    return next(e for e in result.effects if e.variable == variable and e.level == level)


def _reworked(path) -> dict[str, int]:
    """Independent truth: closed deals that entered a stage earlier in the order than the last."""
    con = duckdb.connect(str(path / "data.duckdb"), read_only=True)
    events = con.execute("SELECT opportunity_id, stage, entered_at FROM stage_events").df()
    closed = set(
        con.execute("SELECT opportunity_id FROM opportunities WHERE outcome <> 'open'").df()[
            "opportunity_id"
        ]
    )
    con.close()
    events["rank"] = events["stage"].map(ORDER)
    events = events.sort_values(["opportunity_id", "entered_at", "rank"])
    back = events.groupby("opportunity_id")["rank"].diff() < 0
    flags = back.groupby(events["opportunity_id"]).any()
    return {k: int(v) for k, v in flags.items() if k in closed}


@pytest.mark.slow
def test_rework_rate_recovers_the_injected_risk_difference(run, synthetic):
    result = run("rework_rate", ["product", "region"])
    truth = _reworked(synthetic.path)
    assert result.n == len(truth) and result.model.startswith("logistic")
    effect = next(e for e in result.effects if e.variable == "product")
    sign = 1 if effect.level == "Plus" else -1  # the reference is the more common product
    assert sign * effect.effect > 0 and effect.significant and effect.unit == "points"
    assert effect.ci_low <= sign * REWORK_EFFECT * 100 <= effect.ci_high
    assert all(not e.significant for e in result.effects if e.variable == "region")
    assert "rework rate" in effect.phrase and "points" in effect.phrase


def test_alone_the_margin_is_the_difference_in_rework_rates(run, data, synthetic):
    """With one binary variable the average marginal effect is the plain difference in rates."""
    import pandas as pd

    result = run("rework_rate", ["first_response_over_48h"])
    truth = pd.Series(_reworked(synthetic.path), name="back")
    frame, _ = data
    joined = frame.set_index("opportunity_id").join(truth, how="inner")
    rates = joined.groupby("first_response_over_48h")["back"].mean()
    assert result.effects[0].effect == pytest.approx((rates[1] - rates[0]) * 100, abs=1e-6)


def test_time_in_a_stage_recovers_a_multiplicative_effect(run):
    result = run("stage_time", ["segment", "region"], filters={"stage": "Proposal"})
    ent = _one(result, "segment", "Enterprise")
    assert result.model.startswith("linear regression on log")
    assert ent.unit == "percent" and ent.significant and ent.direction == "increases"
    assert ent.ci_low <= (ENTERPRISE_FACTOR - 1) * 100 <= ent.ci_high
    assert all(not e.significant for e in result.effects if e.variable == "region")
    assert "Proposal" in ent.phrase and "longer" in ent.phrase


def test_stage_conversion_takes_params_and_flags_days_in_the_stage(ws):
    result = drivers(
        ws,
        outcome="stage_conversion",
        params={"from": "Proposal", "to": "Won"},
        variables=["first_response_over_48h", "days_in_proposal", "days_in_discovery"],
    )
    leaks = {v for w in result.warnings if w["kind"] == "leakage" for v in w["variables"]}
    assert leaks == {"days_in_proposal"}
    doc = result.as_dict()
    assert doc["params"] == {"from": "Proposal", "to": "Won"}
    slow = _one(result, "first_response_over_48h")
    assert slow.direction == "decreases"  # won deals all reached Proposal: the win effect shows


def test_a_leaky_variable_makes_a_link_check_inconclusive(ws, data):
    frame, cat = data
    frame, spec = prepare_outcome(ws, frame, "stage_time", filters={"stage": "Proposal"})
    effect, warnings = variable_effect(frame, cat, outcome=spec, variable="days_in_negotiation")
    evidence = link_verdict(effect, warnings=warnings)
    assert evidence.verdict == "inconclusive" and "after the outcome" in evidence.reason


def test_custom_ratio_metric_is_a_binary_outcome(custom):
    with Workspace.open(custom, read_only=True) as opened:
        result = drivers(
            opened, outcome="big_deal_win_rate", variables=["first_response_over_48h", "region"]
        )
        opps = opened.data.table("opportunities").execute()
    big = opps[opps["outcome"].isin(["won", "lost"]) & (opps["amount"] >= 20000)]
    slow = _one(result, "first_response_over_48h")
    assert result.n == len(big) and slow.unit == "points"
    assert slow.ci_low <= SLOW_EFFECT * 100 <= slow.ci_high and slow.direction == "decreases"


@pytest.mark.slow
def test_custom_mean_metric_is_a_linear_outcome_and_its_column_leaks(custom):
    """list_price = 1.1 × amount (± 1 %): per 10,000 of amount the mean list price is 11,000 up."""
    with Workspace.open(custom, read_only=True) as opened:
        result = drivers(opened, outcome="mean_list_price", variables=["amount", "list_price"])
        clean = drivers(opened, outcome="mean_list_price", variables=["amount", "region"])
    assert any(w["kind"] == "leakage" and w["variables"] == ["list_price"] for w in result.warnings)
    amount = _one(clean, "amount")
    assert clean.model.startswith("linear regression on the value") and amount.unit == "currency"
    assert amount.ci_low <= 11_000 <= amount.ci_high and amount.ci_high - amount.ci_low < 1000


@pytest.mark.slow
def test_why_check_uses_the_metric_and_the_udr_direction(custom):
    from salesflow.workbench.service import Workbench

    with Workbench.open(custom, who="test") as bench:
        udr = bench.add_udr("Win rate on deals over 20k was 40 % in 2024")["udr"]["id"]
        bench.bind_udr(udr, metric="big_deal_win_rate", bad_if="below", expected_version=1)
        cause = bench.add_cause("First response is slow")["id"]
        link = bench.link(udr, cause)["id"]
        doc = bench.check_link(
            link, variable="first_response_over_48h", outcome="big_deal_win_rate"
        )
    check = doc["check"]
    assert check["verdict"] == "supports" and check["outcome"] == "big_deal_win_rate"
    assert check["effect"]["ci_low"] <= SLOW_EFFECT * 100 <= check["effect"]["ci_high"]


def _cli(*args):
    app = new_app("test")
    analysis_cmds.register(app)
    return CliRunner().invoke(app, ["drivers", *args])


@pytest.mark.parametrize("metric", ["forecast_error", "request_volume", "wip", "velocity"])
def test_metrics_without_a_value_per_deal_are_refused(synthetic, metric):
    result = _cli("-w", str(synthetic.path), "--outcome", metric)
    assert result.exit_code == 1 and result.stdout == ""
    said = " ".join(result.stderr.split())
    assert f"Metric '{metric}' cannot be a driver outcome" in said
    assert "rework_rate" in said and "stage_conversion" in said


@pytest.mark.slow
def test_cli_metric_outcome_json_and_param_errors(synthetic):
    path = str(synthetic.path)
    args = ["-w", path, "--outcome", "stage_conversion", "--param", "from=Proposal"]
    result = _cli(*args, "--variables", "first_response_over_48h", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "stage_conversion" and doc["params"]["from"] == "Proposal"
    assert set(doc["effects"][0]) >= {"variable", "effect", "ci_low", "ci_high", "p_adj"}
    assert "worse" not in doc["effects"][0]
    needs = _cli("-w", path, "--outcome", "stage_time")
    assert needs.exit_code == 1 and "--filter stage=NAME" in needs.stderr
    builtin = _cli("-w", path, "--outcome", "won", "--param", "x=1")
    assert builtin.exit_code == 1 and "takes no --param" in builtin.stderr


def test_cycle_time_outcome_on_the_business_clock(ws):
    """``--outcome cycle_time --param clock=business``: the cycle_time metric per deal, counted
    in business days, on the same closed deals as the built-in outcome."""
    business = drivers(
        ws, outcome="cycle_time", params={"clock": "business"}, variables=["segment"]
    )
    calendar = drivers(ws, outcome="cycle_time", variables=["segment"])
    assert business.as_dict()["params"] == {"clock": "business"}
    assert business.n == calendar.n
    slow, also = _one(business, "segment", "Enterprise"), _one(calendar, "segment", "Enterprise")
    assert slow.significant and slow.direction == also.direction == "increases"
