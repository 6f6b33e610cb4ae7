"""A generated deal log whose win rate is higher in the last month of each quarter (known truth)."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

HIGH, LOW = 0.75, 0.45  # win rate in quarter-end months, and in the other months


def seasonal_log(folder: Path, *, months: int = 24, deals: int = 60, seed: int = 3) -> Path:
    """A workspace holding ``deals`` closed deals a month from January 2023 (plus one open deal
    created after the last month, so every month of the log is complete)."""
    from salesflow.ingest import import_file
    from salesflow.workspace import init_workspace

    rng = random.Random(seed)
    rows = []
    for m in range(months):
        first = date(2023 + m // 12, m % 12 + 1, 1)
        rate = HIGH if first.month % 3 == 0 else LOW
        for k in range(deals):
            closed = first + timedelta(days=rng.randrange(0, 28))
            won = rng.random() < rate
            rows.append([f"S{m:02d}{k:03d}", "Ann", closed - timedelta(days=30),
                         closed, "won" if won else "lost", 1000])  # fmt: skip
    after = date(2023 + months // 12, months % 12 + 1, 2)
    rows.append(["OPEN", "Ann", after, "", "open", 1000])
    path = folder / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["opportunity_id", "owner", "created_at", "closed_at", "outcome", "amount"])
        out.writerows(rows)
    workspace = init_workspace(folder / "ws")
    import_file(workspace, "opportunities", path)
    workspace.close()
    return workspace.path
