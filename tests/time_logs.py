"""Generated sales logs with a known truth about time, for the as-of tests.

Each log is exported at a chosen moment: deals created before it, closed before it or still
open at it. ``constant_conversion`` wins exactly 3 deals in 10 whatever the month; ``wins_stop``
wins like it until a cut-off and then only loses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

FIRST_DAY = date(2024, 1, 1)
WIN_SHARE = 0.3  # i % 10 < 3 wins


def close_days(i: int) -> int:
    """Days from creation to close: 5 to 84, spread evenly (every deal closes within 90 days)."""
    return 5 + (i * 37) % 80


def deals(export: datetime, *, wins_until: datetime | None = None) -> list[dict]:
    """Two deals a day from FIRST_DAY until ``export``; deal i is won when i % 10 < 3 (unless it
    closes after ``wins_until``: then it is lost), closed ``close_days(i)`` later, or still open
    when that is after the export."""
    rows, i, day = [], 0, FIRST_DAY
    while True:
        for hour in (9, 15):
            created = datetime.combine(day, time(hour))
            if created >= export:
                return rows
            closed = created + timedelta(days=close_days(i), hours=1)
            won = i % 10 < 3 and (wins_until is None or closed < wins_until)
            done = closed <= export
            rows.append(
                {
                    "opportunity_id": f"D{i:05d}",
                    "owner": ("Ann", "Bob", "Cy")[i % 3],
                    "stage": ("Won" if won else "Lost") if done else "Proposal",
                    "created_at": created,
                    "closed_at": closed if done else None,
                    "outcome": ("won" if won else "lost") if done else "open",
                    "amount": 10_000.0 + 1_000 * (i % 7),
                }
            )
            i += 1
        day += timedelta(days=1)


def make_workspace(folder: Path, rows: list[dict], *, forecasts: list[dict] = (), toml: str = ""):
    """A real workspace in ``folder`` holding ``rows`` as its opportunities (and ``forecasts``);
    ``toml`` is appended to its settings (e.g. a [calendar] as_of line)."""

    from salesflow.workspace import Workspace, init_workspace

    ws = init_workspace(folder)
    if toml:
        with ws.settings.config_path.open("a", encoding="utf-8") as f:
            f.write(toml)
    ws.close()
    with Workspace.open(folder) as ws:
        insert(ws, {"opportunities": rows, "forecasts": forecasts})
    return folder


def insert(ws, tables: dict[str, list[dict]]) -> None:
    """Append rows to canonical tables in one new data generation (all or nothing)."""
    import pandas as pd

    with ws.writing("test rows") as writer:
        for name, table in tables.items():
            if table:
                frame = pd.DataFrame(table)
                cols = ", ".join(f'"{c}"' for c in frame.columns)
                writer.data.con.register("_rows", frame)
                writer.data.raw_sql(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM _rows')
                writer.data.con.unregister("_rows")
