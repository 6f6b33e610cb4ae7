"""A demo workspace with its seeded knowledge (1,500 deals) and an app on it.

Imported by the workbench and schemathesis tests (``from workbench_fixtures import …``); each
importing module gets fixtures of its own, so its own copy of the session's one build
(``demo_copy``). The plain demo of ``conftest.py`` stays free of knowledge for other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import demo_with_accounts, signed_in


@pytest.fixture(scope="session")
def wb_path(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    folder = tmp_path_factory.mktemp("web-wb") / "demo"
    return demo_with_accounts(demo_copy, folder, opportunities=1500, knowledge=True)


@pytest.fixture(scope="session")
def wb_app(wb_path: Path):
    from salesflow.settings import load_settings
    from salesflow.web import create_app

    return create_app(load_settings(wb_path))


@pytest.fixture
def wb_user(wb_app):
    """``wb_user("ann")`` → a client signed in as ann on the knowledge demo, with ``.csrf``."""
    return signed_in(wb_app)
