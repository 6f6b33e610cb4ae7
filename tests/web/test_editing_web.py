"""Editing everywhere, in-process: improvements, causes and why-links edited, deleted and restored
through the pages and the API, with history, 428 without a version and 409 when it is stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from web_helpers import demo_with_accounts, signed_in

CAUSE_QUEUE = 6


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    """A knowledge demo of this module's own (the shared one stays as seeded)."""
    from salesflow.settings import load_settings
    from salesflow.web import create_app

    folder: Path = tmp_path_factory.mktemp("web-editing") / "demo"
    return create_app(
        load_settings(demo_with_accounts(demo_copy, folder, opportunities=1500, knowledge=True))
    )


@pytest.fixture
def ann(app):
    return signed_in(app)("ann")


def _h(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def _soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_the_improvement_api_edits_with_versions_and_keeps_the_old_verdict(ann):
    read = ann.get("/api/improvements/2")
    version, objective = int(read.headers["ETag"].strip('"')), read.json()["objective"]
    missing = ann.patch("/api/improvements/2", json={"objective": "x"}, headers=_h(ann))
    assert missing.status_code == 428
    edited = ann.patch("/api/improvements/2", json={"objective": "Win 45% without discounting"},
                       headers={**_h(ann), "If-Match": f'"{version}"'})  # fmt: skip
    assert edited.status_code == 200 and edited.json()["version"] == version + 1
    stale = ann.patch("/api/improvements/2", json={"version": version, "why": "late"},
                      headers=_h(ann))  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["current"]["objective"] == "Win 45% without discounting"

    old_verdict = read.json()["verdict"]["verdict"]
    rebound = ann.patch("/api/improvements/2", headers=_h(ann), json={
        "version": version + 1, "metric": "stage_time", "filters": {"stage": "Proposal"},
        "bad_if": "above", "start": "2025-10-01"})  # fmt: skip
    assert rebound.status_code == 200, rebound.text
    history = ann.get("/api/improvements/2/history").json()["history"]
    assert [h["action"] for h in history[-2:]] == ["update", "update"]
    assert history[-2]["before"]["objective"] == objective
    assert history[-1]["before"]["verdict"]["verdict"] == old_verdict
    assert history[-1]["before"]["measure"]["metric"] == "win_rate"

    gone = ann.delete("/api/improvements/2", params={"version": version + 2}, headers=_h(ann))
    assert gone.status_code == 200 and ann.get("/api/improvements/2").status_code == 404
    assert ann.post("/api/improvements/2/restore", headers=_h(ann)).status_code == 200
    assert ann.get("/api/improvements/2").status_code == 200


def test_the_cause_and_link_api_edit_delete_restore_with_history(ann):
    node = next(n for n in ann.get("/api/causes").json()["nodes"] if n["id"] == CAUSE_QUEUE)
    edited = ann.patch(f"/api/causes/{CAUSE_QUEUE}", headers=_h(ann),
                       json={"text": "Leads queue for a manager", "version": node["version"]})  # fmt: skip
    assert edited.status_code == 200 and edited.json()["text"] == "Leads queue for a manager"
    stale = ann.patch(f"/api/causes/{CAUSE_QUEUE}", headers=_h(ann),
                      json={"text": "late", "version": node["version"]})  # fmt: skip
    assert stale.status_code == 409 and stale.json()["current"]["text"] == edited.json()["text"]
    assert ann.delete(f"/api/causes/{CAUSE_QUEUE}", headers=_h(ann),
                      params={"version": edited.json()["version"]}).status_code == 200  # fmt: skip
    assert ann.post(f"/api/causes/{CAUSE_QUEUE}/restore", headers=_h(ann)).status_code == 200
    actions = [h["action"] for h in ann.get(f"/api/causes/{CAUSE_QUEUE}/history").json()["history"]]
    assert actions[-3:] == ["update", "delete", "restore"]

    link = next(x for x in ann.get("/api/causes").json()["links"] if x["cause"] == CAUSE_QUEUE)
    changed = ann.patch(f"/api/links/{link['id']}", headers=_h(ann),
                        json={"text": "they wait a day", "version": link["version"]})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["text"] == "they wait a day"
    assert ann.patch(f"/api/links/{link['id']}", headers=_h(ann),
                     json={"text": "late", "version": link["version"]}).status_code == 409  # fmt: skip
    assert ann.delete(f"/api/links/{link['id']}", headers=_h(ann),
                      params={"version": changed.json()["version"]}).status_code == 200  # fmt: skip
    assert ann.post(f"/api/links/{link['id']}/restore", headers=_h(ann)).status_code == 200
    history = ann.get(f"/api/links/{link['id']}/history").json()["history"]
    assert [h["action"] for h in history[-3:]] == ["update", "delete", "restore"]


def test_the_improvement_page_edits_and_refuses_a_stale_form_showing_what_is_stored(app):
    ann, ed = signed_in(app)("ann"), signed_in(app)("ed")
    page = _soup(ann.get("/improvements/3"))
    form = page.select_one('[data-testid="edit-improvement"]')
    fields = {i["name"]: i.get("value", "") for i in form.select("input")}
    fields.update({t["name"]: t.get_text() for t in form.select("textarea")})
    fields.update({"owner": "Priya Shah", "cadence": "monthly"})
    first = {**fields, "objective": "Answer every new lead within 2 hours", "csrf_token": ed.csrf}
    assert ed.post("/improvements/3/edit", data=first, follow_redirects=False).status_code == 303
    late = {**fields, "objective": "ann's late wording", "csrf_token": ann.csrf}
    refused = ann.post("/improvements/3/edit", data=late)
    assert refused.status_code == 409
    shown = _soup(refused)
    assert "changed by ed" in shown.select_one(".problem").get_text()
    assert "ann's late wording" in shown.select_one('[data-testid="unsaved"]').get_text()
    assert shown.select_one("#edit-objective").get_text() == "Answer every new lead within 2 hours"
    history = _soup(ann.get("/improvements/3")).select_one('[data-testid="history"]').get_text()
    assert "ed changed it" in " ".join(history.split()) and "objective" in history

    version = _soup(ann.get("/improvements/3")).select_one('input[name="version"]')["value"]
    gone = ann.post("/improvements/3/delete", data={"version": version, "csrf_token": ann.csrf},
                    follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    listed = _soup(ann.get("/improvements")).select_one('[data-testid="deleted-improvements"]')
    assert "Lead routing within the hour" in listed.get_text()
    back = ann.post("/improvements/3/restore", data={"csrf_token": ann.csrf},
                    follow_redirects=False)  # fmt: skip
    assert back.status_code == 303 and ann.get("/improvements/3").status_code == 200


def test_a_cause_is_reworded_deleted_and_restored_from_its_panel(ann):
    node = 7  # "nobody owns …": a cause in the demo
    panel = _soup(ann.get("/causes", params={"node": node}))
    version = panel.select_one('[data-testid="edit-cause"] input[name="version"]')["value"]
    saved = ann.post(f"/causes/{node}/edit", follow_redirects=False,
                     data={"text": "Nobody owns a lead's first call", "version": version,
                           "csrf_token": ann.csrf})  # fmt: skip
    assert saved.status_code == 303
    stale = ann.post(f"/causes/{node}/edit", data={"text": "late", "version": version,
                                                   "csrf_token": ann.csrf})  # fmt: skip
    assert stale.status_code == 409
    assert "late" in _soup(stale).select_one('[data-testid="unsaved"]').get_text()
    assert _soup(stale).select_one("#cause-text").get_text() == "Nobody owns a lead's first call"
    current = _soup(ann.get("/causes", params={"node": node}))
    version = current.select_one('[data-testid="edit-cause"] input[name="version"]')["value"]
    assert ann.post(f"/causes/{node}/delete", data={"version": version, "csrf_token": ann.csrf},
                    follow_redirects=False).status_code == 303  # fmt: skip
    deleted = _soup(ann.get("/causes")).select_one('[data-testid="deleted-causes"]').get_text()
    assert "Nobody owns a lead's first call" in deleted
    assert ann.post(f"/causes/{node}/restore", data={"csrf_token": ann.csrf},
                    follow_redirects=False).status_code == 303  # fmt: skip
    history = _soup(ann.get("/causes", params={"node": node})).select_one('[data-testid="history"]')
    words = " ".join(history.get_text().split())
    assert "ann restored it" in words and "ann deleted it" in words and "ann changed it" in words


def test_a_why_is_reworded_removed_and_restored_from_the_panel(ann):
    effect = 1  # UDR "deals we first answered after more than 48 hours …"
    box = _soup(ann.get("/causes", params={"node": effect})).select_one('[data-testid="edit-link"]')
    link = box["action"].split("/")[3]
    fields = {i["name"]: i.get("value", "") for i in box.select("input")}
    saved = ann.post(f"/causes/links/{link}/edit", follow_redirects=False,
                     data={**fields, "text": "the morning assignment is late", "group": ""})  # fmt: skip
    assert saved.status_code == 303
    assert ann.post(f"/causes/links/{link}/edit", data=fields).status_code == 409  # stale
    panel = _soup(ann.get("/causes", params={"node": effect}))
    version = panel.select_one('[data-testid="edit-link"] input[name="version"]')["value"]
    assert "the morning assignment is late" in panel.select_one(".link-box").get_text()
    gone = ann.post(f"/causes/links/{link}/delete", follow_redirects=False,
                    data={"version": version, "node": effect, "csrf_token": ann.csrf})  # fmt: skip
    assert gone.status_code == 303
    removed = _soup(ann.get("/causes", params={"node": effect})).select_one(
        '[data-testid="removed-whys"]'
    )
    assert "the morning assignment is late" in removed.get_text()
    back = ann.post(f"/causes/links/{link}/restore", follow_redirects=False,
                    data={"node": effect, "csrf_token": ann.csrf})  # fmt: skip
    assert back.status_code == 303
    history = [h["action"] for h in ann.get(f"/api/links/{link}/history").json()["history"]]
    assert history[-3:] == ["update", "delete", "restore"]


def test_measure_it_differently_keeps_the_old_verdict_and_a_bad_measure_stores_nothing(ann):
    before = ann.get("/api/improvements/1").json()
    form = _soup(ann.get("/improvements/1")).select_one('[data-testid="measure-improvement"]')
    fields = {i["name"]: i.get("value", "") for i in form.select("input")}
    for select in form.select("select"):
        chosen = select.select_one("option[selected]") or select.option
        fields[select["name"]] = chosen.get("value", chosen.get_text())
    assert (fields["metric"], fields["start"]) == ("stage_time", "2025-10-01")  # prefilled
    rows = {"fcol": ["stage", "regoin"], "fval": ["Proposal", "EMEA"]}
    bad = ann.post("/improvements/1/measure", data={**fields, **rows})
    assert (
        bad.status_code in (400, 404) and "regoin" in _soup(bad).select_one(".problem").get_text()
    )
    assert ann.get("/api/improvements/1").json()["version"] == before["version"]
    saved = ann.post("/improvements/1/measure", follow_redirects=False,
                     data={**fields, "fcol": ["stage"], "fval": ["Negotiation"]})  # fmt: skip
    assert saved.status_code == 303
    last = ann.get("/api/improvements/1/history").json()["history"][-1]
    assert last["before"]["verdict"]["verdict"] == before["verdict"]["verdict"]
    assert last["after"]["measure"]["filters"] == {"stage": "Negotiation"}
