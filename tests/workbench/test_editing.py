"""Editing everywhere: improvements, causes and links are edited, deleted and restored with
history and optimistic concurrency, on SQLite and on PostgreSQL (the demo's seeded knowledge)."""

from __future__ import annotations

import pytest

from salesflow.appdb import CURRENT, InvalidRecordError, StaleEditError
from salesflow.errors import NotFoundError

FAST_TRACK = 1  # the demo's "Proposal fast-track": stage_time in Proposal, running
ROUTING = 3  # "Lead routing within the hour": no measure
CAUSE_QUEUE, UDR_SLOW = 6, 1


def _open(path):
    from salesflow.workbench.service import Workbench

    return Workbench.open(path, who="ann")


def test_an_improvement_is_edited_with_history_and_a_stale_edit_is_refused(private_ws):
    with _open(private_ws) as wb:
        read = wb.show_improvement(FAST_TRACK)
        doc = wb.edit_improvement(
            FAST_TRACK,
            expected_version=read["version"],
            objective="Proposals out within 5 days",
            why="",  # cleared
            method="Template and same-day pricing",
            owner="maria lopez",  # matched to the user's name
            cadence="fortnightly",
        )
        assert doc["version"] == read["version"] + 1
        assert (doc["objective"], doc["why"], doc["method"]) == (
            "Proposals out within 5 days",
            None,
            "Template and same-day pricing",
        )
        assert (doc["owner"], doc["cadence"]) == ("Maria Lopez", "fortnightly")

        with pytest.raises(StaleEditError) as stale:  # still the version read before
            wb.edit_improvement(FAST_TRACK, expected_version=read["version"], objective="Other")
        assert stale.value.current["objective"] == "Proposals out within 5 days"
        assert wb.show_improvement(FAST_TRACK)["objective"] == "Proposals out within 5 days"

        last = wb.history("improvement", FAST_TRACK)[-1]
        assert (last["action"], last["who"]) == ("update", "ann")
        assert last["before"]["objective"] == read["objective"]
        assert last["after"]["objective"] == "Proposals out within 5 days"
        assert "verdict" not in last["before"]  # the measure did not change

        with pytest.raises(InvalidRecordError):
            wb.edit_improvement(FAST_TRACK, expected_version=CURRENT, objective="  ")
        with pytest.raises(NotFoundError, match="no user named"):
            wb.edit_improvement(FAST_TRACK, expected_version=CURRENT, owner="Nobody Here")
        unchanged = wb.edit_improvement(FAST_TRACK, expected_version=CURRENT, cadence="fortnightly")
        assert unchanged["version"] == doc["version"]  # nothing changed: no new version


def test_rebinding_the_measure_keeps_the_old_verdict_in_history(private_ws):
    with _open(private_ws) as wb:
        before = wb.show_improvement(FAST_TRACK)
        assert before["verdict"]["verdict"] == "improved"  # the demo's injected effect
        doc = wb.edit_improvement(
            FAST_TRACK,
            expected_version=CURRENT,
            metric="win_rate",
            bad_if="below",
            baseline="2024-10-01:2025-09-30",
            start="2025-10-01",
            target="45%",
        )
        assert doc["measure"]["metric"] == "win_rate" and doc["measure"]["target"] == 0.45
        last = wb.history("improvement", FAST_TRACK)[-1]
        assert last["before"]["measure"]["metric"] == "stage_time"
        old = last["before"]["verdict"]
        assert (old["verdict"], old["sentence"]) == (
            before["verdict"]["verdict"],
            before["verdict"]["sentence"],
        )
        assert "chart" not in old and "verdict" not in last["after"]

        with pytest.raises(Exception, match="bad direction"):  # a half measure stores nothing
            wb.edit_improvement(FAST_TRACK, expected_version=CURRENT, metric="win_rate")
        cleared = wb.edit_improvement(FAST_TRACK, expected_version=CURRENT, unmeasure=True)
        assert cleared["measure"] is None
        assert wb.history("improvement", FAST_TRACK)[-1]["before"]["verdict"]["verdict"] in (
            "improved", "worse", "no_signal", "too_early", "insufficient_data",
        )  # fmt: skip


def test_improvements_causes_and_links_are_deleted_and_restored(private_ws):
    with _open(private_ws) as wb:
        gone = wb.delete("improvement", ROUTING, expected_version=CURRENT)
        assert gone["deleted_at"] is not None
        assert ROUTING not in {d["id"] for d in wb.list_improvements(verdicts=False)}
        assert ROUTING not in {d["id"] for d in wb.due_improvements()}
        wb.restore("improvement", ROUTING)
        assert ROUTING in {d["id"] for d in wb.list_improvements(verdicts=False)}
        assert [h["action"] for h in wb.history("improvement", ROUTING)][-2:] == [
            "delete",
            "restore",
        ]

        cause = wb.store.causes.get(CAUSE_QUEUE)
        edited = wb.edit_cause(
            CAUSE_QUEUE, expected_version=cause.version, text="Leads wait in a shared queue"
        )
        with pytest.raises(StaleEditError) as stale:
            wb.edit_cause(CAUSE_QUEUE, expected_version=cause.version, text="Something else")
        assert stale.value.current["text"] == "Leads wait in a shared queue"
        wb.delete("cause", CAUSE_QUEUE, expected_version=edited["version"])
        assert CAUSE_QUEUE not in {n["id"] for n in wb.causes()["nodes"]}
        wb.restore("cause", CAUSE_QUEUE)
        assert CAUSE_QUEUE in {n["id"] for n in wb.causes()["nodes"]}
        actions = [h["action"] for h in wb.history("cause", CAUSE_QUEUE)]
        assert actions[-3:] == ["update", "delete", "restore"]

        link = next(x for x in wb.causes()["links"] if x["cause"] == CAUSE_QUEUE)
        doc = wb.edit_link(
            link["id"], expected_version=link["version"], text="a day lost", group="A"
        )
        assert (doc["text"], doc["group"]) == ("a day lost", "A")
        doc = wb.edit_link(link["id"], expected_version=doc["version"], group="")
        assert doc["group"] is None and doc["effect"] == link["effect"]
        assert [h["action"] for h in wb.history("link", link["id"])][-2:] == ["update", "update"]
