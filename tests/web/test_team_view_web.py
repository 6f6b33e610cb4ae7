"""The invitation page (no account, the link is the key) and "What the team said", in-process."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup


@pytest.fixture
def st(app):
    app.state.invite_budgets = {}  # every test starts with fresh send limits
    return app.state.salesflow


def _invite(st, name: str, **options):
    from salesflow.workbench.team_view import invite

    return invite(st.store, name, secret=st.web.secret_key, who="ed", **options)


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _send(client, token: str, difficulty: str, **extra):
    soup = _page(client.get(f"/invite/{token}"))
    csrf = soup.select_one('input[name="csrf_token"]')["value"]
    data = {"csrf_token": csrf, "difficulty": difficulty, "evidence": "", "goal": "", **extra}
    return client.post(f"/invite/{token}", data=data, follow_redirects=False)


def test_the_link_opens_the_questions_and_nothing_else_of_the_app(st, anon) -> None:
    made = _invite(st, "Dana")
    response = anon.get(f"/invite/{made.token}")
    assert response.status_code == 200
    soup = _page(response)
    assert "Your view, Dana" in soup.h1.text
    text = soup.get_text()
    for question in ("What is making it difficult to reach your goals?",
                     "What evidence do you have?", "What do you want to accomplish, and why?"):  # fmt: skip
        assert question in text
    links = {a["href"] for a in soup.select("a[href]")}
    assert links <= {"/"}, links  # no navigation, no other page of the app
    assert not soup.select('form[action="/logout"]') and "UDRs" not in text
    lint = anon.get(f"/invite/{made.token}/lint", params={"difficulty": "We need a CRM"})
    assert lint.status_code == 200 and "SOLUTION" in lint.text


def test_a_tampered_or_expired_link_is_refused_with_a_sentence(st, anon) -> None:
    made = _invite(st, "Eve")
    t = made.token
    tampered = t[:5] + ("A" if t[5] != "A" else "B") + t[6:]
    refused = anon.get(f"/invite/{tampered}")
    assert refused.status_code == 403
    assert "This invitation link is not valid" in _page(refused).get_text()
    assert not _page(refused).select("form")
    assert anon.get(f"/invite/{tampered}/lint", params={"difficulty": "x"}).status_code == 403
    posted = anon.post(f"/invite/{tampered}", data={"difficulty": "sneaky"})
    assert posted.status_code == 403 and "not valid" in posted.text
    from sqlalchemy import update

    from salesflow.appdb.models import Invitation
    from salesflow.appdb.records import now

    with st.store.transaction() as session:  # the clock moved past its end
        session.execute(
            update(Invitation)
            .where(Invitation.id == made.invitation.id)
            .values(expires_at=now() - timedelta(minutes=1))
        )
    expired = anon.get(f"/invite/{made.token}")
    assert expired.status_code == 403
    assert re.search(r"This invitation expired on .* UTC", _page(expired).get_text())
    assert st.store.statements.list(invitation_id=made.invitation.id) == []


def test_sending_needs_the_forms_token_and_keeps_the_words(st, anon) -> None:
    made = _invite(st, "Finn")
    no_csrf = anon.post(f"/invite/{made.token}", data={"difficulty": "Quotes wait"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    empty = _send(anon, made.token, "   ", goal="Faster quotes")
    assert empty.status_code == 400 and "needs an answer" in empty.text
    assert "Faster quotes" in empty.text  # the words are kept
    too_big = anon.post(f"/invite/{made.token}", data={"difficulty": "x" * 20000})
    assert too_big.status_code == 413 and "too long" in too_big.text
    sent = _send(anon, made.token, "Quotes wait 12 days for pricing approval", goal="A week")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?sent=1")
    stored = st.store.statements.list(invitation_id=made.invitation.id)
    assert [(s.author, s.difficulty, s.goal) for s in stored] == [
        ("Finn", "Quotes wait 12 days for pricing approval", "A week")
    ]
    after = _page(anon.get(sent.headers["location"]))
    assert after.select_one('[data-testid="thanks"]') is not None
    assert "Quotes wait 12 days" in after.select_one('[data-testid="sent"]').text


def test_sends_are_limited(st, anon, app) -> None:
    from salesflow.web.routes.team_view import Budget

    app.state.invite_budgets = {"send": Budget(2, 600.0)}
    made = _invite(st, "Gus")
    assert [_send(anon, made.token, f"Result {i} is bad").status_code for i in range(3)] == [
        303, 303, 400,
    ]  # fmt: skip
    assert len(st.store.statements.list(invitation_id=made.invitation.id)) == 2


def test_leader_merges_and_the_udr_lists_both_contributors(st, anon, as_user) -> None:
    tag = uuid.uuid4().hex[:6]
    one, two = _invite(st, f"Hal {tag}"), _invite(st, f"Ida {tag}")
    _send(anon, one.token, f"Leads from the {tag} webinar wait two days for a first call")
    _send(anon, two.token, f"Webinar {tag} leads are called back days later")
    ids = [
        s.id
        for s in st.store.statements.list(merged=False)
        if s.invitation_id in (one.invitation.id, two.invitation.id)
    ]
    viewer = as_user("vic")
    page = _page(viewer.get("/statements"))
    assert any(
        f"Hal {tag}" in g.text and f"Ida {tag}" in g.text
        for g in page.select('[data-testid="group"]')
    )
    assert not page.select('[data-testid="merge-form"] button')  # viewers see, editors act
    refused = viewer.post("/statements/merge", data={"ids": ids, "csrf_token": viewer.csrf})
    assert refused.status_code == 403
    editor = as_user("ed")
    merged = editor.post(
        "/statements/merge",
        data={
            "ids": ids,
            "statement": f"{tag}: webinar leads wait 2 days",
            "csrf_token": editor.csrf,
        },
        follow_redirects=False,
    )
    assert merged.status_code == 303, merged.text
    udr_page = _page(editor.get(merged.headers["location"]))
    people = [li.strong.text for li in udr_page.select('[data-testid="contributor"]')]
    assert people == [f"Hal {tag}", f"Ida {tag}"]
    assert (
        f"{tag}: webinar leads wait 2 days" in udr_page.select_one('[data-testid="statement"]').text
    )
    doc = editor.get("/api/statements").json()
    assert not {s["id"] for g in doc["groups"] for s in g["statements"]} & set(ids)


def test_inviting_from_the_page_shows_a_working_link(st, as_user) -> None:
    editor = as_user("ed")
    made = editor.post("/statements/invite", data={"name": "Jo", "expires": "7d",
                                                    "csrf_token": editor.csrf})  # fmt: skip
    assert made.status_code == 200
    link = _page(made).select_one('[data-testid="link"]')["value"]
    assert "/invite/" in link
    assert "Your view, Jo" in editor.get(link[link.index("/invite/") :]).text
    viewer = as_user("vic")
    assert (
        viewer.post("/statements/invite", data={"name": "X", "csrf_token": viewer.csrf}).status_code
        == 403
    )
    bad = editor.post(
        "/statements/invite", data={"name": "Jo", "expires": "1y", "csrf_token": editor.csrf}
    )
    assert bad.status_code == 400 and "not a duration" in bad.text


def test_a_signed_in_person_adds_their_own_view(st, as_user) -> None:
    viewer = as_user("vic")
    lint = viewer.get("/statements/lint", params={"difficulty": "We need a CRM"})
    assert lint.status_code == 200 and "SOLUTION" in lint.text
    no_token = viewer.post("/statements/own", data={"difficulty": "Deals stall"})
    assert no_token.status_code == 403
    text = f"Renewals {uuid.uuid4().hex[:6]} are signed after the contract lapsed"
    added = viewer.post(
        "/statements/own",
        data={"difficulty": text, "goal": "On time", "csrf_token": viewer.csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303
    mine = [s for s in st.store.statements.list(merged=False) if s.difficulty == text]
    assert [(s.author, s.goal, s.invitation_id) for s in mine] == [("vic", "On time", None)]
    assert text in viewer.get("/statements").text
