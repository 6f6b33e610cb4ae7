"""``create_app(settings)``: the FastAPI app for one workspace. Nothing is built at import time.

Routes live in :mod:`salesflow.web.routes`, one module per area; each page has a JSON twin
under ``/api``. To add an area: write ``routes/NAME.py`` with a ``router``, its templates, and
list it in ``ROUTERS`` below (and in ``NAV`` in :mod:`salesflow.web.render` if it has a page).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.web.config import WebSettings, web_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from salesflow.settings import Settings

__all__ = ["ROUTERS", "create_app"]

HERE = Path(__file__).parent
ROUTERS = (
    "auth_routes",
    "accounts",
    "home",
    "udrs",
    "team_view",
    "causes",
    "improvements",
    "wins",
    "report",
    "measures",
    "value_stream",
    "activity_value",
    "pipeline",
    "priorities",
    "requests",
    "forecasts",
    "data",
    "vendor",
    "api_docs",
    "soon",
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


def create_app(settings: Settings | WebSettings) -> FastAPI:
    """The web app for one workspace (``Settings``), or with explicit web settings."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from salesflow.web.deps import AppState
    from salesflow.web.errors import install_error_handlers
    from salesflow.web.openapi import install_openapi

    web = settings if isinstance(settings, WebSettings) else web_settings(settings)
    app = FastAPI(
        title="salesflow",
        summary="Sales process improvement for the whole team: UDRs, causes, improvements, "
        "measures, value stream, request log, forecast accuracy and data imports.",
        docs_url=None,  # Swagger UI loads from a CDN; routes/api_docs.py renders it offline
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    app.state.salesflow = AppState.build(web)
    install_error_handlers(app)

    app.add_middleware(SecurityHeaders, web=web)

    routes = []
    for name in ROUTERS:
        module = importlib.import_module(f"salesflow.web.routes.{name}")
        app.include_router(module.router)
        routes += module.router.routes
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_openapi(app, routes)
    return app


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response and refuses oversized bodies (413).

    A plain ASGI middleware: ``@app.middleware("http")`` would cost every page an extra task
    and a copy of the response stream, which shows under twenty concurrent clients.
    """

    def __init__(self, app, web: WebSettings) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.web = web
        self.extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.extra if k not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        from starlette.requests import Request

        refusal = _nul_in_address(scope) or _too_big(Request(scope), self.web)
        if refusal is not None:
            await refusal(scope, receive, with_headers)
        else:
            await self.app(scope, receive, with_headers)


def _nul_in_address(scope):  # type: ignore[no-untyped-def]
    """Refuse a NUL byte anywhere in the path or query (400): no column, filter or name holds one,
    and PostgreSQL cannot even store it."""
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    address = raw + b"?" + scope.get("query_string", b"")
    if b"%00" not in address and b"\x00" not in address:
        return None
    from fastapi.responses import JSONResponse

    doc = {
        "error": "The address contains a NUL character (%00), which no name or value may hold",
        "where": scope.get("path", "").replace("\x00", "\\x00") or None,
        "hint": "Remove it; it usually comes from a binary file pasted as text",
    }
    return JSONResponse(doc, status_code=400)


def _too_big(request, web: WebSettings):  # type: ignore[no-untyped-def]
    """Refuse a body over the upload limit before anything reads it (413)."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) <= web.max_upload_bytes + 64 * 1024:
        return None
    from fastapi.responses import JSONResponse

    from salesflow.web.uploads import too_large

    exc = too_large("The upload", web.max_upload_bytes)
    return JSONResponse({"error": exc.what, "where": None, "hint": exc.hint}, status_code=413)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.salesflow.close()
