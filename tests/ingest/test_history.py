"""Stage events add to a deal's history; the first stage derived from created_at stays.

The shape is the public Olist marketing funnel: a leads file (one row per marketing-qualified lead,
with its first contact date) and a closed-deals file (the deals that closed, with the date). Here
the closed file also carries lost deals, so the win rate is not 100 % by construction.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from ingest_helpers import query, write_csv

from salesflow import derived, metrics
from salesflow.ingest import import_file
from salesflow.metrics.process_map import process_map
from salesflow.settings import load_settings

STAGES = '[stages]\norder = ["MQL", "Demo"]\nwon = ["Won"]\nlost = ["Lost"]\n'
MAPPING = """\
[opportunities.columns]
opportunity_id = "mql_id"
created_at = "first_contact_date"
source = "origin"
[stage_events.columns]
opportunity_id = "mql_id"
entered_at = "closed_date"
"""


def olist_pair(folder, n: int = 400, seed: int = 11):
    """leads.csv and closed_deals.csv shaped like Olist's, and the truth they were made from."""
    rng = random.Random(seed)
    leads, closed, truth = [], [], {}
    for _ in range(n):
        mql = f"{rng.getrandbits(64):016x}"
        first = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 330))
        leads.append(
            [mql, first.isoformat(), rng.choice(["organic_search", "paid_search", "social"])]
        )
        r = rng.random()
        if r < 0.3:
            at = datetime.combine(first, datetime.min.time()) + timedelta(
                days=rng.randrange(0, 90), hours=rng.randrange(0, 24)
            )
            outcome = "Won" if r < 0.22 else "Lost"
            closed.append([mql, f"seller{rng.randrange(20)}", at.isoformat(sep=" "), outcome])
            truth[mql] = (first, outcome, at)
        else:
            truth[mql] = (first, None, None)
    leads_csv = write_csv(folder / "leads.csv", ["mql_id", "first_contact_date", "origin"], leads)
    closed_csv = write_csv(
        folder / "closed_deals.csv", ["mql_id", "seller_id", "closed_date", "stage"], closed
    )
    return leads_csv, closed_csv, truth


@pytest.fixture
def olist(ws, tmp_path):
    (ws.path / "salesflow.toml").write_text(
        (ws.path / "salesflow.toml").read_text().split("[stages]")[0] + STAGES, encoding="utf-8"
    )
    ws.settings = load_settings(ws.path)
    (tmp_path / "olist.toml").write_text(MAPPING, encoding="utf-8")
    return ws, tmp_path / "olist.toml", *olist_pair(tmp_path)


def totals(ws, metric: str, **params) -> tuple[float, float]:
    """(numerator, denominator) over every month."""
    series = metrics.series(ws.data, ws.settings, metric, params=params or None)
    return (
        sum(p.numerator or 0 for p in series.points),
        sum(p.denominator or 0 for p in series.points),
    )


def by_month(pairs) -> dict[date, tuple[int, int]]:
    counts = defaultdict(lambda: [0, 0])
    for month, hit in pairs:
        counts[month][0] += hit
        counts[month][1] += 1
    return {m: tuple(v) for m, v in counts.items()}


def assert_flow_tables_consistent(ws) -> None:
    """Fresh after the import, and equal to a full rebuild (made in a writable copy of the data,
    so the workspace itself stays as the import left it)."""
    assert derived.is_fresh(ws.data, ws.settings)
    after_import = process_map(ws.data, ws.settings, top=1000)
    ws.close()
    with ws.writing("a full rebuild to compare with") as rw:
        derived.refresh(rw.data, rw.settings)
        assert process_map(rw.data, rw.settings, top=1000) == after_import


def test_leads_then_closed_deals_keep_mql_and_measure_conversion_and_win_rate(olist):
    ws, mapping, leads, closed, truth = olist
    import_file(ws, "opportunities", leads, mapping=mapping)
    report = import_file(ws, "stage_events", closed, mapping=mapping)
    n_closed = sum(1 for _, outcome, _ in truth.values() if outcome)
    assert (report.inserted, report.updated) == (n_closed, 0)
    # every lead keeps its MQL event at its first contact; closed deals add their end
    assert query(ws, "SELECT count(*) FROM stage_events WHERE stage = 'MQL'") == [(len(truth),)]
    assert query(ws, "SELECT count(*) FROM stage_events") == [(len(truth) + n_closed,)]

    won = sum(1 for _, outcome, _ in truth.values() if outcome == "Won")
    assert totals(ws, "stage_conversion", **{"from": "MQL", "to": "Won"}) == (won, len(truth))
    expected = by_month(
        (first.replace(day=1), outcome == "Won") for first, outcome, _ in truth.values()
    )
    got = metrics.series(ws.data, ws.settings, "stage_conversion", params={"from": "MQL"})
    assert {p.period: (p.numerator, p.denominator) for p in got.points if p.n} == expected

    closed_truth = [(at, outcome) for _, outcome, at in truth.values() if outcome]
    rate = metrics.series(ws.data, ws.settings, "win_rate")
    expected = by_month((at.date().replace(day=1), o == "Won") for at, o in closed_truth)
    assert {p.period: (p.numerator, p.denominator) for p in rate.points if p.n} == expected
    assert 0 < won < len(closed_truth)  # not 100 %: lost deals count
    outcomes = dict(query(ws, "SELECT outcome, count(*) FROM opportunities GROUP BY 1"))
    assert outcomes == {"won": won, "lost": len(closed_truth) - won,
                        "open": len(truth) - len(closed_truth)}  # fmt: skip
    ws.close()
    assert_flow_tables_consistent(ws)


def test_reimports_are_idempotent_and_a_new_first_contact_moves_the_derived_mql(olist, tmp_path):
    ws, mapping, leads, closed, truth = olist
    import_file(ws, "opportunities", leads, mapping=mapping)
    import_file(ws, "stage_events", closed, mapping=mapping)
    before = query(ws, "SELECT * FROM stage_events ORDER BY ALL")
    again = import_file(ws, "stage_events", closed, mapping=mapping)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, again.rows_written)
    import_file(ws, "opportunities", leads, mapping=mapping)
    assert query(ws, "SELECT * FROM stage_events ORDER BY ALL") == before

    # next month's leads export: one closed deal's first contact corrected a day earlier
    deal = next(m for m, (_, outcome, _) in truth.items() if outcome == "Won")
    rows = [line.split(",") for line in leads.read_text().splitlines()[1:]]
    for row in rows:
        if row[0] == deal:
            row[1] = (date.fromisoformat(row[1]) - timedelta(days=1)).isoformat()
    newer = write_csv(tmp_path / "leads2.csv", ["mql_id", "first_contact_date", "origin"], rows)
    import_file(ws, "opportunities", newer, mapping=mapping)
    first = truth[deal][0] - timedelta(days=1)
    assert query(
        ws, f"SELECT stage, entered_at FROM stage_events WHERE opportunity_id = '{deal}' ORDER BY 2"
    ) == [("MQL", datetime.combine(first, datetime.min.time())), ("Won", truth[deal][2])]
    assert query(ws, f"SELECT outcome FROM opportunities WHERE opportunity_id = '{deal}'") == [
        ("won",)
    ]
    ws.close()
    assert_flow_tables_consistent(ws)


def test_a_file_bringing_the_first_stage_replaces_the_derived_one(olist, tmp_path):
    ws, mapping, leads, _, truth = olist
    import_file(ws, "opportunities", leads, mapping=mapping)
    deal, (first, _, _) = next(iter(truth.items()))
    mql_at = datetime.combine(first, datetime.min.time()) + timedelta(hours=9)
    demo_at = mql_at + timedelta(days=2)
    history = write_csv(tmp_path / "history.csv", ["mql_id", "stage", "closed_date"],
                        [[deal, "MQL", mql_at.isoformat(sep=" ")],
                         [deal, "Demo", demo_at.isoformat(sep=" ")]])  # fmt: skip
    import_file(ws, "stage_events", history, mapping=mapping)
    assert query(
        ws, f"SELECT stage, entered_at FROM stage_events WHERE opportunity_id = '{deal}' ORDER BY 2"
    ) == [("MQL", mql_at), ("Demo", demo_at)]
    ws.close()
    assert_flow_tables_consistent(ws)


def test_replace_history_must_be_asked_for_and_replaces_each_deals_events(olist, cli):
    ws, mapping, leads, closed, truth = olist
    import_file(ws, "opportunities", leads, mapping=mapping)
    ws.close()
    doc = cli.json("import", "stage_events", closed, "--mapping", mapping, "--replace-history",
                   "-w", ws.path)  # fmt: skip
    n_closed = doc["rows_written"]
    # the closed deals' histories are now just the file's events: their MQL is gone
    assert query(ws, "SELECT count(*) FROM stage_events") == [(len(truth),)]
    assert query(ws, "SELECT count(*) FROM stage_events WHERE stage = 'MQL'") == [
        (len(truth) - n_closed,)
    ]
    assert_flow_tables_consistent(ws)
    result = cli("import", "opportunities", leads, "--replace-history", "-w", ws.path, ok=False)
    assert result.exit_code != 0 and "applies to stage_events" in result.stderr
