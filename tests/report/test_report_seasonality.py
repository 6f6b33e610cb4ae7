"""The report explains a seasonal chart in words (a generated quarter-end win rate)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from seasonal_log import seasonal_log


def test_the_report_names_the_quarter_end_pattern_where_it_reads_the_chart(tmp_path):
    import salesflow as sf
    from salesflow.report import write_report

    path = seasonal_log(tmp_path)
    with sf.open(path) as ws:
        write_report(ws, tmp_path / "r.html")
    soup = BeautifulSoup((tmp_path / "r.html").read_text(encoding="utf-8"), "html.parser")
    readings = [div.get_text(" ") for div in soup.select(".reading")]
    seasonal = [r for r in readings if "is higher in the last month of each quarter: +0." in r]
    assert len(seasonal) == 1 and seasonal[0].startswith("Routine variation only")
