"""Placeholders for areas announced in the navigation but not built yet (none at the moment).

An entry ``path: (label, what, command)`` shows a "coming soon" page; delete it when the area
arrives as its own route module.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import viewer
from salesflow.web.render import render

router = APIRouter(include_in_schema=False)

SOON: dict[str, tuple[str, str, str]] = {}  # path → (label, what is coming, CLI meanwhile)


def _page(path: str):
    label, what, command = SOON[path]

    def page(request: Request, _=Depends(viewer)) -> HTMLResponse:
        return render(request, "soon.html", {"label": label, "what": what, "command": command})

    return page


for _path in SOON:
    router.add_api_route(_path, _page(_path), methods=["GET"], response_class=HTMLResponse)
