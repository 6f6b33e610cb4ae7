from __future__ import annotations

import pytest

from salesflow.errors import ConfigError, WorkspaceError
from salesflow.settings import load_settings


def test_init_writes_settings_and_empty_tables(cli, tmp_path):
    cli("init", tmp_path / "acme")
    settings = load_settings(tmp_path / "acme")
    assert settings.stages.order == ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
    assert settings.stages.won == ("Won",)
    assert settings.resolved_data_url() == f"duckdb:///{tmp_path / 'acme' / 'data.duckdb'}"
    assert (tmp_path / "acme" / "data.duckdb").exists()
    doc = cli.json("status", "-w", tmp_path / "acme")
    assert doc["tables"]["opportunities"] == {"rows": 0, "min_date": None, "max_date": None}
    assert doc["outcomes"] == {"open": 0, "won": 0, "lost": 0}


def test_init_refuses_to_overwrite(cli, tmp_path):
    cli("init", tmp_path / "acme")
    result = cli("init", tmp_path / "acme", ok=False)
    assert result.exit_code == 1
    assert "already a salesflow workspace" in result.stderr
    assert "--force" in result.stderr


def test_missing_workspace_is_one_line_with_a_fix(cli, tmp_path):
    result = cli("status", "-w", tmp_path / "nowhere", ok=False)
    assert result.exit_code == 1
    assert "salesflow init" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_folder_without_settings_says_how_to_fix(cli, tmp_path):
    result = cli("status", "-w", tmp_path, ok=False)
    assert "has no salesflow.toml" in result.stderr


def test_env_var_and_root_option_select_the_workspace(cli, tmp_path, monkeypatch):
    cli("init", tmp_path / "acme")
    assert cli.json("-w", tmp_path / "acme", "status")["workspace"] == str(tmp_path / "acme")
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(tmp_path / "acme"))
    assert cli.json("status")["workspace"] == str(tmp_path / "acme")


def test_broken_toml_names_the_file(tmp_path):
    (tmp_path / "salesflow.toml").write_text("[data\nurl=", encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"salesflow\.toml"):
        load_settings(tmp_path)


def test_duplicate_stage_is_refused(tmp_path):
    (tmp_path / "salesflow.toml").write_text(
        '[stages]\norder = ["Lead", "Lead"]\nwon = ["Won"]\nlost = ["Lost"]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="listed twice"):
        load_settings(tmp_path)


def test_environment_overrides_file(tmp_path):
    (tmp_path / "salesflow.toml").write_text('[data]\nurl = "duckdb:///a.duckdb"\n')
    s = load_settings(tmp_path, env={"SALESFLOW_DATA_URL": "duckdb:///b.duckdb"})
    assert s.resolved_data_url().endswith("/b.duckdb")


def test_error_text_with_brackets_is_printed_as_is(cli, tmp_path):
    (tmp_path / "salesflow.toml").write_text('[calendar]\nweek_start = "funday"\n')
    result = cli("status", "-w", tmp_path, ok=False)
    assert "calendar.week_start is 'funday'" in result.stderr
    (tmp_path / "salesflow.toml").write_text("[stages]\nwon = []\n")
    result = cli("status", "-w", tmp_path, ok=False)
    assert "[stages] needs at least one won and one lost stage" in result.stderr


def test_init_with_a_preset_takes_its_stages(cli, tmp_path):
    from salesflow.ingest import preset_stages

    cli("init", tmp_path / "mv", "--preset", "maven-crm")
    expected = preset_stages("maven-crm")
    stages = load_settings(tmp_path / "mv").stages
    assert stages.order == tuple(expected.order) and "Engaging" in stages.order
    assert stages.won == tuple(expected.won)


def test_init_with_an_unknown_preset_names_the_choices(cli, tmp_path):
    result = cli("init", tmp_path / "x", "--preset", "pipedrive", ok=False)
    assert result.exit_code == 1
    assert "maven-crm" in result.stderr
    assert not (tmp_path / "x" / "salesflow.toml").exists()
