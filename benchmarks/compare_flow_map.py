"""``process_map()`` on a kept workspace, best of 3 cold opens. Run it under main's and a branch's
``PYTHONPATH`` in turn to compare two versions on the same data:

    PYTHONPATH=src .venv/bin/python benchmarks/compare_flow_map.py /tmp/fm-flow1m
"""

from __future__ import annotations

import sys
import time


def main(path: str) -> None:
    import salesflow.metrics.process_map as pm
    from salesflow.workspace import Workspace

    best = float("inf")
    for _ in range(3):
        ws = Workspace.open(path)
        start = time.perf_counter()
        pm.process_map(ws.data, ws.settings)
        best = min(best, time.perf_counter() - start)
        ws.close()
    print(pm.__file__, f"best of 3: {best:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1])
