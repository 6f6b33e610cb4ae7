"""Check-ins due, in a real Chromium against a real `salesflow serve` with a frozen today: Home
lists the overdue check-in, the improvement page says how overdue it is, and a check-in held
yesterday (the form's date) puts it back on time, with the changed answer marked."""

from __future__ import annotations

import pytest
from e2e_helpers import serving_demo
from test_workbench_journeys import sign_in

pytestmark = pytest.mark.browser
TODAY = "2026-10-20"


@pytest.fixture(scope="module")
def frozen_server(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    """A demo seeded and served on a frozen today: its fast-track is 3 days overdue."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESFLOW_TODAY", TODAY)
        folder = tmp_path_factory.mktemp("e2e-cadence")
        with serving_demo(demo_copy, folder, opportunities=1500, knowledge=True) as up:
            yield up


@pytest.fixture
def page(browser, frozen_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  base_url=frozen_server[0])  # fmt: skip
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def test_an_overdue_check_in_is_held_and_recorded_with_its_date(page, shots):
    sign_in(page, "ann")
    due = page.locator('[data-testid="due"]')
    row = due.locator("tr", has_text="Proposal fast-track")
    assert "Jonas Berg" in row.inner_text() and "3 days overdue" in row.inner_text()
    assert "due today" in due.locator("tr", has_text="Discovery call checklist").inner_text()
    page.screenshot(path=str(shots / "home-checkins-due.png"), full_page=True)

    row.locator("a").click()
    page.wait_for_url("**/improvements/1#checkins")
    schedule = page.locator('[data-testid="schedule"]')
    assert "Asked again weekly" in schedule.inner_text()
    assert "check-in 3 days overdue (due 2026-10-17)" in schedule.inner_text()
    page.click("summary:has-text('Ask the three questions again')")
    assert page.input_value("#held_on") == TODAY
    assert "5 days" in page.input_value('textarea[name="objective"]')  # the last answers
    page.fill("#held_on", "2026-10-19")
    page.fill('textarea[name="method"]', "Template and same-day pricing in every team")
    page.click("#save-checkin")
    page.wait_for_url("**/improvements/1#checkins")

    assert "next check-in due 2026-10-26" in page.locator('[data-testid="schedule"]').inner_text()
    latest = page.locator('[data-testid="timeline"] li').first
    assert "2026-10-19" in latest.locator(".when").inner_text()
    assert latest.locator(".tag-changed").count() == 1
    assert "same-day pricing in every team changed" in latest.inner_text()
    page.screenshot(path=str(shots / "improvement-after-checkin.png"), full_page=True)

    page.goto("/")
    assert "Proposal fast-track" not in page.locator('[data-testid="due"]').inner_text()
