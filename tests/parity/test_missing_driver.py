"""Without the ``postgres`` extra, a PostgreSQL URL is refused with the command that installs it
(run in a fresh interpreter where psycopg cannot be imported, as after ``pip install salesflow``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
SCRIPT = """
import json, sys

class NoPsycopg:  # the default install: no psycopg, so no PostgreSQL driver
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg_binary", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoPsycopg())
from salesflow.errors import ConfigError
from salesflow.source import connect
from salesflow.appdb.engine import make_engine

said = {}
for name, call in (("data", lambda: connect("postgres://sales@db.example/sales")),
                   ("app", lambda: make_engine("postgresql://sales:secret@db.example/app"))):
    try:
        call()
        said[name] = None
    except ConfigError as exc:
        said[name] = str(exc)
print(json.dumps(said))
"""


def test_a_missing_postgres_driver_says_how_to_install_it():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    for name in ("data", "app"):
        assert said[name] and "pip install 'salesflow[postgres]'" in said[name], said
    assert "secret" not in said["app"]  # the password is not repeated


NO_CONNECT_CLIENT = """
import sys

class NoGrpc:  # pyspark without its [connect] extra: no gRPC client
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("grpc", "grpc_status"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoGrpc())
from salesflow.errors import ConfigError
from salesflow.source import connect

try:
    connect("sc://spark.example:15002")
except ConfigError as exc:
    print(exc, "|", exc.hint)
"""


def test_a_missing_spark_connect_client_says_how_to_install_it():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", NO_CONNECT_CLIENT],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = done.stdout
    assert "needs the Spark Connect client, which is not installed" in said, said
    assert "pip install 'salesflow[spark]'" in said, said
