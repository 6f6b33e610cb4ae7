"""A notebook keeps its workspace open for hours: each call answers from the last published data,
while an open reader never stops an import."""

from __future__ import annotations

from pathlib import Path

import salesflow as sf
from salesflow.ingest import import_file
from salesflow.workspace import Workspace, init_workspace


def deals(folder: Path, name: str, n: int) -> Path:
    path = folder / f"{name}.csv"
    rows = [f"{name}-{i},2026-03-0{1 + i % 9},won" for i in range(n)]
    path.write_text("opportunity_id,created_at,outcome\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def test_an_open_notebook_sees_each_import_at_its_next_call(tmp_path):
    init_workspace(tmp_path / "ws").close()
    import_file(Workspace.open(tmp_path / "ws"), "opportunities", deals(tmp_path, "A", 3))
    with sf.open(tmp_path / "ws") as ws:
        assert ws.status()["tables"]["opportunities"]["rows"] == 3
        first = ws.core.data  # held open, read-only: the import below is not blocked
        import_file(Workspace.open(tmp_path / "ws"), "opportunities", deals(tmp_path, "B", 4))
        assert first.table("opportunities").count().execute() == 3  # an open generation stays
        assert ws.status()["tables"]["opportunities"]["rows"] == 7
        assert ws.status()["outcomes"]["won"] == 7
