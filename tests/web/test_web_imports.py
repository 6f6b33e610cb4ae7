"""Import options through the web API, and a workbook bomb refused without waiting for the data."""

from __future__ import annotations

import threading
import zipfile

import pytest


@pytest.fixture
def ed(as_user):
    return as_user("ed")


def _dry(client, name: str, content: bytes, **fields: str):
    return client.post("/api/imports", data={"dry_run": "true", **fields},
                       files={"file": (name, content)}, headers={"X-CSRF-Token": client.csrf})  # fmt: skip


def test_thousands_separator_through_the_api(ed):
    csv = b'opportunity_id,created_at,amount\nTH-1,2026-09-01,"12,500"\n'
    r = _dry(ed, "k.csv", csv, table="opportunities")
    assert r.status_code == 400
    reason = r.json()["problems"][0]["reason"]
    assert "--thousands ," in reason and "--decimal-comma" in reason
    r = _dry(ed, "k.csv", csv, table="opportunities", decimal_comma="on")
    assert r.status_code == 400 and "could be 12500" in r.json()["problems"][0]["reason"]
    r = _dry(ed, "k.csv", csv, table="opportunities", thousands=",")
    assert r.status_code == 200 and r.json()["inserted"] == 1
    r = _dry(ed, "k.csv", csv, table="opportunities", thousands="#")
    assert r.status_code == 400 and "not a thousands separator" in r.json()["error"]


def test_replace_history_through_the_api(ed, app):
    with app.state.salesflow.data.reading() as con:
        deal, created = con.raw_sql(
            "SELECT opportunity_id, created_at FROM opportunities WHERE opportunity_id IN "
            "(SELECT opportunity_id FROM stage_events) ORDER BY 1 LIMIT 1"
        ).fetchone()
    line = f"{deal},{app.state.salesflow.web.settings.stages.order[0]},{created.date()} 23:59:59\n"
    csv = b"opportunity_id,stage,entered_at\n" + line.encode()
    added = _dry(ed, "e.csv", csv, table="stage_events")
    assert added.status_code == 200, added.text
    assert (added.json()["inserted"], added.json()["updated"]) == (1, 0)  # added to the history
    replaced = _dry(ed, "e.csv", csv, table="stage_events", replace_history="true")
    assert (replaced.json()["inserted"], replaced.json()["updated"]) == (0, 1)  # the deal's history


def test_a_workbook_bomb_is_refused_while_the_data_is_busy(ed, app, tmp_path, monkeypatch):
    import openpyxl

    from salesflow.ingest import excel

    book = openpyxl.Workbook()
    book.active.append(["opportunity_id", "created_at"])
    for i in range(500):
        book.active.append([f"B{i}", "2026-09-01"])
    book.save(tmp_path / "big.xlsx")
    unpacked = sum(i.file_size for i in zipfile.ZipFile(tmp_path / "big.xlsx").infolist())
    monkeypatch.setattr(excel, "LIMITS", excel.ExcelLimits(unpacked_bytes=unpacked // 2))
    data = app.state.salesflow.data
    result = {}

    def upload() -> None:
        result["r"] = _dry(
            ed, "big.xlsx", (tmp_path / "big.xlsx").read_bytes(), table="opportunities"
        )

    with data.writing(changes=False):  # someone else is importing: the data is busy
        worker = threading.Thread(target=upload)
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "the refusal waited for the data lock"
    r = result["r"]
    assert r.status_code == 400 and "unpacks to" in r.json()["error"]
    assert "Save the sheet as CSV" in r.json()["hint"]


def test_the_data_page_offers_the_options_and_the_form_passes_them(ed):
    from bs4 import BeautifulSoup

    page = BeautifulSoup(ed.get("/data").text, "html.parser")
    assert [o["value"] for o in page.select("#thousands option")] == ["", ",", ".", " ", "'"]
    assert page.select_one("#replace_history")["name"] == "replace_history"
    csv = b'opportunity_id,created_at,amount\nTH-2,2026-09-01,"12,500"\n'
    r = ed.post("/data/upload", data={"table": "opportunities", "thousands": ",", "csrf_token": ed.csrf},
                files={"file": ("k.csv", csv)})  # fmt: skip
    assert (
        r.status_code == 200
        and "1 new and 0 updated" in BeautifulSoup(r.text, "html.parser").get_text()
    )
