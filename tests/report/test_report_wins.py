"""The report's Wins section: the demo's real win in words, with the engagement charts."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup


def test_the_wins_section_is_present_with_the_demo_win(report_file, demo_ws: Path):
    import salesflow as sf

    html, doc = report_file
    assert "wins" in doc["sections"]
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    section = soup.find("section", id="wins")
    with sf.open(demo_ws) as ws:
        wins = ws.wins().to_dict()["wins"]
        engagement = ws.engagement().to_dict()
    assert [w["title"] for w in wins] == ["Proposal fast-track"]
    cards = section.select(".card")
    assert [c["id"] for c in cards] == [f"win-{wins[0]['id']}"]
    assert wins[0]["sentence"] in cards[0].get_text(" ", strip=True)
    assert "Jonas Berg" in cards[0].get_text()
    readings = [r.get_text(strip=True) for r in section.select(".reading")]
    for key in ("checkins_on_time", "improvements_started", "improvements_verified"):
        assert engagement[key]["sentence"] in readings
    assert engagement["udr_to_first_improvement"]["sentence"] in readings
    # a chart for each monthly measure with a month above zero (a flat zero line says nothing);
    # no bars of days to a first improvement, as every one took 0 days
    assert {r["days"] for r in engagement["udr_to_first_improvement"]["udrs"]} == {0}
    monthly = ("checkins_on_time", "improvements_started", "improvements_verified")
    moving = [k for k in monthly if any(p["value"] for p in engagement[k]["points"])]
    assert 1 <= len(moving) < 3
    assert len(section.select("div.plotly-graph-div")) == len(moving)
