"""Editing on the command line, as a facilitator types it: `improve edit|delete|restore`,
`cause edit|history`, `why edit|history`, with `--version` refusing a stale change."""

from __future__ import annotations

import pytest

FAST_TRACK, QUEUE = 1, 6


@pytest.fixture
def ws(facilitator_ws):
    return facilitator_ws


def test_improve_edit_rebinds_the_measure_and_history_keeps_the_old_verdict(cli, ws):
    read = cli.json("improve", "show", FAST_TRACK)
    doc = cli.json("improve", "edit", FAST_TRACK, "--objective", "Proposals out within 5 days",
                   "--why", "", "--cadence", "fortnightly", "--version", read["version"])  # fmt: skip
    assert (doc["objective"], doc["why"], doc["cadence"]) == (
        "Proposals out within 5 days", None, "fortnightly",
    )  # fmt: skip
    stale = cli("improve", "edit", FAST_TRACK, "--objective", "late", "--version",
                read["version"], ok=False)  # fmt: skip
    assert stale.exit_code == 2 and "nothing was saved" in stale.stderr
    cli.json("improve", "edit", FAST_TRACK, "--metric", "win_rate", "--bad-if", "below",
             "--start", "2025-10-01", "--baseline", "2024-10-01:2025-09-30")  # fmt: skip
    history = cli.json("improve", "history", FAST_TRACK)["history"]
    assert history[-1]["before"]["verdict"]["verdict"] == read["verdict"]["verdict"]
    assert history[-1]["after"]["measure"]["metric"] == "win_rate"
    human = cli("improve", "history", FAST_TRACK).stdout
    assert "facilitator" in human and "measure" in human

    half = cli("improve", "edit", FAST_TRACK, "--start", "2025-11-01", ok=False)
    assert half.exit_code != 0 and "metric" in half.stderr


def test_improve_delete_and_restore(cli, ws):
    deleted = "".join(cli("improve", "delete", 3).stdout.split())  # the terminal may wrap it
    assert f"Undowith`salesflow-w{ws}improverestore3`" in deleted  # runs as written from anywhere
    assert 3 not in [i["id"] for i in cli.json("improve", "list", "--no-verdicts")["improvements"]]
    assert cli.json("improve", "restore", 3)["deleted_at"] is None
    actions = [h["action"] for h in cli.json("improve", "history", 3)["history"]]
    assert actions[-2:] == ["delete", "restore"]


def test_cause_and_why_edit_with_history(cli, ws):
    doc = cli.json("cause", "edit", QUEUE, "Leads queue for a manager", "--owner", "Maria")
    assert (doc["text"], doc["owner"]) == ("Leads queue for a manager", "Maria")
    stale = cli("cause", "edit", QUEUE, "late", "--version", 1, ok=False)
    assert stale.exit_code == 2
    assert "Cause 6 deleted" in cli("cause", "delete", QUEUE).stdout
    cli.json("cause", "restore", QUEUE)
    actions = [h["action"] for h in cli.json("cause", "history", QUEUE)["history"]]
    assert actions[-3:] == ["update", "delete", "restore"]

    link = next(x for x in cli.json("causes")["links"] if x["cause"] == QUEUE)
    edited = cli.json("why", "edit", link["id"], "--text", "a day lost", "--and-group", "A")
    assert (edited["text"], edited["group"]) == ("a day lost", "A")
    assert cli.json("why", "history", link["id"])["history"][-1]["after"]["and_group"] == "A"
