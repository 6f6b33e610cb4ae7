"""``/api/docs``: the OpenAPI schema as a readable page, rendered on the server (no CDN).

The machine-readable schema is at ``/api/openapi.json`` for client generators and testers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from salesflow.web.render import render

router = APIRouter(include_in_schema=False)


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    ops = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["other"])[0],
                    "params": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "doc": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": ", ".join(body),
                }
            )
    return sorted(ops, key=lambda o: (o["tag"], o["path"], o["method"]))


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"ops": _operations(schema), "info": schema["info"]})


@router.get("/openapi.json")
def openapi_at_the_usual_place() -> RedirectResponse:
    """Tools look for the schema at ``/openapi.json`` (FastAPI's default): point them to it."""
    return RedirectResponse("/api/openapi.json", status_code=308)
