"""Small helpers shared by the routes: query parameters to core arguments, JSON-safe values.

Both the pages and their ``/api`` twins parse input here, so they accept the same words.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Form, Query, Request
from starlette.datastructures import FormData

from salesflow.errors import ConfigError

__all__ = [
    "DIMENSIONS",
    "MAX_ID",
    "VersionForm",
    "VersionQuery",
    "clean",
    "day",
    "form_data",
    "pairs",
    "pairs_from_rows",
]

#: The largest id or version the app database stores (a 32-bit integer): larger input is a 422.
MAX_ID = 2**31 - 1
#: ``?version=N``: the version the person read (a stale one is refused with 409).
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
#: The same in a page's form (a hidden field).
VersionForm = Annotated[int | None, Form(ge=1, le=MAX_ID)]


async def form_data(request: Request) -> FormData:
    """A page form's fields, as a dependency."""
    return await request.form()


#: Breakdown and filter columns offered in the forms (any opportunity column works in the API).
DIMENSIONS = ("owner", "team", "product", "segment", "source", "region", "amount_band", "stage")


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf → null, NumPy scalars → numbers, dates → ISO text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return clean(value.item())
    return value


def day(text: str | None, name: str) -> date | None:
    """A ``YYYY-MM-DD`` field, or a clear error naming it."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{name} {text!r} is not a date", where=name, hint="Write it as YYYY-MM-DD"
        ) from None


def pairs(items: list[str] | None, name: str = "filter") -> dict[str, list[str]]:
    """``["owner=Ann", "owner=Ben"]`` → ``{"owner": ["Ann", "Ben"]}``; blanks are ignored."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(
                f"{name} {item!r} is not of the form column=value",
                where=name,
                hint="Write it like owner=Ann",
            )
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def pairs_from_rows(columns: list[str], values: list[str]) -> list[str]:
    """Form rows (a column picker beside a value box) as ``column=value`` items."""
    return [f"{c}={v}" for c, v in zip(columns, values, strict=False) if c and v.strip()]
