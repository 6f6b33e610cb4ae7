"""The workbench on the command line, the way a facilitator types it, on a seeded demo copy."""

from __future__ import annotations

import json

import pytest

SLOW, EMEA, QUEUE, STANDARD = 1, 2, 6, 12


@pytest.fixture
def ws(facilitator_ws):
    return facilitator_ws


def test_udr_add_prints_the_id_and_the_lint(cli, ws):
    doc = cli.json(
        "udr", "add", "Reps are lazy and win rate is low", "--tag", "x", "--owner", "Ann"
    )
    new = doc["udr"]["id"]
    assert new == 15  # 14 demo nodes before it: UDRs and causes share one id space
    assert doc["udr"]["created_by"] == "facilitator" and doc["udr"]["tags"] == ["x"]
    assert {f["code"] for f in doc["lint"]["findings"]} >= {"BLAME", "VAGUE"}
    human = cli("udr", "add", "Win rate was 24% in Q3 2026, against 30% planned").stdout
    assert "UDR 16 added" in human and "a measurable UDR" in human


def test_bind_then_show_carries_the_verdict_and_chart(cli, ws):
    new = cli.json("udr", "add", "Win rate was below 30% in 2026")["udr"]["id"]
    bound = cli.json("udr", "bind", new, "--metric", "win_rate", "--filter", "segment=Enterprise",
                     "--period", "quarter", "--bad-if", "below", "--threshold", "30%")  # fmt: skip
    assert bound["binding"]["threshold"] == 0.30 and bound["binding"]["filters"] == {
        "segment": "Enterprise"
    }
    shown = cli.json("udr", "show", new)
    assert shown["verdict"]["verdict"] in ("confirmed", "contradicted")
    assert shown["verdict"]["chart"]["metric"] == "win_rate"
    assert shown["verdict"]["chart"]["filters"] == {"segment": ["Enterprise"]}
    assert "incomplete_periods_left_out" in shown["verdict"]["values"]
    slow = cli.json("udr", "show", SLOW)
    assert slow["verdict"]["verdict"] == "confirmed"
    assert any(c["check"] and c["check"]["verdict"] == "supports" for c in slow["causes"])


def test_bind_with_a_wrong_column_stores_nothing(cli, ws):
    result = cli("udr", "bind", EMEA, "--metric", "win_rate", "--filter", "regoin=EMEA",
                 "--bad-if", "below", ok=False)  # fmt: skip
    assert result.exit_code == 1 and "regoin" in result.stderr and "Traceback" not in result.stderr
    assert cli.json("udr", "show", EMEA)["binding"]["filters"] == {"region": "EMEA"}


def test_a_loop_is_refused_with_its_path_unless_marked(cli, ws):
    before = len(cli.json("causes")["links"])
    result = cli("why", STANDARD, SLOW, "--text", "slow deals make us skip the standard", ok=False)
    assert result.exit_code == 1
    err = " ".join(result.stderr.split())
    assert "closes the loop" in err and "--loop" in err
    for text in ("Deals we first answered", "New inbound leads wait", "no written standard work"):
        assert text in err
    assert err.index("Deals we first answered") < err.index("New inbound leads wait")
    assert len(cli.json("causes")["links"]) == before  # nothing was stored
    link = cli.json("why", STANDARD, SLOW, "--loop")
    assert (link["effect"], link["cause"], link["loop"]) == (STANDARD, SLOW, True)
    assert "↺" in cli("causes").stdout


def test_causes_json_and_tree(cli, ws):
    doc = cli.json("causes")
    first = doc["nodes"][0]
    assert {"id", "kind", "text", "reaches", "share", "root", "core"} <= set(first)
    # the EMEA UDR is contradicted by the data: standard work is behind all 5 of the others
    assert len(doc["contradicted"]) == 1 and doc["udrs"] == 5
    assert (first["id"], first["core"], first["root"], first["share"]) == (
        STANDARD,
        True,
        True,
        1.0,
    )
    assert all({"effect", "cause", "group"} <= set(x) for x in doc["links"])
    groups = {x["group"] for x in doc["links"]} - {None}
    assert groups == {"overcommit"}
    tree = cli("causes").stdout
    assert "CORE PROBLEM" in tree and "all of (overcommit):" in tree


def test_why_default_link_check_and_soft_delete(cli, ws):
    cause = cli.json("cause", "add", "Reps skip discovery on inbound leads")["id"]
    link = cli.json("why", SLOW, cause, "--text", "no qualification", "--evidence", "call notes")
    assert link["evidence"][0]["text"] == "call notes" and link["created_by"] == "facilitator"
    checked = cli.json("why", "check", link["id"], "--variable", "first_response_over_48h",
                       "--outcome", "won")  # fmt: skip
    assert checked["check"]["verdict"] == "supports"
    assert checked["link"]["check"]["effect"]["effect"] < 0  # slow responders win less
    cli("why", "delete", link["id"])
    assert link["id"] not in {x["id"] for x in cli.json("causes")["links"]}
    cli("why", "restore", link["id"])
    assert link["id"] in {x["id"] for x in cli.json("causes")["links"]}


def test_udr_history_soft_delete_and_who(cli, ws):
    doc = cli.json("udr", "add", "Win rate was 24% in Q3 2026, against 30% planned")
    new, version = doc["udr"]["id"], doc["udr"]["version"]
    cli("udr", "edit", new, "--owner", "Bob", "--version", version, "--who", "ann")
    stale = cli("udr", "edit", new, "--owner", "Eve", "--version", version, ok=False)
    assert stale.exit_code == 2 and "nothing was saved" in stale.stderr
    assert "you edited version 1, it is now version 2" in stale.stderr
    assert stale.stdout == "" and "Traceback" not in stale.stderr
    for command in (("udr", "delete", new), ("udr", "bind", new, "--metric", "win_rate",
                                              "--bad-if", "below")):  # fmt: skip
        refused = cli(*command, "--version", 1, ok=False)
        assert refused.exit_code == 2 and "it is now version 2" in refused.stderr, command
    assert cli.json("udr", "show", new)["binding"] is None  # the stale bind stored nothing
    assert "deleted" in cli("udr", "delete", new).stdout  # without --version: the stored one
    assert new not in {u["id"] for u in cli.json("udr", "list", "--no-verdicts")["udrs"]}
    cli("udr", "restore", new)
    history = cli.json("udr", "history", new)["history"]
    assert [(h["action"], h["who"]) for h in history] == [
        ("create", "facilitator"),
        ("update", "ann"),
        ("delete", "facilitator"),
        ("restore", "facilitator"),
    ]
    assert history[1]["before"]["owner"] is None and history[1]["after"]["owner"] == "Bob"


def test_improvement_commands(cli, ws):
    doc = cli.json("improve", "add", "--objective", "Answer every lead within 4 hours",
                   "--method", "Round-robin routing", "--attacks", QUEUE, "--metric", "win_rate",
                   "--bad-if", "below", "--baseline", "2024-10-01:2025-09-30",
                   "--start", "2026-09-01", "--target", "45%")  # fmt: skip
    assert doc["verdict"]["verdict"] == "too_early"
    assert doc["verdict"]["values"]["periods_needed"] == 4  # only September 2026 is complete
    assert doc["measure"]["target"] == 0.45 and doc["attacks"] == [QUEUE]
    check = cli.json("improve", "checkin", doc["id"], "--asked-by", "Maria", "--answered-by",
                     "Jonas", "--objective", "4 hours", "--method", "routing", "--measure", "win rate")  # fmt: skip
    assert check["measure_period"] == "2026-09-01" and 0 < check["measure_value"] < 1
    assert check["measure_text"] == f"{check['measure_value'] * 100:.0f} %"  # in its unit
    shown = cli.json("improve", "show", doc["id"])
    assert shown["checkins"][0]["measure_value"] == check["measure_value"]
    assert shown["attacks_detail"][0]["kind"] == "cause"
    assert cli.json("improve", "status", doc["id"], "running")["status"] == "running"
    stale = cli("improve", "status", doc["id"], "verified", "--version", 1, ok=False)
    assert stale.exit_code == 2 and "it is now version 2" in stale.stderr
    moved = cli.json("improve", "status", doc["id"], "verified", "--version", 2)
    assert (moved["status"], moved["version"]) == ("verified", 3)
    listed = {i["id"]: i["verdict"]["verdict"] for i in cli.json("improve", "list")["improvements"]}
    assert listed[1] == "improved" and listed[2] == "no_signal" and listed[doc["id"]] == "too_early"
    actions = [h["action"] for h in cli.json("improve", "history", doc["id"])["history"]]
    assert actions == ["create", "update", "update"]
    bad = cli("improve", "add", "--objective", "x", "--metric", "win_rate", "--bad-if", "below",
              "--baseline", "2025-01-01:2025-12-31", "--start", "2025-10-01", ok=False)  # fmt: skip
    assert bad.exit_code == 1 and "before the start" in bad.stderr


@pytest.mark.slow
def test_demo_seeds_the_knowledge(cli, tmp_path, monkeypatch):
    path = tmp_path / "small"
    doc = cli.json("demo", path, "-n", "400", "--seed", "2")
    assert doc["opportunities_requested"] == 400
    udrs = cli.json("udr", "list", "-w", path)["udrs"]
    assert len(udrs) == 6 and udrs[0]["verdict"]["verdict"] == "confirmed"
    improvements = json.loads(cli("improve", "list", "-w", path, "--json").stdout)["improvements"]
    assert [i["title"] for i in improvements] == [
        "Proposal fast-track",
        "Discovery call checklist",
        "Lead routing within the hour",
    ]
    monkeypatch.chdir(tmp_path)
    built = " ".join(cli("demo", "other", "-n", "200").stdout.split())  # hints as typed
    assert "Next: `salesflow -w other status`" in built
    assert "The method at work: `salesflow -w other udr list`" in built


def test_readme_lists_the_json_keys(cli, ws):
    """Every key the commands print is named in the README's workbench JSON section."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: workbench-json -->")[1].split("<!-- /section")[0]
    documents = {
        "udr show": cli.json("udr", "show", SLOW),
        "udr show verdict": cli.json("udr", "show", SLOW)["verdict"],
        "udr show values": cli.json("udr", "show", SLOW)["verdict"]["values"],
        "causes": cli.json("causes"),
        "causes node": cli.json("causes")["nodes"][0],
        "improve show": cli.json("improve", "show", 1),
        "improve values": cli.json("improve", "show", 1)["verdict"]["values"],
        "history": cli.json("udr", "history", SLOW),
    }
    for name, doc in documents.items():
        missing = [k for k in doc if f'"{k}"' not in section]
        assert not missing, f"README does not document {name} keys {missing}"


def test_why_check_passes_the_metric_filter_and_params(cli, ws):
    cause = cli.json("cause", "add", "Enterprise deals sit in Proposal waiting for legal")["id"]
    link = cli.json("why", SLOW, cause, "--text", "legal review")
    missing = cli("why", "check", link["id"], "--variable", "segment", "--outcome", "stage_time",
                  ok=False)  # fmt: skip
    assert missing.exit_code == 1 and "stage" in missing.stderr
    checked = cli.json("why", "check", link["id"], "--variable", "segment", "--level", "Enterprise",
                       "--outcome", "stage_time", "--filter", "stage=Proposal")  # fmt: skip
    assert checked["check"]["verdict"] in {"supports", "contradicts", "inconclusive"}
    assert checked["check"]["effect"]["variable"] == "segment"
