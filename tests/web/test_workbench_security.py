"""Workbench pages against hostile text, missing CSRF tokens, viewers and stale edits."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

EVIL_UDR = "<script>alert('udr')</script> 40% of deals stalled in Q3 2026"
EVIL_CAUSE = "</script><img src=x onerror=alert('cause')> reps skip discovery"


@pytest.fixture(scope="module")
def evil(wb_app):
    """A UDR and a cause whose texts are HTML, linked, and an improvement attacking the cause."""
    from web_helpers import client_for, csrf_of, login

    c = client_for(wb_app)
    login(c, "ann")
    h = {"X-CSRF-Token": csrf_of(c)}
    udr = c.post("/api/udrs", json={"statement": EVIL_UDR, "tags": ["<b>x</b>"]}, headers=h)
    cause = c.post("/api/causes", json={"text": EVIL_CAUSE}, headers=h).json()["id"]
    udr_id = udr.json()["udr"]["id"]
    c.post("/api/links", json={"effect": udr_id, "cause": cause, "text": "<i>why</i>"}, headers=h)
    c.post("/api/improvements", json={"objective": EVIL_CAUSE, "attacks": [cause]}, headers=h)
    return {"udr": udr_id, "cause": cause}


@pytest.mark.parametrize(
    "path",
    ["/", "/udrs", "/udrs?view=board", "/udrs/{udr}", "/causes", "/causes?node={udr}",
     "/causes/node/{cause}", "/improvements", "/improvements/new"],
)  # fmt: skip
def test_user_text_is_escaped_on_every_page(wb_user, evil, path):
    html = wb_user("ann").get(path.format(**evil)).text
    assert "<script>alert" not in html and "<img src=x" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select("img")  # the cause text never became an element
    assert all("alert(" not in (s.string or "") or s.get("type") == "application/json"
               for s in soup.select("script"))  # fmt: skip
    if "/causes" in path and "node/" not in path:
        graph = json.loads(soup.select_one("#cause-graph").string)
        texts = {n["text"] for n in graph["nodes"]}
        assert EVIL_UDR in texts and EVIL_CAUSE in texts  # intact as data, shown with textContent


def test_forms_need_the_csrf_token(wb_user, evil):
    ann = wb_user("ann")
    for path, data in (("/udrs", {"statement": "x 5% in Q3"}), ("/causes/why", {"effect": "1"}),
                       ("/improvements", {"objective": "x"}), (f"/udrs/{evil['udr']}/delete", {})):  # fmt: skip
        response = ann.post(path, data=data)
        assert response.status_code == 403 and "CSRF" in response.text, path
    assert ann.post("/api/udrs", json={"statement": "x"}).status_code == 403
    assert ann.get(f"/api/udrs/{evil['udr']}").json()["deleted_at"] is None


def test_viewers_see_pages_without_forms_and_their_posts_get_403(wb_user, evil):
    vic = wb_user("vic")
    for path in ("/udrs", f"/udrs/{evil['udr']}", f"/causes?node={evil['udr']}", "/improvements/1"):
        soup = BeautifulSoup(vic.get(path).text, "html.parser")
        forms = [f["action"] for f in soup.select("main form")]
        assert forms == [], (path, forms)
    posts = [("/udrs", {"statement": "x"}), ("/causes/why", {"effect": "1", "new_cause": "y"}),
             ("/improvements/1/checkins", {"note": "z"}), ("/improvements/1/status", {"status": "verified"})]  # fmt: skip
    for path, data in posts:
        response = vic.post(path, data={**data, "csrf_token": vic.csrf})
        assert response.status_code == 403 and "viewer" in response.text, path
    assert vic.get("/improvements/new").status_code == 403
    api = vic.post("/api/links", json={"effect": 1, "cause": 6}, headers={"X-CSRF-Token": vic.csrf})
    assert api.status_code == 403
    assert vic.get("/api/improvements/1").json()["status"] == "running"


def test_a_stale_edit_is_refused_with_409_and_overwrites_nothing(wb_user, evil):
    ann, ed = wb_user("ann"), wb_user("ed")
    udr = ann.post("/api/udrs", json={"statement": "Quotes took 9 days in Q3 2026"},
                   headers={"X-CSRF-Token": ann.csrf}).json()["udr"]  # fmt: skip
    read = ann.get(f"/udrs/{udr['id']}").text  # both open the page at the same version
    version = BeautifulSoup(read, "html.parser").select_one('input[name="version"]')["value"]
    first = {"statement": "Quotes took 9 days in Q3 2026, against 3 planned", "version": version,
             "csrf_token": ed.csrf}  # fmt: skip
    assert ed.post(f"/udrs/{udr['id']}", data=first, follow_redirects=False).status_code == 303
    late = {**first, "statement": "ann's late edit", "csrf_token": ann.csrf}
    response = ann.post(f"/udrs/{udr['id']}", data=late)
    assert response.status_code == 409
    problem = BeautifulSoup(response.text, "html.parser").select_one(".problem").get_text()
    assert "changed by ed" in problem and "nothing was saved" in problem
    assert ann.get(f"/api/udrs/{udr['id']}").json()["statement"] == first["statement"]
    api = ann.patch(f"/api/udrs/{udr['id']}", json={"version": int(version), "owner": "x"},
                    headers={"X-CSRF-Token": ann.csrf})  # fmt: skip
    assert api.status_code == 409 and "nothing was saved" in api.json()["error"]
    status = ann.put("/api/improvements/1/status", json={"status": "verified", "version": 999},
                     headers={"X-CSRF-Token": ann.csrf})  # fmt: skip
    assert status.status_code == 409
    assert ann.get("/api/improvements/1").json()["status"] == "running"


def test_delete_and_restore_a_udr(wb_user):
    ann = wb_user("ann")
    udr = ann.post("/api/udrs", json={"statement": "Quotes took 11 days in Q2 2026"},
                   headers={"X-CSRF-Token": ann.csrf}).json()["udr"]  # fmt: skip
    form = {"version": udr["version"], "csrf_token": ann.csrf}
    assert (
        ann.post(f"/udrs/{udr['id']}/delete", data=form, follow_redirects=False).status_code == 303
    )
    assert udr["id"] not in [u["id"] for u in ann.get("/api/udrs").json()["udrs"]]
    assert (
        "Quotes took 11 days"
        in BeautifulSoup(ann.get("/udrs").text, "html.parser")
        .select_one("main details.card")
        .get_text()
    )
    ann.post(f"/udrs/{udr['id']}/restore", data={"csrf_token": ann.csrf})
    assert udr["id"] in [u["id"] for u in ann.get("/api/udrs").json()["udrs"]]
    actions = [h["action"] for h in ann.get(f"/api/udrs/{udr['id']}/history").json()["history"]]
    assert actions == ["create", "delete", "restore"]
