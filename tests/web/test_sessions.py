"""Revocable sessions, account administration on the web, and throttling that cannot be
sidestepped: each test has its own small workspace, so locking an account spoils nothing else."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from web_helpers import ACCOUNTS, PASSWORD, client_for, csrf_of, login

from salesflow.appdb import CURRENT


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password
    from salesflow.workspace import init_workspace

    path = tmp_path_factory.mktemp("team") / "ws"
    init_workspace(path)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        for name, role in {**ACCOUNTS, "root": "admin"}.items():
            store.users.create(name, role=role, password_hash=hash_password(PASSWORD))
    return path


@pytest.fixture
def team(_template, tmp_path):
    """An empty workspace with ann (admin), ed (editor), vic (viewer) and root (admin)."""
    import shutil

    return shutil.copytree(_template, tmp_path / "ws")


def make_app(path, **web):
    from salesflow.settings import load_settings
    from salesflow.web.app import create_app
    from salesflow.web.config import web_settings

    return create_app(replace(web_settings(load_settings(path)), **web))


@pytest.fixture
def app(team):
    return make_app(team)


def signed_in(app, name: str):
    client = client_for(app, raise_server_exceptions=False)
    assert login(client, name).status_code == 303
    client.csrf = csrf_of(client)
    return client


def stolen(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = client_for(app, raise_server_exceptions=False)
    thief.cookies.set("salesflow_session", client.cookies.get("salesflow_session"))
    assert thief.get("/api/me").status_code == 200
    return thief


def refused(client) -> bool:
    """The cookie no longer opens anything: 401 for the API, a redirect to sign in for pages."""
    page = client.get("/accounts", follow_redirects=False)
    return (
        client.get("/api/me").status_code == 401
        and page.status_code == 303
        and page.headers["location"].startswith("/login")
    )


def test_a_copied_cookie_dies_with_sign_out(app):
    ed = signed_in(app, "ed")
    thief = stolen(app, ed)
    ed.post("/logout", data={"csrf_token": ed.csrf}, follow_redirects=False)
    assert refused(ed) and refused(thief)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("disable", None),
        ("role", {"role": "viewer"}),
        ("password", {"password": "a new passphrase"}),
    ],
)
def test_a_copied_cookie_dies_when_an_admin_changes_the_account(app, path, body):
    ed = signed_in(app, "ed")
    thief = stolen(app, ed)
    ann = signed_in(app, "ann")
    version = account(ann, "ed")["version"]
    url = f"/api/accounts/ed/{path}"
    if body is None:  # disable has no body: the version goes in the query
        r = ann.post(f"{url}?version={version}", headers={"X-CSRF-Token": ann.csrf})
    else:
        r = ann.post(url, json={**body, "version": version}, headers={"X-CSRF-Token": ann.csrf})
    assert r.status_code == 200, r.text
    assert refused(ed) and refused(thief)
    assert ann.get("/api/me").status_code == 200  # the admin's own session is untouched
    event = ann.get("/api/accounts").json()["events"][-1]
    assert (event["who"], event["account"], event["detail"]["sessions_ended"]) == ("ann", "ed", 1)


def account(client, name: str) -> dict:
    return next(u for u in client.get("/api/accounts").json()["users"] if u["name"] == name)


def test_account_changes_name_the_version_they_read(app):
    """Two admins at once: the second change, based on what the first replaced, is refused with
    the account as it now is; a change naming no version is a 428."""
    ann = signed_in(app, "ann")
    headers = {"X-CSRF-Token": ann.csrf}
    r = ann.post("/api/accounts/vic/role", json={"role": "editor"}, headers=headers)
    assert r.status_code == 428 and "Say which version of account vic" in r.json()["error"]
    read = account(ann, "vic")["version"]
    r = ann.post(
        "/api/accounts/vic/role", json={"role": "editor", "version": read}, headers=headers
    )
    assert r.status_code == 200 and r.json()["version"] == read + 1
    r = ann.post(f"/api/accounts/vic/disable?version={read}", headers=headers)
    assert r.status_code == 409 and r.json()["current"]["role"] == "editor"
    assert account(ann, "vic")["disabled"] is False
    r = ann.post("/api/accounts/vic/disable", headers={**headers, "If-Match": f'"{read + 1}"'})
    assert r.status_code == 200 and r.json()["disabled"] is True


def test_an_admin_lists_and_ends_sessions(app):
    ed = signed_in(app, "ed")
    ann = signed_in(app, "ann")
    sessions = ann.get("/api/accounts").json()["sessions"]
    assert sorted(s["user"] for s in sessions) == ["ann", "ed"]
    assert all("key_hash" not in s for s in sessions)
    eds = next(s["id"] for s in sessions if s["user"] == "ed")
    assert ann.delete(f"/api/sessions/{eds}", headers={"X-CSRF-Token": ann.csrf}).status_code == 200
    assert refused(ed)
    assert ann.delete(f"/api/sessions/{eds}", headers={"X-CSRF-Token": ann.csrf}).status_code == 404


def test_only_admins_manage_accounts(app):
    ed = signed_in(app, "ed")
    assert ed.get("/api/accounts").status_code == 403
    r = ed.post("/api/accounts/vic/disable", headers={"X-CSRF-Token": ed.csrf})
    assert r.status_code == 403 and "Only admins" in r.json()["error"]
    ann = signed_in(app, "ann")
    assert ann.post("/api/accounts/vic/disable").status_code == 403  # no CSRF token
    r = ann.post("/api/accounts/nobody/disable", headers={"X-CSRF-Token": ann.csrf})
    assert r.status_code == 404 and "no account named" in r.json()["error"]


def test_the_accounts_page_changes_roles_through_forms(app):
    ann = signed_in(app, "ann")
    page = ann.get("/accounts")
    assert page.status_code == 200 and 'data-testid="sessions"' in page.text
    form = {"role": "editor", "csrf_token": ann.csrf, "version": account(ann, "vic")["version"]}
    r = ann.post("/accounts/vic/role", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert account(ann, "vic")["role"] == "editor"
    r = ann.post("/accounts/vic/role", data={**form, "role": "viewer"})  # the page read before
    assert r.status_code == 409 and "changed after you read it" in r.text
    assert account(ann, "vic")["role"] == "editor"
    r = ann.post("/accounts/vic/password", data={"password": "short", "csrf_token": ann.csrf,
                                                 "version": account(ann, "vic")["version"]})  # fmt: skip
    assert r.status_code == 400 and "too short" in r.text


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop(app, team):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_token, new_api_token

    token = new_api_token()
    with KnowledgeStore.open(load_settings(team).resolved_app_url()) as store:
        store.users.add_token(store.users.named("ed").id, token_hash=hash_token(token), name="crm")
        store.users.update(
            store.users.named("ed").id, expected_version=CURRENT, disabled=True, who="root"
        )
    client = client_for(app, raise_server_exceptions=False)
    assert login(client, "ed").status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_revoked_and_expired_tokens_get_401(app, team):
    from datetime import UTC, datetime, timedelta

    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_token, new_api_token

    live, old = new_api_token(), new_api_token()
    with KnowledgeStore.open(load_settings(team).resolved_app_url()) as store:
        ed = store.users.named("ed").id
        kept = store.users.add_token(ed, token_hash=hash_token(live), name="crm")
        gone = datetime.now(UTC) - timedelta(minutes=1)
        store.users.add_token(ed, token_hash=hash_token(old), name="old", expires_at=gone)
    client = client_for(app)
    bearer = {"Authorization": f"Bearer {live}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    r = client.get("/api/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]
    ann = signed_in(app, "ann")
    assert (
        ann.delete(f"/api/tokens/{kept.id}", headers={"X-CSRF-Token": ann.csrf}).status_code == 200
    )
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_an_idle_session_ends(team):
    app = make_app(team, session_idle_minutes=1e-9)
    client = client_for(app)
    assert login(client, "ed").status_code == 303
    assert client.get("/api/me").status_code == 401


@pytest.mark.slow
def test_name_variants_and_forged_forwarded_for_do_not_sidestep_the_throttle(app):
    client = client_for(app)
    variants = ["ann", " ann", "ANN", "Ann ", "\tann"]
    codes = [
        login_from(client, variants[i % 5], f"203.0.113.{i}", password=f"guess {i}").status_code
        for i in range(20)
    ]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    r = login_from(client, "ann", "198.51.100.1")  # the right password, any claimed address
    assert r.status_code == 429 and "this account" in r.text
    assert login_from(client, "ed", "198.51.100.2").status_code == 303


def login_from(client, name: str, forwarded: str, password: str = PASSWORD):
    client.cookies.clear()
    client.get("/login")
    token = client.cookies.get("salesflow_login_csrf")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded},
        follow_redirects=False,
    )


@pytest.mark.slow
def test_one_address_trying_many_names_is_locked(team):
    app = make_app(team, login_address_attempts=8)
    client = client_for(app)
    codes = [login_from(client, f"user{i}", "x", password="guess").status_code for i in range(9)]
    assert codes[:8] == [401] * 8 and codes[8] == 429
    r = login_from(client, "ed", "x")
    assert r.status_code == 429 and "your address" in r.text


@pytest.mark.slow
def test_forwarded_for_counts_only_from_a_trusted_proxy(team):
    proxy = (ipaddress.ip_network("10.0.0.0/8"),)
    app = make_app(team, login_address_attempts=3, trusted_proxies=proxy)
    direct = client_for(app, client=("192.0.2.50", 40000))
    for i in range(3):  # not a proxy: one real address, whatever the header says
        assert login_from(direct, f"u{i}", f"192.0.2.{i}", password="guess").status_code == 401
    assert login_from(direct, "ed", "192.0.2.99").status_code == 429
    behind = client_for(app, client=("10.1.2.3", 40000))  # the proxy: each client counts alone
    for i in range(3):
        assert login_from(behind, f"v{i}", f"198.51.100.{i}", password="guess").status_code == 401
    assert login_from(behind, "ed", "198.51.100.7").status_code == 303
    # a client cannot hide behind a forged left-most entry: the proxy appends the real one
    for i in range(3):
        r = login_from(behind, f"w{i}", f"1.1.1.{i}, 198.51.100.9", password="guess")
        assert r.status_code == 401
    assert login_from(behind, "ed", "7.7.7.7, 198.51.100.9").status_code == 429


def test_client_address_reads_forwarded_for_right_to_left():
    from salesflow.web.auth import client_address

    proxies = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    assert client_address("10.0.0.1", "203.0.113.9", proxies) == "203.0.113.9"
    assert client_address("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", proxies) == "203.0.113.9"
    assert client_address("192.0.2.1", "203.0.113.9", proxies) == "192.0.2.1"
    assert client_address("::1", "", proxies) == "::1"
    assert client_address("10.0.0.1", "not-an-ip", proxies) == "not-an-ip"
    assert client_address(None, "203.0.113.9", proxies) == "unknown"


def test_the_user_cli_ends_sessions_and_revokes_tokens(app, team, tmp_path):
    import json

    from typer.testing import CliRunner

    from salesflow.cli import web_cmds
    from salesflow.cli.common import new_app

    cli = new_app("test")
    web_cmds.register(cli)

    def run(*args: str) -> dict:
        result = CliRunner().invoke(cli, [*args, "--json", "-w", str(team)])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    vic = signed_in(app, "vic")
    thief = stolen(app, vic)
    sessions = run("user", "sessions", "vic")["sessions"]
    assert [s["user"] for s in sessions] == ["vic"] and sessions[0]["client"] == "testclient"
    assert run("user", "role", "vic", "editor")["sessions_ended"] == 1
    assert refused(vic) and refused(thief)
    vic = signed_in(app, "vic")
    assert run("user", "sign-out", "vic") == {"user": "vic", "sessions_ended": 1}
    assert refused(vic)
    vic = signed_in(app, "vic")
    assert run("user", "disable", "vic")["disabled"] is True and refused(vic)
    enabled = run("user", "enable", "vic")
    assert enabled["disabled"] is False
    stale = CliRunner().invoke(
        cli,
        [
            "user",
            "role",
            "vic",
            "viewer",
            "--version",
            str(enabled["version"] - 1),
            "-w",
            str(team),
        ],
    )
    assert stale.exit_code == 2 and "was changed after you read it" in stale.output
    assert (
        run("user", "role", "vic", "viewer", "--version", str(enabled["version"]))["role"]
        == "viewer"
    )
    password = tmp_path / "pw.txt"
    password.write_text("another long password\n")
    vic = signed_in(app, "vic")
    run("user", "reset-password", "vic", "--password-file", str(password))
    assert refused(vic)
    assert login(client_for(app), "vic", password="another long password").status_code == 303

    made = run("user", "token", "vic", "--label", "crm", "--expires-in", "30")
    from datetime import UTC, datetime, timedelta

    left = datetime.fromisoformat(made["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29.9) < left <= timedelta(days=30) and made["label"] == "crm"
    bearer = {"Authorization": f"Bearer {made['token']}"}
    client = client_for(app)
    assert client.get("/api/me", headers=bearer).json()["name"] == "vic"
    listed = run("user", "token", "list")["tokens"]
    assert [(t["id"], t["user"], t["name"]) for t in listed] == [(made["id"], "vic", "crm")]
    assert all("token_hash" not in t and "token" not in t for t in listed)
    assert run("user", "token", "revoke", str(made["id"]))["revoked"] is True
    assert client.get("/api/me", headers=bearer).status_code == 401

    actions = [(e["action"], e["account"]) for e in run("user", "history", "vic")["events"]]
    assert actions == [("create", "vic"), ("role", "vic"), ("sessions-end", "vic"),
                       ("disable", "vic"), ("enable", "vic"), ("role", "vic"), ("password", "vic"),
                       ("token-create", "vic"), ("token-revoke", "vic")]  # fmt: skip
    assert all("(command line)" in e["who"] for e in run("user", "history", "vic")["events"][1:])


def test_every_web_setting_is_documented():
    from pathlib import Path

    from salesflow.web.config import KEYS

    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = docs.split("## `[web]`", 1)[1]
    assert [key for key in KEYS if f"| `{key}` |" not in section] == []


def test_web_settings_come_from_the_file_and_the_environment(team):
    from salesflow.errors import ConfigError
    from salesflow.settings import load_settings
    from salesflow.web.config import web_settings

    config = team / "salesflow.toml"
    config.write_text(config.read_text() + '\n[web]\npublic_url = "https://sales.example.com"\n'
                      'trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]\nlogin_attempts = 3\n')  # fmt: skip
    web = web_settings(load_settings(team), env={"SALESFLOW_WEB_SESSION_IDLE_MINUTES": "5"})
    assert web.secure_cookies and web.login_attempts == 3 and web.session_idle_minutes == 5
    assert [str(n) for n in web.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(ConfigError, match="is not an IP address or network"):
        web_settings(load_settings(team), env={"SALESFLOW_WEB_TRUSTED_PROXIES": "proxy.internal"})


def test_the_accounts_page_lists_sessions_and_tokens_with_working_buttons(app, team):
    from bs4 import BeautifulSoup

    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings

    with KnowledgeStore.open(load_settings(team).resolved_app_url()) as store:
        store.users.add_token(store.users.named("ed").id, token_hash="h", name="crm")
    ed = signed_in(app, "ed")
    ann = signed_in(app, "ann")
    soup = BeautifulSoup(ann.get("/accounts").text, "html.parser")
    actions = [f["action"] for f in soup.select("form[method=post]")]
    assert "/accounts/vic/disable" in actions and "/accounts/tokens/1/revoke" in actions
    disable = soup.select_one('form[action="/accounts/vic/disable"]')
    assert disable.select_one("input[name=version]")["value"] == str(account(ann, "vic")["version"])
    end = next(a for a in actions if a.startswith("/accounts/sessions/"))
    assert all(f.select_one("input[name=csrf_token]")["value"] == ann.csrf
               for f in soup.select("form[method=post]") if f["action"] != "/logout")  # fmt: skip
    r = ann.post(end, data={"csrf_token": ann.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert refused(ed) and ann.get("/api/me").status_code == 200  # the first session: ed's
    assert ann.post("/accounts/tokens/1/revoke", data={"csrf_token": ann.csrf},
                    follow_redirects=False).status_code == 303  # fmt: skip
    assert ann.get("/api/accounts").json()["tokens"] == []


def test_changing_your_own_password_signs_out_every_copy(app):
    vic = signed_in(app, "vic")  # a viewer may change their own password
    thief = stolen(app, vic)
    body = {"current": PASSWORD, "new": "a brand new passphrase"}
    assert vic.post("/api/me/password", json=body).status_code == 403  # no CSRF token
    wrong = {**body, "current": "not it"}
    r = vic.post("/api/me/password", json=wrong, headers={"X-CSRF-Token": vic.csrf})
    assert r.status_code == 400 and "current password is wrong" in r.json()["error"]
    r = vic.post("/api/me/password", json=body, headers={"X-CSRF-Token": vic.csrf})
    assert r.status_code == 200 and r.json()["signed_out"] is True
    assert refused(vic) and refused(thief)
    assert login(client_for(app), "vic").status_code == 401
    assert login(client_for(app), "vic", password="a brand new passphrase").status_code == 303
