"""`salesflow demo` on the command line, and `salesflow status` on what it made."""

from __future__ import annotations

import json


def test_demo_json_then_status(cli, tmp_path):
    path = tmp_path / "acme"
    doc = cli.json("demo", path, "--opportunities", "1200", "--seed", "3")
    assert set(doc) == {
        "workspace",
        "seed",
        "opportunities_requested",
        "rows",
        "seconds",
        "period",
        "effects",
        "no_effect_attributes",
    }
    assert doc["seed"] == 3 and doc["opportunities_requested"] == 1200
    assert len(doc["effects"]) == 5
    status = cli.json("status", "-w", path)
    assert {k: v["rows"] for k, v in status["tables"].items()} == doc["rows"]
    assert sum(status["outcomes"].values()) == doc["rows"]["opportunities"]
    assert min(status["outcomes"].values()) > 0  # won, lost and still open deals
    assert status["tables"]["requests"]["min_date"] == "2024-10-01"
    assert status["tables"]["forecasts"]["max_date"] == "2026-09-01"


def test_demo_refuses_to_overwrite_without_force(cli, tmp_path):
    path = tmp_path / "acme"
    cli("demo", path, "-n", "200")
    result = cli("demo", path, "-n", "200", ok=False)
    assert result.exit_code == 1
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    again = cli("demo", path, "-n", "300", "--force", "--json")
    assert json.loads(again.stdout)["opportunities_requested"] == 300


def test_human_output_names_the_effects(cli, tmp_path):
    result = cli("demo", tmp_path / "acme", "-n", "200")
    assert "Proposal stage is about 30 % shorter" in result.stdout
    assert "opportunities" in result.stdout


def test_help_ends_with_an_example(cli):
    result = cli("demo", "--help")
    assert "Example:" in result.stdout and "--opportunities" in result.stdout
