"""docs/method.md cannot drift from the lint: its table of codes is checked statement by statement."""

from __future__ import annotations

import re
from pathlib import Path

from salesflow.workbench.lint import CODES, lint

METHOD = Path(__file__).parents[2] / "docs" / "method.md"
ROW = re.compile(r"^\| `(\w+)` \|[^|]*\|([^|]*)\|([^|]*)\|$")


def _table() -> list[tuple[str, list[str], list[str]]]:
    rows = []
    for line in METHOD.read_text(encoding="utf-8").splitlines():
        if m := ROW.match(line):
            quoted = [re.findall(r'"([^"]+)"', cell) for cell in m.group(2, 3)]
            rows.append((m.group(1), *quoted))
    return rows


def test_the_method_documents_every_code_with_examples_that_lint_agrees_with():
    rows = _table()
    assert [code for code, _, _ in rows] == list(CODES)
    for code, bad, good in rows:
        assert bad, code
        for statement in bad:
            assert code in lint(statement).codes, (code, statement)
        for statement in good:
            result = lint(statement)
            assert result.findings == [] and result.measurable, (code, statement)
