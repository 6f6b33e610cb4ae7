"""The executive report as a download: the same file as ``salesflow report`` (HTML, or PDF
printed by headless Chromium when the server has one).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from salesflow.web.deps import Caller, state, viewer

router = APIRouter(include_in_schema=False)


def report_html(request: Request, caller: Caller) -> str:
    """Build and render the report over the server's shared connection and app database."""
    from salesflow.api import Workspace
    from salesflow.report.build import build_report
    from salesflow.report.html import render_html
    from salesflow.workbench.service import Workbench

    st = state(request)
    with st.data.reading():
        ws = Workspace(st.data.workspace, who=caller.name)
        ws.__dict__["workbench"] = Workbench(st.data.workspace, st.store, who=caller.name)
        return render_html(build_report(ws))  # not closed: the connection is the server's


@router.get("/report/download")
def download(
    request: Request, format: Literal["html", "pdf"] = "html", caller: Caller = Depends(viewer)
) -> Response:
    """``salesflow-report-YYYY-MM-DD.html`` (or ``.pdf``) as an attachment."""
    from salesflow.report.html import print_pdf

    html = report_html(request, caller)
    name = f"salesflow-report-{state(request).data.settings.today().isoformat()}"
    if format == "html":
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.html"'})  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="salesflow-report-") as folder:
        source = Path(folder) / "report.html"
        source.write_text(html, encoding="utf-8")
        pdf = print_pdf(source, Path(folder) / "report.pdf")
        data = pdf.read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})  # fmt: skip
