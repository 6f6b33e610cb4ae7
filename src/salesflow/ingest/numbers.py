"""How numbers are written in an export, read in the engine; a comma is never guessed.

``12,500`` is twelve thousand five hundred in one country and twelve and a half in another, so
salesflow reads a comma only as the user says: ``--decimal-comma`` (``1.234,56``) or
``--thousands ,`` (``12,500.00``). A value that could be either, in a file that did not say, is
refused with both options named. NaN and infinity are never numbers a sales leader can count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, RowError

if TYPE_CHECKING:
    import duckdb

__all__ = ["NumberStyle", "hint_numbers", "thousands_separator"]

#: Separators people group thousands with, and names for them.
_SEPARATORS = {
    ",": ",", "comma": ",", ".": ".", "dot": ".", " ": " ", "space": " ", "'": "'",
    "apostrophe": "'",
}  # fmt: skip
#: Groups of three digits; ``{sep}`` and ``{dec}`` are the separators, regex-escaped.
_GROUPED = r"^[+-]?[0-9]{{1,3}}({sep}[0-9]{{3}})+({dec}[0-9]*)?$"
_NOT_FINITE = r"'^[+-]?(nan|inf|infinity)$'"
_COMMA_GROUPED = r"'^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$'"  # 12,500 or 1,234,567.50
_ONE_COMMA_GROUP = r"'^[+-]?[0-9]{1,3},[0-9]{3}$'"  # 12,500: thousands or three decimals
#: 1.234,56 or 1234,5: only a decimal comma reads it.
_DECIMAL_COMMA = r"'^[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+),[0-9]+$'"


def thousands_separator(text: str, *, where: str = "--thousands") -> str:
    """The separator named by ``text`` (``,`` ``.`` ``' '`` ``'`` or their names)."""
    sep = _SEPARATORS.get(text if text.strip() == "" else text.strip().lower())
    if sep is None:
        raise ConfigError(
            f"{text!r} is not a thousands separator salesflow knows",
            where=where,
            hint="Use ',' (12,500.00), '.' (12.500,00, with --decimal-comma), ' ' or \"'\"",
        )
    return sep


@dataclass(frozen=True)
class NumberStyle:
    """The decimal mark and thousands separator of an export's numbers."""

    decimal_comma: bool = False
    thousands: str | None = None

    def __post_init__(self) -> None:
        if self.thousands == "," and self.decimal_comma:
            raise ConfigError(
                "A comma cannot be both the decimal mark and the thousands separator",
                where="--thousands",
                hint="Numbers like 1.234,56 need --decimal-comma alone; 1,234.56 need --thousands ,",
            )
        if self.thousands == "." and not self.decimal_comma:
            raise ConfigError(
                "A dot as thousands separator needs a decimal comma",
                where="--thousands",
                hint="Add --decimal-comma for numbers written 12.500,00",
            )

    @property
    def explicit(self) -> bool:
        """The user said what a comma means (no guess is left to refuse)."""
        return self.thousands is not None

    def sql(self, column_sql: str, sql_type: str) -> str:
        """SQL reading the text as a number; NULL where it is not one (also when a thousands
        separator is not between groups of three digits: ``12,50`` with ``--thousands ,``)."""
        x, text = column_sql, column_sql
        if self.decimal_comma:
            text = f"replace(replace({text}, '.', ''), ',', '.')"
        if self.thousands and self.thousands != ".":
            text = f"replace({text}, {_literal(self.thousands)}, '')"
        parsed = f"TRY_CAST({text} AS {sql_type})"
        if not self.thousands:
            return parsed
        grouped = _GROUPED.format(
            sep=_escape(self.thousands), dec="," if self.decimal_comma else r"\."
        )
        return (
            f"CASE WHEN contains({x}, {_literal(self.thousands)}) AND NOT "
            f"regexp_full_match({x}, {_literal(grouped)}) THEN NULL ELSE {parsed} END"
        )

    def ambiguous(
        self,
        con: duckdb.DuckDBPyConnection,
        view: str,
        rows_view: Callable[[], str],
        columns: list[str],
        file: str,
    ) -> list[RowError]:
        """With ``--decimal-comma`` alone: columns where every number with a comma reads
        ``12,500`` (three digits after it), as a comma between thousands writes it too.
        ``rows_view()`` gives the text with ``_row``; it is built only to name such a row."""
        if not self.decimal_comma or self.explicit or not columns:
            return []
        quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
        counts = ", ".join(
            f"count(*) FILTER (WHERE regexp_matches({q}, {_ONE_COMMA_GROUP})), count(*) FILTER "
            f"(WHERE contains({q}, ',') AND NOT regexp_matches({q}, {_ONE_COMMA_GROUP}))"
            for q in quoted
        )
        row = con.sql(f"SELECT {counts} FROM {view}").fetchone()
        errors = []
        for i, (column, q) in enumerate(zip(columns, quoted, strict=True)):
            if row[2 * i] and not row[2 * i + 1]:
                first, value = con.sql(
                    f"SELECT _row, {q} FROM {rows_view()} WHERE "
                    f"regexp_matches({q}, {_ONE_COMMA_GROUP}) ORDER BY _row LIMIT 1"
                ).fetchone()
                errors.append(RowError(file, first, column, value, _ambiguous_reason(value)))
        return errors


def _ambiguous_reason(value: str) -> str:
    return (
        f"{value} could be {value.replace(',', '')} (a comma between thousands) or "
        f"{value.replace(',', '.')} (a decimal comma), and no number in this column says which; "
        f"if the comma separates thousands use --thousands , instead of --decimal-comma; if "
        f"these really have three decimals, add --thousands . to confirm"
    )


def hint_numbers(
    con: duckdb.DuckDBPyConnection, errors: str, column: str, style: NumberStyle
) -> None:
    """Say why values of ``column`` are not numbers, and which option reads them."""
    col = _literal(column)

    def because(pattern: str, words: str) -> None:
        con.execute(
            f"UPDATE {errors} SET reason = reason || {_literal(': ' + words)} WHERE col = {col} "
            f"AND reason = 'not a number' AND regexp_matches(value, {pattern}, 'i')"
        )

    because(
        _NOT_FINITE,
        "NaN and infinity cannot be counted; leave the cell empty when the figure is unknown",
    )
    if style.decimal_comma and not style.explicit:
        because(
            _COMMA_GROUPED,
            "it looks written with commas between thousands; use --thousands , instead of "
            "--decimal-comma",
        )
    if style.decimal_comma or style.explicit:
        return
    because(
        _ONE_COMMA_GROUP,
        "it could be written with a comma between thousands (add --thousands ,) or with a "
        "decimal comma (add --decimal-comma); salesflow will not guess which",
    )
    because(_COMMA_GROUPED, "it looks written with commas between thousands; add --thousands ,")
    because(
        _DECIMAL_COMMA,
        'it looks written with a decimal comma; add --decimal-comma (or decimal = "," in the '
        "mapping file)",
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _escape(sep: str) -> str:
    return {".": r"\.", " ": " ", "'": "'", ",": ","}[sep]
