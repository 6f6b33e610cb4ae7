"""Accounts: sign-in, sessions, CSRF, roles, API tokens, throttling, the user CLI."""

from __future__ import annotations

import json

import pytest
from web_helpers import PASSWORD, client_for, login


def test_pages_redirect_to_login_and_api_answers_401_json(anon):
    r = anon.get("/measures", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/measures"
    r = anon.get("/api/status")
    assert r.status_code == 401
    assert r.json()["error"] == "Please sign in"


def test_session_cookie_is_httponly_and_samesite(anon):
    r = login(anon, "ann")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "salesflow_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie
    assert anon.get("/api/me").json()["role"] == "admin"


def test_secure_cookie_behind_https(demo_path):
    from dataclasses import replace

    from salesflow.settings import load_settings
    from salesflow.web.app import create_app
    from salesflow.web.config import web_settings

    web = replace(web_settings(load_settings(demo_path)), secure_cookies=True)
    client = client_for(create_app(web))
    assert "secure" in login(client, "ann").headers["set-cookie"].lower()


def test_wrong_password_and_forged_cookie_are_refused(anon):
    r = login(anon, "ann", password="wrong password")
    assert r.status_code == 401 and "Name or password is wrong" in r.text
    anon.cookies.set("salesflow_session", "eyJ1IjoxfQ.forged")
    assert anon.get("/api/me").status_code == 401


def test_login_form_needs_its_csrf_cookie(anon):
    anon.get("/login")
    r = anon.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403 and "expired" in r.text


def test_next_only_goes_to_this_site(anon):
    assert login(anon, "ann", next="//evil.example/x").headers["location"] == "/"


@pytest.mark.slow
def test_throttle_after_five_failures_per_account(app, demo_path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password

    with KnowledgeStore.open(load_settings(demo_path).resolved_app_url()) as store:
        store.users.create("tess", role="viewer", password_hash=hash_password(PASSWORD))
    client = client_for(app)
    codes = [login(client, "tess", password=f"guess {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    r = login(client, "tess")  # the right password, but too late
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert login(client, "ann").status_code == 303  # other accounts are not affected


def test_csrf_required_for_cookie_changes(as_user):
    ann = as_user("ann")
    r = ann.post("/api/check-edit")
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = ann.post("/api/check-edit", headers={"X-CSRF-Token": "not-the-token"})
    assert r.status_code == 403
    r = ann.post("/api/check-edit", headers={"X-CSRF-Token": ann.csrf})
    assert r.status_code == 200 and r.json() == {"name": "ann", "role": "admin"}


def test_viewer_cannot_change_anything(as_user):
    vic = as_user("vic")
    r = vic.post("/api/check-edit", headers={"X-CSRF-Token": vic.csrf})
    assert r.status_code == 403
    assert "viewers can look at everything but change nothing" in r.json()["error"]
    r = vic.post("/requests", data={"description": "x", "csrf_token": vic.csrf})
    assert r.status_code == 403 and "viewer role" in r.text
    assert as_user("ed").post("/api/check-edit", headers={"X-CSRF-Token": as_user("ed").csrf})


def test_logout_needs_csrf(as_user):
    ann = as_user("ann")
    ann.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert ann.get("/api/me").status_code == 200
    r = ann.post("/logout", data={"csrf_token": ann.csrf}, follow_redirects=False)
    assert r.headers["location"] == "/login"
    assert ann.get("/api/me").status_code == 401


def test_user_cli_adds_lists_and_issues_tokens(demo_path, app, tmp_path):
    from typer.testing import CliRunner

    from salesflow.cli import web_cmds
    from salesflow.cli.common import new_app

    cli = new_app("test")
    web_cmds.register(cli)
    runner = CliRunner()
    secret = tmp_path / "pw.txt"
    secret.write_text("a long enough password\n")
    ws = ["-w", str(demo_path)]
    r = runner.invoke(
        cli, ["user", "add", "crm", "--role", "editor", "--password-file", str(secret), *ws]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli, ["user", "add", "x", "--role", "boss", "--password-file", str(secret), *ws]
    )
    assert r.exit_code != 0 and "boss" in r.output
    users = json.loads(runner.invoke(cli, ["user", "list", "--json", *ws]).stdout)["users"]
    assert {"crm": "editor", "ann": "admin"}.items() <= {
        u["name"]: u["role"] for u in users
    }.items()
    assert all("password_hash" not in u for u in users)
    token = json.loads(runner.invoke(cli, ["user", "token", "crm", "--json", *ws]).stdout)["token"]
    client = client_for(app)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == "crm" and me["via"] == "token"
    # a bearer token needs no CSRF token: a browser never adds that header by itself
    r = client.post("/api/check-edit", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert client.get("/api/me", headers={"Authorization": "Bearer sf_nope"}).status_code == 401


def test_passwords_are_stored_as_argon2id(demo_path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import verify_password

    with KnowledgeStore.open(load_settings(demo_path).resolved_app_url()) as store:
        stored = store.users.by_name("ann").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")
