"""What the importer needs from the workspace's data source, read-only until the write.

For the embedded DuckDB file the workspace is attached read-only to the validating engine; only
after validation passed is it re-attached read-write for the one write transaction. Any other
backend is reached through Ibis.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.ingest.batch import sql_literal
from salesflow.ingest.read import ident

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["WorkspaceData"]

_IBIS_TO_SQL = {"float64": "DOUBLE", "int64": "BIGINT", "string": "VARCHAR", "date": "DATE"}


class WorkspaceData:
    """The workspace's tables as seen from the in-memory engine ``mem``."""

    def __init__(self, mem: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.mem, self.settings = mem, settings
        url = settings.resolved_data_url()
        self.file: Path | None = None
        self.backend: BaseBackend | None = None
        if url.startswith("duckdb://"):
            self.file = Path(url[len("duckdb:///") :])
            self.attached = self.file.is_file()
            if self.attached:
                mem.execute(f"ATTACH {sql_literal(str(self.file))} AS ws (READ_ONLY)")
        else:
            from salesflow.source import connect

            self.backend = connect(url)
            self.attached = False
        self._columns: dict[str, dict[str, str]] = {}

    @classmethod
    @contextmanager
    def attach(cls, mem: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[WorkspaceData]:
        data = cls(mem, settings)
        try:
            yield data
        finally:
            data.detach()

    def detach(self) -> None:
        if self.attached:
            self.mem.execute("DETACH ws")
            self.attached = False
        if self.backend is not None:
            self.backend.disconnect()
            self.backend = None

    def tables(self) -> set[str]:
        if self.backend is not None:
            return set(self.backend.list_tables())
        if not self.attached:
            return set()
        rows = self.mem.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ws'"
        ).fetchall()
        return {r[0] for r in rows}

    def columns(self, table: str) -> dict[str, str]:
        """Existing columns of ``table`` and their SQL types (empty when it does not exist)."""
        if table not in self._columns:
            self._columns[table] = self._read_columns(table)
        return self._columns[table]

    def _read_columns(self, table: str) -> dict[str, str]:
        if table not in self.tables():
            return {}
        if self.backend is not None:
            schema = self.backend.get_schema(table)
            return {
                n: _IBIS_TO_SQL.get(
                    str(t).rstrip("!"), "TIMESTAMP" if t.is_timestamp() else "VARCHAR"
                )
                for n, t in schema.items()
            }
        rows = self.mem.execute(  # a literal: a bound parameter makes DuckDB import pandas
            "SELECT column_name, data_type FROM duckdb_columns() "
            f"WHERE database_name = 'ws' AND table_name = {sql_literal(table)}"
        ).fetchall()
        return dict(rows)

    def rows(self, table: str) -> int:
        if table not in self.tables():
            return 0
        if self.backend is not None:
            return int(self.backend.table(table).count().execute())
        return self.mem.execute(f"SELECT count(*) FROM ws.main.{ident(table)}").fetchone()[0]

    def known_opportunities(self) -> str:
        """A relation of the deals already in the workspace: opportunity_id, created_at."""
        name = "_known_opportunities"
        if "opportunities" not in self.tables():
            self.mem.execute(
                f"CREATE OR REPLACE TABLE {name} (opportunity_id VARCHAR, created_at TIMESTAMP)"
            )
        elif self.backend is not None:
            deals = self.backend.table("opportunities").select("opportunity_id", "created_at")
            self.mem.register("_known_arrow", deals.to_pyarrow())
            self.mem.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _known_arrow")
        else:
            self.mem.execute(
                f"CREATE OR REPLACE VIEW {name} AS "
                f"SELECT opportunity_id, created_at FROM ws.main.opportunities"
            )
        return name

    def write(
        self,
        file: Path | None,
        make_target: Callable[..., Any],
        statements: Callable[[Any], Any],
    ) -> Any:
        """Run ``statements`` on the data source, opened for writing only now: for DuckDB on
        ``file``, the next generation of the data file (a copy of the one read so far)."""
        self._columns = {t: self.columns(t) for t in ("opportunities", "stage_events")}
        if self.backend is not None:
            return statements(make_target(None, self.backend))
        if self.attached:
            self.mem.execute("DETACH ws")
        self.mem.execute(f"ATTACH {sql_literal(str(file))} AS ws")
        self.attached = True
        return statements(make_target(self.mem, None))
