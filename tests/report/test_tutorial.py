"""docs/tutorial.md as a notebook: its ```python blocks run in order, in one namespace, in a
fresh folder, so the tutorial cannot drift from what salesflow does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).parents[2] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_has_code_for_every_step():
    text = TUTORIAL.read_text(encoding="utf-8")
    assert len(blocks()) >= 12
    for call in ("build_demo(", "ws.status()", "ws.flow()", "ws.udrs()", "ws.lint(",
                 "ws.causes()", "ws.improvements()", "ws.drivers(", "ws.request_patterns()",
                 "write_report("):  # fmt: skip
        assert call in text, call


@pytest.mark.slow
def test_the_tutorial_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    for number, code in enumerate(blocks(), start=1):
        try:
            exec(compile(code, f"{TUTORIAL.name} block {number}", "exec"), namespace)
        except Exception as exc:  # name the block that broke
            raise AssertionError(f"tutorial block {number} failed: {exc!r}\n{code}") from exc
    assert (tmp_path / "report.html").stat().st_size > 1_000_000
    assert (tmp_path / "causes.svg").read_text(encoding="utf-8").startswith("<svg")
