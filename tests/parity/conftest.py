"""One parity company per backend per session, and each analysis computed once per backend.

``on_backend`` is parametrised over :data:`backends.BACKENDS`, so every test that takes it runs
once per backend; ``reference`` is the DuckDB workspace it is compared with. Both are
:class:`Built`: ``built.result(key, compute)`` computes ``compute(ws)`` on the workspace's Python
API once and remembers it, so DuckDB's answer is computed once for all backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, REFERENCE


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
