"""docs/tutorial.md on the command line: every line of its ```bash blocks runs as written, in
order, in a fresh folder (the first builds the demo), and must succeed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).parents[2] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
SALESFLOW = str(Path(sys.executable).with_name("salesflow"))

pytestmark = pytest.mark.slow


def commands() -> list[str]:
    lines = [line for block in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))
             for line in block.splitlines()]  # fmt: skip
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def run(line: str, folder: Path) -> subprocess.CompletedProcess:
    words = shlex.split(line, comments=True)
    assert words[0] == "salesflow", f"the tutorial's command line starts with salesflow: {line}"
    env = {k: v for k, v in os.environ.items() if k != "SALESFLOW_WORKSPACE"}
    return subprocess.run([SALESFLOW, *words[1:]], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder holding the demo workspace, built by the tutorial's first command."""
    path = tmp_path_factory.mktemp("tutorial-cli")
    first = commands()[0]
    assert first.startswith("salesflow demo demo-ws")
    result = run(first, path)
    assert result.returncode == 0, result.stderr
    return path


def test_the_tutorial_has_a_command_for_every_step():
    text = " ".join(commands())
    for command in ("demo", "flow", "metric", "udr list", "udr show", "udr lint", "udr add",
                    "udr bind", "udr delete", "causes", "why check", "improve list",
                    "improve show", "drivers", "requests patterns", "report"):  # fmt: skip
        assert f" {command}" in text, command


@pytest.mark.parametrize("line", commands()[1:])
def test_each_command_runs_as_written(folder: Path, line: str):
    result = run(line, folder)
    assert result.returncode == 0, f"{line}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.stdout.strip(), line
    if " udr add " in line:  # the id the next lines use is the one it prints
        assert "UDR 15 added" in result.stdout
        assert "`salesflow -w demo-ws udr bind 15 " in result.stdout
    if " report " in line:
        assert (folder / "report.html").stat().st_size > 100_000
        assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
