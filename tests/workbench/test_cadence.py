"""Cadence and due check-ins (workbench/cadence.py) on a real SQLite app database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salesflow.errors import ConfigError, NotFoundError
from salesflow.workbench.cadence import (
    check_cadence,
    check_held_on,
    check_owner,
    due_improvements,
    held_at,
    next_due,
    schedules,
    started_on,
)

TODAY = date(2026, 3, 20)


@pytest.fixture
def store(tmp_path: Path):
    from salesflow.appdb import KnowledgeStore

    with KnowledgeStore.open(f"sqlite:///{tmp_path / 'app.db'}") as opened:
        yield opened


def _improvement(store, title: str, cadence: str = "weekly", **options):
    return store.improvements.create(title, objective=f"{title}, because", who="ann",
                                     cadence=cadence, **options)  # fmt: skip


def _checkin(store, improvement_id: int, day: date, **answers):
    return store.checkins.create(improvement_id, who="ann", asked_at=held_at(day), **answers)


@pytest.mark.parametrize(
    ("since", "cadence", "due"),
    [
        (date(2026, 3, 10), "weekly", date(2026, 3, 17)),
        (date(2026, 12, 28), "weekly", date(2027, 1, 4)),
        (date(2026, 3, 10), "fortnightly", date(2026, 3, 24)),
        (date(2026, 1, 15), "monthly", date(2026, 2, 15)),
        (date(2026, 12, 15), "monthly", date(2027, 1, 15)),
        (date(2025, 1, 31), "monthly", date(2025, 2, 28)),  # clamped to the month's end
        (date(2024, 1, 31), "monthly", date(2024, 2, 29)),  # a leap year
        (date(2026, 3, 31), "monthly", date(2026, 4, 30)),
        (date(2026, 2, 28), "monthly", date(2026, 3, 28)),
    ],
)
def test_next_due_adds_the_cadence(since, cadence, due):
    assert next_due(since, cadence) == due


def test_an_unknown_cadence_is_refused_in_words():
    assert check_cadence(None) == "weekly"
    assert check_cadence(" Monthly ") == "monthly"
    with pytest.raises(ConfigError, match="Cadence 'daily' is unknown") as caught:
        check_cadence("daily")
    assert "weekly, fortnightly or monthly" in caught.value.hint


def test_weekly_last_checkin_ten_days_ago_is_three_days_overdue_until_checked_in(store):
    imp = _improvement(store, "Faster proposals", owner="ann")
    _checkin(store, imp.id, TODAY - timedelta(days=30), objective_answer="Old aim")
    _checkin(store, imp.id, TODAY - timedelta(days=10), objective_answer="Within a week",
             method_answer="Template", measure_answer="Days in Proposal")  # fmt: skip
    [due] = due_improvements(store, TODAY)
    assert (due.id, due.owner, due.cadence) == (imp.id, "ann", "weekly")
    assert due.last_checkin == TODAY - timedelta(days=10)
    assert due.due == TODAY - timedelta(days=3)
    assert due.overdue_days == 3 and due.days == 7
    assert (due.objective_answer, due.method_answer, due.measure_answer) == (
        "Within a week", "Template", "Days in Proposal"
    )  # fmt: skip
    assert due.to_dict()["due"] == "2026-03-17"

    _checkin(store, imp.id, TODAY)
    assert due_improvements(store, TODAY) == []
    [later] = schedules(store, TODAY)
    assert later.due == TODAY + timedelta(days=7) and later.overdue_days == -7


def test_due_today_is_listed_with_zero_days_overdue_and_on_time_is_not(store):
    fortnightly = _improvement(store, "Discovery checklist", cadence="fortnightly")
    monthly = _improvement(store, "Contract template", cadence="monthly")
    _checkin(store, fortnightly.id, TODAY - timedelta(days=14))
    _checkin(store, monthly.id, date(2026, 2, 28))  # due 28 March: on time
    [due] = due_improvements(store, TODAY)
    assert (due.id, due.overdue_days, due.days) == (fortnightly.id, 0, 14)
    assert [d.id for d in schedules(store, TODAY)] == [fortnightly.id, monthly.id]
    assert due_improvements(store, date(2026, 3, 30))[1].overdue_days == 2


def test_monthly_from_the_31st_of_january(store):
    imp = _improvement(store, "Month end", cadence="monthly")
    _checkin(store, imp.id, date(2028, 1, 31))
    assert due_improvements(store, date(2028, 2, 28)) == []
    [due] = due_improvements(store, date(2028, 2, 29))  # 2028 is a leap year
    assert due.due == date(2028, 2, 29) and due.overdue_days == 0


def test_the_latest_check_in_counts_even_when_recorded_first(store):
    imp = _improvement(store, "Backfilled")
    _checkin(store, imp.id, TODAY - timedelta(days=2))
    _checkin(store, imp.id, TODAY - timedelta(days=20))  # held earlier, recorded later
    assert due_improvements(store, TODAY) == []


def test_without_check_ins_it_is_due_one_cadence_after_it_started(store):
    imp = _improvement(store, "Never asked")
    recorded = imp.created_at.date()
    [entry] = schedules(store, recorded)
    assert entry.last_checkin is None and entry.started == recorded
    assert entry.due == recorded + timedelta(days=7)
    assert entry.objective_answer is None
    [due] = due_improvements(store, recorded + timedelta(days=9))
    assert due.overdue_days == 2


def test_a_measure_that_started_before_it_was_recorded_starts_the_clock():
    record = _record(measure={"start_date": "2025-10-01"})
    assert started_on(record) == date(2025, 10, 1)
    assert started_on(_record(measure={"start_date": "2027-01-01"})) == date(2026, 12, 6)
    assert started_on(_record(measure=None)) == date(2026, 12, 6)


def test_verified_abandoned_and_deleted_improvements_are_not_asked(store):
    kept = _improvement(store, "Running", status="running")
    for status in ("verified", "abandoned"):
        _improvement(store, status.title(), status=status)
    gone = _improvement(store, "Deleted")
    store.improvements.delete(gone.id, who="ann", expected_version=gone.version)
    far = date(2030, 1, 1)
    assert [d.id for d in due_improvements(store, far)] == [kept.id]


def test_the_day_of_a_check_in_is_the_day_in_the_workspace_zone(store):
    imp = _improvement(store, "Late evening")
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 10 March, 00:30 in Berlin
    store.checkins.create(imp.id, who="ann", asked_at=late)
    berlin = ZoneInfo("Europe/Berlin")
    assert due_improvements(store, date(2026, 3, 16), zone=UTC)[0].due == date(2026, 3, 16)
    assert due_improvements(store, date(2026, 3, 16), zone=berlin) == []
    assert held_at(date(2026, 3, 10), berlin).astimezone(berlin).date() == date(2026, 3, 10)


def test_a_check_in_date_between_start_and_today():
    record = _record(measure={"start_date": "2025-10-01"})
    assert check_held_on(record, date(2025, 10, 1), TODAY) == date(2025, 10, 1)
    with pytest.raises(ConfigError, match="2026-03-21 is in the future"):
        check_held_on(record, TODAY + timedelta(days=1), TODAY)
    with pytest.raises(ConfigError, match=r"before improvement 1 started \(2025-10-01\)"):
        check_held_on(record, date(2025, 9, 30), TODAY)


def test_the_owner_must_be_a_user_with_did_you_mean(store):
    store.users.create("Maria Lopez", role="editor")
    store.users.create("Jonas Berg", role="editor")
    assert check_owner(store, "maria lopez") == "Maria Lopez"
    assert check_owner(store, None) is None and check_owner(store, "  ") is None
    with pytest.raises(NotFoundError, match="no user named 'Maria Lopes'") as caught:
        check_owner(store, "Maria Lopes")
    assert caught.value.hint == "Did you mean 'Maria Lopez'?"
    with pytest.raises(NotFoundError) as caught:
        check_owner(store, "Zed")
    assert "Maria Lopez, Jonas Berg" in caught.value.hint


def test_the_cadence_is_stored_and_an_unknown_one_refused(store):
    from salesflow.appdb.errors import InvalidRecordError

    imp = _improvement(store, "Monthly one", cadence="monthly")
    assert store.improvements.get(imp.id).cadence == "monthly"
    updated = store.improvements.update(imp.id, who="ann", expected_version=imp.version,
                                        cadence="fortnightly")  # fmt: skip
    assert updated.cadence == "fortnightly"
    assert store.improvements.history(imp.id)[-1].before["cadence"] == "monthly"
    with pytest.raises(InvalidRecordError, match="cadence 'daily' is unknown"):
        _improvement(store, "Daily", cadence="daily")


def _record(*, measure):
    from salesflow.appdb import ImprovementRecord

    base = ImprovementRecord(
        id=1, title="t", objective="o", why=None, theory=None, countermeasure=None,
        measure=None, status="running", owner=None, attacks=(), created_by="ann",
        created_at=datetime(2026, 12, 6, 10, tzinfo=UTC),
        updated_at=datetime(2026, 12, 6, 10, tzinfo=UTC), version=1, deleted_at=None,
    )  # fmt: skip
    return replace(base, measure=measure)


def test_the_demo_has_overdue_due_and_on_time_check_ins(seeded):
    from salesflow.workbench.service import Workbench

    with Workbench.open(seeded) as bench:
        owners = {u.name for u in bench.store.users.list()}
        records = {r.title: r for r in bench.store.improvements.list()}
        made = records["Lead routing within the hour"].created_at.date()  # the demo's today
        found = {d.title: d for d in schedules(bench.store, made)}
    assert {d.owner for d in found.values()} <= owners
    fast, checklist = found["Proposal fast-track"], found["Discovery call checklist"]
    routing = found["Lead routing within the hour"]
    assert (fast.cadence, fast.overdue_days, fast.last_checkin) == (
        "weekly",
        3,
        made - timedelta(10),
    )
    assert fast.objective_answer == "Proposals out within 5 days"
    assert (
        fast.method_answer == "All teams use the template; pricing approval same day"
    )  # as before
    assert (checklist.cadence, checklist.overdue_days) == ("fortnightly", 0)
    assert (routing.cadence, routing.last_checkin) == ("monthly", None)
    assert routing.due == next_due(made, "monthly") and routing.overdue_days < -27
