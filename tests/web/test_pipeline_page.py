"""The Pipeline page: the waterfall chart and table from deal history, and its JSON twin."""

from __future__ import annotations

import json
from datetime import date

import pytest
from bs4 import BeautifulSoup
from web_helpers import PASSWORD, signed_in

HEADER = "opportunity_id,created_at,owner,stage,amount,close_date\n"
WEEKS = {
    date(2025, 6, 30): "A,2025-06-01,Ann,Qualified,1000,2025-08-15\nB,2025-06-20,Bob,Proposal,5000,2025-09-10\n",
    date(2025, 8, 4): "A,2025-06-01,Ann,Qualified,1000,2025-10-15\nB,2025-06-20,Bob,Won,5200.25,2025-08-01\n"
                      "C,2025-07-20,Ann,Lead,300,2025-09-30\n",
}  # fmt: skip


def app_with(folder, weeks: dict):
    """A workspace at ``folder`` holding the snapshot ``weeks`` and a viewer, and its web app."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.ingest import import_file
    from salesflow.settings import load_settings
    from salesflow.web import create_app
    from salesflow.web.auth import hash_password
    from salesflow.workspace import Workspace, init_workspace

    init_workspace(folder / "ws").close()
    core = Workspace.open(folder / "ws")
    for day, rows in weeks.items():
        path = folder / f"{day}.csv"
        path.write_text(HEADER + rows, encoding="utf-8")
        import_file(core, "opportunities", path, snapshot_date=day)
    core.close()
    settings = load_settings(folder / "ws")
    with KnowledgeStore.open(settings.resolved_app_url()) as store:
        store.users.create("vic", role="viewer", password_hash=hash_password(PASSWORD))
    return create_app(settings)


@pytest.fixture(scope="module")
def history_app(tmp_path_factory):
    return app_with(tmp_path_factory.mktemp("pipeline"), WEEKS)


def test_the_page_draws_the_latest_quarters_waterfall(history_app):
    vic = signed_in(history_app)("vic")
    html = vic.get("/pipeline").text
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("#pl-period")["value"] == "2025-Q3"
    figure = json.loads(soup.select_one('[data-testid="waterfall-chart"] script').string)
    trace = figure["data"][0]
    assert trace["type"] == "waterfall" and trace["measure"][-1] == "total"
    # start 6,000; created 300; pushed out 1,000; won 5,200.25 (+200.25): the end is 300
    assert trace["y"][:6] == [6000.0, 300.0, 0.0, -1000.0, -5200.25, 0.0]
    rows = [
        [td.get_text() for td in tr.select("td")]
        for tr in soup.select('[data-testid="waterfall"] tbody tr')
    ]
    assert rows[-1] == ["Pipeline at the end", "1", "300.00"]
    owners = [
        tr.select_one("td").get_text() for tr in soup.select('[data-testid="by-owner"] tbody tr')
    ]
    assert sorted(owners) == ["Ann", "Bob"]
    assert "salesflow " not in soup.select_one("main").get_text()  # no command-line syntax


def test_the_json_twin_and_a_bad_period(history_app):
    vic = signed_in(history_app)("vic")
    doc = vic.get("/api/pipeline", params={"period": "2025-08"}).json()
    assert (doc["won"]["count"], doc["won"]["amount"]) == (1, 5200.25)
    html = vic.get("/pipeline", params={"period": "next quarter"}).text
    assert "is not a period" in html and "2025-Q3" in html


def test_without_history_the_page_says_what_to_upload(tmp_path):
    html = signed_in(app_with(tmp_path, {}))("vic").get("/pipeline").text
    assert 'data-testid="no-history"' in html and "Data page" in html


def test_the_demo_shows_its_last_quarter(as_user):
    soup = BeautifulSoup(as_user("vic").get("/pipeline").text, "html.parser")
    assert soup.select_one("#pl-period")["value"] == "2026-Q3"
    assert soup.select_one('[data-testid="waterfall-chart"] script') is not None
    assert len(soup.select('[data-testid="by-owner"] tbody tr')) > 5
