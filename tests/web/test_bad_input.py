"""Bad input ends in a 4xx with salesflow's words, never a 500: NUL bytes, over-long names and
values, wrong types. (Schemathesis fuzzes the whole API in test_schemathesis.py; these are the
cases a reviewer found by hand.)"""

from __future__ import annotations

import pytest


@pytest.fixture
def ed(as_user):
    return as_user("ed")


@pytest.mark.parametrize(
    "url",
    [
        "/api/metrics/win_rate?filter=owner%3DA%00nn",
        "/api/metrics/win_rate?by=own%00er",
        "/api/metrics/win%00rate",
        "/api/requests?category=%00",
        "/api/flow?filter=segment%3D%00",
        "/measures?metric=win_rate&filter=owner%3D%00",
        "/api/udrs/lint?statement=a%00b",
    ],
)
def test_a_nul_byte_in_the_address_is_a_400(ed, url):
    r = ed.get(url, headers={"Accept": "application/json"})
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()["error"]


def test_a_nul_byte_in_a_body_is_a_4xx(ed):
    headers = {"X-CSRF-Token": ed.csrf}
    r = ed.post("/api/udrs", json={"statement": "Win rate\x00 was 18% in Q2"}, headers=headers)
    assert r.status_code == 400 and "NUL" in r.json()["error"]
    r = ed.post("/api/requests", json={"description": "a\x00b"}, headers=headers)
    assert 400 <= r.status_code < 500, r.text


@pytest.mark.parametrize(
    "name",
    ["a" * 300 + ".csv", "re\x00quests.csv", "../../" + "ü" * 200 + ".csv", "\x01\x02.csv"],
)
def test_odd_upload_names_are_kept_safe(ed, name):
    csv = b"request_id,received_at,description\nU-30,2026-09-03,three\n"
    r = ed.post("/api/imports", data={"table": "requests", "dry_run": "true"},
                files={"file": (name, csv)}, headers={"X-CSRF-Token": ed.csrf})  # fmt: skip
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        shown = r.json()["file"]
        assert len(shown.encode()) <= 110 and "/" not in shown and "\x00" not in shown


def test_over_long_names_and_wrong_types_are_422(as_user):
    ann = as_user("ann")
    headers = {"X-CSRF-Token": ann.csrf}
    r = ann.post(f"/api/accounts/{'x' * 300}/disable", headers=headers)
    assert r.status_code == 422
    r = ann.post("/api/accounts/vic/role", json={"role": ["admin"]}, headers=headers)
    assert r.status_code == 422
    assert ann.delete("/api/sessions/not-a-number", headers=headers).status_code == 422
    assert ann.delete(f"/api/tokens/{2**40}", headers=headers).status_code == 422


def test_the_openapi_document_says_how_to_sign_in_and_which_errors_come(anon):
    moved = anon.get("/openapi.json", follow_redirects=False)  # where tools look first
    assert moved.status_code == 308 and moved.headers["location"] == "/api/openapi.json"
    doc = anon.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert (
        schemes["session"]["in"] == "cookie" and schemes["session"]["name"] == "salesflow_session"
    )
    assert schemes["csrf"]["name"] == "X-CSRF-Token" and schemes["bearer"]["scheme"] == "bearer"
    operations = {(p, m): op for p, ms in doc["paths"].items() for m, op in ms.items()}
    assert all("security" in op and "401" in op["responses"] for op in operations.values())
    patch = operations[("/api/udrs/{udr_id}", "patch")]
    assert patch["security"] == [{"session": [], "csrf": []}, {"bearer": []}]
    assert {"400", "401", "403", "404", "422"} <= set(patch["responses"])
    read = operations[("/api/udrs", "get")]
    assert read["security"] == [{"session": []}, {"bearer": []}] and "403" not in read["responses"]
    error = doc["components"]["schemas"]["Error"]
    assert patch["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    # the documented 401 is the one that really comes
    r = anon.get("/api/udrs/1")
    assert r.status_code == 401 and set(r.json()) == set(error["properties"])
