"""The DuckDB build of the flow tables: hand-written SQL, one sort of the events, incremental
updates of the deals an import changed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from salesflow.settings import Settings

from salesflow.derived import FLOW_TABLES, MEMORY_LIMIT, VERSION


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ms(column: str) -> str:
    return f"round(epoch_us({column}) / 1000.0)::BIGINT"


def _duckdb_statements(
    stages: list[tuple[str, int, int]],
    meta: str,
    kind: str,
    changed: str | None = None,
    suffix: str = "",
) -> list[str]:
    """The DuckDB build: one sort of the events by deal and time; the rest streams over it.

    A deal's variant is packed into a 128-bit integer, ``bits`` per event at position ``seq``: a
    plain sum per deal, no ordered string aggregation (the slow part at millions of deals). Deals
    with more events than fit get an ordered string instead; both decode to the same codes text.
    Stage names and ranks are looked up by code in list literals (no joins), and the sorted events
    keep only what later steps need, so the build stays within a small memory budget.

    With ``changed`` (a table of the changed deals' events, see :func:`update`) only those deals
    are recomputed: their old rows are already gone (transitions of the deals in ``_flow_kept``
    stay), new rows are inserted, new variants appended and the counts of their variants adjusted.
    A full build writes the tables under their names + ``suffix`` (see :func:`build`).
    """
    full = changed is None
    create = f"CREATE OR REPLACE {kind}TABLE"
    values = ", ".join(f"({_sql_text(s)}, {r}, {c})" for s, r, c in stages) or "(NULL, 0, 0)"
    names = "[" + (", ".join(_sql_text(s) for s, _, _ in stages) or "NULL::VARCHAR") + "]"
    ranks = "[" + (", ".join(str(r) for _, r, _ in stages) or "0") + "]"
    bits = max(1, len(stages).bit_length())
    per, mask = 126 // bits, (1 << bits) - 1
    rework = f"({ranks}[next_code + 1] < {ranks}[code + 1] OR next_code = code)"
    decode = (
        f"array_to_string(list_transform(range(n_events), "
        f"i -> (((pkey >> ({bits} * i)) & {mask}) - 1)::VARCHAR), ',')"
    )
    source = f"{changed} e" if changed else "stage_events e"
    # An update leaves a deal's transitions in place when its old events are the first of its
    # new ones (events added after its last): only the transitions from there are inserted.
    kept = "" if full else "LEFT JOIN _flow_kept k USING (opportunity_id) "
    new_only = "" if full else "AND (k.n_old IS NULL OR seq >= k.n_old)"

    def into(table: str, select: str) -> str:
        if full:
            return f"{create} {table}{suffix} AS {select}"
        if table == "flow_cases":  # kept apart: the variants' counts are added from it
            return f"CREATE OR REPLACE TEMP TABLE _flow_new_cases AS {select}"
        return f"INSERT INTO {table} {select}"

    if full:
        head = [
            f"""{create} flow_stages{suffix} AS SELECT stage::VARCHAR AS stage, rank::INTEGER AS rank,
            code::INTEGER AS code FROM (VALUES {values}) AS v(stage, rank, code)
            WHERE stage IS NOT NULL"""
        ]
        variants = f"""CREATE OR REPLACE TEMP TABLE _flow_variant_keys AS
            SELECT (row_number() OVER (ORDER BY n_cases DESC, codes) - 1)::INTEGER AS variant_id, *
            FROM ({_variant_groups(decode)})"""
        tail = [
            f"{create} flow_variants{suffix} AS SELECT variant_id, codes, n_cases "
            "FROM _flow_variant_keys"
        ]
        recount = []
    else:  # the changed deals' old rows are already deleted and taken off their variants
        head = []
        variants = f"""CREATE OR REPLACE TEMP TABLE _flow_variant_keys AS
            SELECT coalesce(v.variant_id, (SELECT coalesce(max(variant_id), -1) FROM flow_variants)
                   + row_number() OVER (PARTITION BY v.variant_id IS NULL ORDER BY k.codes))::INTEGER
                   AS variant_id, k.*
            FROM ({_variant_groups(decode)}) k LEFT JOIN flow_variants v USING (codes)"""
        tail = [
            "INSERT INTO flow_variants SELECT variant_id, codes, 0 FROM _flow_variant_keys "
            "WHERE codes NOT IN (SELECT codes FROM flow_variants)"
        ]
        recount = [
            "INSERT INTO flow_cases SELECT * FROM _flow_new_cases",
            _recount("_flow_new_cases", "+"),
            "DELETE FROM flow_variants WHERE n_cases = 0",
            f"UPDATE flow_meta SET fingerprint = {_sql_text(meta)}",
        ]
    return [
        *head,
        f"""CREATE OR REPLACE TEMP TABLE _flow_events AS
        SELECT e.opportunity_id, s.code, e.entered_at, row_number() OVER w AS seq,
               lead(s.code) OVER w AS next_code, lead(e.entered_at) OVER w AS next_at
        FROM {source} JOIN flow_stages{suffix} s USING (stage)
        WHERE e.opportunity_id IS NOT NULL AND e.entered_at IS NOT NULL
        WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, s.code)""",
        into(
            "flow_transitions",
            f"""SELECT opportunity_id, seq::INTEGER AS seq, code::SMALLINT AS from_code,
               next_code::SMALLINT AS to_code, entered_at AS from_at, next_at AS to_at,
               {_ms("next_at")} - {_ms("entered_at")} AS duration_ms, {rework} AS is_rework
            FROM _flow_events {kept}WHERE next_code IS NOT NULL {new_only}""",
        ),
        f"""CREATE OR REPLACE TEMP TABLE _flow_case_keys AS
        SELECT opportunity_id,
               sum(CASE WHEN seq <= {per} THEN (code + 1)::HUGEINT << ({bits} * (seq - 1)) END)
                   AS pkey,
               min(entered_at) AS first_at, max(entered_at) AS last_at,
               {_ms("max(entered_at)")} - {_ms("min(entered_at)")} AS duration_ms,
               max(code) FILTER (WHERE seq = 1) AS first_code,
               max(code) FILTER (WHERE next_code IS NULL) AS last_code,
               count(*)::INTEGER AS n_events,
               count(*) FILTER (WHERE {rework})::INTEGER AS n_rework,
               bit_xor(hash(seq, code, entered_at)) AS checksum
        FROM _flow_events GROUP BY opportunity_id""",
        f"""CREATE OR REPLACE TEMP TABLE _flow_long AS
        SELECT opportunity_id, string_agg(code::VARCHAR, ',' ORDER BY seq) AS long_codes
        FROM _flow_events WHERE opportunity_id IN
            (SELECT opportunity_id FROM _flow_case_keys WHERE n_events > {per})
        GROUP BY opportunity_id""",
        "DROP TABLE IF EXISTS _flow_events",
        variants,
        *tail,
        into(
            "flow_cases",
            f"""SELECT k.opportunity_id, v.variant_id, k.first_at, k.last_at, k.duration_ms,
               {names}[k.first_code + 1] AS first_stage, {names}[k.last_code + 1] AS last_stage,
               k.n_events, k.n_rework, k.checksum
            FROM _flow_case_keys k LEFT JOIN _flow_long l USING (opportunity_id)
            JOIN _flow_variant_keys v ON v.pkey = k.pkey AND v.n_events = k.n_events
                 AND v.long_codes IS NOT DISTINCT FROM l.long_codes""",
        ),
        *recount,
        *(
            [f"{create} flow_meta{suffix} AS SELECT {_sql_text(meta)} AS fingerprint"]
            if full
            else []
        ),
        *(f"DROP TABLE IF EXISTS {t}" for t in _DUCKDB_SCRATCH),
    ]


def _recount(cases: str, sign: str) -> str:
    """Take the changed deals' old cases (a small table of them) off their variants' counts
    (``-``) or add their new cases (``+``): no recount of every deal, no scan of ``flow_cases``."""
    return (
        f"UPDATE flow_variants SET n_cases = n_cases {sign} d.n FROM (SELECT variant_id, "
        f"count(*) AS n FROM {cases} GROUP BY variant_id) d "
        "WHERE flow_variants.variant_id = d.variant_id"
    )


def _variant_groups(decode: str) -> str:
    """One row per distinct packed key (and long codes) with its codes text and deal count."""
    return f"""SELECT pkey, long_codes, n_events, count(*)::BIGINT AS n_cases,
                      coalesce(long_codes, {decode}) AS codes
               FROM _flow_case_keys LEFT JOIN _flow_long USING (opportunity_id)
               GROUP BY pkey, long_codes, n_events"""


_DUCKDB_SCRATCH = (
    "_flow_events",
    "_flow_case_keys",
    "_flow_long",
    "_flow_variant_keys",
    "_flow_ids",
    "_flow_raw",
    "_flow_new_cases",
    "_flow_gone_c",
    "_flow_kept",
    "_flow_redo",
    "_flow_gone_t",
)


#: A full stored build writes its tables under this suffix, then swaps them in.
BUILDING = "__building"


def build(raw: duckdb.DuckDBPyConnection, stages: list, meta: str, *, temp: bool) -> None:
    """Build so that readers see all new tables or none.

    A full stored build writes new tables beside the old ones and swaps them in with one short
    transaction: DuckDB ran this build's statements on one thread inside an explicit
    transaction (20 s instead of 12.7 s at ten million events on two cores). A temporary build
    runs in one transaction (an update of a few deals: :func:`update`).
    Stored rows are written in any order (parallel, nothing left for the checkpoint to
    re-compress) within a 1 GB buffer that spills to disk, keeping ten million events under
    1.5 GiB; the connection's own settings are restored afterwards.
    """
    saved = raw.execute(
        "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    ).fetchone()
    if not temp:
        raw.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        raw.execute("SET preserve_insertion_order = false")
    try:
        if temp:
            _in_transaction(raw, _duckdb_statements(stages, meta, "TEMP "))
        else:
            _build_then_swap(raw, _duckdb_statements(stages, meta, "", suffix=BUILDING))
    finally:
        raw.execute(f"SET memory_limit = '{saved[0]}'")
        raw.execute(f"SET preserve_insertion_order = {str(saved[1]).lower()}")


def _in_transaction(raw: Any, statements: list[str]) -> None:
    raw.execute("BEGIN TRANSACTION")
    try:
        for statement in statements:
            raw.execute(statement)
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def _build_then_swap(raw: Any, statements: list[str]) -> None:
    """Run a full build into ``*__building`` tables, then replace the old tables at once.

    Leftovers of a build that was interrupted are dropped first and again on failure.
    """
    drop_new = [f"DROP TABLE IF EXISTS {t}{BUILDING}" for t in FLOW_TABLES]
    try:
        for statement in [*drop_new, *statements]:
            raw.execute(statement)
    except BaseException:
        for statement in drop_new:
            raw.execute(statement)
        raise
    swap = [f"DROP TABLE IF EXISTS {t}" for t in FLOW_TABLES]
    swap += [f"ALTER TABLE {t}{BUILDING} RENAME TO {t}" for t in FLOW_TABLES]
    _in_transaction(raw, swap)


def _execute(raw: Any, statement: str) -> Any:
    """One statement of an update (the benchmark's ``--profile`` times each through here)."""
    return raw.execute(statement)


class _Rebuild(Exception):  # a signal, not an error: rebuild everything instead
    """Raised inside an update when only a full rebuild gives the right tables."""


def update(
    raw: duckdb.DuckDBPyConnection, settings: Settings, changed: Any, added: Any = None
) -> bool:
    """Recompute only the ``changed`` deals' rows; False (nothing written) when a full rebuild
    is needed instead.

    Valid when every flow table exists (built by this module, with per-deal checksums) under
    the current stage settings, and the stages in the data keep their codes (none new, none
    gone); the caller vouches that the tables were fresh before it changed those deals' events.
    Worth it while the changed deals are under half of those in ``flow_cases``. Work is
    proportional to the change except for one scan of ``stage_events`` (the changed deals'
    events are spread over the whole table), one of ``flow_cases`` (their old cases), and one of
    ``flow_transitions`` only if some deal lost or changed an event rather than gained some
    after its last. The stored fingerprint is brought up to date from the rows taken out and
    put in (their count, times and hash sum), not recomputed from every event.

    ``added`` (Arrow: the rows inserted into ``stage_events`` for those deals, which the caller
    vouches were the only change since the tables were fresh) lets deals whose new rows all
    come after their last event be updated without reading ``stage_events`` (:func:`_append`):
    then the scan of ``flow_cases`` is the only one, and the named deals without added rows are
    left as they are.
    """
    names = ", ".join(_sql_text(t) for t in (*FLOW_TABLES, "stage_events"))
    present = _execute(
        raw,
        "SELECT count(*) + (SELECT count(*) FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND table_name = 'flow_cases' AND "
        "column_name = 'checksum') FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND schema_name = 'main' AND NOT temporary AND table_name IN ({names})",
    ).fetchone()[0]
    if present != len(FLOW_TABLES) + 2:  # every table, and cases with checksums (not portable)
        return False
    stored_meta = [r[0] for r in _execute(raw, "SELECT fingerprint FROM flow_meta").fetchall()]
    if len(stored_meta) != 1:
        return False
    old = json.loads(stored_meta[0])
    s = settings.stages
    if old.get("version") != VERSION or old.get("stages") != json.loads(
        json.dumps([s.order, s.won, s.lost], default=str)
    ):
        return False
    stored = [
        tuple(r) for r in _execute(raw, "SELECT stage, rank, code FROM flow_stages").fetchall()
    ]
    ranked = sorted((s.rank(stage), stage) for stage, _, _ in stored)
    stages = [(stage, rank, code) for code, (rank, stage) in enumerate(ranked)]
    if sorted(stored, key=lambda r: r[2]) != stages:
        return False  # the configured order changed the ranks (or codes): rebuild
    named = _named_ids(changed)
    cases = _execute(raw, "SELECT count(*) FROM flow_cases").fetchone()[0]
    if 2 * len(named) > cases and 2 * len(_distinct(named)) > cases:
        return False
    saved = _execute(raw, "SELECT current_setting('preserve_insertion_order')").fetchone()
    # every thread stays: on an idle machine two threads took a third off the update at 10M
    # events (0.50 against 0.75 s) and changing the setting itself costs 8-20 ms
    _execute(raw, "SET preserve_insertion_order = false")
    _execute(raw, "BEGIN TRANSACTION")
    try:
        if added is not None and _append(raw, stages, old, added, named):
            _execute(raw, "COMMIT")
            return True
        _load_ids(raw, _distinct(named))
        before, after = _update_rows(raw, stages)
        events, *_ = _duckdb_statements(stages, "", "", "_flow_raw")
        _execute(raw, events)
        gone = _keep_transitions(raw, stages)  # the sum of the old events' hashes
        meta = dict(old)
        meta["rows"] = old["rows"] - int(before[0] or 0) + after[0]
        meta["checksum"] = str(int(old["checksum"]) - gone + int(after[3] or 0))
        meta["min"], meta["max"] = _bounds(raw, old, before, after)
        _, *rest = _duckdb_statements(stages, json.dumps(meta, sort_keys=True), "", "_flow_raw")
        for statement in rest:
            _execute(raw, statement)
        _execute(raw, "COMMIT")
    except _Rebuild:
        _execute(raw, "ROLLBACK")
        _execute(raw, "DROP TABLE IF EXISTS _flow_ids")
        return False
    except BaseException:
        _execute(raw, "ROLLBACK")
        raise
    finally:
        _execute(raw, f"SET preserve_insertion_order = {str(saved[0]).lower()}")
    return True


def _named_ids(changed: Any) -> Any:
    """The changed deals' ids as an Arrow string array (counted and matched without a statement:
    at a million events each statement costs about a millisecond). An importer names each deal
    once, so they are only made distinct where it matters (9 ms for 100,000 ids at 10M events)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(changed, pa.Table):
        column = changed.column("opportunity_id")
    else:
        column = pa.chunked_array([pa.array(list(changed))])  # ids of any type, as SQL casts
    return pc.cast(column, pa.string()).combine_chunks()


def _distinct(ids: Any) -> Any:
    import pyarrow.compute as pc

    return pc.unique(ids)


def _load_ids(raw: Any, ids: Any) -> None:
    """The changed deals' ids into ``_flow_ids`` (the general way joins on it)."""
    import pyarrow as pa

    raw.register("_flow_changed", pa.table({"opportunity_id": ids}))
    try:
        _execute(
            raw,
            "CREATE OR REPLACE TEMP TABLE _flow_ids AS SELECT opportunity_id FROM _flow_changed",
        )
    finally:
        raw.unregister("_flow_changed")


def _update_rows(raw: Any, stages: list) -> tuple[tuple, tuple]:
    """Read the changed deals' events into ``_flow_raw``, delete their old cases (kept in
    ``_flow_gone_c`` to take them off the variants and the fingerprint) and return the count,
    first and last time of their old and new events (and the new ones' hash sum). Raises :class:`_Rebuild` when a stage appears or disappears, or a changed deal
    has a row without a stage or time (outside the flow tables and their checksums)."""
    _execute(
        raw,
        "CREATE OR REPLACE TEMP TABLE _flow_raw AS SELECT opportunity_id, stage, entered_at "
        "FROM stage_events WHERE opportunity_id IN (SELECT opportunity_id FROM _flow_ids)",
    )
    known = {stage for stage, _, _ in stages}
    seen = {r[0] for r in _execute(raw, "SELECT DISTINCT stage FROM _flow_raw").fetchall()}
    if None in seen or (seen - known):
        raise _Rebuild  # a new stage moves every code after it; a row without one is no event
    # Their old cases are read, then deleted by row id (DELETE … RETURNING costs ten times as
    # much in DuckDB 1.5). flow_transitions is only touched for deals whose old events are not
    # the first of their new ones (see _keep_transitions).
    only = "WHERE opportunity_id IN (SELECT opportunity_id FROM _flow_ids)"
    _execute(
        raw,
        "CREATE OR REPLACE TEMP TABLE _flow_gone_c AS SELECT rowid AS row_id, opportunity_id, "
        f"variant_id, first_at, last_at, last_stage, n_events, checksum FROM flow_cases {only}",
    )
    _execute(raw, "DELETE FROM flow_cases WHERE rowid IN (SELECT row_id FROM _flow_gone_c)")
    before = _execute(
        raw,
        """SELECT sum(n_events), min(first_at)::VARCHAR, max(last_at)::VARCHAR,
                  NULL, count(*) FILTER (WHERE checksum IS NULL),
                  (SELECT list(DISTINCT c) FROM (SELECT unnest(string_split(codes, ','))::INTEGER
                   AS c FROM flow_variants WHERE variant_id IN
                   (SELECT variant_id FROM _flow_gone_c)))
           FROM _flow_gone_c""",
    ).fetchone()
    if before[4]:
        raise _Rebuild  # built without checksums (the portable build)
    _execute(raw, _recount("_flow_gone_c", "-"))
    after = _execute(
        raw,
        "SELECT count(*), min(entered_at)::VARCHAR, max(entered_at)::VARCHAR, "
        "sum(hash(opportunity_id, stage, entered_at))::VARCHAR, "
        "count(*) FILTER (WHERE entered_at IS NULL) FROM _flow_raw",
    ).fetchone()
    if after[4]:  # rows the flow tables leave out: the per-deal checksums would not cover them
        raise _Rebuild
    by_code = {code: stage for stage, _, code in stages}
    for stage in {by_code[c] for c in before[5] or []} - seen:  # a stage only they had: gone?
        probe = f"SELECT 1 FROM stage_events WHERE stage = {_sql_text(stage)} LIMIT 1"
        if not _execute(raw, probe).fetchall():
            raise _Rebuild
    return before, after


def _keep_transitions(raw: Any, stages: list) -> int:
    """Note in ``_flow_kept`` the changed deals whose old events are exactly their first new
    ones (same count, same XOR of the hashes of each event with its place: the deal's checksum;
    repeated identical rows do not cancel out, since their places differ): their
    old transitions stay and only those from their old last event on are inserted. The other
    deals that had cases lose their transitions (the one scan of ``flow_transitions``, skipped
    when every changed deal only gained events). Returns the sum of the hashes of all the
    changed deals' old events, for the fingerprint: the kept ones from their new events, the
    others from their old transitions and last event."""
    names = "[" + (", ".join(_sql_text(s) for s, _, _ in stages) or "NULL::VARCHAR") + "]"
    row_hash = f"hash(e.opportunity_id, {names}[e.code + 1], e.entered_at)"
    _execute(
        raw,
        f"""CREATE OR REPLACE TEMP TABLE _flow_kept AS
        SELECT g.opportunity_id, g.n_events AS n_old, sum({row_hash}) AS old_sum
        FROM _flow_gone_c g JOIN _flow_events e USING (opportunity_id)
        WHERE e.seq <= g.n_events
        GROUP BY g.opportunity_id, g.n_events, g.checksum
        HAVING count(*) = g.n_events
           AND bit_xor(hash(e.seq, e.code, e.entered_at)) = g.checksum""",
    )
    _execute(
        raw,
        "CREATE OR REPLACE TEMP TABLE _flow_redo AS SELECT opportunity_id, last_stage, last_at "
        "FROM _flow_gone_c WHERE opportunity_id NOT IN (SELECT opportunity_id FROM _flow_kept)",
    )
    _execute(
        raw,
        "CREATE OR REPLACE TEMP TABLE _flow_gone_t AS SELECT rowid AS row_id, opportunity_id, "
        "from_code, from_at FROM flow_transitions WHERE false",
    )
    if _execute(raw, "SELECT count(*) FROM _flow_redo").fetchone()[0]:
        _execute(
            raw,
            "INSERT INTO _flow_gone_t SELECT rowid, opportunity_id, from_code, from_at "
            "FROM flow_transitions WHERE opportunity_id IN (SELECT opportunity_id FROM _flow_redo)",
        )
        _execute(
            raw, "DELETE FROM flow_transitions WHERE rowid IN (SELECT row_id FROM _flow_gone_t)"
        )
    total = _execute(
        raw,
        f"""SELECT (SELECT coalesce(sum(old_sum), 0) FROM _flow_kept)
                 + (SELECT coalesce(sum(hash(opportunity_id, {names}[from_code + 1], from_at)), 0)
                    FROM _flow_gone_t)
                 + (SELECT coalesce(sum(hash(opportunity_id, last_stage, last_at)), 0)
                    FROM _flow_redo)""",
    ).fetchone()[0]
    return int(total)


def _bounds(raw: Any, old: dict[str, Any], before: tuple, after: tuple) -> list[str | None]:
    """The new first and last event times (as text, like the fingerprint's) from the old ones
    and the changed deals' old and new events. Only when the old bound was one of the changed
    deals' old events and none of their new events reaches it is the whole column read."""
    out = []
    for key, agg, cmp, i in (("min", "least", ">", 1), ("max", "greatest", "<", 2)):
        o, b, a = (
            None if v is None else f"{_sql_text(v)}::TIMESTAMP"
            for v in (old[key], before[i], after[i])
        )
        if o is None:
            raise _Rebuild
        b, a = b or "NULL::TIMESTAMP", a or "NULL::TIMESTAMP"
        held = f"{b} = {o} AND ({a} IS NULL OR {a} {cmp} {o})"
        value = _execute(
            raw, f"SELECT CASE WHEN {held} THEN NULL ELSE {agg}({o}, {a})::VARCHAR END"
        ).fetchone()[0]
        if value is None:  # the bound event may be gone: read every time once
            value = _execute(
                raw, f"SELECT {key}(entered_at)::VARCHAR FROM stage_events"
            ).fetchone()[0]
        out.append(value)
    return out


def _append(raw: Any, stages: list, old: dict[str, Any], added: Any, named: Any) -> bool:
    """Update the deals of the ``added`` rows from those rows and their ``flow_cases`` rows
    alone (see :mod:`salesflow.derived.append`); False, with nothing written, otherwise."""
    from salesflow.derived import append

    return append.apply(raw, stages, old, added, named)
