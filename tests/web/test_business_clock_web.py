"""The business clock on the Measures page: a menu, not a text box, and the same numbers as the
JSON twin and the library."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup


@pytest.fixture
def ann(as_user):
    return as_user("ann")


def test_measures_page_offers_the_clock_and_draws_business_days(ann, app):
    query = {"metric": "cycle_time", "by": "segment", "p:clock": "business"}
    soup = BeautifulSoup(ann.get("/measures", params=query).text, "html.parser")
    menu = soup.select_one("select#param-clock")
    assert [o.get_text() for o in menu.select("option")] == ["calendar", "business"]
    assert menu.select_one("option[selected]").get_text() == "business"
    figure = json.loads(soup.select_one('script[type="application/json"][data-plot]').string)

    doc = ann.get(
        "/api/metrics/cycle_time", params={"by": "segment", "param": "clock=business"}
    ).json()
    assert doc["unit"] == "business days" and doc["params"] == {"clock": "business"}
    assert figure["data"][-1]["y"] == [g["value"] for g in doc["groups"]]
    calendar = ann.get("/api/metrics/cycle_time", params={"by": "segment"}).json()
    # nights and weekends no longer count: every segment's median is shorter in business days
    for business, elapsed in zip(doc["groups"], calendar["groups"], strict=True):
        assert 0 < business["value"] < elapsed["value"]

    from salesflow import metrics

    state = app.state.salesflow
    with state.data._lock:
        lib = metrics.breakdown(
            state.data.workspace.data, state.web.settings, "cycle_time", by="segment",
            params={"clock": "business"},
        )  # fmt: skip
    assert [g.value for g in lib.groups] == pytest.approx([g["value"] for g in doc["groups"]])


def test_an_unknown_clock_is_a_clear_400(ann):
    r = ann.get("/api/metrics/cycle_time", params={"param": "clock=wall"})
    assert r.status_code == 400
    assert "calendar, business" in r.text
