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


def _upload(client, csv: bytes, **fields: str):
    from bs4 import BeautifulSoup

    r = client.post("/data/upload", data={"table": "opportunities", "csrf_token": client.csrf, **fields},
                    files={"file": ("d.csv", csv)})  # fmt: skip
    return r, BeautifulSoup(r.text, "html.parser")


AMBIGUOUS = b"opportunity_id,created_at\nDF-1,03/04/2026\nDF-2,05/06/2026\n"


def ambiguous(prefix: str) -> bytes:
    return AMBIGUOUS.replace(b"DF-", prefix.encode())


def test_a_date_the_form_cannot_guess_is_explained_in_the_forms_words(ed):
    r, page = _upload(ed, AMBIGUOUS)
    assert r.status_code == 400
    text = page.select_one(".problem").get_text(" ")
    assert "“Dates in the file”" in text and "day first" in text
    assert "--date-format" not in text and "salesflow import" not in text
    assert "row 1: 03/04/2026" in text and "mapping file" not in text
    r = _dry(ed, "d.csv", AMBIGUOUS, table="opportunities")  # the API keeps the core's words
    assert "--date-format" in r.json()["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("fields", "created"),
    [
        ({"date_format": "day-first"}, "2026-04-03"),
        ({"date_format": "month-first"}, "2026-03-04"),
        ({"date_format": "pattern", "date_pattern": "%d/%m/%Y"}, "2026-04-03"),
    ],
)
def test_the_form_reads_dates_day_first_month_first_or_by_pattern(ed, fields, created):
    prefix = f"D{len(fields)}{created[-1]}{fields['date_format'][:2]}-"  # new deals on each run
    r, page = _upload(ed, ambiguous(prefix), **fields)
    assert r.status_code == 200, page.get_text(" ")[:500]
    assert "2 new and 0 updated" in page.get_text()
    import re

    token = page.select_one("input[name=token]")["value"]
    done = ed.post("/data/import", data={"token": token, "csrf_token": ed.csrf})
    assert done.status_code == 200
    with ed.app.state.salesflow.data.reading() as con:
        stored = con.raw_sql(
            f"SELECT CAST(created_at AS DATE) FROM opportunities WHERE opportunity_id = '{prefix}1'"
        ).fetchone()[0]
    assert str(stored) == created and re.match(r"\d{4}-\d\d-\d\d", created)


def test_skip_invalid_sets_the_bad_rows_aside_with_a_download(ed):
    csv = b"opportunity_id,created_at,amount\nSK-1,2026-09-01,100\nSK-2,not a date,200\nSK-3,2026-09-02,x\n"
    r, page = _upload(ed, csv)
    assert r.status_code == 400  # all or nothing by default
    r, page = _upload(ed, csv, skip_invalid="on")
    assert r.status_code == 200, page.get_text(" ")[:500]
    note = page.select_one("[data-testid=rejected]")
    assert note.get_text(" ").startswith("2 rows do not pass")
    assert "uploads" not in page.get_text(" ")  # no server path shown
    download = ed.get(note.a["href"])
    assert download.status_code == 200, download.text[:300]
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    lines = download.text.strip().splitlines()
    assert len(lines) == 3 and "SK-2" in download.text and "SK-3" in download.text


def test_the_rejected_rows_stay_downloadable_after_the_import(ed):
    from bs4 import BeautifulSoup

    csv = b"opportunity_id,created_at,amount\nKP-1,2026-09-01,100\nKP-2,not a date,200\n"
    _, page = _upload(ed, csv, skip_invalid="on")
    token = page.select_one("input[name=token]")["value"]
    form = {"token": token, "csrf_token": ed.csrf}
    done = BeautifulSoup(ed.post("/data/import", data=form).text, "html.parser")
    note = done.select_one("[data-testid=rejected-after]")
    assert note.get_text(" ").startswith("1 row was set aside") and "24 hours" in note.get_text()
    download = ed.get(note.a["href"])
    assert download.status_code == 200 and "KP-2" in download.text and "KP-1" not in download.text
    again = ed.post("/data/import", data=form)  # the upload itself is gone: no second import
    assert again.status_code == 404 and "imported already" in again.text


def test_the_same_file_again_is_unchanged_not_updated(ed):
    csv = b"opportunity_id,created_at,amount\nUN-1,2026-09-01,10\nUN-2,2026-09-02,20\n"
    _, page = _upload(ed, csv)
    token = page.select_one("input[name=token]")["value"]
    done = ed.post("/data/import", data={"token": token, "csrf_token": ed.csrf})
    assert "2 new, 0 updated opportunities" in " ".join(done.text.split())
    _, page = _upload(ed, csv)
    assert "0 new and 0 updated opportunities (2 unchanged)" in " ".join(page.get_text().split())
    token = page.select_one("input[name=token]")["value"]
    done = ed.post("/data/import", data={"token": token, "csrf_token": ed.csrf})
    assert "0 new, 0 updated, 2 unchanged opportunities" in " ".join(done.text.split())
