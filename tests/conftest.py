"""Shared fixtures: real workspaces in tmp_path, a real PostgreSQL database per test run, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

PG_SERVER = os.environ.get("SALESFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium; `make browser` installs it
SPARK_TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"  # see spark_local
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh, empty workspace with the default stages."""
    from salesflow.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def deals_csv() -> Callable[..., Path]:
    """Writes ``n`` new deals ``PREFIX-0…`` to ``folder/PREFIX.csv``: closed in 2026, two in
    three won (all of them with ``won_only``), so an import of them moves the win rate."""

    def write(folder: Path, prefix: str, n: int, *, won_only: bool = False) -> Path:
        path = folder / f"{prefix}.csv"
        rows = ["opportunity_id,account,owner,source,created_at,closed_at,outcome,amount"]
        rows += [
            f"{prefix}-{i},Acme {i % 97},Ann Lee,Website,2026-0{1 + i % 8}-02,"
            f"2026-0{1 + i % 8}-25,{'won' if won_only or i % 3 else 'lost'},{1000 + i}"
            for i in range(n)
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return path

    return write


DemoCopy = Callable[..., Path]


@pytest.fixture(scope="session")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """``demo_copy(dest, opportunities=, seed=, knowledge=)`` puts a demo workspace at ``dest``:
    built (and seeded) once per session for those arguments, then copied, because building and
    seeding the same company again for every module was the slowest part of the suite."""
    built: dict[tuple, Path] = {}

    def copy(dest: Path, *, opportunities: int, seed: int, knowledge: bool = False) -> Path:
        env = sorted((k, v) for k, v in os.environ.items() if k.startswith("SALESFLOW_"))
        key = (opportunities, seed, knowledge, *env)  # SALESFLOW_TODAY dates the knowledge
        if key not in built:
            from salesflow.demo import build_demo

            path = tmp_path_factory.mktemp(f"demo-{opportunities}-{seed}") / "ws"
            build_demo(path, opportunities=opportunities, seed=seed)
            if knowledge:
                from salesflow.workbench.demo_knowledge import seed_demo_knowledge

                seed_demo_knowledge(path)
            built[key] = path
        shutil.copytree(built[key], dest)
        return dest

    return copy


class Cli:
    """Runs salesflow commands in-process, the way a user types them."""

    def __init__(self) -> None:
        from salesflow.cli import app

        self.app = app
        self.runner = CliRunner()

    def __call__(self, *args: str | Path, ok: bool = True, input: str | None = None):
        result = self.runner.invoke(self.app, [str(a) for a in args], input=input)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"salesflow {' '.join(map(str, args))} exited {result.exit_code}:\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str | Path):
        """Run with --json and parse stdout, which must hold exactly one JSON document."""
        result = self(*args, "--json")
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def session_cli() -> Cli:
    """The same runner, for module- and session-scoped fixtures."""
    return Cli()


def _pg_admin_connect():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server URL (no database). Fails, never skips, when CI is set and it is down."""
    try:
        _pg_admin_connect().close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_SERVER} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_SERVER} is unreachable: {exc}")
    return PG_SERVER


@pytest.fixture(scope="session")
def pg_new_database(pg_server: str) -> Iterator[Callable[[], str]]:
    """A factory of new, empty PostgreSQL databases; all are dropped when the test run ends."""
    created: list[str] = []

    def make() -> str:
        name = f"salesflow_test_{uuid.uuid4().hex[:10]}"
        with _pg_admin_connect() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"{pg_server}/{name}"

    yield make
    with _pg_admin_connect() as admin:
        for name in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_shared_url(pg_new_database: Callable[[], str]) -> str:
    """One database for the whole run, for tests that isolate themselves (e.g. a schema each)."""
    return pg_new_database()


@pytest.fixture
def pg_url(pg_new_database: Callable[[], str]) -> str:
    """A new, empty PostgreSQL database of this test's own."""
    return pg_new_database()


def spark_missing() -> str | None:
    """Why local Spark cannot run here (no Java, no pyspark), or None when it can."""
    import importlib.util
    import shutil

    if shutil.which("java") is None:
        return "Java is not installed (Spark needs Java 17 or 21; `make spark` installs it)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (`make spark`, or pip install 'salesflow[spark]')"
    return None


@pytest.fixture(scope="session")
def spark_local() -> None:
    """Local Spark can run. Fails, never skips, when CI is set and Java or pyspark is missing;
    a developer without Java sees the Spark tests skipped with the reason (or leaves them out
    with ``-m "not spark"``)."""
    missing = spark_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Spark cannot run in CI: {missing}")
        pytest.skip(missing)
    # The tests' Spark JVMs (this process's and the subprocesses') compile with the quick JIT
    # only and one GC thread: on small data, the optimising compiler's threads cost more CPU
    # than they save (the Spark modules took 40 % less wall time on 2 busy cores). Semantics
    # are the same; a JAVA_TOOL_OPTIONS already set is kept.
    os.environ.setdefault("JAVA_TOOL_OPTIONS", SPARK_TEST_JVM)


SPARK_CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory: pytest.TempPathFactory, spark_local) -> Iterator[str]:
    """``sc://localhost:PORT``: a real Spark Connect server (pyspark's own jars, ``local[2]``) on
    a free port for the whole run, its warehouse in a temporary folder; stopped at the end. Its
    catalog is Spark's in-memory one, the server's default (a Hive/Derby catalog costs ~10 s more
    to start and changes nothing salesflow sees). Fails, never skips, when CI is set and it
    cannot start or answer."""
    import importlib.util
    import socket
    import subprocess
    import time

    def unavailable(why: str):
        if os.environ.get("CI"):
            pytest.fail(f"Spark Connect cannot run in CI: {why}")
        pytest.skip(why)

    if importlib.util.find_spec("grpc") is None:
        unavailable("the Spark Connect client is not installed (`make spark`: pyspark[connect])")
    import pyspark

    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("spark-connect")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    java = f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}"
    (folder / "log4j2.properties").write_text(
        "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\nappender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n",
        encoding="utf-8",
    )
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.driver.extraJavaOptions": java,
        "spark.driver.memory": "1g",
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
    }  # fmt: skip
    command = [str(home / "bin" / "spark-submit"), "--class", SPARK_CONNECT_SERVER,
               "--master", "local[2]", "--name", "salesflow-test-connect"]  # fmt: skip
    command += [arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")]
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [*command, "spark-internal"], cwd=folder, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SPARK_HOME": str(home)}, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                unavailable(f"the server exited ({server.returncode}): {_tail(folder)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    unavailable(f"the server did not open port {port} in 180 s: {_tail(folder)}")
                time.sleep(0.25)
        yield f"sc://localhost:{port}"
    finally:
        from salesflow import spark

        spark.stop()  # this process's Spark Connect sessions (and local Spark, if any)
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _tail(folder: Path) -> str:
    return (folder / "server.log").read_text(encoding="utf-8", errors="replace")[-2000:]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run, driven by Playwright's sync API.

    Shared because Playwright allows one sync instance per thread. Fails, never skips, in CI.
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (`make browser` installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (`make browser` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _spark_scope(nodeid: str) -> str:
    """``make test``'s unit of work for pytest-xdist: the test's file, except that every test on
    Spark shares one worker (one JVM, one parity workspace built on Spark, one Connect server)."""
    file = nodeid.split("::", 1)[0]
    return "spark" if "[spark" in nodeid or "spark" in Path(file).name else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With ``--dist loadfile``: files spread over the workers, Spark's tests kept together.
    (``--dist loadgroup`` would say the same with markers, but on pytest 9.2 it silently stops
    grouping: pytest-xdist #1386.)"""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SparkTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _spark_scope(nodeid)

    return SparkTogether(config, log)
