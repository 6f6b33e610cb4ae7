"""Which activities add value on the Value stream page: loaded after the map, same numbers as
the JSON twin, in a sales leader's words."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from test_no_cli_words import cli_words


@pytest.fixture
def ann(as_user):
    return as_user("ann")


def test_the_page_loads_the_section_after_the_map(ann):
    soup = BeautifulSoup(ann.get("/value-stream").text, "html.parser")
    section = soup.select_one('[data-testid="activity-value"]')
    assert section["hx-get"] == "/value-stream/activities"
    assert "#flow form" in section["hx-include"]


def test_the_section_shows_the_api_numbers_and_a_chart(ann):
    doc = ann.get("/api/activities").json()
    html = ann.get("/value-stream/activities", headers={"HX-Request": "true"}).text
    soup = BeautifulSoup(html, "html.parser")
    rows = {
        tr.select("td")[0].get_text(): [td.get_text() for td in tr.select("td")[1:]]
        for tr in soup.select('[data-testid="activity-mix"] tbody tr')
    }
    won = doc["outcomes"]["won"]
    assert rows["won"][0] == f"{won['activities']:,}"
    assert rows["won"][1] == f"{won['value']['share'] * 100:.1f} %"
    figure = json.loads(soup.select_one("script[data-plot]").string)
    assert [t["name"] for t in figure["data"]] == ["value-adding", "necessary", "waste"]
    assert len(figure["data"][0]["y"]) == 2 * len(doc["stages"])  # won and lost per stage
    effects = [li.get_text() for li in soup.select('[data-testid="activity-effects"] li')]
    assert len(effects) == len(doc["drivers"]["won"]["effects"])
    assert not cli_words().search(soup.get_text())


def test_filters_narrow_the_mix(ann):
    everyone = ann.get("/api/activities").json()["outcomes"]["all"]["activities"]
    smb = ann.get("/api/activities", params={"filter": "segment=SMB"}).json()
    assert 0 < smb["outcomes"]["all"]["activities"] < everyone
    html = ann.get("/value-stream/activities", params={"fcol": "segment", "fval": "SMB"}).text
    assert f"{smb['outcomes']['all']['activities']:,}" in html
    assert "<html" in html and 'href="/value-stream"' in html  # without HTMX: a whole page
    partial = ann.get("/value-stream/activities", headers={"HX-Request": "true"}).text
    assert "<html" not in partial
