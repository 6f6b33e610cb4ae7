"""Helpers for importer tests: CSV writers, folder hashes, read-only queries."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A CSV the way a CRM writes it: header line, then one line per record."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def folder_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (the byte-for-byte state of a workspace), but the
    write lock, whose note of the last writer is bookkeeping, not data."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    }


def query(workspace, sql: str) -> list[tuple]:
    """Run SQL on the workspace data file, read-only, and close it again."""
    import duckdb

    workspace.close()
    con = duckdb.connect(str(workspace.path / "data.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def snapshot(workspace) -> dict[str, tuple[int, str]]:
    """Row count and an MD5 of the sorted rows of every table in the workspace data file."""
    tables = [r[0] for r in query(workspace, "SELECT table_name FROM duckdb_tables() ORDER BY 1")]
    return {
        t: query(
            workspace,
            f"SELECT count(*), md5(COALESCE(string_agg(CAST(x AS VARCHAR), chr(10) ORDER BY "
            f"CAST(x AS VARCHAR)), '')) FROM \"{t}\" x",
        )[0]
        for t in tables
    }
