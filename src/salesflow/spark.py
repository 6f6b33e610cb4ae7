"""Spark as the data source: a local Spark workspace that keeps its tables, or a cluster.

Two URL forms in ``[data] url``:

- ``pyspark:///spark`` (or just ``pyspark://``): Spark inside this process (``local[2]``), its
  tables stored in the workspace: ``spark/warehouse`` holds the data (Parquet), ``spark/metastore_db``
  the catalog (an embedded Derby database), so every command sees what the last one wrote. A
  relative path is relative to the workspace folder, like ``duckdb:///data.duckdb``.
- ``sc://host:15002``: a Spark Connect server in front of a cluster; the tables live in that
  cluster's own catalog and warehouse. The session gets the SQL settings salesflow's queries
  rely on (:data:`SQL_CONF`; session settings, the server's own stay as they are).

The session is built here with its warehouse and catalog before Spark starts (Ibis's own
``pyspark:///path`` form changes ``spark.sql.warehouse.dir`` on a running session, which Spark 4
refuses) and handed to Ibis. Starting Spark takes seconds, so one session per process is kept and
shared by every connection to the same place; it stops when the process ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, WorkspaceBusy

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = [
    "DEFAULT_FOLDER",
    "LOCAL_MASTER",
    "append_arrow",
    "connect",
    "is_spark_url",
    "local_folder",
    "stop",
]

DEFAULT_FOLDER = "spark"
LOCAL_MASTER = "local[2]"
#: The local driver's heap (``SALESFLOW_SPARK_MEMORY`` overrides it).
DEFAULT_MEMORY = "2g"
#: Spark Connect's port when ``sc://host`` names none.
CONNECT_PORT = 15002
#: How long the first contact with a Spark Connect server may take before it counts as down.
CONNECT_TIMEOUT = 10.0
#: SQL settings of every session, local or Spark Connect: timestamps in UTC, and "name" is a
#: column, as in DuckDB and PostgreSQL (Spark 4 is ANSI by default, where it is a string).
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
}

# Local Spark's Java process is started by fork and exec (pyspark's ``launch_gateway``). With
# grpcio 1.80 and later, a process whose Spark Connect client (gRPC) is active can lose such a
# child before it execs (grpc/grpc#43055: the Java gateway "exited before sending its port
# number"). gRPC's fork handlers only serve a child that goes on using gRPC, which no process of
# ours does; set before gRPC first loads, and a value the user set is kept.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

_LOCK = threading.Lock()
_session: dict[
    str, Any
] = {}  # {"key": where the running local session keeps its tables, "session": …}
_remote_sessions: dict[str, Any] = {}  # sc:// URL -> its Spark Connect session

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
# pyspark lowers the root logger to the shell's level (and says so) unless the shell's is set
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""


def is_spark_url(url: str) -> bool:
    return url.startswith(("pyspark:", "sc://"))


def local_folder(url: str) -> Path | None:
    """The folder a local Spark workspace keeps its tables in (``None`` for Spark Connect)."""
    if not url.startswith("pyspark:"):
        return None
    rest = url[len("pyspark:///") :] if url.startswith("pyspark:///") else ""
    return Path(rest or DEFAULT_FOLDER)


def connect(url: str) -> BaseBackend:
    """The Ibis backend on the Spark session behind ``url``."""
    remote = url.startswith("sc://")
    try:
        import ibis
        from pyspark.sql import SparkSession  # noqa: F401

        if remote:  # the Spark Connect client: grpcio, grpcio-status, googleapis-common-protos
            import pyspark.sql.connect.session  # noqa: F401
    except ImportError as exc:
        what = "the Spark Connect client" if remote else "Spark"
        raise ConfigError(
            f"The data source {url!r} needs {what}, which is not installed ({exc})",
            hint="Install it with `pip install 'salesflow[spark]'`"
            + ("" if remote else "; Spark also needs Java 17 or 21"),
        ) from exc
    if remote:  # Ibis passes it for its in-memory tables; Spark Connect ignores it, loudly
        warnings.filterwarnings("ignore", "'verifySchema' is ignored", UserWarning)
    session = _remote(url) if remote else _local(local_folder(url))
    backend = ibis.pyspark.connect(session)
    # Many connections share the process's one session: closing one must not stop Spark.
    backend.disconnect = lambda: None
    return backend


def append_arrow(backend: BaseBackend, name: str, table: Any) -> None:
    """Append an Arrow table to the Spark table ``name`` by column name (``INSERT … BY NAME``).

    Spark reads the Arrow table itself, so a null stays null (Ibis's ``insert`` goes through
    pandas, where a missing number becomes NaN, and NaN is larger than every number in Spark)."""
    session = backend._session
    view = "_salesflow_append"
    session.createDataFrame(table).createOrReplaceTempView(view)
    try:
        session.sql(f"INSERT INTO `{name}` BY NAME SELECT * FROM `{view}`").collect()
    finally:
        session.catalog.dropTempView(view)


def stop() -> None:
    """Stop this process's local Spark and its Java process: the workspace's catalog (an
    embedded Derby database, one process at a time) is free for another program after this.
    Spark Connect sessions are closed too (the servers run on)."""
    with _LOCK:
        while _remote_sessions:
            _remote_sessions.popitem()[1].stop()
        running = _session.get("session")
        _session.clear()
        if running is None:
            return
        from pyspark import SparkContext

        running.stop()
        gateway = SparkContext._gateway
        if gateway is not None:
            gateway.shutdown()
            proc = getattr(gateway, "proc", None)
            if proc is not None:
                proc.stdin.close()  # the JVM exits when its stdin closes (pyspark's own signal)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            SparkContext._gateway = None
            SparkContext._jvm = None


def _remote(url: str):
    """The Spark Connect session at ``url``, checked to answer. The client connects on its first
    request and retries an unreachable server for ten minutes or more, so the server's port is
    tried first: a server that is down is said at once, in a sentence. One session per URL
    (pyspark's own builder would hand back the first server's session for every URL, and refuses
    Spark Connect in a process that runs local Spark)."""
    from pyspark.sql.connect.session import SparkSession

    with _LOCK:
        running = _remote_sessions.get(url)
        if running is not None and not running.is_stopped:
            return running
    hint = (
        "Check [data] url (sc://host:15002) and that the cluster's Spark Connect server is "
        "running (Spark's sbin/start-connect-server.sh)"
    )
    _reachable(url, hint)
    try:
        session = SparkSession.builder.remote(url).create()
        for key, value in SQL_CONF.items():  # the first requests: a server that is not
            session.conf.set(key, value)  # Spark Connect (or refuses this client) fails here
    except Exception as exc:
        first = str(exc).strip().splitlines()
        raise ConfigError(
            f"The Spark Connect server {url!r} does not answer: "
            f"{first[0] if first else type(exc).__name__}",
            hint=hint,
        ) from exc
    with _LOCK:
        _remote_sessions[url] = session
    return session


def _reachable(url: str, hint: str) -> None:
    """Whether ``sc://host:port`` accepts a connection (within :data:`CONNECT_TIMEOUT`)."""
    from urllib.parse import urlsplit

    where = urlsplit(url.split(";", 1)[0])  # sc://host:port/;token=…;use_ssl=true
    try:
        host, port = where.hostname, where.port or CONNECT_PORT
    except ValueError:
        host = port = None
    if not host:
        raise ConfigError(f"{url!r} names no Spark Connect server (sc://host:15002)", hint=hint)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(
            f"Cannot reach the Spark Connect server at {host}:{port} ({reason})", hint=hint
        ) from exc


def _local(folder: Path):
    """The process's local session keeping its tables in ``folder`` (started, or restarted
    when the last one kept them elsewhere: a JVM runs one Spark and one catalog at a time)."""
    with _LOCK:
        key = str(folder.resolve())
        running = _session.get("session")
        if running is not None and _session.get("key") == key and _alive(running):
            return running
        if running is not None:
            running.stop()
            _session.clear()
        session = _start(folder)
        _session.update(key=key, session=session)
        return session


def _alive(session) -> bool:
    try:
        return not session.sparkContext._jsc.sc().isStopped()
    except Exception:
        return False


def _start(folder: Path):
    from pyspark.sql import SparkSession

    folder.mkdir(parents=True, exist_ok=True)
    log4j = folder / "log4j2.properties"
    if not log4j.exists() or log4j.read_text(encoding="utf-8") != _LOG4J:
        log4j.write_text(_LOG4J, encoding="utf-8")
    java = (
        f"-Dderby.system.home={folder} -Dderby.stream.error.file={folder / 'derby.log'} "
        f"-Dlog4j2.configurationFile=file:{log4j}"
    )
    metastore = f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true"
    builder = (
        SparkSession.builder.master(os.environ.get("SALESFLOW_SPARK_MASTER", LOCAL_MASTER))
        .appName("salesflow")
        .config("spark.sql.catalogImplementation", "hive")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", metastore)
        .config("spark.driver.memory", os.environ.get("SALESFLOW_SPARK_MEMORY", DEFAULT_MEMORY))
        .config("spark.driver.extraJavaOptions", java)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in SQL_CONF.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        session.sql("SHOW TABLES").collect()  # opens the catalog now: a held one fails here
    except Exception as exc:
        text = str(exc)
        if "Derby" in text or "metastore" in text.lower() or "SessionHiveMetaStoreClient" in text:
            raise WorkspaceBusy(
                f"The Spark catalog of this workspace cannot be opened: {text.splitlines()[0]}",
                where=str(folder / "metastore_db"),
                hint="A local Spark workspace is used by one program at a time (its catalog is an "
                "embedded Derby database): close the other salesflow command or server, or use "
                "a Spark cluster through Spark Connect (sc://host:15002)",
            ) from exc
        raise ConfigError(
            f"Cannot start Spark: {text.splitlines()[0] if text else type(exc).__name__}",
            hint="Spark needs Java 17 or 21 (`java -version`); install it, e.g. "
            "`apt-get install default-jre-headless`",
        ) from exc
    return session
