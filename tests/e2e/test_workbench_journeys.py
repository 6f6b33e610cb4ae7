"""Workbench journeys in a real Chromium against a real `salesflow serve` over a demo workspace
with its seeded knowledge (1,500 deals): add a UDR and fix it from the lint, bind a measure,
ask why twice, start an improvement, and a viewer who cannot edit. Screenshots of every page.
"""

from __future__ import annotations

import pytest
from e2e_helpers import PASSWORD, serving_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wb_server(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    """``(url, workspace)`` of a server over the demo with UDRs, causes and improvements."""
    folder = tmp_path_factory.mktemp("e2e-wb")
    with serving_demo(demo_copy, folder, opportunities=1500, knowledge=True) as up:
        yield up


@pytest.fixture
def wb(browser, wb_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=wb_server[0])
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()


def sign_in(page, name: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _chart_drawn(page, testid: str) -> None:
    page.wait_for_selector(f'[data-testid="{testid}"] .main-svg', state="attached")


def _add_udr(page, statement: str) -> int:
    page.goto("/udrs")
    page.fill("#statement", statement)
    page.click("#add-udr")
    page.wait_for_url("**/udrs/*")
    return int(page.url.rsplit("/", 1)[1].split("?")[0])


def test_home_shows_the_three_questions_verdicts_and_changes(wb, shots):
    sign_in(wb, "ann")
    assert "Good to see you, ann" in wb.text_content("h1")
    verdicts = wb.locator('[data-testid="home-udrs"] [data-verdict]').evaluate_all(
        "els => els.map(e => e.dataset.verdict)"
    )
    assert "confirmed" in verdicts and "contradicted" in verdicts
    assert wb.locator('[data-testid="home-roots"] li.core').count() == 1
    assert wb.locator('[data-testid="changes"] li').count() >= 5  # the seeded knowledge, this week
    wb.screenshot(path=shots / "wb-home.png", full_page=True)
    assert not wb.console_errors


def test_add_a_udr_see_the_lint_and_fix_the_statement(wb, shots):
    sign_in(wb, "ann")
    wb.goto("/udrs")
    wb.locator("#statement").press_sequentially("Win rate is poor because we need a CRM")
    wb.wait_for_selector('#lint .code:has-text("SOLUTION")')
    codes = set(wb.locator("#lint .code").all_text_contents())
    assert {"SOLUTION", "CAUSE", "VAGUE"} <= codes
    wb.screenshot(path=shots / "wb-udr-lint.png", full_page=True)
    wb.fill("#statement", "")
    wb.locator("#statement").press_sequentially("Win rate was 24% in Q3 2026, against 30% planned")
    wb.wait_for_selector("#lint .ok")
    assert wb.locator("#lint .code").count() == 0
    wb.click("#add-udr")
    wb.wait_for_url("**/udrs/*")
    assert "Win rate was 24% in Q3 2026" in wb.text_content('[data-testid="statement"]')
    assert wb.locator('[data-verdict="unbound"]').count() == 1


def test_bind_a_measure_and_see_chart_and_verdict(wb, wb_server, shots):
    sign_in(wb, "ann")
    udr = _add_udr(wb, "Win rate was 24% in Q3 2026, against 30% planned")
    wb.select_option("#metric", "win_rate")
    wb.select_option("#period", "quarter")
    wb.select_option("#bad_if", "below")
    wb.fill("#threshold", "30%")
    wb.click("#bind-udr")
    _chart_drawn(wb, "udr-chart")
    shown = wb.get_attribute(".verdict-card [data-verdict]", "data-verdict")
    api = wb.request.get(f"/api/udrs/{udr}").json()
    assert shown == api["verdict"]["verdict"] and shown in ("confirmed", "contradicted")
    assert api["binding"]["threshold"] == pytest.approx(0.30)
    legend = wb.locator('[data-testid="udr-chart"] .legendtext').all_text_contents()
    assert {"centre line", "upper limit", "lower limit"} <= set(legend)
    wb.screenshot(path=shots / "wb-udr-bound.png", full_page=True)
    assert not wb.console_errors


def _node_box(page, node: int) -> dict:
    return page.locator(f'.node[data-node="{node}"]').bounding_box()


def test_add_two_whys_and_see_the_root_cause_in_the_picture(wb, shots):
    sign_in(wb, "ann")
    udr = _add_udr(wb, "31% of lost deals had no activity in their final 30 days of 2026")
    wb.goto(f"/causes?node={udr}")
    wb.fill("#new_cause", "Reps drop deals silently when they look lost")
    wb.fill("#why_text", "nobody reviews deals without activity")
    wb.click("#add-why")
    wb.wait_for_url("**/causes?node=*")
    first = int(wb.url.rsplit("=", 1)[1])
    wb.fill("#new_cause", "Pipeline reviews <b>only</b> look at the top ten deals")
    wb.click("#add-why")
    wb.wait_for_url(lambda url: "node=" in url and not url.endswith(f"node={first}"))
    second = int(wb.url.rsplit("=", 1)[1])
    assert second != first
    wb.wait_for_selector(f'.node[data-node="{second}"]')
    root = wb.locator(f'.node[data-node="{second}"]')
    assert root.get_attribute("data-root") == "true"
    assert wb.locator(f'.node[data-node="{first}"]').get_attribute("data-root") == "false"
    top, middle, bottom = _node_box(wb, udr), _node_box(wb, first), _node_box(wb, second)
    assert top["y"] < middle["y"] < bottom["y"]  # UDR on top, root cause at the bottom
    assert "<b>only</b>" in root.text_content()  # the text is shown, not interpreted
    assert wb.locator('[data-testid="roots"] a', has_text="Pipeline reviews").count() == 1
    wb.click(f'.node[data-node="{udr}"]')
    wb.wait_for_selector('[data-testid="node-text"]:has-text("31% of lost deals")')
    wb.screenshot(path=shots / "wb-causes.png", full_page=True)
    assert not wb.console_errors


def test_check_a_link_against_the_data(wb, shots):
    sign_in(wb, "ann")
    wb.goto("/causes?node=1")  # the demo's slow-first-response UDR
    box = wb.locator(".link-box").first
    box.locator("summary").click()
    box.locator('select[name="variable"]').select_option("first_response_over_48h")
    box.locator("button", has_text="Check against the data").click()
    wb.wait_for_selector('[data-testid="check"] .badge')
    assert "supports" in wb.text_content('[data-testid="check"] .badge')
    wb.screenshot(path=shots / "wb-causes-check.png", full_page=True)


def test_create_an_improvement_and_see_its_verdict(wb, shots):
    sign_in(wb, "ann")
    wb.goto("/improvements/new")
    wb.fill("#objective", "Get proposals out within a week")
    wb.fill("#method", "A fast-track lane for standard proposals")
    wb.locator('input[name="attacks"]').first.check()
    wb.select_option("#metric", "stage_time")
    wb.select_option("#bad_if", "above")
    wb.select_option('select[name="fcol"] >> nth=0', "stage")
    wb.fill('input[name="fval"] >> nth=0', "Proposal")
    wb.fill("#baseline_start", "2024-10-01")
    wb.fill("#baseline_end", "2025-09-30")
    wb.fill("#start", "2025-10-01")
    wb.screenshot(path=shots / "wb-improvement-form.png", full_page=True)
    wb.click("#save-improvement")
    wb.wait_for_url("**/improvements/*")
    _chart_drawn(wb, "improvement-chart")
    assert wb.get_attribute(".verdict-card [data-verdict]", "data-verdict") == "improved"
    wb.screenshot(path=shots / "wb-improvement.png", full_page=True)
    assert not wb.console_errors


def test_pages_of_the_workbench(wb, shots):
    sign_in(wb, "ann")
    for where, name in (("/udrs?view=board", "wb-udr-board"), ("/udrs", "wb-udr-list"),
                        ("/improvements", "wb-improvements"), ("/improvements/1", "wb-improvement-1")):  # fmt: skip
        wb.goto(where)
        assert wb.locator(".problem").count() == 0
        wb.screenshot(path=shots / f"{name}.png", full_page=True)
    assert not wb.console_errors


def test_a_viewer_cannot_edit(wb, shots):
    sign_in(wb, "vic")
    wb.goto("/udrs")
    assert wb.locator('[data-testid="add-udr"]').count() == 0
    wb.goto("/udrs/1")
    assert wb.locator('[data-testid="bind-udr"]').count() == 0
    wb.goto("/causes?node=1")
    assert wb.locator('[data-testid="why-form"]').count() == 0
    status = wb.evaluate(
        """async () => {
          const r = await fetch('/api/udrs', {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRF-Token': JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']},
            body: JSON.stringify({statement: 'x'})});
          return [r.status, (await r.json()).error];
        }"""
    )
    assert status[0] == 403 and "viewer" in status[1]
    wb.screenshot(path=shots / "wb-viewer-causes.png", full_page=True)


def test_the_wins_page_shows_the_demo_win_and_draws_the_engagement_charts(wb, shots):
    sign_in(wb, "ann")
    wb.click('nav a[href="/wins"]')
    wb.wait_for_url("**/wins")
    titles = wb.locator('[data-testid="win"] h2 a').all_text_contents()
    assert "Proposal fast-track" in titles  # (an earlier journey may have added another win)
    api = wb.request.get("/api/wins").json()
    assert titles == [w["title"] for w in api["wins"]]
    said = wb.locator('[data-testid="win"] .win-sentence').all_text_contents()
    assert said == [w["sentence"] for w in api["wins"]] and "fell from" in said[-1]
    for key in ("checkins_on_time", "improvements_started", "improvements_verified"):
        _chart_drawn(wb, f"chart-{key}")
    wb.screenshot(path=shots / "wb-wins.png", full_page=True)
    assert not wb.console_errors
