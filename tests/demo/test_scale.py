"""Big demos stream in chunks: memory stays bounded whatever the number of deals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHILD = """
import json, sys
from salesflow.demo import build_demo
report = build_demo(sys.argv[1], opportunities=int(sys.argv[2]), seed=1)
# VmHWM is this process's own peak: ru_maxrss keeps the parent's (a test worker's) size from
# before the exec, and a long-lived worker passes 1.5 GiB by itself
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) * 1024  # KiB
print(json.dumps({"rows": report.rows, "seconds": report.seconds, "peak_bytes": peak}))
"""


@pytest.mark.slow
def test_200k_opportunities_with_bounded_memory(tmp_path):
    size = 200_000
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "big"), str(size)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(done.stdout)
    assert abs(result["rows"]["opportunities"] - size) < 0.02 * size
    assert result["rows"]["stage_events"] > 4 * size
    assert result["peak_bytes"] < 1.5 * 2**30, result
