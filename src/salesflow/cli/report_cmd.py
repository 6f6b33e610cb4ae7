"""``salesflow report``: the executive report as one self-contained HTML file, and a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import AsOfOption, JsonOption, WorkspaceOption, out, print_json, steps


def report(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Also print it to this PDF file (needs Chromium)."),
    ] = None,
    period: Annotated[
        str, typer.Option(help="week, month or quarter: the rhythm of the flow charts.")
    ] = "month",
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the executive report: summary, UDRs with evidence, cause picture, improvements,
    flow and quality, forecast accuracy and request patterns, in one HTML file that opens
    without a network.

    Example: `salesflow -w demo-ws report --out review.html --pdf review.pdf`
    """
    from salesflow.api import open as open_api
    from salesflow.report import write_report

    with open_api(workspace, as_of=as_of) as ws, steps("The report", quiet=as_json) as tell:
        doc = write_report(ws, out_file, pdf=pdf, period=period, progress=tell)
    if as_json:
        print_json(doc)
        return
    out.print(f"Report written to [bold]{doc['html']}[/] ({doc['html_bytes'] / 1e6:.1f} MB, "
              f"{doc['charts']} charts, {doc['seconds']:.0f} s)")  # fmt: skip
    if doc["pdf"]:
        out.print(f"PDF written to [bold]{doc['pdf']}[/]")
    for section, why in doc["missing"].items():
        out.print(f"[yellow]{section}[/]: {why}")


def register(app: typer.Typer) -> None:
    """Add ``salesflow report`` to the root app."""
    app.command()(report)
