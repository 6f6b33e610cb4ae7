"""Pages and their JSON twins against the demo workspace, checked with independent pandas sums."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup


def _figures(html: str) -> list[dict]:
    soup = BeautifulSoup(html, "html.parser")
    return [
        json.loads(tag.string) for tag in soup.select('script[type="application/json"][data-plot]')
    ]


@pytest.fixture
def ann(as_user):
    return as_user("ann")


def test_win_rate_matches_an_independent_count(ann, app, demo_path):
    doc = ann.get("/api/metrics/win_rate", params={"period": "quarter"}).json()
    state = app.state.salesflow
    with state.data._lock:  # the server's own connection holds the file; count on it
        con = state.data.workspace.data
        rows = con.raw_sql(
            "SELECT date_trunc('quarter', closed_at)::DATE AS q, "
            "sum(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END), count(*) FROM opportunities "
            "WHERE outcome IN ('won', 'lost') GROUP BY 1 ORDER BY 1"
        ).fetchall()
    expected = {q.isoformat(): (won, n) for q, won, n in rows}
    got = {p["period"]: (p["numerator"], p["denominator"]) for p in doc["points"]}
    assert got == expected
    assert doc["chart"]["type"] == "p" and len(doc["chart"]["ucl"]) == len(doc["points"])


def test_measures_page_draws_the_chart_with_limits_and_explains_signals(ann):
    html = ann.get("/measures", params={"metric": "wip", "period": "month"}).text
    fig = _figures(html)[0]
    names = [trace["name"] for trace in fig["data"]]
    from salesflow.metrics.registry import get

    title = get("wip").title  # the legend reads the registry's title, not the id
    assert title != "wip"
    assert names[:4] == [title, "centre line", "upper limit", "lower limit"]
    doc = ann.get("/api/metrics/wip").json()
    assert fig["data"][0]["y"] == [p["value"] for p in doc["points"]]
    soup = BeautifulSoup(html, "html.parser")
    said = [li.get_text(strip=True) for li in soup.select('[data-testid="signals"] li')]
    assert said == [s["explanation"] for s in doc["signals"]] and said
    assert soup.select_one('[data-testid="verdict"]').get_text(strip=True) == doc["verdict"]


def test_measures_htmx_swaps_only_the_panel(ann):
    r = ann.get("/measures", params={"metric": "cycle_time", "by": "segment"},
                headers={"HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200 and "<html" not in r.text
    soup = BeautifulSoup(r.text, "html.parser")
    assert soup.select_one("div#panel") is not None
    dots = _figures(r.text)[0]["data"][-1]
    doc = ann.get("/api/metrics/cycle_time", params={"by": "segment"}).json()
    assert dots["x"] == [str(g["segment"]) for g in doc["groups"]]
    assert dots["y"] == [g["value"] for g in doc["groups"]]
    said = soup.select_one('[data-testid="comparison"] .verdict').get_text(strip=True)
    assert said == doc["comparison"]["sentence"]


def test_metric_needing_a_stage_is_broken_down_by_stage(ann):
    doc = ann.get("/api/metrics/stage_time").json()
    assert doc["by"] == "stage" and doc["groups"]


def test_value_stream_counts_match_the_stage_events(ann, app):
    doc = ann.get("/api/flow").json()
    state = app.state.salesflow
    with state.data._lock:
        rows = state.data.workspace.data.raw_sql(
            "SELECT stage, count(*) FROM stage_events GROUP BY 1"
        ).fetchall()
    assert {s["stage"]: s["entries"] for s in doc["stages"] if s["entries"]} == dict(rows)
    smb = ann.get("/api/flow", params={"filter": "segment=SMB"}).json()
    assert 0 < smb["cases"]["count"] < doc["cases"]["count"]
    lead = next(s for s in doc["stages"] if s["stage"] == "Lead")
    assert 0 < lead["forward_share"] + lead["lost_share"] <= 1
    html = ann.get("/value-stream", params={"fcol": "segment", "fval": "SMB"}).text
    soup = BeautifulSoup(html, "html.parser")
    assert f"{smb['cases']['count']:,}" in soup.get_text()
    assert soup.select('[data-testid="stream"] li')
    assert soup.select('[data-testid="stream-map"] script[data-plot]')
    assert {"wip", "throughput_per_week", "time_p85", "littles_law"} <= set(lead)


def test_value_stream_on_the_business_clock(ann, app):
    """The clock menu: the page and its JSON twin give the library's business-clock map, every
    time shorter than on the calendar (nights and weekends no longer count)."""
    from salesflow.metrics.process_map import process_map

    doc = ann.get("/api/flow", params={"clock": "business"}).json()
    calendar = ann.get("/api/flow").json()
    assert (doc["clock"], doc["day_hours"], calendar["clock"]) == ("business", 8, "calendar")
    state = app.state.salesflow
    with state.data._lock:
        lib = process_map(state.data.workspace.data, state.web.settings, top=8, clock="business")
    assert doc["cases"]["median_hours"] == pytest.approx(lib["cases"]["median_hours"])
    assert [e["median_hours"] for e in doc["edges"]] == pytest.approx(
        [e["median_hours"] for e in lib["edges"]]
    )
    assert 0 < doc["cases"]["median_hours"] < calendar["cases"]["median_hours"]
    assert ann.get("/api/flow", params={"clock": "wall"}).status_code == 422
    soup = BeautifulSoup(ann.get("/value-stream", params={"clock": "business"}).text, "html.parser")
    menu = soup.select_one('select[name="clock"]')
    assert menu.select_one("option[selected]")["value"] == "business"
    assert "business day of 8 hours" in soup.select_one('[data-testid="clock-note"]').get_text()
    plain = BeautifulSoup(ann.get("/value-stream").text, "html.parser")
    assert plain.select_one('[data-testid="clock-note"]') is None


def test_forecasts_page_and_api_per_owner(ann, app):
    doc = ann.get("/api/forecasts").json()
    owners = {g["owner"] for g in doc["forecast_bias"]["by_owner"]["groups"]}
    state = app.state.salesflow
    with state.data._lock:
        rows = state.data.workspace.data.raw_sql(
            "SELECT DISTINCT owner FROM forecasts WHERE owner IS NOT NULL"
        ).fetchall()
    assert owners and owners <= {r[0] for r in rows}
    html = ann.get("/forecasts", params={"period": "quarter"}).text
    titles = [f["layout"]["title"]["text"] for f in _figures(html)]
    assert "Forecast error per quarter" in titles and "Bias by owner" in titles


def test_home_and_data_show_the_workspace_status(ann):
    status = ann.get("/api/status").json()
    assert status["tables"]["opportunities"]["rows"] > 700
    soup = BeautifulSoup(ann.get("/").text, "html.parser")
    cells = [td.get_text() for td in soup.select('[data-testid="status"] td')]
    assert f"{status['tables']['stage_events']['rows']:,}" in cells
    nav = [a.get_text() for a in soup.select("header nav .links a")]
    assert nav == ["Home", "UDRs", "Causes", "Improvements", "Wins", "Measures", "Value stream",
                   "Data"]  # fmt: skip
    more = soup.select_one('header nav details[data-testid="nav-more"]')
    assert more.summary.get_text() == "More" and not more.has_attr("open")
    assert [a.get_text() for a in more.select("a")] == ["Pipeline", "Requests", "Forecasts"]
    # a page under "More" is marked where the menu is, and in it
    soup = BeautifulSoup(ann.get("/forecasts").text, "html.parser")
    more = soup.select_one('header nav details[data-testid="nav-more"]')
    assert "active" in more.summary["class"]
    assert more.select_one('a[aria-current="page"]')["href"] == "/forecasts"
    assert "Coming soon" not in ann.get("/udrs").text  # the workbench areas are built


@pytest.mark.parametrize(
    ("params", "status", "where"),
    [
        ({"period": "year"}, 422, "query.period"),
        ({"filter": "owner"}, 400, "filter"),
        ({"start": "last week"}, 400, "start"),
        ({"param": "nope=1"}, 404, None),
    ],
)
def test_bad_input_gets_a_clear_4xx(ann, params, status, where):
    r = ann.get("/api/metrics/win_rate", params=params)
    assert r.status_code == status
    body = r.json()
    assert body["error"] and body["where"] == where and "Traceback" not in r.text


def test_unknown_pages_and_methods(ann):
    assert ann.get("/api/nothing").json()["error"] == "There is no such page"
    r = ann.get("/nothing")
    assert r.status_code == 404 and "There is no such page" in r.text and "<html" in r.text
    assert ann.delete("/api/status").status_code == 405


def test_static_files_are_local_and_headers_strict(ann):
    r = ann.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    r = ann.get("/vendor/plotly.min.js")
    assert r.status_code == 200 and "plotly.js" in r.text[:500]
    page = ann.get("/measures")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    scripts = [s.get("src") for s in BeautifulSoup(page.text, "html.parser").select("script[src]")]
    assert scripts and all(src.startswith("/") for src in scripts)


def test_api_docs_list_every_api_route(ann, app):
    html = ann.get("/api/docs").text
    paths = set(ann.get("/api/openapi.json").json()["paths"])
    assert {"/api/requests", "/api/metrics/{metric_id}", "/api/imports", "/api/flow"} <= paths
    assert all(p in html for p in paths)
    assert "/login" not in paths  # pages are not part of the API


def test_api_docs_name_both_ways_to_a_token(ann):
    from bs4 import BeautifulSoup

    page = BeautifulSoup(ann.get("/api/docs").text, "html.parser")
    text = " ".join(page.get_text(" ").split())
    assert "salesflow user token NAME" in text and "Accounts page" in text
    assert page.select_one('a[href="/accounts"]')
