"""A viewer opens Work these first at 1280 px: the ranked deals with reasons, no sideways scrolling."""

from __future__ import annotations

from e2e_helpers import sign_in


def test_a_viewer_sees_the_deals_to_work_first(browser, server, shots):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server[0])
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, "vic")
    page.goto("/pipeline")
    page.click("[data-testid=to-priorities]")
    page.wait_for_selector("[data-testid=priorities] tbody tr")
    assert page.text_content("h1").strip() == "Work these first"
    assert page.locator("[data-testid=priorities] tbody tr").count() > 0
    assert "chance" in page.text_content("[data-testid=backtest]")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, "the page is wider than the window at 1280 px"
    page.screenshot(path=shots / "priorities.png", full_page=True)
    context.close()
