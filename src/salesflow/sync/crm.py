"""The contract between a CRM connector and the workspace: what one incremental pull brings.

A connector (``sync/salesforce.py``, ``sync/hubspot.py``) only talks to its CRM: it fetches what
changed since the last high-water mark and returns a :class:`Pull` whose records carry the vendor's
field names, exactly as the vendor's export preset (``ingest/presets/<crm>.toml``) expects them.
Applying a pull (mapping through the preset, validating, writing every table all or nothing,
removing deleted records with their history, moving the mark, logging) is the same for every CRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CRM_NAMES", "Pull", "SyncResult", "TableChanges", "crm_name"]

#: how each CRM is named in sentences, logs and pages
CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


def crm_name(crm: str) -> str:
    """``"hubspot"`` -> ``"HubSpot"``; an unknown source keeps its own name."""
    return CRM_NAMES.get(crm, crm)


@dataclass
class TableChanges:
    """One canonical table's changes: ``records`` added or changed in the CRM (vendor field
    names, values as the vendor's API returns them) and the ids of records ``deleted`` there."""

    records: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)


@dataclass
class Pull:
    """What one sync fetched: changes per canonical table (``opportunities``,
    ``opportunity_history``, ``activities`` …) and the new high-water mark (ISO-8601 UTC) to
    store once the pull is applied; ``None`` when nothing changed."""

    crm: str  # "salesforce" | "hubspot": names the preset and the sync-log source
    tables: dict[str, TableChanges] = field(default_factory=dict)
    high_water_mark: str | None = None
    requests: int = 0  # HTTP requests made, for the sync log and the tests
    #: the admin's extra deal fields this pull carries (column -> CRM field), kept with the mark:
    #: when they change, the next sync fetches every deal again (see ``sync.apply.synced_fields``)
    fields: dict[str, str] | None = None


@dataclass
class SyncResult:
    """What one applied sync changed: rows per table ``{"added", "updated", "deleted",
    "unchanged"}`` (``updated`` counts only rows whose values changed), and ``warnings``:
    sentences about what it kept but a sales leader should know (the figures it leaves out)."""

    tables: dict[str, dict[str, int]]
    warnings: list[str] = field(default_factory=list)
