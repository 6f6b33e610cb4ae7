"""The import report: what was read, written, rejected, derived and worth a second look."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["REPORT_KEYS", "ImportReport"]


@dataclass
class ImportReport:
    """The result of one import; ``salesflow import --json`` prints :meth:`to_dict`."""

    table: str
    file: str
    format: str
    preset: str | None = None
    dry_run: bool = False
    rows_read: int = 0
    rows_written: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # rows that were already there with the very same values
    rejected: int = 0
    rejects_file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    date_formats: dict[str, str] = field(default_factory=dict)
    enriched_from: list[str] = field(default_factory=list)
    derived_stage_events: int = 0
    refreshed_opportunities: int = 0
    history_rows: int = 0  # opportunity_history rows a snapshot import derived
    rows_on_unknown_deals: int = 0  # activities kept that name a deal the workspace lacks
    stages_adopted: dict[str, list[str]] | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


REPORT_KEYS = tuple(ImportReport.__dataclass_fields__)
