"""Excel workbooks: checked from the zip's own directory before anything parses them.

An .xlsx file is a zip of XML. A few kilobytes can unpack to gigabytes (a "decompression bomb"),
so the members' declared sizes and the first sheet's cell count are checked first, from the zip's
directory and one streamed read of the sheet, with no lock held. Formula cells whose results were
never saved (a workbook written by a program, not by Excel) would import as empty cells: they are
named instead, with the fix.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from salesflow.errors import DataError

__all__ = ["LIMITS", "ExcelLimits", "check_workbook", "first_sheet"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SAVE_AS_CSV = "Save the sheet as CSV (File > Save As > CSV UTF-8): salesflow reads CSV of any size"


@dataclass(frozen=True)
class ExcelLimits:
    """What salesflow unpacks from one workbook (Excel's own sheets stop at about 17 billion
    cells; a CRM export of 100,000 deals with 50 columns has 5 million)."""

    unpacked_bytes: int = 512 * 2**20
    cells: int = 10_000_000


LIMITS = ExcelLimits()


def _unreadable(path: Path, detail: object) -> DataError:
    return DataError(
        f"{path.name} is not a readable Excel workbook ({detail})",
        where=str(path),
        hint="Open it in Excel and save it as .xlsx again, or export the data as CSV",
    )


def _too_large(path: Path, what: str) -> DataError:
    return DataError(
        f"{what}, more than salesflow reads from a workbook", where=str(path), hint=_SAVE_AS_CSV
    )


def _zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable(path, exc) from exc


def first_sheet(book: zipfile.ZipFile) -> str:
    """The zip member holding the workbook's first sheet (the one salesflow imports)."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheet = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next(
        r.get("Target") for r in rels if sheet is not None and r.get("Id") == sheet.get(f"{_REL}id")
    )
    return target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)


def _scan(book: zipfile.ZipFile, member: str) -> tuple[int, bool]:
    """Cells in the sheet and whether any holds a formula, in one streamed read of its XML."""
    cells, formulas, carry = 0, False, b""
    with book.open(member) as fh:
        while chunk := fh.read(1 << 20):
            data = carry + chunk
            cells += data.count(b"<c ") + data.count(b"<c>")
            formulas = formulas or b"<f" in data
            carry = data[-2:]  # a tag cut across chunks is whole (and counted) in the next data
    return cells, formulas


def _formulas_without_values(book: zipfile.ZipFile, member: str, limit: int = 10) -> list[str]:
    """Cells (A1 names) holding a formula but no saved result."""
    found: list[str] = []
    with book.open(member) as fh:
        for _, cell in ElementTree.iterparse(fh):
            if cell.tag != f"{_MAIN}c":
                continue
            value = cell.find(f"{_MAIN}v")
            if cell.find(f"{_MAIN}f") is not None and (value is None or value.text is None):
                found.append(cell.get("r") or "?")
            cell.clear()
    return found if len(found) <= limit else [*found[:limit], f"… {len(found):,} in all"]


def check_workbook(path: Path, limits: ExcelLimits | None = None) -> None:
    """Refuse a workbook too large to unpack, or with formulas whose results were never saved."""
    limits = limits or LIMITS
    with _zip(path) as book:
        unpacked = sum(info.file_size for info in book.infolist())
        if unpacked > limits.unpacked_bytes:
            raise _too_large(
                path,
                f"{path.name} unpacks to {unpacked / 2**20:,.0f} MiB (the limit is "
                f"{limits.unpacked_bytes / 2**20:,.0f} MiB)",
            )
        try:
            member = first_sheet(book)
            cells, formulas = _scan(book, member)
        except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile) as exc:
            raise _unreadable(path, f"no first sheet: {exc}") from exc
        if cells > limits.cells:
            raise _too_large(
                path,
                f"The first sheet of {path.name} has {cells:,} cells (the limit is {limits.cells:,})",
            )
        missing = _formulas_without_values(book, member) if formulas else []
    if missing:
        raise DataError(
            f"{path.name}: cells {', '.join(missing)} hold formulas whose results were never "
            f"saved (the file was written by a program, not saved by Excel), so they would "
            f"import as empty",
            where=f"{path} (first sheet)",
            hint="Open the file in Excel (or LibreOffice), save it, and import it again",
        )
