"""A stalled pipeline is a signal on the home page (issue 12): wins that stop three months before
as-of are three zeros on the chart, and the UDR about them is confirmed by the data."""

from __future__ import annotations

from datetime import datetime

from bs4 import BeautifulSoup
from web_helpers import ACCOUNTS, PASSWORD, signed_in

from time_logs import deals, make_workspace


def test_stalled_wins_show_as_a_confirmed_signal_on_home(tmp_path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web import create_app
    from salesflow.web.auth import hash_password
    from salesflow.workbench.service import Workbench

    rows = deals(datetime(2026, 3, 31, 18), wins_until=datetime(2026, 1, 1))
    folder = make_workspace(tmp_path / "ws", rows, toml="as_of = 2026-04-01\n")
    with Workbench.open(folder, who="ann") as bench:
        udr = bench.add_udr("We stopped winning deals: won deals per month fell")["udr"]
        bench.bind_udr(
            udr["id"],
            metric="throughput",
            filters={"outcome": "won"},
            bad_if="below",
            expected_version=udr["version"],
        )
    settings = load_settings(folder)
    with KnowledgeStore.open(settings.resolved_app_url()) as store:
        for name, role in ACCOUNTS.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    client = signed_in(create_app(settings))("ann")
    soup = BeautifulSoup(client.get("/").text, "html.parser")
    row = soup.select_one('[data-testid="home-udrs"] tr')
    assert "We stopped winning deals" in row.get_text()
    assert row.select_one("[data-verdict]")["data-verdict"] == "confirmed"
    assert soup.select_one(".tile.tone-bad .big").get_text(strip=True) == "1"
    page = client.get(f"/udrs/{udr['id']}").text
    assert "signal" in page.lower()
