"""Home: the three questions for the signed-in person, the UDRs with their verdicts, the root
causes, the improvements and their verdicts, and what changed since the last visit.

The last visit is kept in a small signed cookie (``salesflow_seen``: user, start of the previous
visit, last request), so no table is needed: a visit ends after 30 minutes without a page.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import clean
from salesflow.web.render import render_cached
from salesflow.web.workbench import VERDICT_WORDS, bench

router = APIRouter()

SEEN = "salesflow_seen"
VISIT_GAP = 30 * 60  # seconds without a page that end a visit
FIRST_VISIT_DAYS = 7  # a first visit shows the changes of the last week


def status(st: AppState) -> dict[str, Any]:
    """``salesflow status --json`` for this workspace, plus the win rate of closed deals."""
    from salesflow.workspace import workspace_status

    def compute(_con: Any) -> dict[str, Any]:
        doc = workspace_status(st.data.workspace)
        o = doc["outcomes"]
        closed = o["won"] + o["lost"]
        doc["win_rate"] = o["won"] / closed if closed else None
        return clean(doc)

    return st.data.cached(("status",), compute)


# -- the last visit ---------------------------------------------------------------------------


def _sign(secret: str, body: str) -> str:
    """The cookie's signature (itsdangerous, its own salt: no other cookie's signature fits)."""
    from itsdangerous import Signer

    return Signer(secret, salt="salesflow-seen").get_signature(body).decode()


def read_visit(request: Request, caller: Caller) -> tuple[float | None, float | None]:
    """(start of the previous visit's last page, last request) from the cookie, if it is ours."""
    raw = request.cookies.get(SEEN, "")
    body, _, mac = raw.rpartition(".")
    parts = body.split(":")
    secret = state(request).web.secret_key
    if len(parts) != 3 or not hmac.compare_digest(mac, _sign(secret, body)):
        return None, None
    try:
        user, since, last = int(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None, None
    return (since, last) if user == caller.user.id else (None, None)


def visit_since(request: Request, caller: Caller, now: float | None = None) -> tuple[datetime, str]:
    """When "your last visit" was, and the cookie value to send back.

    Within a visit (pages less than 30 minutes apart) the answer stays the same, so reloading
    Home does not empty the list; the next visit starts from the last page of this one.
    """
    now = time.time() if now is None else now
    since, last = read_visit(request, caller)
    if last is None:
        since = now - FIRST_VISIT_DAYS * 86400
    elif now - last > VISIT_GAP or since is None:
        since = last
    body = f"{caller.user.id}:{since:.0f}:{now:.0f}"
    cookie = f"{body}.{_sign(state(request).web.secret_key, body)}"
    return datetime.fromtimestamp(since, UTC), cookie


# -- what Home shows --------------------------------------------------------------------------


def _label(entry: dict[str, Any] | None) -> str:
    doc = entry or {}
    return str(doc.get("statement") or doc.get("text") or doc.get("title") or "")


def change_doc(h: Any) -> dict[str, Any]:
    snapshot = h.after or h.before or {}
    words = {"create": "added", "update": "changed", "delete": "deleted", "restore": "restored"}
    return {"entity": h.entity, "id": h.entity_id, "action": words.get(h.action, h.action),
            "who": h.who, "at": h.at.isoformat(), "label": _label(snapshot),
            "improvement_id": snapshot.get("improvement_id")}  # fmt: skip


def mine(wb: Any, improvements: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Improvements this person owns or was asked about, with their latest check-in."""
    latest: dict[int, Any] = {}
    involved: set[int] = set()
    for c in wb.checkins():
        latest[c.improvement_id] = c
        if name in (c.asked_by, c.answered_by):
            involved.add(c.improvement_id)
    out = []
    for i in improvements:
        if i["owner"] != name and i["id"] not in involved and i["created_by"] != name:
            continue
        last = latest.get(i["id"])
        out.append({**i, "last_checkin": last.to_dict() if last else None})
    return out


def home_doc(request: Request, caller: Caller, since: datetime) -> dict[str, Any]:
    """Everything Home shows, as one JSON-ready document (also ``GET /api/home``)."""
    with bench(request, caller, lock=False) as wb:
        udrs = wb.list_udrs()
        graph = wb.causes()
        improvements = wb.list_improvements()
        changes = [change_doc(h) for h in wb.changes_since(since)]
        doc = {
            "since": since.isoformat(timespec="seconds"),
            "mine": mine(wb, improvements, caller.name),
            "udrs": udrs,
            "root_causes": sorted(
                (n for n in graph["nodes"] if n["root"] or n["core"]),
                key=lambda n: (-n["count"], n["id"]),
            ),
            "improvements": improvements,
            "due": wb.due_improvements(),
            "changes": list(reversed(changes))[:30],
        }
    return clean(doc)


@router.get("/api/status", tags=["data"], summary="What the workspace holds")
def api_status(request: Request, _: Caller = Depends(viewer)) -> dict:
    """Rows and date range per table, deals by outcome (as `salesflow status --json`)."""
    return status(state(request))


@router.get("/api/home", tags=["home"], summary="Home: your improvements, verdicts, changes")
def api_home(request: Request, caller: Caller = Depends(viewer)) -> dict:
    """Your improvements with their latest check-in, the check-ins due or overdue (as
    `salesflow improve due --json`), UDRs and improvements with verdicts, root causes and core
    problems, and the changes of the last week."""
    since = datetime.now(UTC) - timedelta(days=FIRST_VISIT_DAYS)
    return home_doc(request, caller, since)


def _home_context(request: Request, caller: Caller, since: datetime) -> dict[str, Any]:
    doc = home_doc(request, caller, since)
    tally = {v: sum(1 for u in doc["udrs"] if u["verdict"]["verdict"] == v) for v in VERDICT_WORDS}
    improved = sum(1 for i in doc["improvements"] if i["verdict"]["verdict"] == "improved")
    return {"status": status(state(request)), "home": doc, "tally": tally,
            "improved": improved, "words": VERDICT_WORDS}  # fmt: skip


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    """Rendered once per person and visit start (and knowledge version, data generation)."""
    since, cookie = visit_since(request, caller)
    today = state(request).web.settings.today()  # what is due changes at midnight
    response = render_cached(
        request, "home.html", ("home", since, today), lambda: _home_context(request, caller, since)
    )
    st = state(request)
    response.set_cookie(SEEN, cookie, max_age=400 * 86400, httponly=True, samesite="lax",
                        secure=st.web.secure_cookies)  # fmt: skip
    return response
