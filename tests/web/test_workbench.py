"""The workbench pages and their JSON twins, in-process on the demo with its seeded knowledge:
verdict labels, live lint, binding (checked against a hand-written SQL win rate), why-links and
cycle refusal, data checks, improvements, check-ins, Home's "since your last visit", the report.
Escaping, CSRF, roles and stale edits are in test_workbench_security.py.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import pytest
from bs4 import BeautifulSoup
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)

from salesflow.workbench import lint

# The demo's knowledge and what its data says (salesflow/workbench/demo_knowledge.py docstring).
DEMO_VERDICTS = {1: "confirmed", 2: "contradicted", 3: "confirmed", 4: "confirmed", 5: "confirmed"}


@pytest.fixture
def ann(wb_user):
    return wb_user("ann")


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def test_udr_list_board_and_api_show_the_demo_verdicts(ann):
    api = {u["id"]: u["verdict"]["verdict"] for u in ann.get("/api/udrs").json()["udrs"]}
    assert {k: api[k] for k in DEMO_VERDICTS} == DEMO_VERDICTS
    rows = soup_of(ann.get("/udrs")).select('[data-testid="udr-list"] tbody tr')
    shown = {int(r.td.get_text()): r.select_one("[data-verdict]")["data-verdict"] for r in rows}
    assert {k: shown[k] for k in DEMO_VERDICTS} == DEMO_VERDICTS
    labels = {r.select_one("[data-verdict]").get_text() for r in rows}
    # every demo UDR is bound (the Q4 forecast one to a Q4-only measure), so none is "Not measured yet"
    assert {"Confirmed by the data", "Contradicted by the data"} <= labels
    board = soup_of(ann.get("/udrs", params={"view": "board"}))
    column = board.select_one('[data-column="contradicted"]')
    assert "EMEA deals" in column.get_text() and "Deals we first answered" not in column.get_text()


def test_chart_legends_name_the_metric_by_its_title_not_its_id(ann):
    import json

    from salesflow.metrics.registry import get

    def first_series(page: str) -> str:
        tag = soup_of(ann.get(page)).select_one('script[type="application/json"][data-plot]')
        return json.loads(tag.string)["data"][0]["name"]

    # UDR 1 is bound to the demo's custom metric; its title is in salesflow.toml
    assert first_series("/udrs/1") == "Win rate when the first response took over 48 h"
    metric = ann.get("/api/improvements/1").json()["measure"]["metric"]
    assert first_series("/improvements/1") == get(metric).title != metric


def test_lint_partial_returns_the_findings_of_lint(ann):
    text = "Win rate is poor because we need a CRM"
    html = ann.get("/udrs/lint", params={"statement": text}, headers={"HX-Request": "true"})
    codes = [c.get_text() for c in soup_of(html).select(".code")]
    assert codes == [f.code for f in lint(text).findings] and "SOLUTION" in codes
    good = ann.get(
        "/udrs/lint", params={"statement": "Win rate was 24% in Q3, against 30% planned"}
    )
    assert not soup_of(good).select(".code") and soup_of(good).select_one(".ok")
    assert ann.get("/api/udrs/lint", params={"statement": text}).json()["findings"][0]["code"]


def _quarterly_win_rate(wb_app) -> list[tuple[date, float]]:
    """Won / closed per calendar quarter of closed_at, by hand in SQL (not the metrics code)."""
    st = wb_app.state.salesflow
    with st.data.reading() as con:
        rows = con.raw_sql(
            "select date_trunc('quarter', closed_at)::date q, "
            "avg(case when outcome = 'won' then 1.0 else 0.0 end) "
            "from opportunities where outcome in ('won', 'lost') group by 1 order by 1"
        ).fetchall()
    return [(q, float(v)) for q, v in rows]


def test_bind_a_udr_from_the_form_and_see_the_verdict_the_sql_predicts(ann, wb_app):
    added = ann.post("/udrs", data={"statement": "Win rate was 24% in Q3, against 30% planned",
                                    "csrf_token": ann.csrf}, follow_redirects=False)  # fmt: skip
    assert added.status_code == 303
    udr = int(added.headers["location"].split("/")[2].split("?")[0])
    version = ann.get(f"/api/udrs/{udr}").json()["version"]
    form = {"metric": "win_rate", "period": "quarter", "bad_if": "below", "threshold": "40%",
            "fcol": "", "fval": "", "version": version, "csrf_token": ann.csrf}  # fmt: skip
    assert ann.post(f"/udrs/{udr}/bind", data=form, follow_redirects=False).status_code == 303
    today = date.today()
    complete = [v for q, v in _quarterly_win_rate(wb_app)
                if date(q.year + (q.month + 2) // 12, (q.month + 2) % 12 + 1, 1) <= today]  # fmt: skip
    median = statistics.median(complete[-3:])
    expected = "confirmed" if median < 0.40 else "contradicted"
    page = soup_of(ann.get(f"/udrs/{udr}"))
    assert page.select_one(".verdict-card [data-verdict]")["data-verdict"] == expected
    assert f"{median * 100:.0f} %" in page.select_one('[data-testid="verdict"]').get_text()
    assert page.select_one('[data-testid="udr-chart"] script[data-plot]')


def test_a_bad_measure_is_refused_and_nothing_is_stored(ann):
    before = ann.get("/api/udrs/2").json()
    form = {"metric": "no_such_metric", "bad_if": "below", "version": before["version"],
            "csrf_token": ann.csrf}  # fmt: skip
    response = ann.post("/udrs/2/bind", data=form)
    assert response.status_code in (400, 404) and "no_such_metric" in response.text
    assert ann.get("/api/udrs/2").json()["binding"] == before["binding"]


def test_two_whys_make_a_root_cause_and_a_loop_is_refused_with_its_path(ann):
    udr = ann.post("/api/udrs", json={"statement": "Deals lost in 2026 after 60 days: 41%"},
                   headers={"X-CSRF-Token": ann.csrf}).json()["udr"]["id"]  # fmt: skip
    why = {"effect": udr, "new_cause": "Reps chase too many deals", "csrf_token": ann.csrf}
    first = ann.post("/causes/why", data=why, follow_redirects=False)
    cause = int(first.headers["location"].split("=")[1])
    why.update(effect=cause, new_cause="No qualification standard")
    root = int(ann.post("/causes/why", data=why, follow_redirects=False).headers["location"]
               .split("=")[1])  # fmt: skip
    nodes = {n["id"]: n for n in ann.get("/api/causes").json()["nodes"]}
    assert nodes[root]["root"] and not nodes[cause]["root"] and udr in nodes[root]["reaches"]
    roots = soup_of(ann.get("/causes")).select('[data-testid="roots"] a')
    assert "No qualification standard" in [a.get_text() for a in roots]
    loop = {"effect": root, "cause": str(udr), "csrf_token": ann.csrf}
    refused = ann.post("/causes/why", data=loop, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    message = soup_of_any(refused).select_one(".problem").get_text()
    assert "closes the loop" in message and "Reps chase too many deals" in message
    assert "mark it as one: tick 'reinforcing loop'" in " ".join(message.split())
    assert sum(1 for li in ann.get("/api/causes").json()["links"] if li["cause"] == udr) == 0


def soup_of_any(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_check_a_link_against_the_data_shows_the_evidence(ann):
    link = next(li for li in ann.get("/api/causes").json()["links"] if li["effect"] == 1)
    form = {"variable": "first_response_over_48h", "outcome": "won", "claims": "worsens",
            "node": "1", "csrf_token": ann.csrf}  # fmt: skip
    panel = soup_of(ann.post(f"/causes/links/{link['id']}/check", data=form,
                             headers={"HX-Request": "true"}))  # fmt: skip
    check = panel.select_one('[data-testid="check"]')
    assert "supports" in check.get_text() and "95 % interval" in check.get_text()
    stored = ann.get("/api/causes").json()["links"]
    mine = next(li for li in stored if li["id"] == link["id"])
    assert mine["check"]["verdict"] == "supports" and mine["check"]["by"] == "ann"
    assert mine["check"]["effect"]["effect"] < 0  # slow first response: fewer wins


def test_an_improvement_from_the_three_questions_form(ann):
    form = {"objective": "Proposals out within a week", "why": "Deals cool off",
            "method": "Fast-track lane", "attacks": ["12"], "metric": "stage_time",
            "period": "month", "bad_if": "above", "fcol": ["stage", ""], "fval": ["Proposal", ""],
            "pname": "", "pval": "", "baseline_start": "2024-10-01",
            "baseline_end": "2025-09-30", "start": "2025-10-01", "target": "6",
            "csrf_token": ann.csrf}  # fmt: skip
    saved = ann.post("/improvements", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:800]
    path = saved.headers["location"]
    page = soup_of(ann.get(path))
    assert page.select_one(".verdict-card [data-verdict]")["data-verdict"] == "improved"
    assert page.select_one('[data-testid="improvement-chart"]')
    doc = ann.get("/api" + path).json()
    assert doc["measure"]["filters"] == {"stage": "Proposal"} and doc["attacks"] == [12]
    answer = {"answered_by": "Jonas Berg", "objective": "Proposals in a week",
              "method": "Lane in use", "measure": "Median days", "csrf_token": ann.csrf}  # fmt: skip
    assert ann.post(f"{path}/checkins", data=answer, follow_redirects=False).status_code == 303
    timeline = soup_of(ann.get(path)).select_one('[data-testid="timeline"]').get_text()
    assert "Lane in use" in timeline and "Jonas Berg" in timeline
    value = ann.get("/api" + path).json()["checkins"][-1]["measure_value"]
    assert f"measure then: {value:.3g} days" in " ".join(timeline.split())  # in its unit


def test_an_improvement_without_a_baseline_end_before_the_start_is_refused(ann):
    form = {"objective": "x", "metric": "win_rate", "bad_if": "below", "baseline_start":
            "2025-01-01", "baseline_end": "2025-12-31", "start": "2025-06-01",
            "csrf_token": ann.csrf}  # fmt: skip
    response = ann.post("/improvements", data=form)
    assert response.status_code == 400 and "before the start" in response.text
    assert soup_of_any(response).select_one("#objective").get_text() == "x"  # the form is kept


def test_home_shows_your_improvements_and_what_changed_since_your_last_visit(wb_user, wb_app):
    from salesflow.web.routes.home import SEEN, _sign

    ann = wb_user("ann")
    home = soup_of(ann.get("/"))
    assert "Deals we first answered" in home.select_one('[data-testid="home-udrs"]').get_text()
    roots = home.select_one('[data-testid="home-roots"]').get_text()
    assert "We have no written standard work" in roots
    ann_id = ann.get("/api/me").json()["id"]
    began = int(time.time())  # a visit that began now, after the demo knowledge was seeded
    body = f"{ann_id}:{began}:{began}"
    ann.cookies.set(SEEN, f"{body}.{_sign(wb_app.state.salesflow.web.secret_key, body)}")
    ed = wb_user("ed")
    ed.post("/api/udrs", json={"statement": "Ed's new UDR: 12 stalled deals in October 2026"},
            headers={"X-CSRF-Token": ed.csrf})  # fmt: skip
    changes = soup_of(ann.get("/")).select_one('[data-testid="changes"]').get_text()
    assert "Ed's new UDR" in changes and "Proposal fast-track" not in changes  # seeded before
    again = soup_of(ann.get("/")).select_one('[data-testid="changes"]').get_text()
    assert "Ed's new UDR" in again  # the same visit: a reload keeps the list
    assert wb_user("ed").get("/api/home").json()["mine"] == []  # owns none, never asked
    for item in ann.get("/api/home").json()["mine"]:
        assert "ann" in (item["owner"], item["created_by"])


@pytest.mark.slow
def test_the_report_downloads_as_html(ann):
    response = ann.get("/report/download", params={"format": "html"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "Deals we first answered after more than 48 hours" in response.text


def test_a_cause_behind_only_the_contradicted_udr_says_so_on_home_and_causes(ann):
    headers = {"X-CSRF-Token": ann.csrf}
    cause = ann.post("/api/causes", json={"text": "Rivals undercut us in EMEA"}, headers=headers)
    node = cause.json()["id"]
    ann.post("/api/links", json={"effect": 2, "cause": node}, headers=headers)  # 2: contradicted
    try:
        for page in ("/", "/causes"):
            text = soup_of(ann.get(page)).get_text(" ")
            assert "Rivals undercut us in EMEA" in text, page
            assert "only explains a result the data contradicts (#2)" in text, page
            assert "leads to 0" not in text, page
    finally:
        version = ann.get("/api/causes").json()["nodes"]
        version = next(n["version"] for n in version if n["id"] == node)
        ann.delete(f"/api/causes/{node}", params={"version": version}, headers=headers)
