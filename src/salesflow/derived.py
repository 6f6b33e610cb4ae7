"""Derived tables the importer keeps up to date so the process map and flow metrics are fast.

Placeholder until the flow work lands: ``refresh`` is called after every import and demo build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["refresh"]


def refresh(con: BaseBackend, settings: Settings) -> None:
    """Rebuild the derived tables from the canonical ones (no-op for now)."""
