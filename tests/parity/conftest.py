"""One parity company per backend per session, and each analysis computed once per backend.

``on_backend`` is parametrised over :data:`backends.BACKENDS`, so every test that takes it runs
once per backend; ``reference`` is the DuckDB workspace it is compared with. Both are
:class:`Built`: ``built.result(key, compute)`` computes ``compute(ws)`` on the workspace's Python
API once and remembers it, so DuckDB's answer is computed once for all backends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, REFERENCE

#: Spark's half of the suite takes minutes (a Spark session, the copy, many small Spark jobs), too
#: long for every ``make test``: it runs only with this set to 1 (docs/backends.md).
SPARK_GATE = "SALESFLOW_TEST_SPARK_PARITY"
HERE = Path(__file__).parent


def _spark_parity_on() -> bool:
    return os.environ.get(SPARK_GATE) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``SALESFLOW_TEST_SPARK_PARITY=1`` the parity tests on Spark are deselected (said
    in the summary), never skipped one by one nor marked as expected to fail."""
    if _spark_parity_on():
        return
    spark = [
        item
        for item in items
        if item.path.is_relative_to(HERE)
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("on_backend") == "spark"
    ]
    if spark:
        config.hook.pytest_deselected(items=spark)
        dropped = set(map(id, spark))
        items[:] = [item for item in items if id(item) not in dropped]
        config.stash[_DESELECTED] = len(spark)


_DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if config.stash.get(_DESELECTED, 0):
        terminalreporter.write_line(
            f"parity on Spark: {config.stash[_DESELECTED]} tests not run "
            f"(set {SPARK_GATE}=1 to run them; they take minutes)"
        )


@dataclass
class Built:
    """A backend's parity workspace, opened once through ``salesflow.open``."""

    name: str
    path: Path
    ws: Any
    cache: dict[str, Any] = field(default_factory=dict)

    def result(self, key: str, compute: Callable[[Any], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute(self.ws)
        return self.cache[key]


@pytest.fixture(scope="session")
def parity_workspaces(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Built]]:
    """``get(name)``: the parity workspace on that backend, built on first use."""
    import salesflow as sf

    built: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in built:
            backend = BACKENDS[name]
            path = backend.workspace(request, tmp_path_factory.mktemp(f"parity-{name}") / "ws")
            built[name] = Built(name, path, sf.open(path, who="parity"))
        return built[name]

    yield get
    for b in built.values():
        b.ws.close()


@pytest.fixture(
    scope="session",
    params=[pytest.param(name, marks=b.marks, id=name) for name, b in BACKENDS.items()],
)
def on_backend(request: pytest.FixtureRequest, parity_workspaces) -> Built:
    """The parity workspace on each backend in turn."""
    return parity_workspaces(request.param)


@pytest.fixture(scope="session")
def reference(parity_workspaces) -> Built:
    """The DuckDB parity workspace: every backend's answer must equal its answer."""
    return parity_workspaces(REFERENCE)
