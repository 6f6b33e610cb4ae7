"""The executive report of the demo company: every section, self-contained, escaped, true numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from report_demo import HOSTILE_CAUSE, HOSTILE_UDR

from salesflow.report import SECTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soup(report_file: tuple[Path, dict]) -> BeautifulSoup:
    return BeautifulSoup(report_file[0].read_text(encoding="utf-8"), "html.parser")


def test_every_section_is_there_with_content(report_file, soup):
    _, doc = report_file
    assert doc["sections"] == list(SECTIONS), doc["missing"]
    for section in SECTIONS:
        assert soup.find("section", id=section) is not None, f"no section {section}"
    # demo knowledge: 6 UDRs and the hostile one, 3 improvements, each with a card
    assert doc["udrs"] == 7 and doc["improvements"] == 3
    assert len(soup.select("#udrs .card")) == 7
    assert len(soup.select("#improvements .card")) == 3
    assert len(soup.select("#improvements .questions")) == 3
    assert soup.select_one("#causes svg") is not None
    # the last quarter before the demo's as-of (1 October 2026), in words beside its waterfall
    assert soup.select_one("#pipeline .reading").get_text().startswith("2026-Q3 started with ")
    assert len(soup.select(".js-plotly-plot, div.plotly-graph-div")) == doc["charts"]


def test_the_file_needs_no_network(report_file, soup):
    """Scripts, styles, fonts and images are inline: nothing refers to another file or a URL."""
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        found = [t.get(attr) for t in soup.find_all(tag) if t.get(attr)]
        assert found == [], f"<{tag} {attr}=…> refers outside the file: {found[:3]}"
    styles = " ".join(s.get_text() for s in soup.find_all("style"))
    assert "@import" not in styles and "url(http" not in styles and "@font-face" not in styles
    scripts = soup.find_all("script")
    assert any("Plotly" in s.get_text()[:5000] or len(s.get_text()) > 1_000_000 for s in scripts)
    plotly_js = [s for s in scripts if len(s.get_text()) > 1_000_000]
    assert len(plotly_js) == 1, "plotly.js must be inlined exactly once"


def test_user_text_is_escaped(report_file, soup):
    html = report_file[0].read_text(encoding="utf-8")
    assert "<script>alert('udr')</script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<b>waits</b>" not in html and "&lt;b&gt;waits&lt;/b&gt;" in html
    # the statement reads as the user typed it, in the card and in the cause picture
    statements = [p.get_text() for p in soup.select("#udrs .statement")]
    assert HOSTILE_UDR in statements
    svg_text = soup.select_one("#causes svg").get_text(" ")
    assert '"approval"' in svg_text or "&quot;approval&quot;" in str(soup.select_one("#causes svg"))
    assert HOSTILE_CAUSE.split("<b>")[0].strip() in " ".join(svg_text.split())


def test_summary_numbers_match_the_data(demo_ws, soup):
    """The headline win rate equals won / (won + lost) counted directly in DuckDB."""
    import duckdb

    con = duckdb.connect(str(demo_ws / "data.duckdb"), read_only=True)
    won, lost = con.execute(
        "select count(*) filter (where outcome = 'won'), count(*) filter (where outcome = 'lost') "
        "from opportunities"
    ).fetchone()
    con.close()
    kpis = {
        k.select_one(".l").get_text(): k.select_one(".v").get_text() for k in soup.select(".kpi")
    }
    assert kpis["Win rate"] == f"{won / (won + lost):.0%}"
    assert kpis["Undesirable results"].endswith("of 7")


def test_value_stream_conversion_matches_a_hand_count(demo_ws, soup):
    """Negotiation → Won: of the deals that ever entered Negotiation, the share that later won."""
    import duckdb

    con = duckdb.connect(str(demo_ws / "data.duckdb"), read_only=True)
    entered, won = con.execute(
        """
        with first as (select opportunity_id, min(entered_at) as t from stage_events
                       where stage = 'Negotiation' group by 1)
        select count(*), count(*) filter (where exists (
            select 1 from stage_events e where e.opportunity_id = first.opportunity_id
            and e.stage = 'Won' and e.entered_at >= first.t))
        from first
        """
    ).fetchone()
    con.close()
    arrows = [a.get_text(" ", strip=True) for a in soup.select("#flow .arrow")]
    last = next(a for a in arrows if a.endswith("reach Won"))
    assert last.startswith(f"{round(100 * won / entered)} %"), (last, won, entered)


def test_value_stream_boxes_carry_the_map_figures(demo_ws, soup):
    """Each stage box says how many deals are there now and how many leave per week, as
    ``salesflow flow --json`` counts them."""
    import salesflow as sf

    with sf.open(demo_ws) as ws:
        stages = {s["stage"]: s for s in ws.flow().doc["stages"]}
    for box in soup.select("#flow .stream .stage"):
        s = stages[box.select_one(".name").get_text(strip=True)]
        text = box.get_text(" ", strip=True)
        assert f"{s['wip']:,} here now · {s['throughput_per_week']:.1f}/week" in text, text


def test_statistical_terms_come_in_plain_words(soup):
    text = soup.get_text(" ")
    assert "A real change, not noise:" in text  # the Proposal fast-track and the contract requests
    assert "Routine variation only" in text
    glossary = soup.select_one("#glossary").get_text(" ")
    for term in ("Limits", "Signal", "Baseline", "Routine variation"):
        assert term in glossary


def test_improvement_shows_three_questions_and_checkins(soup):
    card = next(
        c for c in soup.select("#improvements .card") if "Proposal fast-track" in c.get_text()
    )
    text = card.get_text(" ")
    assert "What do we want to accomplish" in text and "How will we know?" in text
    assert "It worked" in text
    dates = [li.b.get_text() for li in card.select("ol.timeline li")]
    # the recorded history, then the latest check-in, 10 days before the demo was made
    assert dates[:2] == ["2025-12-15", "2026-04-15"] and len(dates) == 3 and dates[2] > dates[1]


def test_cli_report_json_on_an_empty_workspace(workspace, tmp_path, cli):
    """A workspace with no data yet still gets a report, which says what is missing and why."""
    out = tmp_path / "r.html"
    workspace.close()  # DuckDB: one configuration per file per process; the report reads only
    doc = cli.json("report", "-w", workspace.path, "--out", out, "--period", "quarter")
    assert doc["html"] == str(out.resolve()) and out.stat().st_size == doc["html_bytes"]
    assert doc["period"] == "quarter" and doc["pdf"] is None and doc["udrs"] == 0
    assert set(doc["missing"]) == {"causes", "wins", "flow", "forecast", "pipeline", "requests"}
    assert doc["sections"] == ["summary", "udrs", "improvements", "glossary"]
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert "no stage history" in soup.select_one("#flow").get_text().lower()
    assert "no deal history" in soup.select_one("#pipeline").get_text().lower()


def test_cli_refuses_a_missing_folder_and_a_bad_period(demo_ws, tmp_path, cli):
    result = cli("report", "-w", demo_ws, "--out", tmp_path / "nope" / "r.html", ok=False)
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = cli("report", "-w", demo_ws, "--period", "fortnight", ok=False)
    assert result.exit_code == 1 and "fortnight" in result.stderr


def test_pdf_is_printed_with_chromium(report_file, tmp_path):
    from salesflow.report.html import find_chromium, print_pdf

    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI (make browser installs it)")
        pytest.skip("Chromium is not installed")
    pdf = print_pdf(report_file[0], tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page") >= 6


def test_owners_are_compared_on_their_own_limits_not_ranked(demo_ws, soup):
    """Win rate per owner: the sentence and the names outside their limits are those of
    ``salesflow metric win_rate --by owner``; the dots are drawn with their limits."""
    import salesflow as sf

    with sf.open(demo_ws) as ws:
        doc = ws.metric("win_rate", by="owner").to_dict()
    reading = soup.select("#flow .reading")[0].get_text(" ", strip=True)
    assert doc["comparison"]["sentence"] in reading
    for d in doc["comparison"]["differences"]:
        assert d["sentence"] in reading
    assert "Win rate by owner, each on its own limits" in str(soup.select_one("#flow"))
