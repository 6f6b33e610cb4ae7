"""Check-ins due in the browser: Home's "Check-ins due", the improvement page's cadence and
next-due line, the check-in form's date, and the new-improvement form's owner and cadence.

The demo's recent check-ins are dated back from the day it was seeded (this session's today):
the Proposal fast-track is 3 days overdue, the discovery checklist due today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

FAST_TRACK, CHECKLIST, ROUTING = 1, 2, 3


@pytest.fixture
def ann(wb_user):
    return wb_user("ann")


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _today(wb_app):
    return wb_app.state.salesflow.web.settings.today()


def test_home_lists_the_check_ins_due_with_owner_and_days_overdue(ann, wb_app):
    due = {d["id"]: d for d in ann.get("/api/home").json()["due"]}
    assert (due[FAST_TRACK]["owner"], due[FAST_TRACK]["overdue_days"]) == ("Jonas Berg", 3)
    assert (due[CHECKLIST]["owner"], due[CHECKLIST]["overdue_days"]) == ("Maria Lopez", 0)
    assert ROUTING not in due  # monthly, recorded today: on time
    rows = soup_of(ann.get("/")).select('[data-testid="due"] tbody tr')
    by_title = {r.a.get_text(): r for r in rows}
    fast = by_title["Proposal fast-track"]
    assert fast.a["href"] == f"/improvements/{FAST_TRACK}#checkins"
    assert "Jonas Berg" in fast.get_text() and "3 days overdue" in fast.get_text()
    assert "due today" in by_title["Discovery call checklist"].get_text()
    assert "Lead routing within the hour" not in by_title


def test_a_check_in_held_earlier_moves_the_next_due_date(ann, wb_app):
    today = _today(wb_app)
    page = soup_of(ann.get(f"/improvements/{CHECKLIST}"))
    assert "Asked again fortnightly" in page.select_one('[data-testid="schedule"]').get_text()
    assert "check-in due today" in page.select_one('[data-testid="schedule"]').get_text()
    held = page.select_one("#held_on")
    assert held["type"] == "date" and held["value"] == held["max"] == today.isoformat()
    form = page.select_one('[data-testid="checkin-form"]')  # the last answers, to change
    assert "85% of deals" in form.select_one('textarea[name="method"]').get_text()

    earlier = today - timedelta(days=3)
    answer = {"answered_by": "Maria Lopez", "held_on": earlier.isoformat(),
              "objective": "Win more deals without discounting", "method": "Checklist in CRM",
              "measure": "Monthly win rate: no change yet", "csrf_token": ann.csrf}  # fmt: skip
    saved = ann.post(f"/improvements/{CHECKLIST}/checkins", data=answer, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    page = soup_of(ann.get(f"/improvements/{CHECKLIST}"))
    line = page.select_one('[data-testid="schedule"]').get_text(" ", strip=True)
    assert f"next check-in due {(earlier + timedelta(days=14)).isoformat()}" in line
    latest = page.select_one('[data-testid="timeline"] li')
    assert earlier.isoformat() in latest.select_one(".when").get_text()
    assert [
        p.get_text(" ", strip=True) for p in latest.select("p") if p.select(".tag-changed")
    ] == ["2 Checklist in CRM changed"]
    assert CHECKLIST not in {d["id"] for d in ann.get("/api/home").json()["due"]}


def test_a_check_in_date_in_the_future_is_refused_with_the_form_kept(ann, wb_app):
    tomorrow = _today(wb_app) + timedelta(days=1)
    answer = {"held_on": tomorrow.isoformat(), "method": "Will do", "csrf_token": ann.csrf}
    response = ann.post(f"/improvements/{ROUTING}/checkins", data=answer)
    assert response.status_code == 400
    assert f"The check-in date {tomorrow} is in the future" in response.text
    kept = soup_of(response)
    assert kept.select_one('textarea[name="method"]').get_text() == "Will do"
    assert kept.select_one("#held_on")["value"] == tomorrow.isoformat()
    api = ann.post(f"/api/improvements/{ROUTING}/checkins", json={"held_on": "2020-01-01"},
                   headers={"X-CSRF-Token": ann.csrf})  # fmt: skip
    assert api.status_code == 400 and "before improvement 3 started" in api.json()["error"]
    assert ann.get(f"/api/improvements/{ROUTING}").json()["checkins"] == []


def test_the_new_improvement_form_takes_an_owner_and_a_cadence(ann):
    page = soup_of(ann.get("/improvements/new"))
    assert [o.get_text() for o in page.select("#cadence option")] == [
        "weekly", "fortnightly", "monthly"
    ]  # fmt: skip
    assert "Maria Lopez" in {o["value"] for o in page.select("#people option")}
    form = {"objective": "Answer every contract change in a day", "owner": "Priya Shah",
            "cadence": "monthly", "csrf_token": ann.csrf}  # fmt: skip
    saved = ann.post("/improvements", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    page = soup_of(ann.get(saved.headers["location"]))
    assert "Asked again monthly" in page.select_one('[data-testid="schedule"]').get_text()
    wrong = ann.post("/improvements", data={**form, "owner": "Priya Sha"})
    assert wrong.status_code == 404 and "Did you mean &#39;Priya Shah&#39;?" in wrong.text
    assert soup_of(wrong).select_one("#objective").get_text() == form["objective"]
