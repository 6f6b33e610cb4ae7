"""One error hierarchy for every layer.

A :class:`SalesflowError` is a user mistake or a data problem, never a bug: the CLI prints it as one
line on stderr and exits non-zero, the web app answers 4xx with the same words. Each error says
*what* went wrong, *where* (file, row, column, setting) and *how to fix it*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConfigError",
    "ConflictError",
    "DataError",
    "FilterValueError",
    "ImportValidationError",
    "NotFoundError",
    "RowError",
    "SalesflowError",
    "StorageError",
    "WorkspaceBusy",
    "WorkspaceError",
    "did_you_mean",
    "never_a_result",
]


class SalesflowError(Exception):
    """Base class: ``what`` happened, ``where`` and a ``hint`` on how to fix it."""

    exit_code = 1

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.what
        if self.where:
            text = f"{text} ({self.where})"
        if self.hint:  # a message ending in a list of lines takes the hint on a line of its own
            separator = "" if text.endswith("\n") else ". "
            text = f"{text}{separator}{self.hint}"
        return text


class WorkspaceError(SalesflowError):
    """The workspace folder or its ``salesflow.toml`` is missing or unusable."""


class StorageError(SalesflowError):
    """The data could not be read or written (a lock, a full disk, a damaged file).

    Never a fact about the sales data: code that turns errors into results (a verdict's
    ``measure_error``, a report's missing section, an empty list) lets this one through.
    """

    exit_code = 3


class WorkspaceBusy(StorageError):
    """Another process holds the workspace for writing longer than we were willing to wait."""

    exit_code = 4


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"Did you mean 'win_rate'? "`` for the nearest choices (any case), else ``""``."""
    from difflib import get_close_matches

    by_lower = {c.lower(): c for c in choices}
    near = [by_lower[m] for m in get_close_matches(word.lower(), list(by_lower), n=2, cutoff=0.6)]
    return f"Did you mean {' or '.join(repr(n) for n in near)}? " if near else ""


def never_a_result(exc: BaseException) -> None:
    """Raise ``exc`` again when it is a :class:`StorageError`; call it first in every
    ``except SalesflowError`` that turns the error into a result."""
    if isinstance(exc, StorageError):
        raise exc


class ConfigError(SalesflowError):
    """A setting has a value salesflow cannot use."""


class NotFoundError(SalesflowError):
    """A named thing (metric, UDR, table, preset…) does not exist."""


class FilterValueError(NotFoundError):
    """A filter asks for a value no row holds (``source=Parner``): a typo, never "no data"."""


class ConflictError(SalesflowError):
    """The change clashes with what is stored now (someone changed it, or it exists already);
    nothing was written. ``current`` is the stored record as JSON, when there is one."""

    exit_code = 2

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        current: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(what, where=where, hint=hint)
        self.current = current


class DataError(SalesflowError):
    """The sales data cannot answer the question asked (missing table, column, or rows)."""


@dataclass(frozen=True)
class RowError:
    """One rejected input value: where it is, what it was, and why it was rejected."""

    file: str
    row: int | None  # 1-based data row number as a spreadsheet user counts it (header excluded)
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f" value {self.value!r}:"
        return f"{', '.join(where)}:{value} {self.reason}"


class ImportValidationError(SalesflowError):
    """An import found bad rows; nothing was written. ``errors`` holds the first few, ``total`` all."""

    SHOWN = 50

    def __init__(self, errors: list[RowError], *, total: int | None = None) -> None:
        self.errors = errors
        self.total = total if total is not None else len(errors)
        lines = "\n".join(f"  {e}" for e in errors[: self.SHOWN])
        more = self.total - min(len(errors), self.SHOWN)
        tail = f"\n  … and {more} more" if more > 0 else ""
        super().__init__(
            f"{self.total} problem(s) found, nothing was imported:\n{lines}{tail}\n",
            hint="Fix the file, or import the valid rows with --skip-invalid REJECTS.csv",
        )
