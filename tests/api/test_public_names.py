"""The package root is light and its public names are exactly ``__all__``."""

from __future__ import annotations

import doctest
import subprocess
import sys
import types

import pytest

import salesflow
import salesflow.api


def _public(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name not in ("annotations", "TYPE_CHECKING", "Any")
    }  # fmt: skip


def test_root_all_lists_the_public_names():
    assert salesflow.__all__ == ["Workspace", "__version__", "open"]
    for name in salesflow.__all__:
        assert getattr(salesflow, name) is not None
    assert salesflow.open is salesflow.api.open and salesflow.Workspace is salesflow.api.Workspace
    assert set(dir(salesflow)) >= set(salesflow.__all__)
    with pytest.raises(AttributeError, match="no attribute 'opne'"):
        salesflow.opne  # noqa: B018


def test_api_all_matches_its_public_names():
    assert set(salesflow.api.__all__) == _public(salesflow.api)
    assert sorted(salesflow.api.__all__) == salesflow.api.__all__


def test_importing_salesflow_is_light():
    """``import salesflow`` (and naming ``sf.open``) loads no data library until it is called."""
    code = (
        "import sys, salesflow as sf\n"
        "sf.open\n"
        "heavy = ['ibis', 'duckdb', 'pandas', 'sqlalchemy', 'plotly', 'networkx']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    "module",
    ["salesflow.api.figures", "salesflow.api.cause_picture", "salesflow.report.words"],
)
def test_docstring_examples_run(module):
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
