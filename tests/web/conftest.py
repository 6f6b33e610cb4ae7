"""A demo workspace (800 deals) with three accounts, built once per session, and signed-in clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import client_for, demo_with_accounts, signed_in


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    return demo_with_accounts(demo_copy, tmp_path_factory.mktemp("web") / "demo", opportunities=800)


@pytest.fixture(scope="session")
def app(demo_path: Path):
    from salesflow.settings import load_settings
    from salesflow.web import create_app

    return create_app(load_settings(demo_path))


@pytest.fixture
def anon(app):
    return client_for(app, raise_server_exceptions=False)


@pytest.fixture
def as_user(app):
    """``as_user("ann")`` → a client signed in as ann, with ``.csrf`` set."""
    return signed_in(app)
