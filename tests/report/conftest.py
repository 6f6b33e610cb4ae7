"""Report fixtures: a demo company (1,500 deals) with its demo knowledge and two entries written
by a careless (or hostile) user, built once; the report of it written once."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_demo import HEARD, HOSTILE_CAUSE, HOSTILE_UDR


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    """The demo workspace with demo knowledge plus a UDR and a cause holding HTML."""
    from salesflow.workbench.service import Workbench

    path = tmp_path_factory.mktemp("report") / "demo"
    demo_copy(path, opportunities=1500, seed=7, knowledge=True)
    with Workbench.open(path, who="mallory") as bench:
        udr = bench.add_udr(HOSTILE_UDR)["udr"]["id"]
        cause = bench.add_cause(HOSTILE_CAUSE)["id"]
        bench.link(udr, cause, text="<i>because</i>")
    return path


@pytest.fixture(scope="session")
def report_file(demo_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``(html path, salesflow report --json document)`` for the demo workspace."""
    import salesflow as sf
    from salesflow.report import write_report

    out = tmp_path_factory.mktemp("report-out") / "report.html"
    with sf.open(demo_ws) as ws:
        doc = write_report(ws, out, progress=lambda *step: HEARD.append(step))
    return out, doc
