"""build_demo: same seed, same bytes; another seed, other data; sizes and replacing a workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from salesflow.demo import build_demo
from salesflow.errors import ConfigError, WorkspaceError
from salesflow.schema import TABLES

SMALL = 1500


def tables(path: Path) -> dict[str, pa.Table]:
    """Every canonical table, all columns, in a fixed order."""
    con = duckdb.connect(str(path / "data.duckdb"), read_only=True)
    try:
        return {
            name: con.execute(
                f'SELECT * FROM "{name}" ORDER BY ' + ", ".join(f'"{k}"' for k in spec.key)
            ).fetch_arrow_table()
            for name, spec in TABLES.items()
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def twice(tmp_path_factory) -> tuple[dict, dict, dict]:
    root = tmp_path_factory.mktemp("determinism")
    reports = [
        build_demo(root / f"ws{i}", opportunities=SMALL, seed=s) for i, s in enumerate((5, 5, 6))
    ]
    assert reports[0].rows == reports[1].rows
    return tuple(tables(r.workspace) for r in reports)


def test_same_seed_gives_identical_tables(twice):
    first, again, _ = twice
    for name in TABLES:
        assert first[name].num_rows > 0
        assert first[name].equals(again[name]), name


def test_another_seed_gives_other_data(twice):
    first, _, other = twice
    for name in ("opportunities", "stage_events", "activities", "requests"):
        assert not first[name].equals(other[name]), name
    amounts = first["opportunities"]["amount"].to_pylist()[:50]
    assert amounts != other["opportunities"]["amount"].to_pylist()[:50]


def test_report_counts_match_the_tables(twice, tmp_path):
    report = build_demo(tmp_path / "ws", opportunities=SMALL, seed=5)
    data = tables(report.workspace)
    assert report.rows == {name: t.num_rows for name, t in data.items()}
    assert abs(report.rows["opportunities"] - SMALL) < 0.05 * SMALL
    doc = report.to_dict()
    assert doc["seed"] == 5 and doc["period"] == {"start": "2024-10-01", "end": "2026-09-30"}
    assert doc["effects"][0]["id"] == "slow_first_response"
    assert doc["no_effect_attributes"] == ["region"]
    # Extra attributes and the ground-truth topic are real, typed columns.
    schema = data["opportunities"].schema
    assert schema.field("first_response_hours").type == pa.float64()
    assert schema.field("region").type == pa.string()
    assert "topic" in data["requests"].column_names


def test_existing_workspace_needs_force(tmp_path):
    path = tmp_path / "ws"
    build_demo(path, opportunities=300, seed=1)
    with pytest.raises(WorkspaceError, match="--force"):
        build_demo(path, opportunities=300, seed=1)
    report = build_demo(path, opportunities=600, seed=2, force=True)
    assert tables(path)["opportunities"].num_rows == report.rows["opportunities"]
    assert report.rows["opportunities"] > 450  # replaced, not appended to the 300 before


def test_zero_opportunities_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least 1"):
        build_demo(tmp_path / "ws", opportunities=0)


def test_progress_is_reported_per_chunk(tmp_path):
    calls: list[tuple[int, int]] = []
    build_demo(tmp_path / "ws", opportunities=200, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_docs_state_every_effect_and_its_size():
    """docs/demo.md and salesflow.demo.effects describe the same ground truth."""
    from salesflow.demo import effects as fx

    text = (Path(__file__).parents[2] / "docs" / "demo.md").read_text(encoding="utf-8")
    for effect in fx.EFFECTS:
        assert f"`{effect.id}`" in text
    for figure in ("48 h", "−12", "2025-10-01", "0.70", "+6 %", "+15 %", "5,000", "3.5"):
        assert figure in text, figure
    assert fx.CHANGE_DATE.isoformat() == "2025-10-01" and fx.NO_EFFECT_ATTRIBUTES == ("region",)
    assert "`region`" in text and "No effect, by design" in text
