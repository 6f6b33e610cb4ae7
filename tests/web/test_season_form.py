"""The season on the web: the bind form shows and stores it, the JSON API takes it, a bad one is refused."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

FORECAST_UDR = 4  # bound by the demo knowledge to forecast bias, season Q4


@pytest.fixture
def ann(wb_user):
    return wb_user("ann")


def test_the_bind_form_shows_the_stored_season_and_the_measure_names_it(ann):
    page = BeautifulSoup(ann.get(f"/udrs/{FORECAST_UDR}").text, "html.parser")
    assert page.select_one('[data-testid="bind-udr"] input[name="season"]')["value"] == "Q4"
    assert "Forecast bias, Q4 months only" in page.get_text()


def test_binding_from_the_form_stores_the_season(ann):
    added = ann.post("/api/udrs", json={"statement": "Win rate fell below 30% in Nov-Dec 2025"},
                     headers={"X-CSRF-Token": ann.csrf}).json()["udr"]  # fmt: skip
    form = {"metric": "win_rate", "period": "month", "season": "11,12", "bad_if": "below",
            "threshold": "30%", "fcol": "", "fval": "", "version": added["version"],
            "csrf_token": ann.csrf}  # fmt: skip
    assert (
        ann.post(f"/udrs/{added['id']}/bind", data=form, follow_redirects=False).status_code == 303
    )
    shown = ann.get(f"/api/udrs/{added['id']}").json()
    assert shown["binding"]["season"] == "Nov-Dec"
    months = {date.fromisoformat(p["period"]).month for p in shown["verdict"]["chart"]["points"]}
    assert months == {11, 12}


def test_the_api_refuses_a_bad_season_and_stores_nothing(ann):
    before = ann.get(f"/api/udrs/{FORECAST_UDR}").json()
    body = {"metric": "forecast_bias", "bad_if": "above", "season": "Q5", "threshold": 0.05,
            "version": before["version"]}  # fmt: skip
    response = ann.put(f"/api/udrs/{FORECAST_UDR}/binding", json=body,
                       headers={"X-CSRF-Token": ann.csrf})  # fmt: skip
    assert response.status_code == 400 and "Q5" in response.text and "Nov-Dec" in response.text
    assert ann.get(f"/api/udrs/{FORECAST_UDR}").json()["binding"] == before["binding"]
