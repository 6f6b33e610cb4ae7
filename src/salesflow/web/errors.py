"""Errors as a sales leader reads them: ``{"error", "where", "hint"}`` for the API, the same
words on a page for the browser, and never a stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from salesflow.errors import (
    ConflictError,
    ImportValidationError,
    NotFoundError,
    SalesflowError,
    StorageError,
)
from salesflow.web.auth import AuthError, Forbidden

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["error_document", "install_error_handlers", "status_of", "wants_json"]

log = logging.getLogger("salesflow.web")


def status_of(exc: SalesflowError) -> int:
    """401 not signed in, 403 not allowed, 404 unknown thing, 409 stale edit or existing id,
    428 no version named, 503 the data could not be read or written (busy, locked, disk), else 400."""
    from salesflow.appdb import VersionRequiredError

    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, VersionRequiredError):
        return 428
    if isinstance(exc, StorageError):
        return 503
    return 400


#: a command-line option named in a core message → the Data page's control that does the same
FORM_WORDS = {
    "--date-format": "the “Dates in the file” choice (or your own pattern)",
    "--decimal-comma": "the “Numbers are written 1.234,56” box",
    "--encoding": "the “Text encoding” choice",
    "--thousands": "the “Thousands separator” choice",
    "--skip-invalid": "the “Import the valid rows” box",
    "--preset": "the “Export from” choice",
    "--replace-history": "the “replace the whole history” box",
}
#: whole core phrases the form says more simply (before single options are translated)
FORM_PHRASES = (
    (
        re.compile(
            r"--date-format '[^']*' \(day first\) or --date-format '[^']*' \(month first\)"
            r"(?:, or in a mapping file with date_format = \"[^\"]*\")?"
        ),
        "the “Dates in the file” choice: day first or month first",
    ),
)
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]+)(?:[ =]('[^']*'|[^\s,;)]+))?")


#: options whose value names a field of the form: ``--filter stage=NAME`` → “Only where” stage
PAIR_WORDS = {
    "--filter": "“Only where” {}",
    "--by": "“Break down by” {}",
    "--param": "the “{}” setting",
}


def _form_words(m: re.Match[str]) -> str:
    option, value = m.group(1), m.group(2)
    if option in PAIR_WORDS and value:
        return PAIR_WORDS[option].format(value.strip("'").split("=")[0])
    control = FORM_WORDS.get(option, "the matching option on this page")
    keep = value if option in ("--date-format", "--encoding", "--thousands") else None
    return f"{control} set to {keep}" if keep else control


def browser_words(text: str | None) -> str | None:
    """A core message as a browser user reads it: options name the form's controls, never flags."""
    if not text:
        return text
    for phrase, words in FORM_PHRASES:
        text = phrase.sub(words, text)
    return _OPTION.sub(_form_words, text)


def error_document(exc: SalesflowError) -> dict[str, Any]:
    """``error``, ``where``, ``hint``; ``current`` (the stored record) with a 409."""
    doc: dict[str, Any] = {"error": exc.what, "where": exc.where, "hint": exc.hint}
    if isinstance(exc, ConflictError) and exc.current is not None:
        doc["current"] = exc.current
    if isinstance(exc, ImportValidationError):
        doc["error"] = f"{exc.total} problem(s) found, nothing was imported"
        doc["problems"] = [vars(e) for e in exc.errors[: exc.SHOWN]]
        doc["total"] = exc.total
    return doc


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _page(request: Request, status: int, doc: dict[str, Any]) -> Response:
    from salesflow.web.render import render

    return render(request, "error.html", {"problem": doc}, status=status, partial="_error.html")


def _answer(request: Request, status: int, doc: dict[str, Any]) -> Response:
    if wants_json(request):
        return JSONResponse(doc, status_code=status)
    return _page(request, status, doc)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to a clear 4xx (or a bare 500 without internals)."""
    from salesflow.web.deps import LoginRequired

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse(error_document(exc), status_code=401)
        target = "/login?next=" + _quote(request.url.path)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(SalesflowError)
    async def _salesflow(request: Request, exc: SalesflowError) -> Response:
        doc = error_document(exc)
        response = _answer(request, status_of(exc), doc)
        if (doc.get("current") or {}).get("version") is not None:
            response.headers["ETag"] = f'"{doc["current"]["version"]}"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        doc = {
            "error": f"{first.get('msg', 'Invalid input')}",
            "where": where or None,
            "hint": "See the API docs at /api/docs for the expected fields",
            "problems": [
                {"where": ".".join(str(p) for p in e.get("loc", ())), "error": e.get("msg")}
                for e in exc.errors()
            ],
        }
        return _answer(request, 422, doc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        words = {404: "There is no such page", 405: "This address does not accept that method"}
        doc = {"error": words.get(exc.status_code, str(exc.detail)), "where": request.url.path}
        doc["hint"] = "Use the navigation, or see /api/docs" if exc.status_code < 500 else None
        return _answer(request, exc.status_code, doc)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        doc = {
            "error": "Something went wrong on the server; it has been logged",
            "where": request.url.path,
            "hint": "Try again; if it keeps happening, tell your salesflow admin",
        }
        return _answer(request, 500, doc)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
