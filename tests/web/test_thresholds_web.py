"""Thresholds and targets in the metric's unit on the web: the JSON API and the forms."""

from __future__ import annotations

import pytest
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

EMEA = 2  # a demo UDR bound to the win rate


@pytest.fixture
def ann(wb_user):
    return wb_user("ann")


def _bind(ann, threshold):
    version = ann.get(f"/api/udrs/{EMEA}").json()["version"]
    body = {"metric": "win_rate", "bad_if": "below", "threshold": threshold, "version": version}
    return ann.put(f"/api/udrs/{EMEA}/binding", json=body, headers={"X-CSRF-Token": ann.csrf})


def test_the_api_takes_a_percent_and_refuses_a_bare_15_on_a_share(ann):
    before = ann.get(f"/api/udrs/{EMEA}").json()["binding"]
    refused = _bind(ann, 15)
    assert refused.status_code == 400 and "Did you mean 15% (0.15)?" in refused.text
    assert ann.get(f"/api/udrs/{EMEA}").json()["binding"] == before
    for given in ("15%", 0.15, "0.15"):
        bound = _bind(ann, given)
        assert bound.status_code == 200, bound.text
        assert bound.json()["binding"]["threshold"] == pytest.approx(0.15)


def test_the_improvement_api_refuses_a_percent_target_on_days(ann):
    body = {"objective": "Faster deals", "metric": "cycle_time", "bad_if": "above",
            "baseline_start": "2024-10-01", "baseline_end": "2025-09-30", "start": "2025-10-01"}  # fmt: skip
    headers = {"X-CSRF-Token": ann.csrf}
    refused = ann.post("/api/improvements", json={**body, "target": "20%"}, headers=headers)
    assert refused.status_code == 400 and "days" in refused.text
    made = ann.post("/api/improvements", json={**body, "target": 20}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["measure"]["target"] == 20.0


def test_the_bind_form_shows_the_did_you_mean(ann):
    version = ann.get(f"/api/udrs/{EMEA}").json()["version"]
    form = {"metric": "win_rate", "period": "month", "bad_if": "below", "threshold": "35",
            "fcol": "", "fval": "", "version": version, "csrf_token": ann.csrf}  # fmt: skip
    response = ann.post(f"/udrs/{EMEA}/bind", data=form)
    assert response.status_code == 400 and "Did you mean 35% (0.35)?" in response.text


def test_the_udr_page_shows_the_threshold_as_its_chart_does(ann):
    from bs4 import BeautifulSoup

    assert _bind(ann, "40%").status_code == 200
    page = BeautifulSoup(ann.get(f"/udrs/{EMEA}").text, "html.parser")
    assert "bad when below 40 %" in page.get_text(" ")
    assert page.select_one("#threshold")["value"] == "40%"
    assert "0.4" not in page.get_text(" ")
