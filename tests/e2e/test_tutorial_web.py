"""docs/tutorial.md step 9, walked in a real Chromium as a sales manager would: sign in, Home,
UDRs (and one UDR's evidence), Causes, Improvements, Value stream, and a Data import that needs
the date choice and sets a bad row aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TUTORIAL = Path(__file__).parents[2] / "docs" / "tutorial.md"
STEPS = ("Sign in", "Home", "UDRs", "Causes", "Improvements", "Value stream", "Data")


@pytest.fixture
def page(browser, knowledge_site):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=knowledge_site[0]
    )
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def test_the_tutorial_names_the_steps_this_test_walks():
    section = TUTORIAL.read_text(encoding="utf-8").split("## 9. The same story in the web app")[1]
    for step in STEPS:
        assert f"**{step}**" in section, step


def test_walk_the_tutorials_web_steps(page, shots, tmp_path):
    sign_in(page, "ann")  # 1
    assert page.locator("h1").inner_text().startswith("Good to see you")  # 2
    page.screenshot(path=str(shots / "tutorial-1-home.png"), full_page=True)

    page.click("nav >> text=UDRs")  # 3
    assert page.locator("h1").inner_text() == "Undesirable Results"
    assert page.get_by_text("Confirmed by the data").first.is_visible()
    assert page.get_by_text("Contradicted by the data").first.is_visible()
    page.get_by_text("Deals we first answered after more than 48 hours").first.click()
    page.wait_for_selector(".js-plotly-plot .main-svg")
    page.screenshot(path=str(shots / "tutorial-2-udr.png"), full_page=True)

    page.click("nav >> text=Causes")  # 4
    page.wait_for_selector("svg.cause-svg .node-core")
    assert page.locator("svg.cause-svg .node-contradicted").count() >= 1
    page.screenshot(path=str(shots / "tutorial-3-causes.png"), full_page=True)

    page.click("nav >> text=Improvements")  # 5
    assert page.get_by_text("Proposal fast-track").first.is_visible()
    assert page.get_by_text("It worked").first.is_visible()

    page.click("nav >> text=Value stream")  # 6
    assert page.locator("h1").inner_text() == "Value stream"

    page.click("nav >> text=Data")  # 7
    csv = tmp_path / "deals.csv"
    csv.write_text("opportunity_id,created_at\nTW-1,03/04/2026\nTW-2,05/06/2026\n")
    page.set_input_files("#file", str(csv))
    page.click("text=Check the file")
    problem = page.locator(".problem")
    problem.wait_for()
    assert "Dates in the file" in problem.inner_text() and "--" not in problem.inner_text()
    page.select_option("#date_format", "day-first")
    page.check("#skip_invalid")
    csv.write_text(csv.read_text() + "TW-3,soon\n")  # one row no date format reads
    page.set_input_files("#file", str(csv))
    page.click("text=Check the file")
    page.locator("[data-testid=rejected]").wait_for()
    assert page.locator("[data-testid=rejected]").inner_text().startswith("1 row does not pass")
    page.click("#confirm-import")
    page.get_by_text("Imported deals.csv: 2 new").wait_for()
    page.screenshot(path=str(shots / "tutorial-4-data.png"), full_page=True)
