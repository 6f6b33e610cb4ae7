"""A demo workspace (800 deals) with three accounts, built once per session, and signed-in clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import PASSWORD, client_for, csrf_of, login

ACCOUNTS = {"ann": "admin", "ed": "editor", "vic": "viewer"}


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salesflow.appdb import KnowledgeStore
    from salesflow.demo import build_demo
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password

    path = tmp_path_factory.mktemp("web") / "demo"
    build_demo(path, opportunities=800, seed=7)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        for name, role in ACCOUNTS.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    return path


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

    def make(name: str):
        client = client_for(app, raise_server_exceptions=False)
        response = login(client, name)
        assert response.status_code == 303, response.text
        client.csrf = csrf_of(client)
        return client

    return make
