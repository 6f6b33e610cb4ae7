"""Driver analysis recovers effects injected at known sizes (see conftest.py for the truth)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from salesflow.analysis import analyse, feature_frame, link_verdict, variable_effect
from salesflow.analysis.model import OUTCOMES
from salesflow.cli import analysis_cmds
from salesflow.cli.common import new_app
from salesflow.workspace import Workspace

from .synthetic_company import ENTERPRISE_FACTOR, PARTNER_EFFECT, SLOW_EFFECT

WON_VARIABLES = ["first_response_over_48h", "source", "region", "segment"]


@pytest.fixture(scope="module")
def data(synthetic):
    with Workspace.open(synthetic.path, read_only=True) as ws:
        return feature_frame(ws.data, ws.settings)


@pytest.fixture(scope="module")
def won(data):
    frame, cat = data
    return analyse(frame, OUTCOMES["won"], [cat.get(v) for v in WON_VARIABLES])


def _one(result, variable, level=None):
    return next(e for e in result.effects if e.variable == variable and e.level == level)


def test_injected_win_rate_effects_are_recovered(won):
    slow = _one(won, "first_response_over_48h")
    assert slow.direction == "decreases" and slow.significant
    assert slow.ci_low <= SLOW_EFFECT * 100 <= slow.ci_high
    partner = _one(won, "source", "partner")
    assert partner.reference == "inbound" and partner.direction == "increases"
    assert partner.ci_low <= PARTNER_EFFECT * 100 <= partner.ci_high and partner.significant
    assert "win" in slow.phrase and "less often" in slow.phrase


def test_the_margin_equals_the_difference_in_win_rates_when_alone(data):
    """With one binary variable the average marginal effect is the plain difference in rates."""
    frame, cat = data
    result = analyse(frame, OUTCOMES["won"], [cat.get("first_response_over_48h")])
    closed = frame[frame["won"].notna()]
    rates = closed.groupby("first_response_over_48h")["won"].mean()
    assert result.effects[0].effect == pytest.approx((rates[1] - rates[0]) * 100, abs=1e-6)


def test_an_attribute_without_effect_is_not_a_driver(won):
    for e in won.effects:
        if e.variable == "region":
            assert e.p_adj > 0.05 and not e.significant
    assert "region" not in won.summary


def test_duration_model_recovers_a_multiplicative_effect(data):
    frame, cat = data
    result = analyse(frame, OUTCOMES["cycle_time"], [cat.get("segment"), cat.get("region")])
    ent = _one(result, "segment", "Enterprise")
    assert ent.unit == "percent" and ent.significant
    assert ent.ci_low <= (ENTERPRISE_FACTOR - 1) * 100 <= ent.ci_high
    assert all(not e.significant for e in result.effects if e.variable == "region")


def test_warnings_for_collinear_leaky_and_rare(data):
    frame, cat = data
    names = ["amount", "list_price", "cycle_days", "pilot", "source"]
    result = analyse(frame, OUTCOMES["won"], [cat.get(v) for v in names])
    kinds = {(w["kind"], tuple(w["variables"])) for w in result.warnings}
    assert ("collinear", ("amount", "list_price")) in kinds
    assert ("leakage", ("cycle_days",)) in kinds
    assert ("too_few_cases", ("pilot",)) in kinds
    assert not any(w["kind"] == "leakage" and "source" in w["variables"] for w in result.warnings)


def test_no_warnings_of_those_kinds_for_clean_variables(won):
    assert not [w for w in won.warnings if w["kind"] in ("collinear", "leakage", "too_few_cases")]


def test_a_confounder_is_named(data):
    """segment drives cycle time; size_hint goes with segment but has no effect of its own."""
    frame, cat = data
    frame = frame.copy()
    frame["size_hint"] = (frame["segment"] == "Enterprise").astype(float)
    frame.loc[frame.index % 4 == 0, "size_hint"] = 0.0  # related, not identical
    from salesflow.analysis.variables import Variable

    hint = Variable("size_hint", "test", "binary", "creation", origin="imported")
    result = analyse(frame, OUTCOMES["cycle_time"], [hint, cat.get("segment")])
    assert any(
        w["kind"] == "confounder" and w["variables"] == ["size_hint", "segment"]
        for w in result.warnings
    )


def test_link_verdicts(data):
    frame, cat = data
    slow, warnings = variable_effect(frame, cat, outcome="won", variable="first_response_over_48h")
    assert link_verdict(slow, claims="worsens", warnings=warnings).verdict == "supports"
    assert link_verdict(slow, claims="improves", warnings=warnings).verdict == "contradicts"
    region, warnings = variable_effect(frame, cat, outcome="won", variable="region", level="East")
    assert link_verdict(region, warnings=warnings).verdict == "inconclusive"
    leak, warnings = variable_effect(frame, cat, outcome="won", variable="days_in_last_stage")
    evidence = link_verdict(leak, warnings=warnings)
    assert evidence.verdict == "inconclusive" and "after the outcome" in evidence.reason


def test_cli_json_is_deterministic_and_keeps_its_keys(synthetic):
    app = new_app("test")
    analysis_cmds.register(app)
    runner = CliRunner()
    args = [
        "drivers",
        "-w",
        str(synthetic.path),
        "--outcome",
        "won",
        "--variables",
        "first_response_over_48h,region",
        "--filter",
        "segment=SMB",
        "--json",
    ]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    doc = json.loads(first.stdout)
    assert set(doc) >= {"outcome", "n", "model", "effects", "warnings", "summary", "experiment"}
    assert set(doc["effects"][0]) >= {
        "variable",
        "effect",
        "ci_low",
        "ci_high",
        "p_adj",
        "direction",
    }
    smb = (synthetic.opportunities["segment"] == "SMB") & synthetic.opportunities["outcome"].isin(
        ["won", "lost"]
    )
    assert doc["n"] == int(smb.sum())
    bad = runner.invoke(app, ["drivers", "-w", str(synthetic.path), "--outcome", "revenue"])
    assert bad.exit_code == 1 and "Unknown outcome 'revenue'" in bad.stderr
    human = runner.invoke(app, ["drivers", "-w", str(synthetic.path)])
    words = " ".join(human.stdout.split())
    assert human.exit_code == 0 and "not proof" in words
    assert f"(`salesflow -w {synthetic.path} improve add`)" in words  # runs as written


def test_variables_command_lists_coverage(synthetic, data):
    frame, _ = data
    app = new_app("test")
    analysis_cmds.register(app)
    result = CliRunner().invoke(app, ["variables", "-w", str(synthetic.path), "--json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)["variables"]}
    assert rows["days_in_proposal"]["coverage"] == pytest.approx(
        frame["days_in_proposal"].notna().mean()
    )
    assert rows["region"]["origin"] == "imported" and rows["cycle_days"]["when"] == "after"
