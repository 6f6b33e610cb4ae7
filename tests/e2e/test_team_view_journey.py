"""Everyone's own view first, in a real Chromium against a real `salesflow serve`: a leader
invites two people, each opens their link without an account, sees the lint's advice as they
type and sends a statement; the leader merges both into one UDR that lists both contributors.
A changed link and an expired one are refused with a sentence.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e_helpers import sign_in

pytestmark = pytest.mark.browser


def _invite(page, name: str) -> str:
    page.goto("/statements")
    page.fill('[data-testid="invite-person"] input[name=name]', name)
    page.click("#invite")
    link = page.get_attribute('[data-testid="link"]', "value")
    assert link and "/invite/" in link
    return link


def _answer(browser, base_url: str, link: str, first: str, better: str, shots) -> None:
    """The invited person, in a browser of their own with no account."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(link)
    assert page.locator("nav").count() == 0 and page.locator("text=Sign out").count() == 0
    page.fill("#difficulty", first)
    page.press("#difficulty", "End")
    page.wait_for_selector('[data-testid="lint"] .code-solution')  # "we need a CRM" is a solution
    page.screenshot(path=str(shots / "invite-lint.png"), full_page=True)
    page.fill("#difficulty", better)
    page.press("#difficulty", "End")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"lint\"] .code-solution')")
    page.fill("textarea[name=evidence]", "Last quarter's call log")
    page.click("#send-statement")
    page.wait_for_selector('[data-testid="thanks"]')
    assert better in page.inner_text('[data-testid="sent"]')
    context.close()


def test_invited_people_state_results_and_the_leader_merges_them(browser, page, server, shots):
    url, workspace = server
    sign_in(page, "ann")
    kim, lou = _invite(page, "Kim"), _invite(page, "Lou")
    _answer(browser, url, kim, "We need a new CRM for our leads",
            "Inbound leads wait two days before anyone calls them back", shots)  # fmt: skip
    _answer(browser, url, lou, "We need a call centre",
            "New inbound leads are called back days after they asked", shots)  # fmt: skip

    page.goto("/statements")
    group = page.locator('[data-testid="group"]', has_text="Kim").first
    assert "Lou" in group.inner_text()  # alike statements, one group
    page.screenshot(path=str(shots / "team-said.png"), full_page=True)
    page.fill('[data-testid="merge-form"] textarea[name=statement]',
              "Inbound leads waited 2 days for a first call in Q3")  # fmt: skip
    page.click("#merge")
    page.wait_for_url("**/udrs/*")
    assert "Inbound leads waited 2 days" in page.inner_text('[data-testid="statement"]')
    contributors = page.locator('[data-testid="contributor"]').all_inner_texts()
    assert [c.split(":")[0] for c in contributors] == ["Kim", "Lou"]
    assert "Inbound leads wait two days" in contributors[0]
    page.screenshot(path=str(shots / "udr-contributors.png"), full_page=True)

    # a changed link and an expired link: refused, with a sentence and nothing else
    stranger = browser.new_context(base_url=url).new_page()
    at = kim.index("/invite/") + 12  # a letter of the key itself
    stranger.goto(kim[:at] + ("A" if kim[at] != "A" else "B") + kim[at + 1 :])
    assert "This invitation link is not valid" in stranger.inner_text("main")
    assert stranger.locator("form").count() == 0
    _expire(workspace, "Lou")
    stranger.goto(lou)
    assert "This invitation expired on" in stranger.inner_text("main")
    stranger.context.close()


def _expire(workspace, name: str) -> None:
    from sqlalchemy import update

    from salesflow.appdb import KnowledgeStore
    from salesflow.appdb.models import Invitation
    from salesflow.appdb.records import now
    from salesflow.settings import load_settings

    url = load_settings(workspace).resolved_app_url()
    with KnowledgeStore.open(url) as store, store.transaction() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.name == name)
            .values(expires_at=now() - timedelta(minutes=5))
        )
