"""A CSV file's bytes, checked before it is read: NUL bytes, a cut-short last line, its header.

These are scans at memory speed (``mmap.find``, ``bytes.count``), never a Python loop per row.
A NUL byte is a sign of a binary or corrupted file; a last line without a line break is how an
export cut short (a full disk, a stopped download) ends, and its last row would import incomplete.
"""

from __future__ import annotations

import csv
import io
import mmap
from pathlib import Path

from salesflow.errors import DataError, ImportValidationError, RowError

__all__ = ["check_csv", "duplicate_columns", "header_fields", "nul_error"]

_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 24


def _decode(data: bytes, encoding: str | None) -> str:
    return data.decode("utf-8-sig" if encoding in (None, "utf-8") else encoding, "replace")


def _lines_before(path: Path, end: int) -> int:
    """Line breaks in the first ``end`` bytes (counted 16 MiB at a time)."""
    count, done = 0, 0
    with path.open("rb") as fh:
        while done < end and (chunk := fh.read(min(_CHUNK, end - done))):
            count, done = count + chunk.count(b"\n"), done + len(chunk)
    return count


def header_fields(
    path: Path, encoding: str | None, width: int | None = None
) -> tuple[str, list[str]]:
    """The delimiter and the header as written (DuckDB renames repeated names): split by the
    delimiter that gives ``width`` fields, else by the one giving the most."""
    with path.open("rb") as fh:
        head = _decode(fh.read(1 << 16), encoding)
    if not head:
        return ",", []
    options = {d: next(csv.reader(io.StringIO(head), delimiter=d)) for d in _DELIMITERS}
    fitting = [d for d, f in options.items() if width is not None and len(f) == width]
    best = fitting[0] if fitting else max(options, key=lambda d: len(options[d]))
    return best, options[best]


def duplicate_columns(names: list[str], file: str) -> None:
    """Refuse a header naming a column twice: which of the two to import would be a guess."""
    seen: dict[str, int] = {}
    errors = []
    for i, name in enumerate(names, start=1):
        key = name.strip().lower()
        if key in seen:
            errors.append(
                RowError(
                    file,
                    None,
                    name.strip(),
                    None,
                    f"columns {seen[key]} and {i} of the header are both called {name.strip()!r}, "
                    f"so salesflow cannot tell which one to import; rename one of them in the "
                    f"file (for example {name.strip()!r} and {name.strip() + ' 2'!r})",
                )
            )
        else:
            seen[key] = i
    if errors:
        raise ImportValidationError(errors)


def check_csv(path: Path, encoding: str | None) -> None:
    """Refuse NUL bytes and a last line without a line break (UTF-16 text is exempt: it is
    full of NUL bytes and its lines end in two bytes)."""
    if encoding == "utf-16" or path.stat().st_size == 0:
        return
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        nul = data.find(b"\x00")
        ends = data[-1:] in (b"\n", b"\r")
        start = data.rfind(b"\n") + 1
        last = _decode(data[start : start + 200], encoding)
    if nul >= 0:
        _refuse_nul(path, encoding, nul)
    line = _lines_before(path, path.stat().st_size) + 1 if not ends else 0
    if line > 1:  # (a header alone without a line break is an empty export, not a cut one)
        raise DataError(
            f"{path.name} ends in the middle of a line: line {line} (row {line - 1}, "
            f"{last[:60]!r}) has no line break after it, so the export may have been cut short "
            f"and that row may be incomplete; nothing was imported",
            where=f"{path}, line {line}",
            hint=f"Export the file again; if row {line - 1} is complete, end the file with a "
            f"line break (press Enter after the last row and save) and import it again",
        )


def _refuse_nul(path: Path, encoding: str | None, offset: int) -> None:
    line = _lines_before(path, offset) + 1
    with path.open("rb") as fh:
        fh.seek(max(0, offset - 100_000))
        before = fh.read(offset - fh.tell())
        text = _decode(before[before.rfind(b"\n") + 1 :] + fh.read(1 << 12), encoding)
    row = text.split("\n", 1)[0]
    _, header = header_fields(path, encoding)
    fields = max(
        (next(csv.reader(io.StringIO(row), delimiter=d)) for d in _DELIMITERS),
        key=lambda f: (len(f) == len(header), len(f)),
    )
    column = next(
        (header[i] for i, f in enumerate(fields) if "\x00" in f and i < len(header)), None
    )
    where = f", column {column!r}" if column else ""
    raise nul_error(path, f"on line {line} (row {line - 1}{where})", f"{path}, line {line}")


def nul_error(path: Path, place: str, where: str) -> DataError:
    """A NUL byte found ``place`` (``on line 3 (row 2, column 'owner')``)."""
    return DataError(
        f"{path.name} holds a NUL byte (an invisible \\0 character) {place}: a sign of a binary "
        f"or corrupted file; nothing was imported",
        where=where,
        hint="Export the file again from the CRM, or remove the character and save the file",
    )
