"""Areas the workbench issue will fill (UDRs, Causes, Improvements): the navigation stays stable.

Each becomes its own route module; delete its entry here when it arrives.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import viewer
from salesflow.web.render import render

router = APIRouter(include_in_schema=False)

SOON = {
    "/udrs": ("UDRs", "list, board and editing of Undesirable Results with lint feedback and "
              "their verdicts", 'salesflow udr lint "STATEMENT"'),
    "/causes": ("Causes", "the cause-and-effect picture, layered from UDRs to root causes",
                "salesflow causes"),
    "/improvements": ("Improvements", "the three questions, the measure's chart and check-ins",
                      "salesflow improve --help"),
}  # fmt: skip


def _page(path: str):
    label, what, command = SOON[path]

    def page(request: Request, _=Depends(viewer)) -> HTMLResponse:
        return render(request, "soon.html", {"label": label, "what": what, "command": command})

    return page


for _path in SOON:
    router.add_api_route(_path, _page(_path), methods=["GET"], response_class=HTMLResponse)
