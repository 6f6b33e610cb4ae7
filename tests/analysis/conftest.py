"""Fixtures for the analysis tests: one synthetic company per session."""

from __future__ import annotations

import pytest

from .synthetic_company import Synthetic, build_synthetic


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    return build_synthetic(tmp_path_factory.mktemp("analysis") / "ws")
