"""The Wins page and its JSON twins on the demo with its seeded knowledge: the Proposal
fast-track is the demo's real win, and the engagement charts carry the same numbers as the API."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup
from workbench_fixtures import *  # noqa: F403 (the shared session fixtures)


def test_wins_page_lists_the_demo_win_with_its_numbers_and_people(wb_user):
    vic = wb_user("vic")  # a viewer sees wins too
    api = vic.get("/api/wins").json()
    assert [w["title"] for w in api["wins"]] == ["Proposal fast-track"]
    win = api["wins"][0]
    assert win["before"] > win["after"] and win["owner"] == "Jonas Berg"
    response = vic.get("/wins")
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    cards = soup.select('[data-testid="win"]')
    assert [c["data-id"] for c in cards] == [str(win["id"])]
    assert cards[0].select_one(".win-sentence").get_text(strip=True) == win["sentence"]
    assert "Jonas Berg" in cards[0].get_text()
    nav = [a.get_text(strip=True) for a in soup.select("nav a")]
    assert "Wins" in nav and soup.select_one('nav a[href="/wins"]')["aria-current"] == "page"


def test_engagement_charts_match_the_api(wb_user):
    ann = wb_user("ann")
    doc = ann.get("/api/engagement").json()
    soup = BeautifulSoup(ann.get("/wins").text, "html.parser")
    for key in ("checkins_on_time", "improvements_started", "improvements_verified"):
        block = soup.select_one(f'[data-testid="measure-{key}"]')
        figure = json.loads(block.select_one("script[data-plot]").string)
        values = [p["value"] for p in doc[key]["points"] if p["status"] == "complete"]
        assert figure["data"][0]["y"][: len(values)] == values
        assert block.select_one("p").get_text(strip=True) == doc[key]["sentence"]
    waits = soup.select_one('[data-testid="measure-udr_to_first_improvement"]')
    assert len(waits.select("tbody tr")) == len(doc["udr_to_first_improvement"]["udrs"]) > 0


def test_wins_page_needs_sign_in(wb_app):
    from web_helpers import client_for

    anon = client_for(wb_app, raise_server_exceptions=False)
    assert anon.get("/wins", follow_redirects=False).status_code in (303, 401)
    assert anon.get("/api/wins").status_code == 401
