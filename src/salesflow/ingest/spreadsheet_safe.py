"""Cells safe to open in a spreadsheet (OWASP "CSV injection"): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and Google
Sheets as a formula, which can run commands or send data away. Such a cell gets a leading ``'``
so it shows as the text it is. A number (``-12.5``, ``+3``, ``-1.234,56``, ``-5%``) is data, not a
formula, and is left alone, as is every value of a numeric column.

:func:`neutralise` is for Python writers, :func:`neutralise_sql` for DuckDB ``COPY … TO``.
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_START", "neutralise", "neutralise_sql"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain number, with either decimal mark and thousands separators, an exponent or a percent.
NUMBER = r"[+-]?[0-9][0-9.,]*([eE][+-]?[0-9]+)?%?"
_NUMBER = re.compile(NUMBER)


def neutralise(value: object) -> object:
    """``value`` as a spreadsheet will show it, never run it."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_sql(column: str) -> str:
    """The DuckDB expression for a quoted VARCHAR ``column``, neutralised the same way."""
    starts = "^[=+\\-@\\t\\r]"
    return (
        f"CASE WHEN regexp_matches({column}, '{starts}') "
        f"AND NOT regexp_full_match({column}, '{NUMBER}') "
        f"THEN '''' || {column} ELSE {column} END"
    )
