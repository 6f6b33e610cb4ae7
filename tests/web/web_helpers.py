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
