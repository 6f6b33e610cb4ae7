"""Journeys in a real Chromium against a real `salesflow serve` (screenshots of every page)."""

from __future__ import annotations

import pytest
from e2e_helpers import sign_in

pytestmark = pytest.mark.browser


def _chart_drawn(page, testid: str) -> None:
    page.wait_for_selector(f'[data-testid="{testid}"] .main-svg', state="attached")


def test_first_admin_signs_in_and_sees_home(page, shots):
    page.goto("/measures")
    assert "/login" in page.url  # not signed in yet
    sign_in(page, "ann")
    assert "Good to see you, ann" in page.text_content("h1")
    nav = page.locator("header nav .links a").all_text_contents()
    assert [n.strip() for n in nav] == ["Home", "UDRs", "Causes", "Improvements", "Wins", "Measures",
                                        "Value stream", "Data"]  # fmt: skip
    page.screenshot(path=shots / "home.png", full_page=True)


def test_the_more_menu_opens_and_leads_to_a_page(page, shots):
    """The less-used pages sit under "More": closed at first, opened by a click (it says so to
    assistive technology), and by the keyboard alone; Escape closes it."""
    sign_in(page, "ann")
    more = page.locator('header nav details[data-testid="nav-more"]')
    summary = more.locator("summary")
    forecasts = more.get_by_role("link", name="Forecasts")
    assert not forecasts.is_visible()
    summary.click()
    assert more.get_attribute("open") is not None and forecasts.is_visible()
    page.screenshot(path=shots / "nav-more.png")
    forecasts.click()
    page.wait_for_url("**/forecasts")
    assert "active" in (summary.get_attribute("class") or "")
    assert more.get_attribute("open") is None  # a new page: the menu is closed again
    # the keyboard alone: focus the menu, Enter opens it, Tab reaches its first link, Escape
    # closes it and gives the focus back
    summary.focus()
    page.keyboard.press("Enter")
    assert more.get_attribute("open") is not None
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Pipeline"
    page.keyboard.press("Escape")
    assert more.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/pipeline")


def test_measures_pick_a_metric_and_see_the_chart(page, shots):
    sign_in(page, "ann")
    page.goto("/measures")
    _chart_drawn(page, "measure-chart")
    page.select_option("#metric", "wip")
    page.wait_for_selector(".definition:has-text('Work in')")
    _chart_drawn(page, "measure-chart")
    legend = page.locator('[data-testid="measure-chart"] .legendtext').all_text_contents()
    assert {"centre line", "upper limit", "lower limit"} <= set(legend)
    assert page.locator('[data-testid="signals"] li').count() >= 1
    assert "wip" in page.url  # the choice is in the address, so it can be shared
    page.screenshot(path=shots / "measures.png", full_page=True)


def test_log_a_request_and_see_it_in_the_pareto(page, shots):
    sign_in(page, "ann")
    page.goto("/requests")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "description"  # type straight away
    page.keyboard.type("Customer wants the onboarding checklist again")
    page.fill("#category", "e2e onboarding")
    page.press("#category", "Enter")
    page.wait_for_selector('[data-testid="logged"]')
    row = page.locator('[data-testid="pareto"] tr', has_text="e2e onboarding")
    assert row.locator("td").nth(1).text_content().strip() == "1"
    first = page.locator('[data-testid="request-list"] tbody tr').first.text_content()
    assert "onboarding checklist" in first
    assert page.evaluate("document.activeElement.id") == "description"  # ready for the next
    _chart_drawn(page, "pareto-chart")
    page.screenshot(path=shots / "requests.png", full_page=True)


def test_check_a_european_export_on_the_data_page(page, shots, tmp_path):
    """Latin-1 text with decimal commas: refused with the fix named, then read with the options."""
    deals = tmp_path / "eu-deals.csv"
    deals.write_text("opportunity_id;created_at;account;amount\nEU-9;2026-09-01;Müller;1.234,50\n",
                     encoding="latin-1")  # fmt: skip
    sign_in(page, "ann")
    page.goto("/data")
    page.set_input_files("#file", str(deals))
    page.click("text=Check the file")
    page.wait_for_selector('[data-testid="import-report"]:has-text("not UTF-8")')
    page.click("summary:has-text('European exports')")
    page.check("#decimal_comma")
    page.select_option("#encoding", "latin-1")
    page.set_input_files("#file", str(deals))
    page.click("text=Check the file")
    page.wait_for_selector('[data-testid="import-report"]:has-text("1 new")')
    page.screenshot(path=shots / "data-european.png", full_page=True)


def test_viewer_cannot_edit(page, shots):
    sign_in(page, "vic")
    page.goto("/requests")
    assert page.locator('[data-testid="quick-form"]').count() == 0
    assert "viewer role" in page.text_content("main")
    status = page.evaluate(
        """async () => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch('/api/requests', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                body: JSON.stringify({description: 'sneaky'})});
            return [r.status, (await r.json()).error];
        }"""
    )
    assert status[0] == 403 and "viewer" in status[1]
    page.screenshot(path=shots / "viewer-requests.png", full_page=True)


@pytest.mark.parametrize("where", ["value-stream", "forecasts", "data", "udrs", "api/docs"])
def test_other_pages_render(page, shots, where):
    sign_in(page, "ann")
    page.goto(f"/{where}")
    if where == "forecasts":
        _chart_drawn(page, "forecast_error-chart")
    assert page.locator(".problem").count() == 0
    page.screenshot(path=shots / f"{where.replace('/', '-')}.png", full_page=True)
