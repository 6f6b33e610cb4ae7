"""Data: upload a CRM export, see the importer's row-by-row report before anything is written,
then confirm. ``POST /api/imports`` does the same in one call for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from salesflow.errors import ConfigError, SalesflowError
from salesflow.schema import TABLES
from salesflow.web import uploads
from salesflow.web.deps import AppState, Caller, editor, state, viewer
from salesflow.web.errors import error_document, status_of
from salesflow.web.render import render
from salesflow.web.routes.home import status

router = APIRouter()


async def run_import(
    st: AppState, path: Any, meta: dict[str, Any], *, dry_run: bool, who: str
) -> dict:
    """The importer on a held file (``dry_run`` writes nothing), in a worker thread so other
    requests are answered meanwhile; anyone else writing is told ``who`` imports."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import, st, path, meta, dry_run=dry_run, who=who)


def _import(st: AppState, path: Any, meta: dict[str, Any], *, dry_run: bool, who: str) -> dict:
    from salesflow.ingest import import_file

    with st.data.writing(changes=not dry_run) as ws:
        report = import_file(
            ws,
            meta["table"],
            path,
            preset=meta.get("preset") or None,
            encoding=meta.get("encoding") or None,
            decimal_comma=bool(meta.get("decimal_comma")),
            thousands=meta.get("thousands") or None,
            date_format=meta.get("date_format") or None,
            skip_invalid=Path(path).with_name(REJECTS) if meta.get("skip_invalid") else None,
            replace_history=bool(meta.get("replace_history")),
            dry_run=dry_run,
            who=who,
        )
    doc = report.to_dict()
    doc["file"] = meta["file"]  # not the server's path
    if doc.get("rejects_file"):  # offered as a download, never as a path on the server
        doc["warnings"] = [w for w in doc["warnings"] if doc["rejects_file"] not in w]
        doc["rejects_file"] = REJECTS
    return doc


REJECTS = "rejected-rows.csv"  # beside the held upload, so it goes when the upload goes
DATE_FORMATS = {"day-first": "%d/%m/%Y", "month-first": "%m/%d/%Y", "iso": "%Y-%m-%d"}


def _date_format(form: Any) -> str | None:
    """The form's date choice: detect (empty), day first, month first, or the user's pattern."""
    choice = str(form.get("date_format") or "")
    if choice == "pattern":
        pattern = str(form.get("date_pattern") or "").strip()
        if not pattern:
            raise ConfigError("The date pattern is empty", where="Date pattern",
                              hint="Write how a date looks, e.g. %d.%m.%Y for 31.12.2026")  # fmt: skip
        return pattern
    if choice and choice not in DATE_FORMATS:
        raise ConfigError(f"Date format {choice!r} is unknown", where="Date format",
                          hint="Choose day first, month first or your own pattern")  # fmt: skip
    return DATE_FORMATS.get(choice)


async def _received(request: Request, st: AppState) -> tuple[str, Any, dict[str, Any]]:
    """Check the declared size, then hold the file; returns (token, path, meta)."""
    limit = st.web.max_upload_bytes
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit + 64 * 1024:
        raise uploads.too_large("The upload", limit)
    form = await request.form(max_files=1, max_fields=14)
    table = str(form.get("table") or "")
    if table not in TABLES:
        raise ConfigError(
            f"Table {table!r} is unknown", where="table", hint=f"Use one of {', '.join(TABLES)}"
        )
    preset = str(form.get("preset") or "") or None
    if preset is not None:
        from salesflow.ingest import preset_names

        if preset not in preset_names():
            raise ConfigError(f"Preset {preset!r} is unknown", where="preset",
                              hint=f"Use one of {', '.join(preset_names())}")  # fmt: skip
    encoding = str(form.get("encoding") or "") or None
    if encoding is not None:
        from salesflow.ingest.read import encoding_name

        encoding = encoding_name(encoding, where="encoding")
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise ConfigError("No file was sent", where="file", hint="Choose a file to upload")
    thousands = str(form.get("thousands") or "") or None
    if thousands is not None:
        from salesflow.ingest.numbers import thousands_separator

        thousands = thousands_separator(thousands, where="thousands")
    meta = {"table": table, "preset": preset, "encoding": encoding, "thousands": thousands,
            "date_format": _date_format(form), "skip_invalid": _checked(form.get("skip_invalid")),
            "decimal_comma": _checked(form.get("decimal_comma")),
            "replace_history": _checked(form.get("replace_history"))}  # fmt: skip
    token, path = await uploads.hold(st.web.workspace, upload, limit=limit, meta=meta)
    _checked_file(st, token, path, encoding)
    return token, path, {**meta, "file": path.name, "dry_run": _checked(form.get("dry_run"))}


def _checked_file(st: AppState, token: str, path: Any, encoding: str | None) -> None:
    """The importer's checks that need no data, run before any lock: a workbook that unpacks
    to gigabytes or a file cut short is refused at once, keeping no one waiting."""
    from salesflow.ingest import check_file

    try:
        check_file(path, encoding=encoding)
    except SalesflowError:
        uploads.release(st.web.workspace, token)
        raise


def _checked(value: Any) -> bool:
    """A form checkbox or flag: ``on``, ``true``, ``1`` or ``yes``."""
    return str(value or "").lower() in ("1", "true", "yes", "on")


@router.post("/api/imports", tags=["data"], summary="Import a CRM export")
async def api_import(request: Request, caller: Caller = Depends(editor)) -> dict:
    """Multipart form: `table`, `file` (CSV, .xlsx or .parquet), optional `preset`,
    `encoding` (utf-8, latin-1, utf-16), `decimal_comma=true` for numbers written 1.234,56,
    `thousands` (`,` `.` ` ` or `'`: the thousands separator), `replace_history=true` (stage
    events replace the whole history of their deals instead of adding to it) and `dry_run=true`
    to only check. Bad rows: 400 with `problems` (file, row, column, value, reason), nothing
    written."""
    st = state(request)
    token, path, meta = await _received(request, st)
    try:
        return await run_import(st, path, meta, dry_run=meta["dry_run"], who=caller.name)
    finally:
        uploads.release(st.web.workspace, token)


def _page(request: Request, **ctx: Any) -> HTMLResponse:
    from salesflow.ingest import preset_names

    st = state(request)
    base = {"status": status(st), "syncs": syncs(st), "tables": list(TABLES),
            "presets": preset_names(),
            "table": request.query_params.get("table", "opportunities"), "report": None,
            "problem": None, "token": None, "done": None}  # fmt: skip
    code = ctx.pop("status", 400 if ctx.get("problem") else 200)
    base.update(ctx)
    return render(request, "data.html", base, partial="_import_report.html", status=code)


#: the canonical tables in a sales leader's words
TABLE_WORDS = {"opportunities": "deals", "stage_events": "stage changes",
               "opportunity_history": "deal changes", "activities": "activities",
               "requests": "requests", "forecasts": "forecasts"}  # fmt: skip


def syncs(st: AppState) -> dict[str, Any]:
    """The sync log for the page: each source's last success and problem, the latest syncs
    with the rows they changed in words; ``problem`` when the log cannot be read."""
    from salesflow.sync.overview import sync_overview

    try:
        doc = sync_overview(st.web.settings)
    except SalesflowError as exc:  # shown as what it is, never as "nothing synced yet"
        return {"problem": exc.message, "sources": [], "entries": [], "every": None}
    doc["problem"] = None
    for source in doc["sources"]:
        source["last_success"] = _when(source["last_success"])
        if source["last_failure"]:
            source["last_failure"]["at"] = _when(source["last_failure"]["at"])
    for entry in doc["entries"]:
        entry["at"] = _when(entry["at"])
        entry["changes"] = [
            f"{TABLE_WORDS.get(t, t)}: {n['added']:,} new, {n['updated']:,} updated, "
            f"{n['deleted']:,} removed"
            + (f", {n['unchanged']:,} unchanged" if n.get("unchanged") else "")
            for t, n in (entry["rows"] or {}).items()
            if n["added"] or n["updated"] or n["deleted"]
        ]
    return doc


def _when(at: str | None) -> str | None:
    """``2026-12-06T22:14:18+00:00`` as ``6 Dec 2026, 22:14 UTC``."""
    from datetime import UTC, datetime

    if not at:
        return None
    try:
        moment = datetime.fromisoformat(at).astimezone(UTC)
    except ValueError:
        return at
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


@router.get("/data", response_class=HTMLResponse, include_in_schema=False)
def data_page(request: Request, _: Caller = Depends(viewer)) -> HTMLResponse:
    return _page(request)


@router.post("/data/upload", response_class=HTMLResponse, include_in_schema=False)
async def upload(request: Request, caller: Caller = Depends(editor)) -> HTMLResponse:
    """Step 1: hold the file and show the importer's dry-run report."""
    st = state(request)
    token = None
    try:
        token, path, meta = await _received(request, st)
        report = await run_import(st, path, meta, dry_run=True, who=caller.name)
    except SalesflowError as exc:
        if token:
            uploads.release(st.web.workspace, token)
        return _page(request, problem=error_document(exc), status=status_of(exc))
    return _page(request, report=report, token=token, table=meta["table"])


@router.post("/data/import", response_class=HTMLResponse, include_in_schema=False)
async def confirm(request: Request, caller: Caller = Depends(editor)) -> HTMLResponse:
    """Step 2: the user confirmed; import the held file for real."""
    st = state(request)
    form = await request.form()
    token = str(form.get("token") or "")
    try:
        path, meta = uploads.held(st.web.workspace, token)
        report = await run_import(st, path, meta, dry_run=False, who=caller.name)
    except SalesflowError as exc:
        return _page(request, problem=error_document(exc), status=status_of(exc))
    uploads.imported(st.web.workspace, token, keep=REJECTS)  # the set-aside rows stay a while
    return _page(request, done=report, token=token, table=meta["table"])


@router.get("/data/rejected/{token}", include_in_schema=False)
def rejected(token: str, request: Request, caller: Caller = Depends(viewer)) -> FileResponse:
    """The rows the check set aside, as CSV with the row number and reason of each (a link, so
    a plain GET: the upload's secret token and the editor role guard it, not a CSRF token)."""
    from salesflow.errors import NotFoundError
    from salesflow.web.auth import Forbidden

    if not caller.can_edit:
        raise Forbidden("Only editors see the rows of an upload",
                        hint="Ask an admin to make you an editor on the Accounts page")  # fmt: skip

    rejects = uploads.folder_of(state(request).web.workspace, token) / REJECTS
    if not rejects.is_file():
        raise NotFoundError(
            "No rows were set aside for this upload, or they were kept past their 24 hours",
            hint="Upload the file again to see its rows checked",
        )
    return FileResponse(rejects, media_type="text/csv", filename=REJECTS)
