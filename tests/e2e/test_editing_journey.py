"""Editing everywhere, in a real Chromium against a real `salesflow serve`: an improvement's
objective is edited, a cause is deleted and restored, the history shows both, and an edit made
on a page someone else changed meanwhile is refused with the stored text shown."""

from __future__ import annotations

import pytest
from e2e_helpers import serving_demo
from test_workbench_journeys import sign_in

pytestmark = pytest.mark.browser
QUEUE = 6  # the demo's cause "leads wait in a shared queue"


@pytest.fixture(scope="module")
def knowledge_server(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    with serving_demo(demo_copy, tmp_path_factory.mktemp("e2e-editing"), opportunities=800,
                      knowledge=True) as up:  # fmt: skip
        yield up


@pytest.fixture
def new_page(browser, knowledge_server):
    """``new_page()`` → a page of its own browser context (a second person's browser)."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1366, "height": 900},
                                      base_url=knowledge_server[0])  # fmt: skip
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        return pg

    yield make
    for context in contexts:
        context.close()


def _edit_objective(page, text: str) -> None:
    page.click("summary:has-text('Change the answers')")
    page.fill("#edit-objective", text)
    page.click("#save-improvement")


def _history(page, where: str = "body") -> str:
    box = page.locator(where).locator("details", has=page.locator('[data-testid="history"]'))
    box.locator("summary").click()
    return " ".join(box.locator('[data-testid="history"]').inner_text().split())


def test_edit_an_objective_delete_and_restore_a_cause_and_see_both_in_history(new_page, shots):
    page = new_page()
    sign_in(page, "ann")
    page.goto("/improvements/1")
    _edit_objective(page, "Get proposals to customers within 5 days")
    page.wait_for_url("**/improvements/1")
    assert "within 5 days" in page.locator(".question").first.inner_text()
    assert "ann changed it: objective" in _history(page)
    page.screenshot(path=str(shots / "improvement-edited.png"), full_page=True)

    page.goto(f"/causes?node={QUEUE}")
    text = page.locator('[data-testid="node-text"]').inner_text()
    page.click("summary:has-text('Reword or delete this cause')")
    page.click("#delete-cause")
    page.wait_for_url("**/causes#deleted-causes")
    assert text in page.locator('[data-testid="deleted-causes"]').inner_text()
    assert text not in page.locator('[data-testid="roots"]').inner_text()
    page.click(f"#restore-causes-{QUEUE}")
    page.wait_for_url(f"**/causes?node={QUEUE}")
    assert page.locator('[data-testid="node-text"]').inner_text() == text
    history = _history(page, '[data-testid="node-panel"]')
    assert "ann deleted it" in history and "ann restored it" in history
    assert history.index("restored it") < history.index("deleted it")  # newest first
    page.screenshot(path=str(shots / "cause-restored.png"), full_page=True)


def test_a_stale_edit_is_refused_with_the_current_text_shown(new_page, shots):
    mine, theirs = new_page(), new_page()
    for pg in (mine, theirs):
        sign_in(pg, "ann")
        pg.goto("/improvements/2")  # both read the same version
    _edit_objective(theirs, "Win 45% of the deals we work, without discounting")
    theirs.wait_for_url("**/improvements/2")

    _edit_objective(mine, "Win more deals by qualifying earlier")
    problem = mine.locator(".problem")
    assert "changed by ann" in problem.inner_text() and "nothing was saved" in problem.inner_text()
    assert (
        "Win more deals by qualifying earlier"
        in mine.locator('[data-testid="unsaved"]').inner_text()
    )
    stored = "Win 45% of the deals we work, without discounting"
    assert mine.input_value("#edit-objective") == stored  # the form holds what is stored now
    assert stored in mine.locator(".question").first.inner_text()
    mine.screenshot(path=str(shots / "stale-edit-refused.png"), full_page=True)
