"""Helpers shared by the read-in-place tests (PostgreSQL, DuckDB, Spark) and the Spark ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

METRICS = ("win_rate", "cycle_time", "pipeline_coverage")


def camel(name: str) -> str:
    """opportunity_id -> OpportunityId: the customer's own column names."""
    return "".join(part.capitalize() for part in name.split("_"))


def other_settings(workspace: Path) -> str:
    """The imported workspace's settings after its [data] table."""
    text = (workspace / "salesflow.toml").read_text(encoding="utf-8")
    return text[text.index("\n[", text.index("[data]") + 1) + 1 :]


def same(a: object, b: object, path: str = "") -> None:
    """Equal documents, numbers to 1e-9 relative (sums may be added in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int):
        assert a == pytest.approx(b, rel=1e-9), path
    else:
        assert a == b, path


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``: the source files, to prove nothing wrote them."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def same_flow_and_verdicts(
    cli, in_place: Path, imported: Path, metrics: tuple[str, ...] = METRICS
) -> None:
    """The process map (from stored derived tables) and the metrics' charts and verdicts of a
    read-in-place workspace equal the imported copy's."""
    flow_a, flow_b = cli.json("-w", in_place, "flow"), cli.json("-w", imported, "flow")
    assert flow_a["derived_fresh"] is True
    for key in ("stages", "edges", "variants", "cases", "as_of", "window"):
        same(flow_a[key], flow_b[key], key)
    for metric in metrics:
        a = cli.json("-w", in_place, "metric", metric)
        b = cli.json("-w", imported, "metric", metric)
        assert a["points"] and a["signals"] == b["signals"], metric  # the chart's verdicts
        same(a, b, metric)


def status_names_what_is_missing(cli, workspace: Path) -> str:
    """`status` on a mapping with deals.closed_at read from ClosedOn (a column that is not
    there) and activities from crm.touchpoints (a table that is not there) names both, with
    what is there, on stderr; returns the message for more checks."""
    result = cli("-w", workspace, "status", "--json", ok=False)
    assert result.exit_code != 0 and result.stdout == ""
    message = " ".join(result.stderr.split())
    assert "crm.deals has no column 'ClosedOn'" in message
    assert "[data.tables.opportunities.columns] reads as closed_at" in message
    assert 'did you mean "ClosedAt"' in message
    assert "crm.touchpoints that [data.tables.activities] reads does not exist" in message
    assert 'did you mean "crm.touches"' in message
    return message


def same_status(cli, in_place: Path, imported: Path) -> tuple[dict, dict]:
    """`status --json` of both workspaces, their rows, dates, outcomes and as-of equal."""
    a, b = cli.json("-w", in_place, "status"), cli.json("-w", imported, "status")
    assert a["tables"] == b["tables"]
    assert a["outcomes"] == b["outcomes"]
    assert a["as_of"] == b["as_of"]
    return a, b


def import_is_refused(cli, workspace: Path, deals: Path) -> None:
    """`salesflow import` into a read-in-place workspace fails with a sentence naming why."""
    result = cli("-w", workspace, "import", "opportunities", deals, ok=False)
    assert result.exit_code != 0
    assert "refused" in result.stderr and "read_only = true" in result.stderr
    assert "crm.deals" in result.stderr
