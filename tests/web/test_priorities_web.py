"""Work these first: the ranked open deals with their reasons and the backtest, and its JSON twin."""

from __future__ import annotations

from bs4 import BeautifulSoup


def test_the_page_lists_the_deals_to_work_first_with_reasons(as_user):
    vic = as_user("vic")
    doc = vic.get("/api/priorities").json()
    soup = BeautifulSoup(vic.get("/priorities").text, "html.parser")
    rows = soup.select('[data-testid="priorities"] tbody tr')
    assert [r["data-id"] for r in rows] == [d["opportunity_id"] for d in doc["deals"]]
    assert len(rows) == min(20, doc["open_deals"]) > 0
    first = rows[0].get_text(" ")
    assert all(r["words"] in first for r in doc["deals"][0]["reasons"])
    assert f"{doc['deals'][0]['win_probability']:.0%}" in first
    verdict = soup.select_one('[data-testid="backtest"]').get_text(" ")
    assert doc["backtest"]["verdict"] in " ".join(verdict.split())
    bins = soup.select('[data-testid="calibration"] tbody tr')
    assert len(bins) == len(doc["backtest"]["calibration"]) == 5
    pipeline = BeautifulSoup(vic.get("/pipeline").text, "html.parser")
    assert pipeline.select_one('a[href="/priorities"]') is not None
