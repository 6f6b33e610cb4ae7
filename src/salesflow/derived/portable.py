"""The portable build of the flow tables from Ibis expressions, for PostgreSQL and any other
backend (and on DuckDB to check both builds agree)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesflow.source import as_int

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def build(con: BaseBackend, stages: list, meta: str, *, temp: bool) -> None:
    """The same tables from Ibis expressions, for PostgreSQL and every other backend."""
    import ibis

    def save(name: str, expr: Any) -> Any:
        _drop(con, name, temp=temp or name.startswith("_"))
        if con.name == "pyspark" and (temp or name.startswith("_")):
            _spark_temp(con, name, expr)
        else:
            con.create_table(name, expr, temp=temp or name.startswith("_"))
        return con.table(name)

    codes = ibis.memtable(
        {"stage": [s for s, _, _ in stages], "rank": [r for _, r, _ in stages]}
        | {"code": [c for _, _, c in stages]},
        schema={"stage": "string", "rank": "int32", "code": "int32"},
    )
    flow_stages = save("flow_stages", codes)
    events = save("_flow_events", _ordered_events(con.table("stage_events"), flow_stages))
    save("flow_transitions", _transitions(events))
    keys = save("_flow_case_keys", _case_keys(events, ordered_concat=con.name != "pyspark"))
    variants = keys.group_by(codes=keys.variant).aggregate(n_cases=keys.count())
    order = [ibis.desc(variants.n_cases), variants.codes]
    variant_id = ibis.row_number().over(order_by=order).cast("int32")
    variants = save(
        "flow_variants", variants.select(variant_id=variant_id, codes="codes", n_cases="n_cases")
    )
    cases = keys.join(variants, keys.variant == variants.codes)
    save(
        "flow_cases",
        cases.select(
            "opportunity_id",
            "variant_id",
            "first_at",
            "last_at",
            "duration_ms",
            "first_stage",
            "last_stage",
            "n_events",
            "n_rework",
        ),
    )
    save("flow_meta", ibis.memtable({"fingerprint": [meta]}))
    for name in ("_flow_events", "_flow_case_keys"):
        _drop(con, name, temp=True)


def _spark_temp(con: BaseBackend, name: str, expr: Any) -> None:
    """Spark's stand-in for a temporary table (Ibis has none there): a view of this session
    over rows computed now and kept in memory (later changes to the sources do not alter it).
    The SQL is run by Spark itself, so Ibis's in-memory tables in it (the stage codes) are
    registered first, as Ibis does before it runs a query."""
    con._run_pre_execute_hooks(expr)
    frame = con._session.sql(con.compile(expr)).localCheckpoint(eager=True)
    frame.createOrReplaceTempView(name)


def _drop(con: BaseBackend, name: str, *, temp: bool) -> None:
    """``DROP TABLE IF EXISTS``, never touching a stored table when a temporary one is meant.

    (Plain SQL: Ibis 12's own drop renders without a table name under the pinned sqlglot.)
    """
    if con.name == "pyspark" and temp:
        con._session.catalog.dropTempView(name)
        return
    schema = {"postgres": "pg_temp.", "duckdb": "temp.main."}.get(con.name, "") if temp else ""
    cursor = con.raw_sql(f'DROP TABLE IF EXISTS {schema}"{name}"')
    if con.name not in ("duckdb", "pyspark"):  # DuckDB hands back the connection, Spark a frame
        cursor.close()


def _ordered_events(events: Any, stages: Any) -> Any:
    import ibis

    e = events.filter(events.opportunity_id.notnull(), events.entered_at.notnull())
    e = e.join(stages, "stage")
    w = ibis.window(group_by=e.opportunity_id, order_by=[e.entered_at, e.code])
    ms = (e.entered_at.epoch_seconds().cast("float64") * 1000).round().cast("int64")
    return e.select(
        "opportunity_id",
        "stage",
        "code",
        "rank",
        "entered_at",
        ms=ms,
        seq=(ibis.row_number().over(w) + 1).cast("int32"),
        next_stage=e.stage.lead().over(w),
        next_code=e.code.lead().over(w),
        next_rank=e.rank.lead().over(w),
        next_at=e.entered_at.lead().over(w),
        next_ms=ms.lead().over(w),
    )


def _rework(e: Any) -> Any:
    return (e.next_rank < e.rank) | (e.next_stage == e.stage)


def _transitions(e: Any) -> Any:
    return e.filter(e.next_stage.notnull()).select(
        "opportunity_id",
        "seq",
        from_code=e.code.cast("int16"),
        to_code=e.next_code.cast("int16"),
        from_at=e.entered_at,
        to_at=e.next_at,
        duration_ms=e.next_ms - e.ms,
        is_rework=_rework(e),
    )


def _variant(e: Any, *, ordered_concat: bool) -> Any:
    """A deal's stage codes in event order, comma-separated. Spark has no ordered string
    aggregation: there the (seq, code) pairs are collected, sorted by seq and joined."""
    import ibis

    if ordered_concat:
        return e.code.cast("string").group_concat(",", order_by=e.seq)
    pairs = ibis.struct({"seq": e.seq, "code": e.code.cast("string")}).collect()
    return pairs.sort().map(lambda pair: pair.code).join(",")


def _case_keys(e: Any, *, ordered_concat: bool = True) -> Any:
    return e.group_by("opportunity_id").aggregate(
        variant=_variant(e, ordered_concat=ordered_concat),
        first_at=e.entered_at.min(),
        last_at=e.entered_at.max(),
        duration_ms=e.ms.max() - e.ms.min(),
        first_stage=e.stage.max(where=e.seq == 1),
        last_stage=e.stage.max(where=e.next_stage.isnull()),
        n_events=e.count().cast("int32"),
        n_rework=as_int(_rework(e).fill_null(False)).sum().cast("int32"),
    )
