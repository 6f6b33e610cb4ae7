"""Themes in the request log line up with the topics the text was written from."""

from __future__ import annotations

import json

import duckdb
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from salesflow.analysis import categorise, request_patterns
from salesflow.cli import analysis_cmds
from salesflow.cli.common import new_app
from salesflow.workspace import Workspace


@pytest.fixture(scope="module")
def themes(synthetic):
    with Workspace.open(synthetic.path, read_only=True) as ws:
        return request_patterns(ws.data)


def test_themes_match_the_generated_topics(synthetic, themes):
    truth = synthetic.requests.set_index("request_id")["topic"]
    pairs = [(truth[a["request_id"]], a["theme"]) for a in themes.assignments]
    ari = adjusted_rand_score([t for t, _ in pairs], [k for _, k in pairs])
    print(f"adjusted Rand index on the synthetic request log: {ari:.3f} (k = {themes.k})")
    assert ari >= 0.8
    assert len(pairs) == int(synthetic.requests["category"].isna().sum())
    # Themes close to an existing category are named after it.
    assert {t.label for t in themes.themes} == set(synthetic.requests["topic"])


def test_the_growing_topic_is_flagged(themes):
    delivery = next(t for t in themes.themes if t.label == "delivery")
    assert delivery.trend["growing"] is True and delivery.trend["ci_low"] > 0
    assert sum(m["count"] for m in delivery.trend["months"]) == delivery.count


def test_pareto_per_won_order_matches_pandas(synthetic, themes):
    opps = synthetic.opportunities.set_index("opportunity_id")
    linked = synthetic.requests.join(opps["segment"], on="opportunity_id")
    for row in themes.pareto["by_segment"]:
        requests = int((linked["segment"] == row["name"]).sum())
        won = int(((opps["segment"] == row["name"]) & (opps["outcome"] == "won")).sum())
        assert (row["requests"], row["won"]) == (requests, won)
        assert row["requests_per_won_order"] == pytest.approx(requests / won)
    assert themes.pareto["by_theme"][-1]["cumulative_share"] == pytest.approx(1.0)


def test_accepting_files_the_requests_under_theme_names(tmp_path):
    from .synthetic_company import build_synthetic

    synthetic = build_synthetic(tmp_path / "ws", n=300, n_requests=300, seed=3)
    app = new_app("test")
    analysis_cmds.register(app)
    runner = CliRunner()
    args = ["requests", "patterns", "-w", str(synthetic.path), "--json"]
    first, again = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.stdout == again.stdout  # deterministic
    doc = json.loads(first.stdout)
    skipped = doc["themes"][-1]["id"]
    result = runner.invoke(
        app, [*args, "--accept", "--name", "1=First theme", "--skip", str(skipped)]
    )
    assert result.exit_code == 0, result.output
    accepted = json.loads(result.stdout)["accepted"]
    expected = sum(t["count"] for t in doc["themes"] if t["id"] != skipped)
    assert accepted["requests"] == expected
    con = duckdb.connect(str(synthetic.path / "data.duckdb"), read_only=True)
    filed = dict(con.execute("SELECT request_id, category FROM requests").fetchall())
    con.close()
    for a in doc["assignments"]:
        if a["theme"] == 1:
            assert filed[a["request_id"]] == "First theme"
        elif a["theme"] == skipped:
            assert filed[a["request_id"]] is None


@pytest.mark.postgres
def test_categorise_on_postgres(pg_url):
    import ibis

    con = ibis.connect(pg_url)
    con.raw_sql("DROP TABLE IF EXISTS requests")
    con.raw_sql("CREATE TABLE requests (request_id VARCHAR, category VARCHAR)")
    con.raw_sql("INSERT INTO requests VALUES ('a', NULL), ('b', ''), ('c', 'kept')")
    n = categorise(con, [{"request_id": r, "theme": 1} for r in "abc"], {1: "Invoices"})
    con.disconnect()
    fresh = ibis.connect(pg_url)  # another session sees the change: it was committed
    rows = dict(fresh.table("requests").execute().itertuples(index=False))
    assert n == 2 and rows == {"a": "Invoices", "b": "Invoices", "c": "kept"}
    fresh.raw_sql("DROP TABLE requests")
    fresh.disconnect()


@pytest.mark.parametrize("seed", [3, 11])
def test_themes_recover_generated_topics_without_over_splitting(seed):
    """Typos, shared filler words and uneven lengths (request_texts.py); the data choose k."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from salesflow.analysis import find_themes

    from .request_texts import as_requests, request_log

    log = request_log(seed, 600)
    result = find_themes(as_requests(log))
    truth = log.set_index("request_id")["topic"]
    got = [(truth[a["request_id"]], a["theme"]) for a in result.assignments]
    ari = adjusted_rand_score([t for t, _ in got], [k for _, k in got])
    topics = log["topic"].nunique()
    print(f"seed {seed}: ARI {ari:.3f}, {result.k} themes for {topics} topics")
    assert ari >= 0.8 and topics - 1 <= result.k <= topics + 1
    for theme in result.themes:
        words = theme.label.replace("/", " ").split()
        assert words and all(w.isalpha() for w in words), theme.label
        assert not all(w in ENGLISH_STOP_WORDS for w in words), theme.label
