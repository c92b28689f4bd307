"""Fan-out benchmark (issue 13): a room of viewers on one server process.

Starts one real `manage.py demo` server (its own temporary SQLite file, the in-memory channel
layer: the embedded deployment a class uses), runs `demo` at 10x and keeps it busy - a
Deployment scaled up and down, a worker node killed and restored - so that every frame carries
changes, opens VIEWERS WebSockets to the dashboard's stream (/clusters/demo/ws) and, for
SECONDS, records every frame each of them receives (one at a time, or several in one
`cluster.frames` message when the server's delivery fell behind).  Prints, as name=value lines:

  viewers           the WebSockets that stayed open to the end (of VIEWERS)
  p50_ms, p99_ms    event to client: a frame's arrival at a viewer minus `sentAt`, the wall
                    time the server produced it (both clocks are this machine's)
  first_p99_ms      the same for the first viewer to get each frame: the server's delay
                    before it hands a frame out, as against handing it to 500
  frames_lost       frames a viewer missed: gaps in the frame numbers it received (goal 0)
  frames_per_second frames a viewer received per second, averaged over the viewers
  frame_kb          the mean size of a frame on the wire
  snapshot_share    the share of frames that carried the snapshot or its changes (the others
                    leave the page's snapshot as it is: the cluster's was not due again)
  pods              pods in the cluster at the end
  version_p99_ms    GET /version round trips meanwhile (the server stays responsive)
  server_cpu        CPU the server process used meanwhile, in cores (its one event loop can
                    use at most about 1); with `load` (the machine's 1-minute load average at
                    the end) it tells a server short of work from one short of CPU
  client_cpu        the same for this process (the viewers and the driver)
  cpu_us_per_delivery  the server's CPU (the simulation's included) per frame delivered to one
                    viewer, in microseconds: what a viewer costs, whatever share of a loaded
                    machine the server got

Goal: p99_ms <= 200 and frames_lost = 0 with 500 viewers.  Environment: FANOUT_VIEWERS (500),
FANOUT_SECONDS (30), FANOUT_REPLICAS (the Deployment swings between a fifth of this and this,
default 400: frames of 100-150 KB when sent whole).

`PYTHONPATH=. nice -n 10 .venv/bin/python bench/fanout.py`.  The viewers run in this process on
one asyncio loop and read only each frame's head (`"frame"` and `"sentAt"` come first), so the
client costs little next to the server; on a 2-core machine both still share the CPUs.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import AS_MAKE_DEMO, LiveServer  # noqa: E402
from tests.robustness import wait_bootstrapped  # noqa: E402

VIEWERS = int(os.environ.get("FANOUT_VIEWERS", "500"))
SECONDS = float(os.environ.get("FANOUT_SECONDS", "30"))
REPLICAS = int(os.environ.get("FANOUT_REPLICAS", "400"))
SPEED = 10.0
# Viewers connect this many at a time (each connect fetches the cluster's state).
CONNECT_CONCURRENCY = 25
# A frame's head: its number, and when the server made it (older servers: with spaces).
FRAME_HEAD = re.compile(r'\{"type":\s*"cluster\.frame",\s*"cluster":\s*"[^"]*",\s*"frame":\s*(\d+)'
                        r'(?:,\s*"sentAt":\s*([0-9.eE+-]+))?')


class Viewer:
    """One WebSocket: the frame numbers it got and each frame's event-to-client latency."""

    def __init__(self) -> None:
        self.state_frame: int | None = None
        self.last: int | None = None
        self.lost = 0
        self.frames = 0
        self.bytes = 0
        self.snapshots = 0  # frames that carried the snapshot or its changes
        self.latencies: list[float] = []
        self.by_frame: dict[int, float] = {}
        self.open = False

    def on_text(self, text: str, measuring: bool) -> None:
        now = time.time()
        head = text[:40]
        if '"cluster.frames"' in head:  # several frames in one message (cluster/fanout.py)
            heads = list(FRAME_HEAD.finditer(text))
        elif '"cluster.frame"' in head:
            heads = [FRAME_HEAD.match(text)]
        else:
            msg = json.loads(text)
            if msg.get("type") == "cluster.state":
                self.state_frame = msg["frame"]
                self.last = msg["frame"] if self.last is None else max(self.last, msg["frame"])
            return
        if not heads or heads[0] is None:
            raise AssertionError(f"a frame without a number at its start: {text[:200]!r}")
        if measuring:
            self.bytes += len(text)
            self.snapshots += text.count('"snapshotDelta":') + text.count('"snapshot":{') + text.count('"snapshot": {')
        for m in heads:
            n = int(m.group(1))
            if self.last is not None and n <= self.last:
                continue  # a frame the state already covered
            if self.last is not None and n > self.last + 1:
                self.lost += n - self.last - 1
            self.last = n
            if measuring:
                self.frames += 1
                if m.group(2):
                    self.latencies.append((now - float(m.group(2))) * 1000)
                    self.by_frame[n] = self.latencies[-1]


async def watch(session: aiohttp.ClientSession, url: str, origin: str, viewer: Viewer, gate: asyncio.Semaphore,
                window: dict) -> None:
    async with gate:
        ws = await session.ws_connect(url, headers={"Origin": origin}, max_msg_size=0, heartbeat=None)
        viewer.open = True
    try:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                viewer.on_text(msg.data, window["from"] is not None and time.time() >= window["from"])
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
    finally:
        viewer.open = not ws.closed
        await ws.close()


async def drive(session: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> None:
    """Keep the cluster changing: the Deployment scaled to REPLICAS, then to REPLICAS/5, and so
    on every 2 s; worker-3 killed, and restored 4 s later, every 10 s."""
    low, high = max(1, REPLICAS // 5), REPLICAS
    i = 0
    while not stop.is_set():
        replicas = high if i % 2 == 0 else low
        async with session.patch(f"{base}/clusters/demo/apis/apps/v1/namespaces/default/deployments/web",
                                 data=json.dumps({"spec": {"replicas": replicas}}),
                                 headers={"Content-Type": "application/merge-patch+json"}) as r:
            assert r.status == 200, await r.text()
        if i % 5 == 2:
            async with session.post(f"{base}/clusters/demo/sim/v1/nodes/worker-3/kill") as r:
                assert r.status == 200, await r.text()
        if i % 5 == 4:
            async with session.post(f"{base}/clusters/demo/sim/v1/nodes/worker-3/restore") as r:
                assert r.status == 200, await r.text()
        i += 1
        try:
            await asyncio.wait_for(stop.wait(), 2.0)
        except asyncio.TimeoutError:
            pass


async def probe_version(session: aiohttp.ClientSession, base: str, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.monotonic()
        async with session.get(f"{base}/clusters/demo/version") as r:
            await r.read()
        out.append((time.monotonic() - t) * 1000)
        await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def run(server: LiveServer) -> dict:
    base = server.base
    origin = base
    url = f"ws://127.0.0.1:{server.port}/clusters/demo/ws"
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": REPLICAS // 5, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "c", "image": "nginx",
                                                                 "resources": {"requests": {"cpu": "1m",
                                                                                            "memory": "1Mi"}}}]}}}}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async with session.post(f"{base}/clusters/demo/apis/apps/v1/namespaces/default/deployments",
                                data=json.dumps(deployment), headers={"Content-Type": "application/json"}) as r:
            assert r.status == 201, await r.text()
        async with session.post(f"{base}/clusters/demo/sim/v1/clock", json={"speed": SPEED}) as r:
            assert r.status == 200, await r.text()
        viewers = [Viewer() for _ in range(VIEWERS)]
        window: dict = {"from": None}
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        tasks = [asyncio.ensure_future(watch(session, url, origin, v, gate, window)) for v in viewers]
        t = time.monotonic()
        while sum(v.open for v in viewers) < VIEWERS:
            failed = [task for task in tasks if task.done() and task.exception() is not None]
            if failed:
                raise failed[0].exception()
            if time.monotonic() - t > 120:
                raise AssertionError(f"only {sum(v.open for v in viewers)} of {VIEWERS} viewers connected in 120 s")
            await asyncio.sleep(0.1)
        print(f"{VIEWERS} viewers connected in {time.monotonic() - t:.1f}s", flush=True)
        stop = asyncio.Event()
        versions: list[float] = []
        driver = asyncio.ensure_future(drive(session, base, stop))
        prober = asyncio.ensure_future(probe_version(session, base, stop, versions))
        await asyncio.sleep(2.0)  # the first scale-up under way
        window["from"] = time.time()
        server_cpu, client_cpu = cpu_seconds(server.proc.pid), time.process_time()
        await asyncio.sleep(SECONDS)
        window["from"] = float("inf")
        server_cpu, client_cpu = cpu_seconds(server.proc.pid) - server_cpu, time.process_time() - client_cpu
        stop.set()
        await asyncio.gather(driver, prober)
        async with session.get(f"{base}/clusters/demo/api/v1/namespaces/default/pods?limit=1") as r:
            body = await r.json()
        pods = len(body["items"]) + body["metadata"].get("remainingItemCount", 0)
        still_open = sum(1 for task in tasks if not task.done())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [x for v in viewers for x in v.latencies]
    frames = sum(v.frames for v in viewers)
    first: dict[int, float] = {}  # per frame, the first viewer's latency: before any delivery
    for v in viewers:
        for n, ms in v.by_frame.items():
            first[n] = min(ms, first.get(n, ms))
    return {
        "viewers": still_open,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "first_p99_ms": round(percentile(list(first.values()), 0.99), 1),
        "frames_lost": sum(v.lost for v in viewers),
        "frames_per_second": round(statistics.mean(v.frames for v in viewers) / SECONDS, 2),
        "frame_kb": round(sum(v.bytes for v in viewers) / max(1, frames) / 1024, 1),
        "snapshot_share": round(sum(v.snapshots for v in viewers) / max(1, frames), 2),
        "pods": pods,
        "version_p99_ms": round(percentile(versions, 0.99), 1),
        "server_cpu": round(server_cpu / SECONDS, 2),
        "cpu_us_per_delivery": round(server_cpu / max(1, frames) * 1e6, 1),
        "client_cpu": round(client_cpu / SECONDS, 2),
        "load": os.getloadavg()[0],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pilothouse-fanout-") as tmp:
        server = LiveServer(Path(tmp) / "fanout", env=AS_MAKE_DEMO).start()
        try:
            wait_bootstrapped(server)
            figures = asyncio.run(run(server))
        finally:
            server.stop()
    for k, v in figures.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
