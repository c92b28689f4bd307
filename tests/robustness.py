"""The robustness harness: load, stop signals and crashes against a real `manage.py demo`
process.  The tests (tests/cluster/test_load.py, test_crash_safety.py) run it briefly;
bench/robustness.py runs it longer and prints the figures issue 8 names.

    version_latency_under_load(server, replicas, seconds) -> LoadResult
    sigterm_seconds(server) -> float
    crash_round(server, tag, seconds) -> CrashResult

Nothing here sleeps and hopes: every wait is on a condition with a bound.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


# -- a minimal WebSocket client (RFC 6455), enough to read a cluster's frames --------------------

class FrameStream:
    """Reads the JSON messages a cluster's WebSocket (/clusters/<name>/ws) sends, in a thread,
    recording when each arrived."""

    def __init__(self, host: str, port: int, path: str):
        self.sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the WebSocket handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"WebSocket handshake refused: {status!r}")
        self._buffer = head.split(b"\r\n\r\n", 1)[1]
        self.arrivals: list[float] = []
        self.messages: list[dict] = []
        self.closed = False
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self._buffer += chunk
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _read(self) -> None:
        self.sock.settimeout(None)
        message = b""
        try:
            while True:
                b1, b2 = self._exactly(2)
                opcode, length = b1 & 0x0F, b2 & 0x7F
                if length == 126:
                    length = struct.unpack(">H", self._exactly(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", self._exactly(8))[0]
                payload = self._exactly(length)
                if opcode == 8:
                    break
                if opcode in (0, 1):
                    message += payload
                    if b1 & 0x80:
                        self.arrivals.append(time.monotonic())
                        self.messages.append(json.loads(message))
                        message = b""
        except Exception as e:  # noqa: BLE001 - reported through .error
            self.error = e
        finally:
            self.closed = True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def max_gap(self, since: float) -> float:
        """The longest time between two messages (or from `since` to the first) after `since`."""
        times = [since] + [t for t in self.arrivals if t >= since]
        return max((b - a for a, b in zip(times, times[1:])), default=float("inf"))


# -- small HTTP helpers ----------------------------------------------------------------------

def http(server, method: str, path: str, body=None, timeout: float = 30):
    return server.request(method, path, body, timeout=timeout)


def create_pod_request(server, name: str | None, labels: dict, generate: bool = False, timeout: float = 10):
    md = {"labels": labels}
    if generate:
        md["generateName"] = "gen-"
    else:
        md["name"] = name
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": md,
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    return http(server, "POST", "/clusters/demo/api/v1/namespaces/default/pods", pod, timeout=timeout)


def wait_bootstrapped(server, cluster: str = "demo", bound: float = 30.0) -> None:
    """Until the cluster's `default` namespace and its `default` ServiceAccount exist (a moment
    after a start or restart): before the ServiceAccount, a pod is refused by its admission."""
    deadline = time.monotonic() + bound
    while http(server, "GET", f"/clusters/{cluster}/api/v1/namespaces/default/serviceaccounts/default")[0] != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"cluster {cluster} did not bootstrap within {bound}s")
        time.sleep(0.05)


# -- load --------------------------------------------------------------------------------------

@dataclass
class LoadResult:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    frames: int
    max_frame_gap_ms: float
    pods_created: int
    pace: float | None


def version_latency_under_load(server, replicas: int, seconds: float, speed: float = 50.0) -> LoadResult:
    """Create a ReplicaSet of `replicas` on `demo` at `speed`, then for `seconds` measure GET
    /version round trips and the gaps between the WebSocket's frames while it fills."""
    wait_bootstrapped(server)
    status, body = http(server, "POST", "/clusters/demo/sim/v1/clock", {"speed": speed})
    assert status == 200, body
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "load"},
          "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "load"}},
                   "template": {"metadata": {"labels": {"app": "load"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    status, body = http(server, "POST", "/clusters/demo/apis/apps/v1/namespaces/default/replicasets", rs)
    assert status == 201, body
    stream = FrameStream("127.0.0.1", server.port, "/clusters/demo/ws")
    latencies, errors = [], 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            t = time.monotonic()
            try:
                with urllib.request.urlopen(server.cluster_url("demo") + "/version", timeout=10) as r:
                    r.read()
            except (urllib.error.URLError, OSError):
                errors += 1
            latencies.append(time.monotonic() - t)
            time.sleep(0.02)
        gap = stream.max_gap(started + 1.0)  # after the first state message has been sent
        frames = sum(1 for t in stream.arrivals if t >= started)
        pace = next((m.get("pace") for m in reversed(stream.messages) if "pace" in m), None)
    finally:
        stream.close()
    status, body = http(server, "GET", "/clusters/demo/api/v1/namespaces/default/pods?labelSelector=app%3Dload&limit=1")
    pods = len(body["items"]) + body["metadata"].get("remainingItemCount", 0) if status == 200 else -1
    latencies.sort()
    return LoadResult(requests=len(latencies), errors=errors, p50_ms=latencies[len(latencies) // 2] * 1000,
                      p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
                      max_ms=latencies[-1] * 1000, frames=frames, max_frame_gap_ms=gap * 1000,
                      pods_created=pods, pace=pace)


def sigterm_seconds(server, bound: float = 30.0) -> float:
    """Send SIGTERM to the server; seconds until its process has exited (at most `bound`)."""
    t = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(bound)
    return time.monotonic() - t


# -- crash safety ----------------------------------------------------------------------------------

@dataclass
class CrashResult:
    acknowledged: int
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    attempted: int = 0


def crash_round(server, tag: str, seconds: float, writers: int = 3) -> CrashResult:
    """Stream pod creates into `demo` from `writers` threads (named pods and generateName pods,
    each request with a unique `req` label), `kill -9` the server after `seconds`, restart it,
    and compare: every create answered 201 must be there (else `lost`), and no request may
    have made two pods (`duplicates`)."""
    wait_bootstrapped(server)
    acked: list[str] = []  # the req label of every acknowledged create
    attempted = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w: int) -> None:
        i = 0
        while not stop.is_set():
            req = f"{tag}-{w}-{i}"
            i += 1
            with lock:
                attempted[0] += 1
            try:
                status, _ = create_pod_request(server, req, {"crash": tag, "req": req}, generate=(i % 2 == 0),
                                               timeout=5)
            except (OSError, ValueError):
                break  # the server is gone
            if status == 201:
                with lock:
                    acked.append(req)
            elif status >= 500 or status == 0:
                break

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or not acked:
        if time.monotonic() > deadline + 30:
            raise AssertionError("no create was acknowledged within 30 s")
        time.sleep(0.01)
    os.kill(server.proc.pid, signal.SIGKILL)
    stop.set()
    server.proc.wait(10)
    for t in threads:
        t.join(15)
    with lock:
        acknowledged = list(acked)
    server.start()
    wait_bootstrapped(server)
    status, body = http(server, "GET", f"/clusters/demo/api/v1/namespaces/default/pods?labelSelector=crash%3D{tag}")
    assert status == 200, body
    seen: dict[str, int] = {}
    for pod in body["items"]:
        req = pod["metadata"]["labels"]["req"]
        seen[req] = seen.get(req, 0) + 1
    return CrashResult(acknowledged=len(acknowledged), lost=[r for r in acknowledged if r not in seen],
                       duplicates=[r for r, n in seen.items() if n > 1], attempted=attempted[0])
