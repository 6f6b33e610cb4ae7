"""Helpers for the web tests: clients and signing in through the real form."""

from __future__ import annotations

import warnings

PASSWORD = "correct horse battery"


def client_for(app, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, **kw)


def login(client, name: str, password: str = PASSWORD, next: str = "/"):
    """Sign in through the real form (double-submit CSRF cookie included)."""
    client.get("/login")
    token = client.cookies.get("salesflow_login_csrf")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )


def csrf_of(client) -> str:
    """The CSRF token a page hands the browser (the hidden field of the sign-out form)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(client.get("/").text, "html.parser")
    return soup.select_one('form[action="/logout"] input[name="csrf_token"]')["value"]


ACCOUNTS = {"ann": "admin", "ed": "editor", "vic": "viewer"}


def demo_with_accounts(demo_copy, path, *, opportunities: int, knowledge: bool = False):
    """A demo workspace at ``path`` (seed 7, a copy from the ``demo_copy`` fixture) with the
    ACCOUNTS, all with PASSWORD; with ``knowledge`` its UDRs, causes and improvements are seeded
    too."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password

    demo_copy(path, opportunities=opportunities, seed=7, knowledge=knowledge)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        for name, role in ACCOUNTS.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    return path


def signed_in(app):
    """``make("ann")`` → a client of ``app`` signed in as ann, with ``.csrf`` set."""

    def make(name: str):
        client = client_for(app, raise_server_exceptions=False)
        response = login(client, name)
        assert response.status_code == 303, response.text
        client.csrf = csrf_of(client)
        return client

    return make
