"""Optimistic concurrency through HTTP: a real server (uvicorn in a thread) and twenty editors
sending the same version at once, with the app DB on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

N = 20


@contextmanager
def _running(app) -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    """An editor's API client of a real server on a new workspace."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web import create_app
    from salesflow.web.auth import hash_token, new_api_token
    from salesflow.workspace import init_workspace

    app_url = "sqlite:///app.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    init_workspace(tmp_path / "ws", app_url=app_url).close()
    settings = load_settings(tmp_path / "ws")
    token = new_api_token()
    with KnowledgeStore.open(settings.resolved_app_url()) as store:
        ed = store.users.create("ed", role="editor")
        store.users.add_token(ed.id, token_hash=hash_token(token), name="crm")
    with (
        _running(create_app(settings)) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client,
    ):
        yield client


def _at_once(send) -> list[httpx.Response]:
    start = threading.Barrier(N)

    def one(i: int) -> httpx.Response:
        start.wait()
        return send(i)

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(one, range(N)))


def test_twenty_parallel_patches_of_one_udr_version_one_wins(api):
    udr = api.post("/api/udrs", json={"statement": "Win rate was 24% in Q3"}).json()["udr"]
    assert udr["version"] == 1

    def patch(i: int) -> httpx.Response:
        if i % 2:  # half send the version in the body, half as If-Match
            return api.patch(f"/api/udrs/{udr['id']}", json={"version": 1, "owner": f"o{i}"})
        return api.patch(
            f"/api/udrs/{udr['id']}", json={"owner": f"o{i}"}, headers={"If-Match": '"1"'}
        )

    responses = _at_once(patch)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (N - 1), [r.text for r in responses if r.status_code != 409]
    winner = next(r.json()["udr"] for r in responses if r.status_code == 200)
    assert winner["version"] == 2
    for r in responses:
        if r.status_code == 409:
            body = r.json()
            assert "you edited version 1, it is now version 2" in body["error"]
            assert (body["current"]["owner"], body["current"]["version"]) == (winner["owner"], 2)
            assert r.headers["ETag"] == '"2"'
    shown = api.get(f"/api/udrs/{udr['id']}")
    assert shown.headers["ETag"] == '"2"' and shown.json()["owner"] == winner["owner"]
    history = api.get(f"/api/udrs/{udr['id']}/history").json()
    assert "history" in history, history
    history = history["history"]
    assert [h["action"] for h in history] == ["create", "update"]


def test_twenty_parallel_patches_of_one_request_version_one_wins(api):
    logged = api.post("/api/requests", json={"description": "Quote for 40 seats",
                                             "request_id": "CRM-1"})  # fmt: skip
    assert logged.status_code == 201, logged.text
    version = logged.json()["version"]
    responses = _at_once(
        lambda i: api.patch("/api/requests/CRM-1", json={"version": version, "category": f"c{i}"})
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (N - 1), [r.text for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert all(
        r.json()["current"]["category"] == winner["category"]
        for r in responses
        if r.status_code == 409
    )
    shown = api.get("/api/requests/CRM-1")
    assert shown.json()["category"] == winner["category"]
    assert shown.headers["ETag"] == f'"{winner["version"]}"'
    again = api.post("/api/requests", json={"description": "Replaced?", "request_id": "CRM-1"})
    assert again.status_code == 409 and "exists already" in again.json()["error"]
    assert again.json()["current"]["description"] == "Quote for 40 seats"
    assert api.get("/api/requests/CRM-1").json()["description"] == "Quote for 40 seats"


def test_a_change_must_name_its_version(api):
    udr = api.post("/api/udrs", json={"statement": "Win rate was 24% in Q3"}).json()["udr"]
    path = f"/api/udrs/{udr['id']}"
    missing = api.patch(path, json={"owner": "bob"})
    assert missing.status_code == 428 and "Say which version of UDR" in missing.json()["error"]
    assert api.delete(path).status_code == 428
    clash = api.patch(path, json={"version": 1, "owner": "bob"}, headers={"If-Match": '"2"'})
    assert clash.status_code == 400 and clash.json()["where"] == "If-Match"
    garbled = api.patch(path, json={"owner": "bob"}, headers={"If-Match": "*"})
    assert garbled.status_code == 400 and "does not name one version" in garbled.json()["error"]
    assert api.get(path).json()["version"] == 1  # none of them changed anything
    gone = api.delete(path, headers={"If-Match": api.get(path).headers["ETag"]})
    assert gone.status_code == 200 and gone.json()["deleted_at"]
    stale = api.delete(path, params={"version": 1})
    assert stale.status_code == 404  # deleted: nothing left to delete
    restored = api.post(f"{path}/restore")
    assert restored.status_code == 200 and restored.json()["version"] == 3
    cause = api.post("/api/causes", json={"text": "Leads wait a day"}).json()
    node = next(n for n in api.get("/api/causes").json()["nodes"] if n["id"] == cause["id"])
    assert node["version"] == 1
    link = api.post("/api/links", json={"effect": udr["id"], "cause": cause["id"]})
    assert link.status_code == 201
    twice = api.post("/api/links", json={"effect": udr["id"], "cause": cause["id"]})
    assert twice.status_code == 409 and "is already a cause of" in twice.json()["error"]


def test_the_openapi_document_shows_the_409s(api):
    paths = api.get("/api/openapi.json").json()["paths"]
    for path, method in [("/api/udrs/{udr_id}", "patch"), ("/api/udrs/{udr_id}", "delete"),
                         ("/api/udrs/{udr_id}/binding", "put"),
                         ("/api/causes/{node_id}", "delete"), ("/api/links/{link_id}", "delete"),
                         ("/api/improvements/{improvement_id}/status", "put"),
                         ("/api/requests/{request_id}", "patch")]:  # fmt: skip
        responses = paths[path][method]["responses"]
        assert {"409", "428"} <= set(responses), (path, method)
        names = {p["name"] for p in paths[path][method]["parameters"]}
        assert "If-Match" in names, (path, method)
    assert "409" in paths["/api/requests"]["post"]["responses"]
    assert "409" in paths["/api/links"]["post"]["responses"]


def test_a_form_sent_after_someone_saved_shows_what_is_stored_and_keeps_your_words(as_user):
    from bs4 import BeautifulSoup

    ann, ed = as_user("ann"), as_user("ed")
    udr = ann.post("/api/udrs", json={"statement": "Quotes took 11 days in Q2"},
                   headers={"X-CSRF-Token": ann.csrf}).json()["udr"]  # fmt: skip
    saved = ed.patch(f"/api/udrs/{udr['id']}", json={"statement": "Quotes took 12 days in Q2"},
                     headers={"X-CSRF-Token": ed.csrf, "If-Match": '"1"'})  # fmt: skip
    assert saved.status_code == 200
    form = {"csrf_token": ann.csrf, "version": "1", "statement": "Quotes took 14 days in Q2",
            "owner": "", "tags": ""}  # fmt: skip
    page = ann.post(f"/udrs/{udr['id']}", data=form, follow_redirects=False)
    assert page.status_code == 409
    soup = BeautifulSoup(page.text, "html.parser")
    edit = soup.select_one('form[data-testid="edit-udr"]')
    assert edit.select_one("textarea").get_text() == "Quotes took 12 days in Q2"
    assert edit.select_one('input[name="version"]')["value"] == "2"
    assert "you edited version 1, it is now version 2" in soup.get_text()
    assert soup.select_one('[data-testid="unsaved"] blockquote').get_text() == (
        "Quotes took 14 days in Q2"
    )
    no_version = ann.post(f"/udrs/{udr['id']}", data={**form, "version": ""})
    assert no_version.status_code == 428
    assert ann.get(f"/api/udrs/{udr['id']}").json()["statement"] == "Quotes took 12 days in Q2"
