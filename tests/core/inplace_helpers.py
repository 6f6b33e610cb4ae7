"""Helpers shared by the read-in-place tests (PostgreSQL, DuckDB, Spark)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


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
