"""``[sync.folder]`` in ``salesflow.toml``: which folder to watch and which table each file feeds.

[sync.folder]
path = "exports/"          # relative to the workspace
pattern = "*.csv"          # optional; default: every .csv, .xlsx and .parquet file
preset = "salesforce"      # optional: the column layout of the exports

[sync.folder.tables]       # optional; default: the table the file's name starts with
"deals_*.csv" = "opportunities"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.schema import TABLES

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = ["DEFAULT_PATTERNS", "FolderSettings", "folder_settings"]

KEYS = ("path", "pattern", "preset", "tables")
DEFAULT_PATTERNS = ("*.csv", "*.xlsx", "*.parquet")
EXAMPLE = '[sync.folder]\npath = "exports/"'


@dataclass(frozen=True)
class FolderSettings:
    """The watched folder, checked: an absolute ``path`` and how to name each file's table."""

    path: Path
    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    preset: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """The export files in the folder, in name order (hidden and partial files left out)."""
        return sorted(
            p
            for p in self.path.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "~$"))
            and any(fnmatch(p.name, pat) for pat in self.patterns)
        )

    def table_for(self, name: str) -> str | None:
        """The table a file feeds: the first ``[sync.folder.tables]`` glob it matches, else the
        canonical table its name starts with (the longest such name)."""
        for glob, table in self.tables.items():
            if fnmatch(name, glob):
                return table
        starts = [t for t in TABLES if name.lower().startswith(t)]
        return max(starts, key=len) if starts else None


def folder_settings(settings: Settings) -> FolderSettings:
    """The ``[sync.folder]`` section, checked, with clear errors naming the setting to fix."""
    where = f"{settings.config_path} [sync.folder]"
    raw = settings.section("sync").get("folder")
    if not isinstance(raw, Mapping) or "path" not in raw:
        raise ConfigError(
            "No watched folder is set",
            where=str(settings.config_path),
            hint=f"Add the folder your CRM exports land in:\n{EXAMPLE}",
        )
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[sync.folder] has no setting {unknown[0]!r}",
            where=where,
            hint=f"Use {', '.join(KEYS)}",
        )
    return FolderSettings(
        path=_folder(raw["path"], settings.workspace, where),
        patterns=_patterns(raw.get("pattern"), where),
        preset=_preset(raw.get("preset"), where),
        tables=_tables(raw.get("tables", {}), where),
    )


def _folder(value: Any, workspace: Path, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("path must be a folder name", where=where, hint=f"e.g. {EXAMPLE}")
    folder = (workspace / Path(value).expanduser()).resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"The watched folder {folder} does not exist",
            where=where,
            hint="Create it, or point path at the folder your CRM exports land in",
        )
    return folder


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_PATTERNS
    if isinstance(value, str) and value.strip():
        return (value,)
    raise ConfigError("pattern must be a file name pattern", where=where, hint='e.g. "*.csv"')


def _preset(value: Any, where: str) -> str | None:
    if value is None:
        return None
    from salesflow.ingest import preset_names

    names = preset_names()
    if value not in names:
        raise ConfigError(
            f"There is no preset called {value!r}", where=where, hint=f"Use {', '.join(names)}"
        )
    return value


def _tables(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            "[sync.folder.tables] must map file name patterns to tables",
            where=where,
            hint='e.g. "deals_*.csv" = "opportunities"',
        )
    for glob, table in value.items():
        if table not in TABLES:
            raise ConfigError(
                f"Files matching {glob!r} go to {table!r}, which is not a table",
                where=f"{where.removesuffix(']')}.tables]",
                hint=f"Choose one of: {', '.join(TABLES)}",
            )
    return dict(value)
