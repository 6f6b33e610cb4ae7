"""The canonical sales data: six tables every importer writes and every metric reads.

Columns not listed here that a source brings along are kept as extra columns on the table
(``opportunities`` extras are the *operating variables* later analysis uses).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OUTCOMES", "TABLES", "Column", "Table", "table"]

OUTCOMES = ("open", "won", "lost")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # an Ibis type name: string, timestamp, date, float64, int64
    required: bool = False
    doc: str = ""

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.dtype]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def ibis_schema(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}

    def create_sql(self, name: str | None = None) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for DuckDB and PostgreSQL."""
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in self.columns)
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" ({cols})'


_SQL_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "float64": "DOUBLE PRECISION",
    "int64": "BIGINT",
}

S, T, D, F = "string", "timestamp", "date", "float64"

OPPORTUNITIES = Table(
    "opportunities",
    (
        Column("opportunity_id", S, True, "Unique deal id from the CRM"),
        Column("account", S, doc="Customer account name or id"),
        Column("owner", S, doc="Sales rep who owns the deal"),
        Column("team", S, doc="Sales team or manager"),
        Column("product", S),
        Column("segment", S, doc="Customer segment (e.g. SMB, Mid-market, Enterprise)"),
        Column("source", S, doc="Lead source (inbound, outbound, partner, event…)"),
        Column("stage", S, doc="Current stage at the time of the export"),
        Column("created_at", T, True, "When the opportunity was created (first contact)"),
        Column("closed_at", T, doc="When it was won or lost; empty while open"),
        Column(
            "close_date",
            D,
            doc="Expected close date while open (the CRM's close date); the actual one once closed",
        ),
        Column("outcome", S, doc="open, won or lost (derived from stages when not given)"),
        Column("amount", F, doc="Deal value in the reporting currency"),
    ),
    key=("opportunity_id",),
    time_column="created_at",
    doc="One row per deal.",
)

STAGE_EVENTS = Table(
    "stage_events",
    (
        Column("opportunity_id", S, True),
        Column("stage", S, True, "Stage entered (must be a configured stage)"),
        Column("entered_at", T, True, "When the deal entered the stage"),
        Column("owner", S),
        Column("amount", F, doc="Deal amount at that moment"),
        Column("forecast_category", S, doc="commit, best_case, pipeline or omitted"),
    ),
    key=("opportunity_id", "stage", "entered_at"),
    time_column="entered_at",
    doc="One row per stage change; a deal's stage history.",
)

ACTIVITIES = Table(
    "activities",
    (
        Column("activity_id", S, True),
        Column("opportunity_id", S),
        Column("account", S),
        Column("owner", S),
        Column("type", S, True, "call, email, meeting, demo, proposal…"),
        Column("occurred_at", T, True),
    ),
    key=("activity_id",),
    time_column="occurred_at",
    doc="One row per call, email, meeting, demo or proposal.",
)

REQUESTS = Table(
    "requests",
    (
        Column("request_id", S, True),
        Column("received_at", T, True),
        Column("channel", S, doc="phone, email, portal, chat…"),
        Column("requester_type", S, doc="customer, prospect, sales rep, partner…"),
        Column("account", S),
        Column("opportunity_id", S, doc="The deal the request is about, when known"),
        Column("category", S),
        Column("description", S, doc="Free text as the requester put it"),
        Column("handled_by", S),
        Column("first_response_at", T),
        Column("resolved_at", T),
        Column("outcome", S),
    ),
    key=("request_id",),
    time_column="received_at",
    doc="One row per request a department received.",
)

FORECASTS = Table(
    "forecasts",
    (
        Column("period_start", D, True, "First day of the forecast period"),
        Column("owner", S, doc="Rep the forecast is for (or empty for a team forecast)"),
        Column("team", S),
        Column("submitted_at", T, True),
        Column("category", S, True, "commit, best_case or pipeline"),
        Column("amount", F, True),
    ),
    key=("period_start", "owner", "team", "submitted_at", "category"),
    time_column="period_start",
    doc="One row per submitted forecast figure.",
)

OPPORTUNITY_HISTORY = Table(
    "opportunity_history",
    (
        Column("opportunity_id", S, True),
        Column("changed_at", T, True, "When the deal changed (or the snapshot that saw it)"),
        Column("stage", S, doc="Stage after the change"),
        Column("amount", F, doc="Amount after the change"),
        Column("close_date", D, doc="Expected close date after the change"),
        Column("forecast_category", S, doc="commit, best_case, pipeline, omitted or closed"),
        Column("owner", S, doc="Owner after the change"),
    ),
    key=("opportunity_id", "changed_at"),
    time_column="changed_at",
    doc="One row per change of a deal's stage, amount, expected close date, forecast category "
    "or owner: the deal's whole state after the change.",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (OPPORTUNITIES, STAGE_EVENTS, ACTIVITIES, REQUESTS, FORECASTS, OPPORTUNITY_HISTORY)
}


def table(name: str) -> Table:
    """The canonical table called ``name``; a clear error lists the valid names."""
    from salesflow.errors import NotFoundError

    try:
        return TABLES[name]
    except KeyError:
        raise NotFoundError(
            f"No table called {name!r}", hint=f"Choose one of: {', '.join(TABLES)}"
        ) from None
