"""The wrong turns of a newcomer's first hour end in a sentence that shows the way: hints name the
workspace (-w) so they run as written, a mistyped name gets "did you mean", and running a command
next to the demo workspace (as `make demo` leaves it) points into it."""

from __future__ import annotations

import pytest


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A folder holding one empty workspace, ``demo-workspace``, and the shell standing in it."""
    from salesflow.workspace import init_workspace

    init_workspace(tmp_path / "demo-workspace").close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESFLOW_WORKSPACE", "")  # recorded, so the root -w's setting is undone
    monkeypatch.delenv("SALESFLOW_WORKSPACE")
    return tmp_path


def test_a_command_run_beside_the_workspace_points_into_it(cli, here):
    result = cli("status", ok=False)
    assert result.exit_code == 1
    assert "Workspaces in this folder: demo-workspace" in result.stderr
    assert "`salesflow -w demo-workspace status`" in result.stderr


def test_a_mistyped_metric_gets_did_you_mean_and_a_hint_with_the_workspace(cli, here):
    result = cli("-w", "demo-workspace", "metric", "win_rat", ok=False)
    assert result.exit_code == 1
    assert "Did you mean 'win_rate'?" in result.stderr
    assert "`salesflow -w demo-workspace metrics`" in result.stderr  # runs as written from here


def test_next_steps_name_the_workspace(cli, here):
    added = cli("udr", "add", "Win rate was 24% in Q3 2026, against 30% planned",
                "-w", "demo-workspace")  # fmt: skip
    assert "Next: `salesflow -w demo-workspace udr bind 1 --metric" in added.stdout
    cause = cli("-w", "demo-workspace", "cause", "add", "Leads wait a day for an owner")
    assert "Next: `salesflow -w demo-workspace why EFFECT_ID 2`" in cause.stdout
    deleted = cli("-w", "demo-workspace", "udr", "delete", "1").stdout
    assert "Undo with `salesflow -w demo-workspace udr restore 1`" in " ".join(deleted.split())


def test_hints_stay_as_they_are_for_the_current_folder(cli, here, monkeypatch):
    monkeypatch.chdir(here / "demo-workspace")
    added = cli("udr", "add", "Win rate was 24% in Q3 2026, against 30% planned")
    assert "Next: `salesflow udr bind 1 --metric" in added.stdout


def test_an_id_of_the_other_kind_says_so(cli, here):
    ws = ("-w", "demo-workspace")
    cli(*ws, "udr", "add", "Win rate was 24% in Q3 2026, against 30% planned")
    cli(*ws, "cause", "add", "Leads wait a day for an owner")
    cli(*ws, "why", "1", "2")
    assert (
        "2 is a cause (UDRs and causes share one id space)"
        in cli(*ws, "udr", "show", "2", ok=False).stderr
    )
    assert "1 is a UDR" in cli(*ws, "cause", "delete", "1", ok=False).stderr
    assert (
        "UDR 9 does not exist. Check the id in the list"
        in cli(*ws, "udr", "show", "9", ok=False).stderr
    )
    unknown = " ".join(cli(*ws, "why", "1", "99", ok=False).stderr.split())
    assert "99 is neither a UDR nor a cause." in unknown and "Node" not in unknown
    assert (
        "`salesflow -w demo-workspace udr list` and `salesflow -w demo-workspace causes`" in unknown
    )
    link = cli(*ws, "why", "delete", "2", ok=False).stderr  # links count apart: no such link
    assert "does not exist" in link and "is a" not in link


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--period", "quarterly"), "Unknown period 'quarterly'. Did you mean 'quarter'?"),
        (
            ("--filter", "segmnt=SMB"),
            "no column 'segmnt' to filter or group by. Did you mean 'segment'?",
        ),
    ],
    ids=["period", "column"],
)
def test_a_mistyped_option_value_gets_did_you_mean(cli, here, args, words):
    result = cli("-w", "demo-workspace", "metric", "win_rate", *args, ok=False)
    assert result.exit_code == 1 and words in result.stderr


def test_init_says_where_to_import(cli, here):
    made = cli("init", "acme")
    assert "`salesflow -w acme import opportunities FILE`" in made.stdout


def test_a_threshold_is_said_in_the_metric_unit(cli, here):
    ws = ("-w", "demo-workspace")
    cli(*ws, "udr", "add", "Win rate was 24% in Q3 2026, against 30% planned")
    bound = cli(*ws, "udr", "bind", "1", "--metric", "win_rate", "--bad-if", "below",
                "--threshold", "40%")  # fmt: skip
    assert "Win rate, per month; bad when below 40 %." in bound.stdout
    assert (
        "Measure: Win rate, per month; bad when below 40 %" in cli(*ws, "udr", "show", "1").stdout
    )


@pytest.mark.parametrize(
    "verdict",
    ["confirmed", "contradicted", "insufficient_data", "unbound", "improved", "worse",
     "no_signal", "too_early", "not_measured"],
)  # fmt: skip
def test_one_wording_for_each_verdict_on_the_web_in_the_report_and_the_cli(verdict):
    from salesflow.cli.workbench_cmds import verdict_line
    from salesflow.report.words import IMPROVEMENT_LABELS, UDR_LABELS
    from salesflow.web.workbench import VERDICT_WORDS

    web = VERDICT_WORDS[verdict][0]
    report = {**UDR_LABELS, **IMPROVEMENT_LABELS}[verdict]
    cli = verdict_line({"verdict": verdict, "sentence": "…"})
    assert web == report and f"]{web.upper()}[/] — …" in cli
    if verdict == "improved":
        assert web == "It worked"


def test_an_empty_udr_list_says_how_to_add_the_first(cli, here):
    shown = cli("-w", "demo-workspace", "udr", "list").stdout
    assert "No UDRs yet" in shown and "┏" not in shown  # no empty table
    assert 'Next: `salesflow -w demo-workspace udr add "Win rate was 24% in Q3' in shown
    assert cli.json("-w", "demo-workspace", "udr", "list") == {"udrs": []}
