"""``improve add --owner --cadence``, ``improve checkin --date`` and ``improve due`` with a frozen
clock, on a seeded demo copy (its people are accounts)."""

from __future__ import annotations

import pytest

MEASURE = ("--metric", "win_rate", "--bad-if", "below", "--start", "2025-10-01")


@pytest.fixture
def ws(facilitator_ws, monkeypatch):
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-10-20")
    return facilitator_ws


def _add(cli, title: str, cadence: str, owner: str = "Jonas Berg") -> int:
    doc = cli.json("improve", "add", "--objective", title, *MEASURE, "--status", "running",
                   "--owner", owner, "--cadence", cadence)  # fmt: skip
    return doc["id"]


def _due(cli) -> dict[int, dict]:
    return {d["id"]: d for d in cli.json("improve", "due")}


def test_weekly_check_in_ten_days_ago_is_three_days_overdue_until_asked_again(cli, ws):
    new = cli.json("improve", "add", "--objective", "Faster proposals", *MEASURE,
                   "--owner", "jonas berg", "--status", "running")  # fmt: skip
    assert (new["owner"], new["cadence"]) == ("Jonas Berg", "weekly")  # the account's spelling
    held = cli.json("improve", "checkin", new["id"], "--date", "2026-10-10", "--objective", "A week",
                    "--method", "Template", "--measure", "Win rate")  # fmt: skip
    assert held["held_on"] == "2026-10-10"

    listed = _due(cli)[new["id"]]
    assert listed["overdue_days"] == 3 and listed["due"] == "2026-10-17"
    assert (listed["owner"], listed["title"], listed["cadence"], listed["days"]) == (
        "Jonas Berg", "Faster proposals", "weekly", 7
    )  # fmt: skip
    assert listed["last_checkin"] == "2026-10-10"
    answers = (listed["objective_answer"], listed["method_answer"], listed["measure_answer"])
    assert answers == ("A week", "Template", "Win rate")
    assert listed["verdict"]["verdict"] in ("improved", "no_signal", "worse", "too_early")
    assert "3 days overdue" in cli("improve", "due").stdout

    today = cli.json("improve", "checkin", new["id"], "--method", "Template in every team")
    assert today["held_on"] == "2026-10-20"  # the frozen today
    assert new["id"] not in _due(cli)

    shown = cli.json("improve", "show", new["id"])
    first, second = shown["checkins"]
    assert (second["objective_answer"], second["method_answer"], second["measure_answer"]) == (
        "A week", "Template in every team", "Win rate"
    )  # unanswered questions stand as they were  # fmt: skip
    assert first["changed"] == [] and second["changed"] == ["method_answer"]
    assert shown["schedule"]["due"] == "2026-10-27" and shown["schedule"]["overdue_days"] == -7
    human = cli("improve", "show", new["id"]).stdout
    assert "next due 2026-10-27 (on time)" in human and "(changed)" in human
    value = second["measure_value"]  # a win rate: said as a percentage, like its chart
    assert value is not None and second["measure_text"] == f"{value * 100:.0f} %"
    assert f"the measure was {value * 100:.0f} %" in " ".join(human.split())


def test_fortnightly_and_monthly(cli, ws, monkeypatch):
    fortnightly = _add(cli, "Fortnightly", "fortnightly", owner="Maria Lopez")
    cli("improve", "checkin", fortnightly, "--date", "2026-10-01", "--note", "n")
    listed = _due(cli)[fortnightly]
    assert (listed["due"], listed["overdue_days"], listed["days"]) == ("2026-10-15", 5, 14)

    monthly = _add(cli, "Monthly", "monthly")
    cli("improve", "checkin", monthly, "--date", "2026-01-31", "--note", "n")
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-02-27")
    assert monthly not in _due(cli)
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-02-28")
    listed = _due(cli)[monthly]
    assert (listed["due"], listed["overdue_days"], listed["days"]) == ("2026-02-28", 0, 28)
    assert "due today" in cli("improve", "due").stdout


def test_bad_owner_cadence_and_dates_are_refused_in_sentences(cli, ws):
    result = cli("improve", "add", "--objective", "x", "--owner", "Jonas Berk", ok=False)
    assert result.exit_code == 1 and "Did you mean 'Jonas Berg'?" in result.stderr
    result = cli("improve", "add", "--objective", "x", "--cadence", "daily", ok=False)
    assert "Cadence 'daily' is unknown" in result.stderr and "Traceback" not in result.stderr
    new = _add(cli, "Dated", "weekly")
    future = cli("improve", "checkin", new, "--date", "2026-10-21", "--note", "n", ok=False)
    assert "2026-10-21 is in the future (today is 2026-10-20)" in " ".join(future.stderr.split())
    early = cli("improve", "checkin", new, "--date", "2025-09-30", "--note", "n", ok=False)
    assert f"before improvement {new} started (2025-10-01)" in " ".join(early.stderr.split())
    garbled = cli("improve", "checkin", new, "--date", "30.09.2026", "--note", "n", ok=False)
    assert "is not a date" in garbled.stderr
    empty = cli("improve", "checkin", new, "--date", "2026-10-10", ok=False)
    words = " ".join(empty.stderr.split())
    assert empty.exit_code == 1 and f"Nothing to record for improvement {new}" in words
    assert "--note" in words and "--date YYYY-MM-DD" in words
    blank = cli("improve", "checkin", new, "--note", "  ", ok=False)
    assert blank.exit_code == 1 and "Nothing to record" in blank.stderr
    assert cli.json("improve", "show", new)["checkins"] == []  # nothing was stored
