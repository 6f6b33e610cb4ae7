"""Write tests/appdb/data/app_v0_1.db: an app DB as release 0.1 left it (revision 0001, a few rows).

Rows go in with plain SQL against the 0001 schema, never through today's models, so the file
stays what an old release wrote. Run once per release that changes the schema, and keep the file:
    .venv/bin/python tests/appdb/make_old_db.py [OUT.db]
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from salesflow.appdb import upgrade

OUT = Path(__file__).parent / "data" / "app_v0_1.db"
T0 = "2025-03-01 09:00:00.000000"
T1 = "2025-03-02 10:30:00.000000"

BINDING = {"metric": "stage_time", "filters": {"stage": "Proposal"}, "params": {}, "period": "month",
           "bad_if": "above", "threshold": 10.0, "mode": "threshold"}  # fmt: skip
MEASURE = {**BINDING, "target": 7.0, "baseline_start": "2024-07-01", "baseline_end": "2024-12-31",
           "start_date": "2025-01-15"}  # fmt: skip
del MEASURE["mode"], MEASURE["threshold"]

ROWS: dict[str, list[tuple]] = {
    "users": [
        (1, "ann", "admin", "argon2$old-hash", T0, 0),
        (2, "bob", "viewer", None, T0, 1),
    ],
    "api_tokens": [(1, 1, "sha256:feedface", "crm webhook", T0, T1)],
    "nodes": [(1, "udr"), (2, "cause"), (3, "cause"), (4, "udr")],
    "udrs": [
        (
            1,
            "38% of proposals waited more than 10 days for pricing in Q3 2024",
            "ann",
            json.dumps(["pricing"]),
            json.dumps(BINDING),
            "ann",
            T0,
            T1,
            2,
            None,
        ),
        (
            4,
            "Win rate was 18% in Q4 2024 against 25% planned",
            None,
            "[]",
            None,
            "ann",
            T0,
            T0,
            2,
            T1,
        ),
    ],
    "causes": [
        (2, "Pricing approval needs two signatures", "bob", "ann", T0, T0, 1, None),
        (3, "Finance reviews approvals once a week", None, "ann", T0, T0, 1, None),
    ],
    "cause_links": [
        (
            1,
            1,
            2,
            "approvals queue up",
            None,
            0,
            json.dumps(["3 of 5 deals waited"]),
            "ann",
            T0,
            T0,
            1,
            None,
        ),
        (2, 2, 3, "second signer is in finance", "g1", 0, "[]", "ann", T0, T0, 1, None),
    ],
    "improvements": [
        (
            1,
            "One signature under 20k",
            "Cut Proposal time by a third",
            "Biggest wait in the cycle",
            "Approvals queue at the second signer",
            "Single signature under 20k",
            json.dumps(MEASURE),
            "running",
            "ann",
            "ann",
            T0,
            T1,
            2,
            None,
        ),
    ],
    "improvement_attacks": [(1, 2)],
    "checkins": [
        (1, 1, T1, "ann", "bob", "Still a third", "One signature", "Proposal days", 8.5, None)
    ],
    "history": [
        (1, "udr", 1, "create", "ann", T0, None, json.dumps({"id": 1, "version": 1})),
        (
            2,
            "udr",
            1,
            "update",
            "ann",
            T1,
            json.dumps({"id": 1, "version": 1}),
            json.dumps({"id": 1, "version": 2}),
        ),
        (
            3,
            "udr",
            4,
            "delete",
            "ann",
            T1,
            json.dumps({"id": 4, "version": 1}),
            json.dumps({"id": 4, "version": 2}),
        ),
    ],
}


def make(path: Path) -> None:
    path.unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}", "0001")
    con = sqlite3.connect(path)
    with con:
        for table, rows in ROWS.items():
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
