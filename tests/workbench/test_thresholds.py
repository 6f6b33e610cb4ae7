"""Thresholds and targets in the metric's unit: shares take 0.15 or 15 %, days and deals no %."""

from __future__ import annotations

import pytest

from salesflow.errors import ConfigError
from salesflow.metrics import get
from salesflow.workbench.measures import parse_threshold

EMEA = 2  # a demo UDR bound to the win rate


@pytest.mark.parametrize(
    ("metric", "text", "value"),
    [
        ("win_rate", "15%", 0.15),
        ("win_rate", "0.15", 0.15),
        ("win_rate", 0.15, 0.15),
        ("win_rate", "1", 1.0),
        ("win_rate", "100 %", 1.0),
        ("forecast_bias", "-5%", -0.05),
        ("cycle_time", "30", 30.0),
        ("cycle_time", 45.5, 45.5),
        ("wip", "1,500", 1500.0),
        ("win_rate", None, None),
    ],
)
def test_a_threshold_in_the_metric_unit(metric, text, value):
    got = parse_threshold(text, get(metric))
    assert got == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize(("text", "shown"), [("15", "Did you mean 15% (0.15)?"), (15.0, "15%")])
def test_a_bare_number_above_one_on_a_share_is_refused(text, shown):
    with pytest.raises(ConfigError, match="1,500 %") as info:
        parse_threshold(text, get("win_rate"))
    assert shown in info.value.message


@pytest.mark.parametrize(
    ("metric", "unit"), [("cycle_time", "days"), ("wip", "deals"), ("request_volume", "requests")]
)
def test_a_percent_on_a_duration_or_count_is_refused_naming_the_unit(metric, unit):
    with pytest.raises(ConfigError, match=f"is in {unit}"):
        parse_threshold("30%", get(metric), what="Target")


@pytest.mark.parametrize("text", ["nan", "inf", "a lot", "%", float("nan")])
def test_what_is_not_a_finite_number_is_refused(text):
    with pytest.raises(ConfigError, match="not a number"):
        parse_threshold(text, get("cycle_time"))


def test_udr_bind_refuses_15_on_a_share_and_takes_15_percent(cli, facilitator_ws):
    before = cli.json("udr", "show", EMEA)["binding"]
    args = ("udr", "bind", EMEA, "--metric", "win_rate", "--bad-if", "below", "--threshold")
    refused = cli(*args, "15", ok=False)
    assert refused.exit_code == 1 and "Did you mean 15% (0.15)?" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli.json("udr", "show", EMEA)["binding"] == before  # nothing stored
    assert cli.json(*args, "15%")["binding"]["threshold"] == pytest.approx(0.15)


def test_improve_add_refuses_a_percent_target_on_days(cli, facilitator_ws):
    common = ("improve", "add", "--objective", "Faster proposals", "--metric", "cycle_time",
              "--bad-if", "above", "--baseline", "2024-10-01:2025-09-30", "--start", "2025-10-01")  # fmt: skip
    refused = cli(*common, "--target", "30%", ok=False)
    assert refused.exit_code == 1 and "days" in refused.stderr and "30%" in refused.stderr
    assert cli.json(*common, "--target", "30")["measure"]["target"] == 30.0


@pytest.mark.parametrize(
    ("binding", "words", "typed"),
    [
        ({"metric": "win_rate", "bad_if": "below", "threshold": 0.4}, "bad when below 40 %", "40%"),
        ({"metric": "cycle_time", "bad_if": "above", "threshold": 30.0}, "bad when above 30 days",
         "30"),
        ({"metric": "win_rate", "bad_if": "below", "threshold": None},
         "bad when a signal shows it going down", ""),
    ],
)  # fmt: skip
def test_a_threshold_is_shown_in_the_metric_unit_and_typed_back_the_same(binding, words, typed):
    from salesflow.workbench.measures import bad_when, threshold_input

    assert bad_when(binding) == words
    assert threshold_input(binding) == typed
    if typed:  # what the box shows is read back as the same threshold
        assert parse_threshold(typed, get(binding["metric"])) == pytest.approx(binding["threshold"])
