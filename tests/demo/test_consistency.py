"""The demo data obeys the invariants an importer would enforce on real CRM data (checked in SQL)."""

from __future__ import annotations

from salesflow.demo import effects as fx

START, END = fx.DATA_START.isoformat(), fx.DATA_END.isoformat()
RANK = (
    "CASE stage WHEN 'Lead' THEN 0 WHEN 'Qualified' THEN 1 WHEN 'Discovery' THEN 2 "
    "WHEN 'Proposal' THEN 3 WHEN 'Negotiation' THEN 4 ELSE 5 END"
)


def one(sql, query: str):
    return sql(query)[0][0]


def test_keys_are_unique_and_links_resolve(sql):
    for table, key in (
        ("opportunities", "opportunity_id"),
        ("activities", "activity_id"),
        ("requests", "request_id"),
    ):
        assert one(sql, f"SELECT count(*) - count(DISTINCT {key}) FROM {table}") == 0
    for table in ("stage_events", "activities", "requests"):
        orphans = one(
            sql,
            f"SELECT count(*) FROM {table} t WHERE t.opportunity_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM opportunities o WHERE o.opportunity_id = t.opportunity_id)",
        )
        assert orphans == 0, table


def test_stage_events_are_in_time_order_within_the_deal_life(sql):
    bad = one(
        sql,
        f"""SELECT count(*) FROM stage_events e JOIN opportunities o USING (opportunity_id)
        WHERE e.entered_at < o.created_at OR e.entered_at >= TIMESTAMP '{END}'
           OR (o.closed_at IS NOT NULL AND e.entered_at > o.closed_at)""",
    )
    assert bad == 0
    # The first event of every deal is Lead, entered at creation.
    first = sql(
        f"""SELECT count(*), count(*) FILTER (WHERE e.stage = 'Lead' AND e.entered_at = o.created_at)
        FROM (SELECT *, row_number() OVER (PARTITION BY opportunity_id ORDER BY entered_at, {RANK}) n
              FROM stage_events) e JOIN opportunities o USING (opportunity_id) WHERE n = 1"""
    )[0]
    assert first[0] == one(sql, "SELECT count(*) FROM opportunities")
    assert first[1] == first[0]


def test_outcome_stage_and_close_come_from_the_last_event(sql):
    last = f"""SELECT * FROM (SELECT *, row_number() OVER (
        PARTITION BY opportunity_id ORDER BY entered_at DESC, {RANK} DESC) n FROM stage_events)
        WHERE n = 1"""
    mismatches = one(
        sql,
        f"""SELECT count(*) FROM ({last}) e JOIN opportunities o USING (opportunity_id)
        WHERE o.stage <> e.stage
           OR o.outcome <> CASE e.stage WHEN 'Won' THEN 'won' WHEN 'Lost' THEN 'lost' ELSE 'open' END
           OR (o.outcome = 'open') <> (o.closed_at IS NULL)
           OR (o.outcome <> 'open' AND o.closed_at <> e.entered_at)""",
    )
    assert mismatches == 0
    # Deals are closed inside the window; those still open at the end exist, as in any CRM.
    assert one(sql, f"SELECT count(*) FROM opportunities WHERE closed_at < '{START}'") == 0
    assert one(sql, "SELECT count(*) FROM opportunities WHERE outcome = 'open'") > 30


def test_amounts_are_never_negative(sql):
    for table in ("opportunities", "stage_events", "forecasts"):
        assert one(sql, f"SELECT count(*) FROM {table} WHERE amount < 0 OR amount IS NULL") == 0


def test_rework_moves_backwards_in_some_deals(sql):
    backward = one(
        sql,
        f"""SELECT count(DISTINCT opportunity_id) FROM (SELECT opportunity_id, {RANK} r,
        lag({RANK}) OVER (PARTITION BY opportunity_id ORDER BY entered_at, {RANK}) prev
        FROM stage_events) WHERE r < prev""",
    )
    deals = one(sql, "SELECT count(*) FROM opportunities")
    assert 0.04 * deals < backward < 0.25 * deals


def test_activities_fall_between_creation_and_close(sql):
    bad = one(
        sql,
        f"""SELECT count(*) FROM activities a JOIN opportunities o USING (opportunity_id)
        WHERE a.occurred_at < o.created_at OR a.occurred_at > coalesce(o.closed_at, '{END}')
           OR a.account <> o.account""",
    )
    assert bad == 0
    types = {t for (t,) in sql("SELECT DISTINCT type FROM activities")}
    assert types == {"call", "email", "meeting", "demo", "proposal"}


def test_first_response_hours_is_the_time_to_the_first_activity(sql):
    rows = sql(
        """SELECT count(*), count(*) FILTER (WHERE abs(o.first_response_hours
                 - epoch(f.first_at - o.created_at) / 3600) < 1e-6)
        FROM opportunities o JOIN (SELECT opportunity_id, min(occurred_at) first_at
                                   FROM activities GROUP BY 1) f USING (opportunity_id)"""
    )[0]
    assert rows[0] > 0 and rows[1] == rows[0]
    # Without any activity, the attribute is missing rather than invented.
    unanswered = one(
        sql,
        """SELECT count(*) FROM opportunities o WHERE first_response_hours IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.opportunity_id = o.opportunity_id)""",
    )
    assert unanswered == 0


def test_forecasts_cover_each_rep_and_month_before_it_starts(sql):
    rows = sql(
        f"""SELECT count(DISTINCT owner), count(DISTINCT period_start), min(period_start),
        max(period_start), count(*) FILTER (WHERE submitted_at >= period_start),
        count(DISTINCT category)
        FROM forecasts WHERE period_start >= '{START}' AND period_start < '{END}'"""
    )[0]
    reps, months, first, last, late, categories = rows
    assert (reps, months, late, categories) == (25, fx.MONTHS, 0, 3)
    assert first == fx.DATA_START and last.isoformat() == "2026-09-01"
    assert one(sql, "SELECT count(*) FROM forecasts") == 25 * fx.MONTHS * 3


def test_request_log_times_and_categories(sql):
    bad = one(
        sql,
        f"""SELECT count(*) FROM requests WHERE received_at < '{START}' OR received_at >= '{END}'
        OR first_response_at < received_at OR resolved_at < first_response_at
        OR (resolved_at IS NULL) <> (outcome = 'open') OR topic IS NULL OR description IS NULL
        OR (category IS NOT NULL AND category <> topic)""",
    )
    assert bad == 0
    categorised = one(
        sql, "SELECT avg(CASE WHEN category IS NULL THEN 0.0 ELSE 1 END) FROM requests"
    )
    assert 0.45 < categorised < 0.55
    assert one(sql, "SELECT count(DISTINCT topic) FROM requests") == 6
    assert one(sql, "SELECT count(DISTINCT description) FROM requests") > 500
