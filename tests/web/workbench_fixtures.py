"""A demo workspace with its seeded knowledge (1,500 deals), built once per session, and an app on it.

Imported by the workbench and schemathesis tests (``from workbench_fixtures import …``) so the
fixtures are shared; the plain demo of ``conftest.py`` stays free of knowledge for other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import PASSWORD, client_for, csrf_of, login

ACCOUNTS = {"ann": "admin", "ed": "editor", "vic": "viewer"}


@pytest.fixture(scope="session")
def wb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salesflow.appdb import KnowledgeStore
    from salesflow.demo import build_demo
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("web-wb") / "demo"
    build_demo(path, opportunities=1500, seed=7)
    seed_demo_knowledge(path)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        for name, role in ACCOUNTS.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    return path


@pytest.fixture(scope="session")
def wb_app(wb_path: Path):
    from salesflow.settings import load_settings
    from salesflow.web import create_app

    return create_app(load_settings(wb_path))


@pytest.fixture
def wb_user(wb_app):
    """``wb_user("ann")`` → a client signed in as ann on the knowledge demo, with ``.csrf``."""

    def make(name: str):
        client = client_for(wb_app, raise_server_exceptions=False)
        assert login(client, name).status_code == 303
        client.csrf = csrf_of(client)
        return client

    return make
