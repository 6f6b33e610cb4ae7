"""A new `salesflow COMMAND` process registers only the modules that build COMMAND: each command,
built that way, must be the very same command tree (every subcommand and option) as in the full
app, and the module list must name every command the full app has."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from salesflow.cli import COMMANDS, command_of

# In a new interpreter, for each top-level command: the app main() builds for it, from freshly
# imported command modules (the modules' own sub-apps collect commands as they are registered).
_TREES = """
import json, sys, typer

def tree(cmd):
    params = sorted(o for p in cmd.params for o in getattr(p, "opts", []))
    subs = getattr(cmd, "commands", {})
    return {"params": params, "help": cmd.help, "commands": {k: tree(v) for k, v in subs.items()}}

def fresh():
    for name in [m for m in sys.modules if m.startswith("salesflow.cli")]:
        del sys.modules[name]
    import salesflow.cli
    return salesflow.cli

full = typer.main.get_command(fresh().build()).commands
out = {"full": sorted(full), "same": {}}
for name in fresh().COMMANDS:
    cli = fresh()
    lazy = typer.main.get_command(cli.build(name)).commands
    loaded = sorted(m for m in sys.modules if m.startswith("salesflow.cli."))
    out["same"][name] = [sorted(lazy), tree(lazy[name]) == tree(full[name]), loaded]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def trees() -> dict:
    run = subprocess.run([sys.executable, "-c", _TREES], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_every_command_of_the_full_app_is_mapped(trees):
    assert trees["full"] == sorted(COMMANDS)


def test_each_command_built_alone_is_the_same_command(trees):
    for name, (registered, same, loaded) in trees["same"].items():
        assert name in registered, name
        assert same, f"`salesflow {name}` built alone differs from the full app's"
        # only its own modules (and the ones they import), never the whole tree
        assert len(loaded) < len(COMMANDS), (name, loaded)
    assert trees["same"]["flow"][0] == ["flow"]
    assert trees["same"]["flow"][2] == ["salesflow.cli.common", "salesflow.cli.flow_cmd"]


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["flow", "--json"], "flow"),
        (["-w", "ws", "status", "--json"], "status"),
        (["--workspace", "flow", "udr", "list"], "udr"),  # "flow" is the folder here
        (["--workspace=ws", "import", "deals.csv"], "import"),
        (["--help"], None),
        (["--version"], None),
        ([], None),
        (["nosuch"], "nosuch"),  # not a command: the full app says so, with suggestions
    ],
)
def test_the_command_is_read_past_the_root_options(args, command):
    assert command_of(args) == command


def test_an_unknown_command_is_refused_with_a_suggestion():
    run = subprocess.run(
        [sys.executable, "-m", "salesflow", "flwo"], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "Did you mean 'flow'?" in run.stderr
