"""``write_report``: build, render and write the report (and its PDF); what ``salesflow report`` runs."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesflow.api import Workspace
    from salesflow.report.build import Progress

__all__ = ["write_report"]


def write_report(
    ws: Workspace,
    out: Path | str = "report.html",
    *,
    pdf: Path | str | None = None,
    period: str = "month",
    as_of: date | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the HTML report (and the PDF when asked); returns the ``salesflow report --json`` document.

    ``progress`` is told of each step (a section, writing the file, printing the PDF): the
    report takes half a minute on a large workspace, and a silent half minute looks hung."""
    from salesflow.metrics.calendar import check_period
    from salesflow.report.build import SECTIONS, STEP_WORDS, build_report
    from salesflow.report.html import check_target, print_pdf, write_html

    started = time.perf_counter()
    check_period(period)
    check_target(Path(out))
    if pdf is not None:
        check_target(Path(pdf))
    tell = progress or (lambda what, done, total: None)
    total = len(STEP_WORDS) + 1 + (pdf is not None)
    report = build_report(ws, period=period, as_of=as_of, progress=tell, total=total)
    tell("writing the HTML file", len(STEP_WORDS), total)
    html = write_html(report, Path(out))
    doc: dict[str, Any] = {
        "html": str(html.resolve()),
        "html_bytes": html.stat().st_size,
        "pdf": None,
        "pdf_bytes": None,
        "period": period,
        "sections": [s for s in SECTIONS if s not in report.missing],
        "missing": report.missing,
        "charts": len(report.figures),
        "udrs": len(report.udrs),
        "improvements": len(report.improvements),
    }
    if pdf is not None:
        tell("printing the PDF", total - 1, total)
        printed = print_pdf(html, Path(pdf))
        doc.update(pdf=str(printed), pdf_bytes=printed.stat().st_size)
    doc["seconds"] = round(time.perf_counter() - started, 2)
    return doc
