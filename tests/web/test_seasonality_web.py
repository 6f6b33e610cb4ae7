"""The measures page says in words when a metric is seasonal (a generated quarter-end pattern)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from web_helpers import ACCOUNTS, PASSWORD, signed_in

from seasonal_log import seasonal_log


@pytest.fixture(scope="module")
def seasonal_app(tmp_path_factory):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web import create_app
    from salesflow.web.auth import hash_password

    path = seasonal_log(tmp_path_factory.mktemp("seasonal-web"))
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        for name, role in ACCOUNTS.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    return create_app(load_settings(path))


def test_the_measure_panel_names_the_quarter_end_pattern(seasonal_app):
    ann = signed_in(seasonal_app)("ann")
    page = ann.get("/measures", params={"metric": "win_rate", "period": "month"})
    text = BeautifulSoup(page.text, "html.parser").get_text(" ")
    assert "Win rate is higher in the last month of each quarter: +0." in text
    doc = ann.get("/api/metrics/win_rate", params={"period": "month"}).json()
    assert doc["seasonality"]["pattern"] == "month_of_quarter"
    assert doc["seasonality"]["effect"] == pytest.approx(0.30, abs=0.08)  # generated: 0.75 - 0.45
    flat = ann.get("/measures", params={"metric": "throughput", "period": "month"}).text
    assert "each quarter" not in flat
