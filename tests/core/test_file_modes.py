"""A fresh workspace is private (folders 0700, files 0600); a weak web secret is refused at start;
serving beyond this machine without HTTPS is warned about."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

SALESFLOW = [sys.executable, "-c", "from salesflow.cli import main; main()"]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def run(*args: str, env: dict | None = None, input: str | None = None):
    return subprocess.run(
        [*SALESFLOW, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
        input=input, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """`salesflow init`, an account and the web settings, under a permissive umask of 022."""
    ws = tmp_path_factory.mktemp("modes") / "ws"
    old = os.umask(0o022)
    try:
        assert run("init", str(ws)).returncode == 0
        pw = ws.parent / "pw.txt"
        pw.write_text("a long enough password\n")
        assert run("-w", str(ws), "user", "add", "ann", "--role", "admin",
                   "--password-file", str(pw)).returncode == 0  # fmt: skip
        from salesflow.settings import load_settings
        from salesflow.web.config import web_settings

        web_settings(load_settings(ws), env={})  # writes web-secret.key
    finally:
        os.umask(old)
    return ws


def test_a_fresh_workspace_is_readable_by_its_owner_only(fresh):
    assert mode(fresh) == 0o700
    files = ["salesflow.toml", "data.duckdb", "app.db", "web-secret.key"]
    assert {name: oct(mode(fresh / name)) for name in files} == dict.fromkeys(files, "0o600")
    others = [p for p in fresh.rglob("*") if mode(p) & 0o077]
    assert others == []  # nothing else in it (journals, logs) is readable by others either


def test_the_library_makes_private_files_whatever_the_umask(tmp_path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.workspace import init_workspace

    old = os.umask(0o022)
    try:
        ws = init_workspace(tmp_path / "lib-ws")
        KnowledgeStore.for_workspace(ws).close()
    finally:
        os.umask(old)
    assert mode(ws.path) == 0o700
    for name in ("salesflow.toml", "data.duckdb", "app.db"):
        assert mode(ws.path / name) == 0o600, name


def test_the_generated_secret_has_at_least_32_random_bytes(fresh):
    import base64

    key = (fresh / "web-secret.key").read_text().strip()
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) >= 32


@pytest.mark.parametrize("weak", ["changeme", "x" * 64, "0123456789" * 3])
def test_a_weak_secret_is_refused_at_start_with_a_sentence(fresh, weak):
    r = run("-w", str(fresh), "serve", "--port", "8779", env={"SALESFLOW_SECRET_KEY": weak})
    assert r.returncode != 0 and r.stdout == ""
    line = r.stderr.strip()
    assert line.startswith("Error: The web secret key is too weak") and len(line.splitlines()) == 1
    assert "anyone who guesses it can forge sign-in cookies" in line


def test_a_weak_secret_file_is_refused_too(tmp_path):
    from salesflow.errors import ConfigError
    from salesflow.settings import load_settings
    from salesflow.web.config import web_settings
    from salesflow.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    (ws.path / "web-secret.key").write_text("secret\n")
    with pytest.raises(ConfigError, match="too weak"):
        web_settings(load_settings(ws.path), env={})


def test_the_exposure_warning_names_the_risk():
    from salesflow.cli.web_cmds import exposure_warning

    for safe in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert exposure_warning(safe, None) is None
    assert exposure_warning("0.0.0.0", "https://sales.example.com") is None
    said = exposure_warning("0.0.0.0", "http://sales.example.com")
    assert "0.0.0.0" in said and "passwords and session cookies" in said and "HTTPS" in said


def test_serve_on_all_addresses_warns_before_serving(fresh):
    process = subprocess.Popen(
        [*SALESFLOW, "-w", str(fresh), "serve", "--host", "0.0.0.0", "--port", "8778"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Warning" in x for x in lines):
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
    said = " ".join(lines)
    assert "Warning:" in said and "readable by anyone on the way" in " ".join(said.split())
