"""The request log: quick entry, webhook, escaping, Pareto, stale edits; uploads via the importer."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from web_helpers import client_for


@pytest.fixture
def ed(as_user):
    return as_user("ed")


def _pareto(client) -> dict[str, int]:
    return {r["name"]: r["count"] for r in client.get("/api/requests/pareto").json()["categories"]}


def test_quick_entry_lands_on_top_and_in_the_pareto(ed):
    before = _pareto(ed)
    r = ed.post(
        "/requests",
        data={"description": "Needs a quote for 40 seats", "category": "pricing and quotes",
              "channel": "phone", "requester_type": "customer", "csrf_token": ed.csrf},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    soup = BeautifulSoup(r.text, "html.parser")
    assert "Needs a quote for 40 seats" in soup.select_one('[data-testid="logged"]').get_text()
    first = soup.select_one('[data-testid="request-list"] tbody tr').get_text()
    assert "Needs a quote for 40 seats" in first and "ed" in first  # handled_by defaults to ed
    after = _pareto(ed)
    assert after["pricing and quotes"] == before["pricing and quotes"] + 1
    assert sum(after.values()) == sum(before.values()) + 1
    # the sticky fields keep the channel for the next request
    assert soup.select_one("#channel option[selected]").get_text() == "phone"


def test_user_text_is_escaped_in_pages_and_charts(ed):
    evil = "<script>alert('x')</script>"
    r = ed.post("/api/requests", json={"description": evil, "category": "</script><b>cat"},
                headers={"X-CSRF-Token": ed.csrf})  # fmt: skip
    assert r.status_code == 201, r.text
    html = ed.get("/requests").text
    assert evil not in html and "</script><b>cat" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    soup = BeautifulSoup(html, "html.parser")
    assert not [s for s in soup.find_all("script") if "alert" in (s.string or "")
                and s.get("type") != "application/json"]  # fmt: skip
    figure = json.loads(soup.select_one('[data-testid="pareto-chart"] script').string)
    assert "</script><b>cat" in figure["data"][0]["x"]  # the name survives as data


def test_webhook_with_token_and_validation(ed, demo_path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_token, new_api_token

    token = new_api_token()
    with KnowledgeStore.open(load_settings(demo_path).resolved_app_url()) as store:
        store.users.add_token(
            store.users.by_name("ed").id, token_hash=hash_token(token), name="crm"
        )
    hook = client_for(ed.app, raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {token}"}
    body = {"description": "Contract change: add 5 users", "account": "Acme", "request_id": "CRM-77",
            "received_at": "2026-09-29 10:15"}  # fmt: skip
    r = hook.post("/api/requests", json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["request_id"] == "CRM-77" and r.json()["received_at"] == "2026-09-29 10:15:00"
    r = hook.post("/api/requests", json={"account": "Acme"}, headers=auth)
    assert r.status_code == 422 and r.json()["where"] == "body.description"
    r = hook.post("/api/requests", json={**body, "colour": "red"}, headers=auth)
    assert r.status_code == 422 and r.json()["where"] == "body.colour"
    r = hook.post("/api/requests", json={**body, "request_id": "CRM-78", "received_at": "someday"},
                  headers=auth)  # fmt: skip
    assert r.status_code == 400 and r.json()["problems"][0]["column"] == "received_at"
    assert hook.post("/api/requests", json=body).status_code == 401


def test_stale_edit_is_refused(ed, as_user):
    ann = as_user("ann")
    row = ed.post("/api/requests", json={"description": "Where is my invoice?"},
                  headers={"X-CSRF-Token": ed.csrf}).json()  # fmt: skip
    rid, old = row["request_id"], row["version"]
    r = ann.patch(f"/api/requests/{rid}", json={"version": old, "category": "billing"},
                  headers={"X-CSRF-Token": ann.csrf})  # fmt: skip
    assert r.status_code == 200 and r.json()["category"] == "billing"
    assert r.json()["version"] != old and r.json()["description"] == "Where is my invoice?"
    r = ed.patch(f"/api/requests/{rid}", json={"version": old, "category": "other"},
                 headers={"X-CSRF-Token": ed.csrf})  # fmt: skip
    assert r.status_code == 409
    assert "changed by someone else" in r.json()["error"]
    assert (
        ed.get("/api/requests", params={"category": "billing"}).json()["requests"][0]["request_id"]
        == rid
    )
    r = ed.patch("/api/requests/NOPE", json={"version": "x"}, headers={"X-CSRF-Token": ed.csrf})
    assert r.status_code == 404


def test_viewer_sees_no_entry_form_and_cannot_post(as_user):
    vic = as_user("vic")
    soup = BeautifulSoup(vic.get("/requests").text, "html.parser")
    assert soup.select_one('[data-testid="quick-form"]') is None
    r = vic.post("/api/requests", json={"description": "x"}, headers={"X-CSRF-Token": vic.csrf})
    assert r.status_code == 403


def _upload(client, name: str, content: bytes, table: str = "requests", path: str = "/data/upload"):
    return client.post(
        path,
        data={"table": table, "csrf_token": client.csrf},
        files={"file": (name, content, "text/csv")},
    )


def test_upload_shows_bad_rows_and_writes_nothing(ed):
    rows = ed.get("/api/status").json()["tables"]["requests"]["rows"]
    csv = b"request_id,received_at,description\nU-1,2026-09-01,fine\nU-2,not a date,broken\n"
    r = _upload(ed, "log.csv", csv)
    assert r.status_code == 400
    items = [
        li.get_text()
        for li in BeautifulSoup(r.text, "html.parser").select('[data-testid="problems"] li')
    ]
    assert len(items) == 1 and "row 2" in items[0] and "received_at" in items[0]
    assert ed.get("/api/status").json()["tables"]["requests"]["rows"] == rows


def test_upload_preview_then_confirm(ed):
    rows = ed.get("/api/status").json()["tables"]["requests"]["rows"]
    csv = b"request_id,received_at,description\nU-10,2026-09-01,one\nU-11,2026-09-02,two\n"
    soup = BeautifulSoup(_upload(ed, "log.csv", csv).text, "html.parser")
    assert "2 new and 0 updated" in soup.get_text()
    assert ed.get("/api/status").json()["tables"]["requests"]["rows"] == rows  # not yet
    token = soup.select_one('input[name="token"]')["value"]
    r = ed.post("/data/import", data={"token": token, "csrf_token": ed.csrf})
    assert r.status_code == 200 and "Imported log.csv: 2 new" in r.text
    assert ed.get("/api/status").json()["tables"]["requests"]["rows"] == rows + 2
    r = ed.post("/data/import", data={"token": token, "csrf_token": ed.csrf})
    assert r.status_code == 404 and "expired or was imported already" in r.text


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("evil.exe", b"MZ...", "is not a CSV"),
        ("data.csv", b"\x00\x01\x02binary", "does not look like a csv"),
        ("book.xlsx", b"request_id\n1\n", "does not look like a excel"),
    ],
)
def test_upload_type_is_checked(ed, name, content, words):
    r = _upload(ed, name, content, path="/api/imports")
    assert r.status_code == 400 and words in r.json()["error"]


def test_upload_size_is_limited(demo_path):
    from dataclasses import replace

    from salesflow.settings import load_settings
    from salesflow.web.app import create_app
    from salesflow.web.config import web_settings

    web = replace(web_settings(load_settings(demo_path)), max_upload_mb=0.01)
    client = client_for(create_app(web), raise_server_exceptions=False)
    r = client.post("/api/imports", files={"file": ("big.csv", b"a,b\n" * 100_000)})
    assert r.status_code == 413 and "upload limit" in r.json()["error"]


def test_api_import_dry_run(ed):
    csv = b"request_id,received_at,description\nU-20,2026-09-03,three\n"
    r = ed.post("/api/imports", data={"table": "requests", "dry_run": "true"},
                files={"file": ("x.csv", csv)}, headers={"X-CSRF-Token": ed.csrf})  # fmt: skip
    assert r.status_code == 200 and r.json()["dry_run"] is True and r.json()["inserted"] == 1
    assert r.json()["file"] == "x.csv"


def test_api_import_of_a_european_export_says_which_option_it_needs(ed):
    csv = "opportunity_id;created_at;account;amount\nEU-1;2026-09-01;Müller;1.234,50\n"

    def dry(**options: str):
        return ed.post("/api/imports", data={"table": "opportunities", "dry_run": "true", **options},
                       files={"file": ("eu.csv", csv.encode("latin-1"))},
                       headers={"X-CSRF-Token": ed.csrf})  # fmt: skip

    r = dry()
    assert r.status_code == 400 and "--encoding latin-1" in r.json()["hint"]
    r = dry(encoding="latin-1")
    assert r.status_code == 400 and "decimal comma" in r.json()["problems"][0]["reason"]
    r = dry(encoding="latin-1", decimal_comma="on")
    assert r.status_code == 200 and r.json()["inserted"] == 1
    assert dry(encoding="klingon").status_code == 400


def test_a_request_logged_without_a_time_gets_the_workspace_clock(workspace):
    """Kiritimati is UTC+14: its date is never the UTC date at 10:00-24:00 UTC, so a request
    stamped with UTC (or the server's zone) would land on the wrong day."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from salesflow.settings import CONFIG_FILE, load_settings
    from salesflow.web.data import DataAccess
    from salesflow.web.requests_log import log_request

    config = workspace.path / CONFIG_FILE
    config.write_text(config.read_text().replace('"UTC"', '"Pacific/Kiritimati"'))
    workspace.close()
    data = DataAccess(load_settings(workspace.path))
    row = log_request(data, {"description": "Where is my invoice?"}, who="ed")
    stamped = datetime.fromisoformat(str(row["received_at"]))
    there = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).replace(tzinfo=None)
    assert abs(stamped - there) < timedelta(minutes=2)
