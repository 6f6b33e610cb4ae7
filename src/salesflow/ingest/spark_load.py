"""The importer's writes on Spark, whose plain (Parquet) tables have no DELETE, UPDATE or
transactions.

The importer speaks one SQL for DuckDB and PostgreSQL (:mod:`salesflow.ingest.load`). Here each
statement is parsed (sqlglot) and replayed on *staged* copies: the first change to a table makes
a new version of it in memory (a temporary view over a checkpointed DataFrame), every later
statement reads that version, a DELETE keeps the rows it would not delete, an UPDATE rewrites the
columns it sets, an INSERT appends, an ADD COLUMN adds a NULL column. Nothing reaches the stored
tables until every statement succeeded; then each changed table is overwritten in one write.
A failure before that leaves the stored tables as they were: all or nothing, except that the
final overwrites of two or more tables are not one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["SparkTarget"]

_READ = "postgres"  # the importer's SQL is the dialect DuckDB and PostgreSQL share
_HIT = "_salesflow_hit"


class SparkTarget:
    """The importer's target on a Spark data source (see the module's docstring)."""

    def __init__(self, backend: BaseBackend, batch, events, history=None) -> None:
        self.backend, self.prefix, self.temp, self.semi_join = backend, "", "", False
        self.session = backend._session
        self.batch, self.events = "_salesflow_batch", "_salesflow_events" if events else None
        self.history = "_salesflow_history" if history is not None else None
        self.staged: dict[str, tuple[str, Any]] = {}  # stored table -> (view, DataFrame)
        self.scratch: set[str] = set()
        self._n = 0
        self._tables: set[str] | None = None  # the stored tables, listed once
        for name, data in ((self.batch, batch), (self.events, events), (self.history, history)):
            if name is not None:
                self._view(name, self._frame(data))

    # --- the calls the importer makes -------------------------------------------------
    def execute(self, sql: str) -> None:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read=_READ)
        if isinstance(tree, exp.Delete):
            self._delete(tree)
        elif isinstance(tree, exp.Update):
            self._update(tree)
        elif isinstance(tree, exp.Insert):
            self._insert(tree)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        elif isinstance(tree, exp.Create):
            self._create(tree)
        elif isinstance(tree, exp.Drop):
            name = tree.this.name
            if name in self.scratch:
                self.session.catalog.dropTempView(name)
                self.scratch.discard(name)
            else:
                self.session.sql(self._sql(tree))
        else:
            self.session.sql(self._sql(tree)).collect()

    def scalar(self, sql: str) -> Any:
        return self.row(sql)[0]

    def row(self, sql: str) -> tuple:
        import sqlglot

        return tuple(self.session.sql(self._sql(sqlglot.parse_one(sql, read=_READ))).collect()[0])

    def changed(self, sql: str) -> int:
        import sqlglot

        return self._update(sqlglot.parse_one(sql, read=_READ))

    def rows_written(self, then) -> None:
        """Nothing is stored before every statement succeeded (see the module's docstring)."""
        if then is not None:
            then()

    def run(self, statements) -> Any:
        try:
            result = statements(self)
            self._commit()
            return result
        finally:
            for view, frame in self.staged.values():
                self.session.catalog.dropTempView(view)
                frame.unpersist()
            for name in (self.batch, self.events, self.history, *self.scratch):
                if name:
                    self.session.catalog.dropTempView(name)
            self.staged.clear()

    # --- statements ---------------------------------------------------------------------------
    def _delete(self, tree) -> None:
        table = tree.this
        name, alias = table.name, table.alias_or_name
        where = tree.args["where"].this
        current = self._current(name)
        self._stage(
            name,
            f"SELECT {alias}.* FROM {current} AS {alias} WHERE ({self._sql(where)}) IS NOT TRUE",
        )

    def _update(self, tree) -> int:
        from sqlglot import exp

        table = tree.this
        name, alias = table.name, table.alias_or_name
        current = self._current(name)
        sets = {e.this.name: self._sql(e.expression) for e in tree.expressions}
        where = tree.args.get("where")
        cond = self._sql(where.this) if where else "TRUE"
        source = tree.args.get("from") or tree.args.get("from_")
        columns = self.session.table(current).columns
        if source is None:
            count = self._count(f"SELECT count(*) FROM {current} AS {alias} WHERE {cond}")
            picks = [
                f"CASE WHEN {cond} THEN {sets[c]} ELSE {alias}.`{c}` END AS `{c}`"
                if c in sets
                else f"{alias}.`{c}`"
                for c in columns
            ]
            body = f"FROM {current} AS {alias}"
        else:  # UPDATE … FROM (subquery) l WHERE <join>: at most one match per row, as here
            other = source.this
            other_alias = other.alias_or_name
            if isinstance(other, exp.Table):
                sub = f"SELECT * FROM {self._current(other.name)}"
            else:
                sub = self._sql(other.this)
            count = self._count(
                f"SELECT count(*) FROM {current} AS {alias} JOIN ({sub}) AS {other_alias} ON {cond}"
            )
            picks = [
                f"CASE WHEN {other_alias}.{_HIT} THEN {sets[c]} ELSE {alias}.`{c}` END AS `{c}`"
                if c in sets
                else f"{alias}.`{c}`"
                for c in columns
            ]
            body = (
                f"FROM {current} AS {alias} LEFT JOIN (SELECT *, TRUE AS {_HIT} FROM ({sub}) s) "
                f"AS {other_alias} ON {cond}"
            )
        self._stage(name, f"SELECT {', '.join(picks)} {body}")
        return count

    def _insert(self, tree) -> None:
        from sqlglot import exp

        target = tree.this
        if isinstance(target, exp.Schema):
            name = target.this.name
            given = [c.name for c in target.expressions]
        else:
            name, given = target.name, None
        current = self._current(name)
        schema = self.session.table(current).schema
        given = given or [f.name for f in schema.fields]
        aliases = ", ".join(f"`{c}`" for c in given)
        picks = [
            f"s.`{f.name}`" if f.name in given else f"CAST(NULL AS {f.dataType.simpleString()})"
            for f in schema.fields
        ]
        query = self._sql(tree.expression)
        self._stage(
            name,
            f"SELECT * FROM {current} UNION ALL "
            f"SELECT {', '.join(picks)} FROM ({query}) AS s({aliases})",
        )

    def _alter(self, tree) -> None:
        from sqlglot import exp

        name = tree.this.name
        current = self._current(name)
        added = []
        for action in tree.args.get("actions") or []:
            column = action if isinstance(action, exp.ColumnDef) else action.this
            kind = column.args["kind"].sql(dialect="spark")
            added.append(f"CAST(NULL AS {kind}) AS `{column.name}`")
        self._stage(name, f"SELECT *, {', '.join(added)} FROM {current}")

    def _create(self, tree) -> None:
        name = tree.this.this.name if tree.this.this is not None else tree.this.name
        query = tree.expression
        if query is None:  # CREATE TABLE IF NOT EXISTS t (columns): a bookkeeping table
            if self._tables is None:
                self._tables = set(self.backend.list_tables())
            if name not in self._tables:
                self.session.sql(self._sql(tree))
                self._tables.add(name)
            return
        self._view(name, self.session.sql(self._sql(query)))
        self.scratch.add(name)

    # --- staging ------------------------------------------------------------------------------
    def _current(self, name: str) -> str:
        return self.staged[name][0] if name in self.staged else f"`{name}`"

    def _count(self, sql: str) -> int:
        return int(self.session.sql(sql).collect()[0][0])

    def _stage(self, name: str, sql: str) -> None:
        self._n += 1
        view = f"_salesflow_stage_{self._n}"
        frame = self._view(view, self.session.sql(sql))
        if name in self.staged:
            old_view, old = self.staged[name]
            self.session.catalog.dropTempView(old_view)
            old.unpersist()
        self.staged[name] = (view, frame)

    def _view(self, name: str, frame) -> Any:
        """``frame`` computed now, its rows kept in memory, and readable as ``name``: a later
        change to the tables it came from does not change it."""
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        return frame

    def _frame(self, data) -> Any:
        """An Arrow table as a DataFrame with the types Ibis gives them on Spark. Spark reads
        the Arrow table itself: through pandas a missing number became NaN, not null."""
        import ibis
        from ibis.backends.pyspark.datatypes import PySparkSchema

        schema = PySparkSchema.from_ibis(ibis.memtable(data).schema())
        return self.session.createDataFrame(data, schema=schema)

    def _sql(self, tree) -> str:
        """``tree`` as Spark SQL, every staged table read from its staged version."""
        from sqlglot import exp

        tree = tree.copy()
        for table in list(tree.find_all(exp.Table)):
            if table.name in self.staged and not table.args.get("db"):
                alias = table.alias_or_name
                table.set("this", exp.to_identifier(self.staged[table.name][0]))
                table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        return tree.sql(dialect="spark")

    def _commit(self) -> None:
        for name, (_view, frame) in self.staged.items():
            frame.write.mode("overwrite").saveAsTable(name)
