"""``[sync.folder]`` in ``salesflow.toml``: which folder to watch and which table each file feeds.

[sync.folder]
path = "exports/"          # relative to the workspace
pattern = "*.csv"          # optional; default: every .csv, .xlsx and .parquet file
preset = "salesforce"      # optional: the column layout of the exports

[sync.folder.tables]       # optional; default: the table the file's name starts with
"deals_*.csv" = "opportunities"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.schema import TABLES

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = ["DEFAULT_PATTERNS", "FolderSettings", "extra_fields", "folder_settings"]

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


# --- extra deal fields: [sync.salesforce.fields] / [sync.hubspot.properties] -------------------

#: a column name in salesflow: lower case, digits and underscores, a letter first
_COLUMN = re.compile(r"[a-z][a-z0-9_]{0,62}")
#: a CRM field's API name, safe to put in a SOQL SELECT or a HubSpot request as it is
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def extra_fields(
    raw: Any,
    setting: str,
    where: str,
    *,
    crm: str,
    field_word: str,
    example: str,
    taken: Iterable[str],
) -> tuple[tuple[str, str], ...]:
    """The extra deal fields an admin names under ``setting`` (e.g. ``[sync.salesforce.fields]``):
    ``(column, CRM field)`` pairs, checked. The column must be a plain lower-case name that is
    neither one of salesflow's own deal columns nor a name the connector's records or the CRM's
    preset already use (``taken``); the CRM field a plain API name (letters, digits,
    underscores), so it goes into a query as it is."""
    from salesflow.ingest import load_preset
    from salesflow.schema import TABLES

    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{setting} must be a section naming, for each extra deal column, the {crm} "
            f"{field_word} it comes from",
            where=where,
            hint=f"e.g.\n{example}",
        )
    canonical = {_norm(c.name): c.name for c in TABLES["opportunities"].columns}
    preset = load_preset(crm.lower())
    mapped = preset.tables.get("opportunities")
    used = {_norm(t): t for t in taken}
    if mapped is not None:
        for candidates in mapped.columns.values():
            used.update({_norm(c): c for c in candidates})
    pairs: list[tuple[str, str]] = []
    columns: dict[str, str] = {}
    for column, name in raw.items():
        if not isinstance(column, str) or not _COLUMN.fullmatch(column):
            raise ConfigError(
                f"{setting} names the column {column!r}, which is not a plain column name: use "
                "lower-case letters, digits and underscores, starting with a letter",
                where=where,
                hint=f"e.g.\n{example}",
            )
        if not isinstance(name, str) or not _FIELD.fullmatch(name):
            raise ConfigError(
                f"{setting} {column} = {name!r} is not a {crm} {field_word} name: salesflow "
                f"takes only the {field_word}'s API name (letters, digits and underscores, "
                "e.g. Segment__c), nothing else",
                where=where,
                hint=f"Copy the {field_word}'s API name from {crm}'s settings; e.g.\n{example}",
            )
        key = _norm(column)
        if key in canonical:
            raise ConfigError(
                f"{setting} {column} = {name!r}: {column!r} is one of salesflow's own deal "
                f"columns ({canonical[key]}), which the {crm} sync already fills",
                where=where,
                hint=f'Choose another name for the column, e.g. crm_{column} = "{name}"',
            )
        if key in used or key in columns:
            other = used.get(key) or columns[key]
            raise ConfigError(
                f"{setting} {column} = {name!r}: the column name {column!r} would be mistaken "
                f"for {other!r}, which the {crm} sync already brings",
                where=where,
                hint=f'Choose another name for the column, e.g. crm_{column} = "{name}"',
            )
        columns[key] = column
        pairs.append((column, name))
    return tuple(pairs)
