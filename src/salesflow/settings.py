"""Workspace settings: defaults < ``salesflow.toml`` < ``SALESFLOW_*`` environment < flags.

One frozen :class:`Settings` object is built per command or app; nothing reads the file or the
environment at import time.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from salesflow.errors import ConfigError, WorkspaceError

__all__ = [
    "CONFIG_FILE",
    "BusinessCalendar",
    "DataMap",
    "Settings",
    "StageConfig",
    "TableMap",
    "load_settings",
    "parse_moment",
    "time_zone",
]

CONFIG_FILE = "salesflow.toml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")


@dataclass(frozen=True)
class StageConfig:
    """The value stream: open stages in order, then the won and lost end stages."""

    order: tuple[str, ...] = DEFAULT_STAGES
    won: tuple[str, ...] = ("Won",)
    lost: tuple[str, ...] = ("Lost",)

    @property
    def all(self) -> tuple[str, ...]:
        """Every known stage, open ones first, then won, then lost."""
        return (*self.order, *self.won, *self.lost)

    def rank(self, stage: str) -> int:
        """Position in the configured order (ties between equal timestamps are broken by it)."""
        try:
            return self.all.index(stage)
        except ValueError:
            return len(self.all)

    def outcome_of(self, stage: str) -> str:
        """``won``, ``lost`` or ``open`` for a stage name."""
        if stage in self.won:
            return "won"
        if stage in self.lost:
            return "lost"
        return "open"


@dataclass(frozen=True)
class BusinessCalendar:
    """When the business works: ``[calendar] workdays``, ``business_hours``, ``holidays`` and
    ``extra_holidays``. Durations on the business clock count only this time."""

    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    opens: int = 9 * 3600  # seconds after midnight, wall clock in the workspace's zone
    closes: int = 17 * 3600
    country: str | None = None  # a country code for the ``holidays`` library
    subdiv: str | None = None  # its region (state, province…)
    extra_holidays: tuple[date, ...] = ()

    @property
    def day_seconds(self) -> int:
        """The length of one business day: business durations in days are in these units."""
        return self.closes - self.opens


@dataclass(frozen=True)
class TableMap:
    """``[data.tables.NAME]``: the customer's table or view that holds canonical table ``NAME``,
    and which of its columns holds each canonical column (``canonical = "TheirColumn"``)."""

    canonical: str
    table: str  # as written: "crm.deals" or "deals" (the database's default schema); "" for files
    columns: Mapping[str, str] = field(default_factory=dict)
    #: ``files = "lake/deals/*.parquet"``: Parquet or CSV files read in place (DuckDB, Spark)
    files: str | None = None

    @property
    def source(self) -> str:
        """What the mapping reads, as the user wrote it (a table or a files pattern)."""
        return self.files if self.files is not None else self.table

    @property
    def schema(self) -> str | None:
        return self.table.split(".", 1)[0] if "." in self.table else None

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1] if "." in self.table else self.table


@dataclass(frozen=True)
class DataMap:
    """Read-in-place: the ``[data]`` keys ``read_only``, ``derived_schema``, ``refresh`` and
    ``[data.tables.*]`` (see docs/read-in-place.md). Empty (``active`` False) by default."""

    tables: Mapping[str, TableMap] = field(default_factory=dict)
    read_only: bool = False
    derived_schema: str | None = None  # None on DuckDB: its own tables stay in the workspace file
    refresh: str = "auto"  # "auto": rebuild stale derived tables; "manual": only say so
    #: DuckDB: ``[data.attach] NAME = "FILE"``, other DuckDB files attached read-only as NAME
    attach: Mapping[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """True when salesflow reads existing tables (and keeps its own apart from them)."""
        return self.read_only or self.derived_schema is not None


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about one workspace."""

    workspace: Path
    data_url: str = "duckdb:///data.duckdb"
    app_url: str = "sqlite:///app.db"
    stages: StageConfig = field(default_factory=StageConfig)
    week_start: str = "monday"
    timezone: str = "UTC"
    core_threshold: float = 0.7
    as_of: datetime | None = None  # ``[calendar] as_of``: the moment the data describes
    business: BusinessCalendar = field(default_factory=BusinessCalendar)
    frozen_today: date | None = None  # ``SALESFLOW_TODAY``: the wall clock, frozen (tests, replays)
    data_map: DataMap = field(default_factory=DataMap)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.workspace / CONFIG_FILE

    def section(self, name: str) -> Mapping[str, Any]:
        """A free-form section of ``salesflow.toml`` (``metrics``, ``variables``…), empty if absent."""
        value = self.raw.get(name, {})
        return value if isinstance(value, Mapping) else {}

    def resolved_data_url(self) -> str:
        return resolve_url(self.data_url, self.workspace)

    def resolved_app_url(self) -> str:
        return resolve_url(self.app_url, self.workspace)

    @property
    def zone(self) -> ZoneInfo:
        """The ``[calendar] timezone``: the data's timestamps are wall-clock times there."""
        return time_zone(self.timezone, str(self.config_path))

    def now(self, instant: datetime | None = None) -> datetime:
        """The wall-clock time in the workspace's zone at ``instant`` (default: this moment; a
        zone-less instant is UTC, like the app's audit times), zone-less like the data's
        timestamps so the two compare. ``SALESFLOW_TODAY=YYYY-MM-DD`` freezes "this moment" to
        the start of that day, so a replayed command gives the same answer on any date."""
        if instant is None and self.frozen_today is not None:
            return datetime.combine(self.frozen_today, time())
        moment = instant or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def today(self, instant: datetime | None = None) -> date:
        """The date in the workspace's zone at ``instant`` (default: today there)."""
        return self.now(instant).date()

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with flag values applied (flags win over everything)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def resolve_url(url: str, workspace: Path) -> str:
    """Make ``duckdb:///x.duckdb``, ``sqlite:///x.db`` and ``pyspark:///x`` (a local Spark
    workspace's folder, ``spark`` when none is named) relative to the workspace folder."""
    for scheme in ("duckdb:///", "sqlite:///"):
        if url.startswith(scheme):
            rest = url[len(scheme) :]
            if rest in ("", ":memory:") or rest.startswith("/"):
                return url
            return f"{scheme}{(workspace / rest).resolve()}"
    if url.startswith("pyspark:"):  # a local Spark workspace: its tables in a folder here
        rest = url[len("pyspark:///") :] if url.startswith("pyspark:///") else ""
        if rest.startswith("/"):
            return url
        return f"pyspark:///{(workspace / (rest or 'spark')).resolve()}"
    return url


def _workspace_hint(folder: Path) -> str:
    """Point at the workspaces inside ``folder`` (``make demo`` leaves ``demo-workspace`` in the
    checkout, and a newcomer runs the next command from there), else say how to make one."""
    inside = sorted(p.parent.name for p in folder.glob(f"*/{CONFIG_FILE}"))[:3]
    if inside:
        names = ", ".join(inside)
        return f"Workspaces in this folder: {names}; name one with -w, e.g. `salesflow -w {inside[0]} status`"
    return f"Run `salesflow init {folder}` or pass --workspace/-w PATH"


def load_settings(workspace: Path | str, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``salesflow.toml`` in ``workspace`` and apply ``SALESFLOW_*`` environment overrides."""
    workspace = Path(workspace).expanduser().resolve()
    path = workspace / CONFIG_FILE
    if not workspace.is_dir():
        raise WorkspaceError(
            f"No workspace folder at {workspace}",
            hint="Create one with `salesflow init PATH` or `salesflow demo PATH`, "
            "or point to one with --workspace/-w",
        )
    if not path.is_file():
        raise WorkspaceError(
            f"{workspace} is not a salesflow workspace: it has no {CONFIG_FILE}",
            hint=_workspace_hint(workspace),
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(
            f"{CONFIG_FILE} cannot be read: {exc}",
            where=str(path),
            hint="Fix the TOML syntax (see docs/configuration.md)",
        ) from exc
    return settings_from_mapping(workspace, raw, env if env is not None else os.environ)


def settings_from_mapping(
    workspace: Path, raw: Mapping[str, Any], env: Mapping[str, str]
) -> Settings:
    """Build validated settings from parsed TOML plus environment overrides."""
    where = str(workspace / CONFIG_FILE)
    data = _table(raw, "data", where)
    app = _table(raw, "app", where)
    stages_raw = _table(raw, "stages", where)
    calendar = _table(raw, "calendar", where)
    causes = _table(raw, "causes", where)
    stages = StageConfig(
        order=_names(stages_raw, "order", DEFAULT_STAGES, where),
        won=_names(stages_raw, "won", ("Won",), where),
        lost=_names(stages_raw, "lost", ("Lost",), where),
    )
    _check_stages(stages, where)
    week_start = str(calendar.get("week_start", "monday")).lower()
    if week_start not in WEEKDAYS:
        raise ConfigError(
            f"calendar.week_start is {week_start!r}",
            where=where,
            hint=f"Use one of {', '.join(WEEKDAYS)}",
        )
    timezone = str(calendar.get("timezone", "UTC"))
    time_zone(timezone, where)
    as_of = calendar.get("as_of")
    threshold = float(causes.get("core_threshold", 0.7))
    if not 0 < threshold <= 1:
        raise ConfigError("causes.core_threshold must be between 0 and 1", where=where)
    data_url = env.get("SALESFLOW_DATA_URL") or str(data.get("url", "duckdb:///data.duckdb"))
    return Settings(
        workspace=workspace,
        data_url=data_url,
        app_url=env.get("SALESFLOW_APP_URL") or str(app.get("url", "sqlite:///app.db")),
        stages=stages,
        week_start=week_start,
        timezone=timezone,
        core_threshold=threshold,
        as_of=None if as_of is None else parse_moment(as_of, "[calendar] as_of", where),
        business=business_calendar(calendar, where),
        frozen_today=_frozen_today(env.get("SALESFLOW_TODAY")),
        data_map=data_map(data, data_url, where),
        raw=raw,
    )


_DATA_KEYS = ("url", "read_only", "derived_schema", "refresh", "tables", "attach")


def data_map(data: Mapping[str, Any], url: str, where: str) -> DataMap:
    """The read-in-place keys of ``[data]``, validated in form (see docs/read-in-place.md); the
    canonical table and column names are checked against the schema by
    :func:`salesflow.inplace.check_names`, which sits above this layer."""
    from difflib import get_close_matches

    for key in data:
        if key not in _DATA_KEYS:
            close = get_close_matches(str(key), _DATA_KEYS, n=1)
            guess = f'Did you mean "{close[0]}"? ' if close else ""
            raise ConfigError(
                f"[data] has an unknown setting {key!r}",
                where=where,
                hint=f"{guess}[data] takes {', '.join(_DATA_KEYS)} (see docs/read-in-place.md)",
            )
    read_only = data.get("read_only")
    if read_only is not None and not isinstance(read_only, bool):
        raise ConfigError(
            f"[data] read_only = {read_only!r} is not true or false", where=where,
            hint="Write read_only = true to keep salesflow from ever writing into the database",
        )  # fmt: skip
    schema = data.get("derived_schema")
    if schema is not None and not (isinstance(schema, str) and _IDENT.fullmatch(schema)):
        raise ConfigError(
            f"[data] derived_schema = {schema!r} is not a schema name",
            where=where,
            hint="Name a schema salesflow may write its own tables in, e.g. derived_schema = "
            '"salesflow" (letters, digits and _, starting with a letter)',
        )
    refresh = data.get("refresh", "auto")
    if refresh not in ("auto", "manual"):
        raise ConfigError(
            f"[data] refresh = {refresh!r} is not auto or manual",
            where=where,
            hint='Use "auto" (rebuild stale derived tables on the next command) or "manual" '
            "(only report them as stale until `salesflow status --refresh`)",
        )
    tables = {
        str(name): _table_map(str(name), entry, where)
        for name, entry in _mapping(data, "tables", where).items()
    }
    if read_only is False and tables:
        raise ConfigError(
            "[data] read_only = false, but salesflow never writes into the tables "
            "[data.tables] maps",
            where=where,
            hint="Remove read_only (a mapped workspace is read-only) or the [data.tables] "
            "entries (to import your data into salesflow's own tables)",
        )
    read_only = bool(read_only) or bool(tables)
    attach = _attachments(data, url, where)
    if url.startswith("duckdb:"):
        _check_duckdb_map(tables, attach, schema, where)
    else:
        _check_server_map(tables, read_only or schema is not None, schema, url, where)
    return DataMap(tables, read_only, schema, refresh, attach)


def _mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[data.{key}] must be a table of settings", where=where)
    return value


def _table_map(name: str, entry: Any, where: str) -> TableMap:
    """One ``[data.tables.NAME]``: ``table`` or ``files``, and its ``columns``."""
    key = f"[data.tables.{name}]"
    if (
        not isinstance(entry, Mapping)
        or sum(isinstance(entry.get(k), str) for k in ("table", "files")) != 1
    ):
        raise ConfigError(
            f'{key} needs table = "SCHEMA.TABLE" or files = "FOLDER/*.parquet"',
            where=where,
            hint=f'Name the table or view that holds the {name}, e.g. table = "crm.deals", or '
            'the Parquet or CSV files a pipeline writes, e.g. files = "lake/deals/*.parquet"',
        )
    for extra in set(entry) - {"table", "files", "columns"}:
        raise ConfigError(
            f"{key} has an unknown setting {extra!r}",
            where=where,
            hint=f"{key} takes table or files, and columns (a [data.tables.{name}.columns] table)",
        )
    table, files = str(entry.get("table", "")).strip(), entry.get("files")
    if files is not None and not _FILES.search(files.strip()):
        raise ConfigError(
            f"{key} files = {files!r} names no Parquet or CSV files",
            where=where,
            hint="Name a folder or a pattern ending in .parquet or .csv, e.g. files = "
            '"lake/deals/*.parquet" (relative to the workspace folder) or "lake/deals/"',
        )
    if files is None and not all(_IDENT_ANY.fullmatch(part) for part in table.split(".", 1)):
        raise ConfigError(
            f"{key} table = {table!r} is not a table name",
            where=where,
            hint='Write SCHEMA.TABLE, e.g. table = "crm.deals", or TABLE for the default schema',
        )
    cols = entry.get("columns", {})
    if not isinstance(cols, Mapping) or not all(isinstance(v, str) and v for v in cols.values()):
        raise ConfigError(
            f"[data.tables.{name}.columns] must map canonical names to column names",
            where=where,
            hint='e.g. created_at = "CreatedDate"',
        )
    for column in cols:
        if not _IDENT.fullmatch(str(column)):
            raise ConfigError(
                f"[data.tables.{name}.columns] {column!r} is not a usable column name",
                where=where,
                hint="Name canonical and extra columns in lower case: letters, digits, _",
            )
    return TableMap(name, table, dict(cols), None if files is None else files.strip())


def _attachments(data: Mapping[str, Any], url: str, where: str) -> dict[str, str]:
    attach = _mapping(data, "attach", where)
    if attach and not url.startswith("duckdb:"):
        raise ConfigError(
            "[data.attach] attaches DuckDB files to a DuckDB workspace only",
            where=where,
            hint='On a database server name its tables directly: table = "SCHEMA.TABLE"',
        )
    for name, path in attach.items():
        if not _IDENT.fullmatch(str(name)) or not isinstance(path, str) or not path:
            raise ConfigError(
                f'[data.attach] {name} = {path!r} is not NAME = "FILE"',
                where=where,
                hint='e.g. crm = "/srv/warehouse/crm.duckdb" (NAME in lower case), then '
                'table = "crm.deals"',
            )
    return {str(k): str(v) for k, v in attach.items()}


def _check_duckdb_map(
    tables: Mapping[str, TableMap], attach: Mapping[str, str], schema: str | None, where: str
) -> None:
    """On DuckDB salesflow's own tables stay in the workspace file; the mapped tables live in
    attached files (or in Parquet/CSV files), never in the workspace file itself."""
    if schema is not None:
        raise ConfigError(
            "[data] derived_schema is for a database server; a DuckDB workspace keeps "
            "salesflow's own tables in its file ([data] url)",
            where=where,
            hint="Remove derived_schema: salesflow writes only its workspace file, never the "
            "files and databases [data.tables] reads",
        )
    for entry in tables.values():
        if entry.files is None and entry.schema not in attach:
            raise ConfigError(
                f"[data.tables.{entry.canonical}] table = {entry.table!r} names no attached "
                "database",
                where=where,
                hint='Attach the DuckDB file holding it ([data.attach] crm = "crm.duckdb", '
                'then table = "crm.deals"), or read Parquet/CSV files with files = "…"; '
                "the workspace's own file is salesflow's",
            )


def _check_server_map(
    tables: Mapping[str, TableMap], active: bool, schema: str | None, url: str, where: str
) -> None:
    if active and schema is None:
        raise ConfigError(
            "Reading tables in place needs [data] derived_schema",
            where=where,
            hint="Name a schema salesflow may write its own tables in (the process map's "
            'tables, its views), e.g. derived_schema = "salesflow"; your tables stay untouched',
        )
    spark = url.startswith(("pyspark:", "sc://"))
    for entry in tables.values():
        if entry.files is not None and not spark:
            raise ConfigError(
                f"[data.tables.{entry.canonical}] files = {entry.files!r}: a database server "
                "does not read files",
                where=where,
                hint="Read Parquet/CSV files in place on DuckDB or Spark ([data] url), or map "
                'a table: table = "SCHEMA.TABLE"',
            )
        if entry.files is None and entry.schema == schema:
            raise ConfigError(
                f"[data.tables.{entry.canonical}] reads {entry.table}, inside derived_schema "
                f"{schema!r}",
                where=where,
                hint="salesflow keeps its own tables in derived_schema: name another schema there",
            )


_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_IDENT_ANY = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_FILES = re.compile(r"(\.parquet|\.csv(\.gz)?|/)$", re.IGNORECASE)


def parse_moment(value: Any, name: str, where: str | None = None) -> datetime:
    """``2026-03-14`` or ``2026-03-14T17:30`` (a TOML date or datetime too) as a zone-less moment;
    a date means the start of that day."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{name} {value!r} is not a date",
            where=where,
            hint="Write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM",
        ) from None
    return moment.replace(tzinfo=None)


def business_calendar(calendar: Mapping[str, Any], where: str) -> BusinessCalendar:
    """The business calendar from the ``[calendar]`` table, validated."""
    opens, closes = _hours(calendar.get("business_hours", "09:00-17:00"), where)
    country, subdiv = _holiday_region(calendar.get("holidays"), where)
    extra = calendar.get("extra_holidays", [])
    if not isinstance(extra, list):
        raise ConfigError(
            "[calendar] extra_holidays must be a list of dates",
            where=where,
            hint='e.g. extra_holidays = ["2026-12-24", "2026-12-31"]',
        )
    return BusinessCalendar(
        workdays=_workdays(calendar.get("workdays", ["mon", "tue", "wed", "thu", "fri"]), where),
        opens=opens,
        closes=closes,
        country=country,
        subdiv=subdiv,
        extra_holidays=tuple(
            parse_moment(d, "[calendar] extra_holidays entry", where).date() for d in extra
        ),
    )


def _workdays(value: Any, where: str) -> tuple[int, ...]:
    """``["mon", "tue", …]`` (or full names) as weekday numbers, Monday = 0."""
    index = {name[:n]: i for i, name in enumerate(WEEKDAYS) for n in (3, len(name))}
    names = [str(v).strip().lower() for v in value] if isinstance(value, list) else []
    days = [index.get(n) for n in names]
    if not days or None in days or len(set(days)) != len(days):
        raise ConfigError(
            f"[calendar] workdays = {value!r} is not a list of weekdays",
            where=where,
            hint='Name each working day once, e.g. workdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
    return tuple(sorted(d for d in days if d is not None))


def _hours(value: Any, where: str) -> tuple[int, int]:
    """``"09:00-17:00"`` as seconds after midnight (``24:00`` closes at midnight)."""
    try:
        start, end = (_clock_seconds(part) for part in str(value).split("-"))
    except ValueError:
        start = end = -1
    if not 0 <= start < end <= 86400:
        raise ConfigError(
            f"[calendar] business_hours = {value!r} is not an opening and a closing time",
            where=where,
            hint='Write it as "HH:MM-HH:MM", opening before closing, e.g. "09:00-17:00" '
            '(use "00:00-24:00" to count whole working days)',
        )
    return start, end


def _clock_seconds(text: str) -> int:
    hours, minutes = text.strip().split(":")
    if not (hours.isdigit() and minutes.isdigit() and int(minutes) < 60):
        raise ValueError(text)
    return int(hours) * 3600 + int(minutes) * 60


def _holiday_region(value: Any, where: str) -> tuple[str | None, str | None]:
    """``holidays = "DE"``, ``"DE-BY"`` or ``{country = "DE", subdiv = "BY"}``."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        country, _, subdiv = value.strip().partition("-")
        return country.upper(), subdiv.upper() or None
    if isinstance(value, Mapping) and isinstance(value.get("country"), str):
        subdiv = value.get("subdiv")
        return value["country"].upper(), None if subdiv is None else str(subdiv).upper()
    raise ConfigError(
        f"[calendar] holidays = {value!r} is not a country code",
        where=where,
        hint='Write a country code such as holidays = "DE", or '
        'holidays = { country = "DE", subdiv = "BY" } for a region',
    )


def _frozen_today(text: str | None) -> date | None:
    """The date in ``SALESFLOW_TODAY``, or None when it is not set."""
    return parse_moment(text, "SALESFLOW_TODAY").date() if text else None


def time_zone(name: str, where: str) -> ZoneInfo:
    """The zone named in ``[calendar] timezone``; an unknown name is a ConfigError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from difflib import get_close_matches

        close = get_close_matches(name, sorted(available_timezones()), n=1)
        guess = f'Did you mean "{close[0]}"? ' if close else ""
        raise ConfigError(
            f"[calendar] timezone = {name!r} is not a time zone salesflow knows",
            where=where,
            hint=f'{guess}Use an IANA zone name such as "Europe/Berlin", "America/New_York" '
            'or "UTC"',
        ) from None


def _table(raw: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table", where=where)
    return value


def _names(
    section: Mapping[str, Any], key: str, default: tuple[str, ...], where: str
) -> tuple[str, ...]:
    value = section.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"stages.{key} must be a list of stage names", where=where)
    return tuple(value)


def _check_stages(stages: StageConfig, where: str) -> None:
    seen: set[str] = set()
    for name in stages.all:
        if name in seen:
            raise ConfigError(
                f"stage {name!r} is listed twice in [stages]",
                where=where,
                hint="Each stage appears once, in order, won or lost",
            )
        seen.add(name)
    if not stages.won or not stages.lost:
        raise ConfigError("[stages] needs at least one won and one lost stage", where=where)
