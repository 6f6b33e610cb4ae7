"""A long job says what it is doing: the report tells its ``progress=`` callback of every step,
and the CLI shows it on stderr (a bar on a terminal, a line per step in a log)."""

from __future__ import annotations

import io

from report_demo import HEARD
from rich.console import Console

from salesflow.cli import common


def test_the_report_tells_of_every_step_in_order(report_file):
    steps = [what for what, _, _ in HEARD]
    assert steps == [
        "the UDRs and their evidence", "the cause picture", "the improvements", "the wins",
        "flow and quality", "forecast accuracy", "the pipeline", "request patterns", "writing the HTML file",
    ]  # fmt: skip
    assert [done for _, done, _ in HEARD] == list(range(9))
    assert {total for _, _, total in HEARD} == {9}  # no PDF asked: nine steps


def job(tell) -> None:
    for done, what in enumerate(("the UDRs", "the causes")):
        tell(what, done, 2)


def test_a_log_gets_one_line_per_step(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=log, width=200))
    with common.steps("The report") as tell:
        job(tell)
    assert log.getvalue().splitlines() == [
        "The report: the UDRs (1/2)…",
        "The report: the causes (2/2)…",
    ]


def test_a_terminal_gets_a_bar_and_json_runs_stay_quiet(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=screen, force_terminal=True, width=100))
    with common.steps("The report") as tell:
        job(tell)
    assert "The report: the causes" in screen.getvalue()
    with common.working("Ranking the causes"):
        pass
    assert "Ranking the causes…" in screen.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=quiet, force_terminal=True))
    with common.steps("The report", quiet=True) as tell, common.working("x", quiet=True):
        job(tell)
    assert quiet.getvalue() == ""
