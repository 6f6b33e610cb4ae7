"""Mapping files and presets: which source column feeds which canonical column.

A mapping file names, per target table, the source column behind each canonical column, an optional
date format and optional value translations. A preset is the same thing shipped with salesflow for a
well-known CRM export, plus the stages that export uses and lookup files that enrich it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from salesflow.errors import ConfigError, NotFoundError
from salesflow.ingest.numbers import thousands_separator
from salesflow.ingest.read import encoding_name
from salesflow.schema import Table
from salesflow.settings import StageConfig

__all__ = [
    "Enrichment",
    "Preset",
    "Resolved",
    "TableMapping",
    "load_mapping_file",
    "load_preset",
    "normalise",
    "preset_names",
    "preset_stages",
    "resolve_columns",
    "snake_case",
]


@dataclass(frozen=True)
class Enrichment:
    """A lookup file beside the import file whose columns are joined onto each row."""

    file: str
    key: str  # canonical or extra column of the imported rows
    on: str  # column of the lookup file
    columns: dict[str, str]  # target column = lookup column


@dataclass(frozen=True)
class TableMapping:
    """How one source file maps onto one canonical table."""

    table: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> candidates
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    first_stage: str | None = None  # stage entered at created_at when deriving stage events
    enrich: tuple[Enrichment, ...] = ()
    encoding: str | None = None  # of a CSV file: utf-8 (default), utf-16 or latin-1
    decimal: str | None = None  # "," when numbers are written 1.234,56
    thousands: str | None = None  # the thousands separator: "," "." " " or "'"

    def merged(self, other: TableMapping | None) -> TableMapping:
        """This mapping with ``other``'s entries winning (a user's file over a preset)."""
        if other is None:
            return self
        values = {k: {**self.values.get(k, {}), **v} for k, v in other.values.items()}
        return TableMapping(
            table=self.table,
            columns={**self.columns, **other.columns},
            values={**self.values, **values},
            date_format=other.date_format or self.date_format,
            first_stage=other.first_stage or self.first_stage,
            enrich=other.enrich or self.enrich,
            encoding=other.encoding or self.encoding,
            decimal=other.decimal or self.decimal,
            thousands=other.thousands or self.thousands,
        )


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    stages: StageConfig | None
    tables: dict[str, TableMapping]


@dataclass(frozen=True)
class Resolved:
    """The outcome of matching a file's header: canonical and extra columns to source columns."""

    canonical: dict[str, str]  # canonical name -> source column
    extras: dict[str, str]  # snake_cased extra name -> source column


def normalise(name: str) -> str:
    """Case-, space- and punctuation-insensitive form used to match names."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def snake_case(name: str) -> str:
    """``Lead Source (Original)`` -> ``lead_source_original``; never empty, never a digit first."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        text = "column"
    return f"c_{text}" if text[0].isdigit() else text


def _parse_table(name: str, raw: AnyMapping[str, Any], where: str) -> TableMapping:
    if not isinstance(raw, AnyMapping):
        raise ConfigError(f"[{name}] must be a table", where=where)
    columns: dict[str, tuple[str, ...]] = {}
    for canonical, source in dict(raw.get("columns", {})).items():
        names = (source,) if isinstance(source, str) else tuple(source)
        if not names or not all(isinstance(s, str) and s for s in names):
            raise ConfigError(
                f"[{name}.columns] {canonical} must name a source column", where=where
            )
        columns[canonical] = names
    values = {
        col: {str(k): str(v) for k, v in dict(table).items()}
        for col, table in dict(raw.get("values", {})).items()
    }
    enrich = tuple(
        Enrichment(str(e["file"]), str(e["key"]), str(e["on"]), dict(e["columns"]))
        for e in raw.get("enrich", [])
    )
    fmt = raw.get("date_format")
    decimal = raw.get("decimal")
    if decimal not in (None, ".", ","):
        raise ConfigError(
            f'[{name}] decimal = "{decimal}" is not a decimal separator',
            where=where,
            hint='Write decimal = "," for numbers like 1.234,56 or decimal = "." (the default)',
        )
    encoding = raw.get("encoding")
    thousands = raw.get("thousands")
    return TableMapping(
        table=name,
        columns=columns,
        values=values,
        date_format=str(fmt) if fmt else None,
        first_stage=raw.get("first_stage"),
        enrich=enrich,
        encoding=encoding_name(str(encoding), where=where) if encoding else None,
        decimal=decimal,
        thousands=thousands_separator(str(thousands), where=where) if thousands else None,
    )


def load_mapping_file(path: Path, table: str) -> TableMapping:
    """The ``[TABLE]`` part of a mapping file; a clear error when it is missing or malformed."""
    where = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"No mapping file at {path}", hint="Check the --mapping path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The mapping file cannot be read: {exc}", where=where) from exc
    if table not in raw:
        raise ConfigError(
            f"The mapping file has no [{table}] section",
            where=where,
            hint=f"Add [{table}] and [{table}.columns] (see docs/import.md)",
        )
    return _parse_table(table, raw[table], where)


def preset_names() -> list[str]:
    """Names of the presets shipped with salesflow."""
    folder = resources.files("salesflow.ingest") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> Preset:
    """A shipped preset by name (``salesforce``, ``hubspot``, ``maven-crm``)."""
    if name not in preset_names():
        raise NotFoundError(
            f"No preset called {name!r}", hint=f"Choose one of: {', '.join(preset_names())}"
        )
    text = (resources.files("salesflow.ingest") / "presets" / f"{name}.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    meta = raw.pop("preset", {})
    stages = meta.get("stages")
    config = (
        StageConfig(tuple(stages["order"]), tuple(stages["won"]), tuple(stages["lost"]))
        if stages
        else None
    )
    tables = {t: _parse_table(t, body, f"preset {name}") for t, body in raw.items()}
    return Preset(name, str(meta.get("description", "")), config, tables)


def preset_stages(name: str) -> StageConfig | None:
    """The stages a preset's CRM uses, for ``salesflow init --preset NAME``."""
    return load_preset(name).stages


def resolve_columns(spec: Table, mapping: TableMapping, header: list[str]) -> Resolved:
    """Match the file's header to canonical columns: mapping first, then same-name columns.

    Every other source column becomes an extra (snake_cased) column: an operating variable.
    """
    present = {h: h for h in header}
    by_norm = {normalise(h): h for h in reversed(header)}
    canonical: dict[str, str] = {}
    extras: dict[str, str] = {}
    for name, candidates in mapping.columns.items():
        found = next(
            (s for c in candidates if (s := present.get(c) or by_norm.get(normalise(c)))), None
        )
        if found is not None:  # a mapping may also name an extra column
            (canonical if spec.column(name) else extras)[name] = found
    used = set(canonical.values()) | set(extras.values())
    for column in spec.names:
        if column not in canonical:
            source = by_norm.get(normalise(column))
            if source is not None and source not in used:
                canonical[column] = source
                used.add(source)
    taken = set(spec.names) | set(extras)
    for source in header:
        if source in used:
            continue
        name = snake_case(source)
        while name in taken:
            name = f"{name}_x"
        taken.add(name)
        extras[name] = source
    return Resolved(canonical, extras)
