"""Which version a change is based on, the HTTP way and the JSON way: both are accepted.

Every update and delete in the API must name the version the caller read: ``version`` in the
body (or ``?version=N`` on a DELETE), or the record's ETag sent back as ``If-Match: "N"``.
Neither is a 428 (Precondition Required); a stale one is a 409 with the current record in the
body. GETs of a record send its ``ETag``. The check itself happens where the row is written
(:mod:`salesflow.appdb.versions`), so it holds across processes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel

from salesflow.appdb.errors import VersionRequiredError
from salesflow.appdb.versions import CURRENT
from salesflow.errors import ConfigError

__all__ = [
    "CHANGE_RESPONSES",
    "CREATE_RESPONSES",
    "IfMatch",
    "Problem",
    "etag",
    "expected",
    "optional",
]

#: The ``If-Match`` request header: the ETag of the version the caller read.
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The ETag you read, e.g. "3" (instead of `version`); a stale one is a 409',
    ),
]


class Problem(BaseModel):
    """An error as the API sends it; ``current`` is the stored record when a change was stale."""

    error: str
    where: str | None = None
    hint: str | None = None
    current: dict[str, Any] | None = None


_STALE = {"model": Problem, "description": "Someone changed it since you read it (or it exists "
          "already); nothing was saved. `current` holds what is stored now."}  # fmt: skip
_NO_VERSION = {"model": Problem, "description": 'No `version` and no `If-Match: "N"`: say which '
               "version your change is based on"}  # fmt: skip
#: OpenAPI ``responses`` of an update or delete.
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {409: _STALE, 428: _NO_VERSION}
#: OpenAPI ``responses`` of a create whose id or name may exist already.
CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {409: _STALE}


def etag(response: Response, version: Any) -> None:
    """Send the record's version as its (strong) ETag."""
    response.headers["ETag"] = f'"{version}"'


def expected(given: Any, if_match: str | None, *, what: str, numeric: bool = True) -> Any:
    """The version a change names: ``given`` (body or query) or ``If-Match``; they must agree."""
    tag = _tag(if_match, numeric=numeric)
    if given is not None and tag is not None and str(given) != str(tag):
        raise ConfigError(
            f"The version in the request ({given}) and If-Match ({if_match}) disagree",
            where="If-Match",
            hint="Send one of them, with the version you read",
        )
    chosen = given if given is not None else tag
    if chosen is None:
        raise VersionRequiredError(
            f"Say which version of {what} you are changing; nothing was saved",
            hint='Send the version you read as "version" (or the ETag you got, as If-Match: "N")',
        )
    return chosen


def optional(if_match: str | None, *, what: str) -> Any:
    """For a change that cannot clobber anything (a restore): ``If-Match`` when sent, else CURRENT."""
    if if_match is None or not if_match.strip():
        return CURRENT
    return expected(None, if_match, what=what)


def _tag(header: str | None, *, numeric: bool) -> Any:
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.startswith("W/"):  # a weak tag names the same version here
        text = text[2:]
    value = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else ""
    if numeric and not (value.isdigit() and 0 < len(value) < 10 and int(value) > 0):
        value = ""
    if not value or '"' in value or "," in value:
        raise ConfigError(
            f"If-Match {header!r} does not name one version",
            where="If-Match",
            hint='Send the ETag of the record you read, quotes included, e.g. If-Match: "3"',
        )
    return int(value) if numeric else value
