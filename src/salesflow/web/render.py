"""Templates: one Jinja2 environment (autoescaped), the navigation, and full page vs HTMX partial.

A route calls ``render(request, "page.html", context, partial="_partials/_x.html")``: a normal
request gets the whole page, an HTMX request (``HX-Request`` header) only the partial it swaps.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import HTMLResponse
    from jinja2 import Environment

__all__ = ["MORE_NAV", "NAV", "environment", "is_htmx", "render", "render_cached"]

TEMPLATES = Path(__file__).parent / "templates"

#: (path, label, built yet?) — the navigation stays the same while areas are being built.
NAV = (
    ("/", "Home", True),
    ("/udrs", "UDRs", True),
    ("/causes", "Causes", True),
    ("/improvements", "Improvements", True),
    ("/wins", "Wins", True),
    ("/measures", "Measures", True),
    ("/value-stream", "Value stream", True),
    ("/data", "Data", True),
)

#: the pages opened less often, under "More" at the end of the navigation (a ``<details>``:
#: it opens without a script and with the keyboard, and says whether it is open)
MORE_NAV = (
    ("/pipeline", "Pipeline", True),
    ("/requests", "Requests", True),
    ("/forecasts", "Forecasts", True),
)


def _number(value: Any, unit: str = "") -> str:
    """A value as a sales leader reads it: 41.2 %, 1,250, 3.4."""
    if value is None or value != value:
        return "—"
    if unit == "%":
        return f"{float(value) * 100:.1f} %"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.1f}" if abs(float(value)) >= 10 else f"{float(value):,.2f}"


def _hours(value: float | None, day: float = 24.0) -> str:
    """Hours, or days of ``day`` hours from three days on (a business day: its hours)."""
    if value is None:
        return "—"
    return f"{value:,.1f} h" if value < 3 * day else f"{value / day:,.1f} days"


@cache
def environment() -> Environment:
    """Autoescaping is on for every template; ``|tojson`` is the only way data reaches scripts."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from salesflow.web.errors import browser_words

    env.filters["browser_words"] = browser_words  # a core message's CLI options as form words
    env.filters["number"] = _number
    env.filters["hours"] = _hours
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "default": str}
    return env


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The page, or only ``partial`` (a file in ``_partials/``) for an HTMX request."""
    from fastapi.responses import HTMLResponse

    caller = getattr(request.state, "caller", None)
    ctx = {
        "request": request,
        "caller": caller,
        "csrf": caller.csrf if caller is not None else "",
        "nav": NAV,
        "more_nav": MORE_NAV,
        "path": request.url.path,
        **(context or {}),
    }
    name = f"_partials/{partial}" if partial and is_htmx(request) else template
    html = environment().get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def render_cached(
    request: Request, template: str, key: Hashable, context: Callable[[], dict[str, Any]]
) -> HTMLResponse:
    """``render`` once per person, session, knowledge version and data generation.

    For pages that only show stored documents: ``key`` names everything else the page depends
    on (view, start of the visit). The person's id, name, role and CSRF token are part of the
    key, so nobody sees another's page or form token; an edit (new knowledge version) or an
    import (new data generation) renders afresh, and entries expire after ``cache_seconds``.
    """
    from fastapi.responses import HTMLResponse

    from salesflow.web.deps import state
    from salesflow.web.verdicts import knowledge_version

    st = state(request)
    caller = request.state.caller
    who = (caller.user.id, caller.user.name, caller.user.role, caller.csrf, is_htmx(request))
    version = knowledge_version(st.store)
    full = ("page", template, version, who, key)
    html = st.data.cached(full, lambda _con: bytes(render(request, template, context()).body))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
