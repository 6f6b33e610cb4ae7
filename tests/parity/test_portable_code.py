"""The code that runs on every backend keeps to portable Ibis and SQL (a lint, on the source).

Two known ways to break PostgreSQL or Spark while DuckDB stays green:
- ``(a == b).cast("int64")``: PostgreSQL has no boolean → bigint cast. Use
  ``salesflow.source.as_int(a == b)`` (or ``ibis.ifelse``).
- a DuckDB-only SQL function or statement in a string of a module every backend runs. Such SQL
  belongs in the DuckDB fast path: a function whose name says ``duckdb`` or one of ``FAST_PATH``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "salesflow"
PORTABLE = ("metrics", "analysis", "spc", "workbench", "api", "report", "derived/portable.py")
#: Functions in portable modules that only run on DuckDB (they check ``con.name`` first).
FAST_PATH = {
    "metrics/process_map.py": {"_SQL", "_catalog"},
}
DUCKDB_ONLY = re.compile(
    r"(?i:\b(median|epoch_ms|list_value|list_aggregate|regexp_matches|strftime|struct_pack"
    r"|arg_max|arg_min|string_split|date_diff|datediff|read_csv\w*|read_parquet)\s*\()"
    r"|\bQUALIFY\b|\bPRAGMA\b|\bBY NAME\b|\bSHOW TABLES\b|\bCREATE OR REPLACE\b"
)
BOOLEAN_CALLS = {"isin", "notin", "isnull", "notnull", "between", "contains", "startswith",
                 "endswith", "like", "ilike", "re_search", "any", "all"}  # fmt: skip


def _sources(parts: tuple[str, ...] = ("",)) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = SRC / part
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _is_boolean(node: ast.AST) -> bool:
    """An expression that is a boolean by its form: a comparison, ``~``, ``&``, ``|``, ``isin``…"""
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert | ast.Not):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in BOOLEAN_CALLS:
            return True
        if node.func.attr == "fill_null" and node.args:
            return isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, bool)
    return False


def boolean_casts(source: str) -> list[int]:
    """Lines where a boolean expression is cast to an integer type."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "cast" or not node.args:
            continue
        target = node.args[0]
        integer = isinstance(target, ast.Constant) and str(target.value).lower().startswith(
            ("int", "uint")
        )
        if integer and _is_boolean(node.func.value):
            lines.append(node.lineno)
    return lines


def duckdb_sql(source: str, allowed: set[str]) -> list[tuple[int, str]]:
    """(line, text) of DuckDB-only SQL in string constants outside the DuckDB fast path."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = node.name
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        if name and ("duckdb" in name.lower() or name in allowed):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            match = DUCKDB_ONLY.search(node.value)
            if match and node.lineno not in skip:
                found.append((node.lineno, match.group(0)))
    return found


def test_no_boolean_is_cast_to_an_integer():
    found = [
        f"{path.relative_to(SRC)}:{line}"
        for path in _sources()
        for line in boolean_casts(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"boolean .cast('int…') (fails on PostgreSQL), use as_int(): {found}"


def test_no_duckdb_only_sql_outside_the_fast_path():
    found = []
    for path in _sources(PORTABLE):
        rel = str(path.relative_to(SRC))
        for line, text in duckdb_sql(path.read_text(encoding="utf-8"), FAST_PATH.get(rel, set())):
            found.append(f"{rel}:{line} {text!r}")
    assert not found, f"DuckDB-only SQL in code every backend runs: {found}"


def test_the_fast_path_list_names_real_code():
    for rel, names in FAST_PATH.items():
        tree = ast.parse((SRC / rel).read_text(encoding="utf-8"))
        defined = {
            getattr(n, "name", None) or n.targets[0].id
            for n in tree.body
            if isinstance(n, ast.FunctionDef)
            or (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name))
        }
        assert names <= defined, f"{rel}: {names - defined} are gone; update FAST_PATH"


@pytest.mark.parametrize(
    ("code", "caught"),
    [
        ('(t.a == "won").cast("int64")', True),
        ('t.a.isnull().cast("int32")', True),
        ('(t.a > 1).cast("float64")', False),  # PostgreSQL refuses only the integer casts
        ('t.amount.cast("int64")', False),
        ('as_int(t.a == "won")', False),
        ('x.fill_null(False).cast("int16")', True),
    ],
)
def test_the_lint_catches_what_it_should(code, caught):
    assert bool(boolean_casts(code)) is caught
    assert bool(duckdb_sql(f'q = "SELECT median(x) FROM t"\n{code}', set())) is True
