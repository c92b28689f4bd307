"""The simulation worker: the one place where simulated clusters run.

A `SimulationWorker` owns running `sim.cluster.Cluster` engines.  It

* loads every persisted cluster on start (`Cluster.restore`) and seeds `demo` when absent;
* advances each engine against the wall clock times its speed factor (pause, step, speed), in
  frames of about 1/10 s;
* after each frame drains the engine's trace events and sends ONE numbered frame to the channel
  group `cluster.<name>` (DESIGN.md "Frames, not floods"), keeps a ring buffer of log-worthy
  events, and persists the newly committed etcd entries and the clock in one transaction;
* takes commands from the channel layer on `worker_channel_for(name)` and answers each on the
  reply channel the command names (cluster/services.py holds the client side).

HTTP and WebSocket front ends hold no simulation state; they only talk to this worker.  In the
embedded deployment it runs on Daphne's event loop (`manage.py demo`), in the scaled-out one in
its own process (`manage.py runsimworker`).

Command messages (sent by cluster/services.py):
    {"type": "sim.command", "op": <op>, "cluster": <name>, "args": {...}, "reply_channel": <ch>}
Replies:
    {"type": "sim.reply", "ok": true, "result": ...}
    {"type": "sim.reply", "ok": false, "error": {"reason": "ClusterNotFound" | "NodeNotFound" |
                                                  "MemberNotFound" | "BadRequest" |
                                                  "AlreadyExists" | "Conflict" | "Unavailable" |
                                                  "Timeout" | "Invalid" | "Internal",
                                                  "message": str}}
"""
from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from cluster import etcdsnapshot, persistence
from cluster.durations import parse_duration
from sim.cluster import Cluster, ClusterConfig, ClusterError, NodeSpec

log = logging.getLogger(__name__)

# Event kinds that make the human-readable log: never dropped from a frame, kept in the ring.
LOG_KINDS = frozenset({"action", "k8s-event", "node"})
# At most this many other events (network hops, drops, ...) per frame; the rest are counted in
# the frame's "omitted" field.  A 50x busy cluster would otherwise send megabyte frames.
MAX_FRAME_EVENTS = 200
LOG_RING_SIZE = 300
# Down to 0.01x, so that a Raft election (a 100 ms heartbeat becomes 10 s) can be followed by eye.
MIN_SPEED, MAX_SPEED = 0.01, 50.0
# Raft heartbeats (and their replies) come every 100 ms per follower: a frame keeps one per
# (src, dst, type) with a "count" of how many it stands for (DESIGN.md "Frames, not floods").
GROUPED_MESSAGE_TYPES = frozenset({"MsgHeartbeat", "MsgHeartbeatResp"})
# One advance or step runs synchronously on the event loop; bound it so a typo cannot hang it.
MAX_ADVANCE_SECONDS = 7 * 24 * 3600.0
DEFAULT_STEP_SECONDS = 1.0
# ClusterError.code (an HTTP status) -> reply reason (see cluster/services.py).
_REASON_BY_CODE = {400: "BadRequest", 404: "NodeNotFound", 409: "AlreadyExists", 422: "BadRequest"}
# ... and for the etcd commands, whose 409 is "that member is stopped", not a duplicate.
_ETCD_REASON_BY_CODE = {400: "BadRequest", 404: "MemberNotFound", 409: "Conflict", 422: "BadRequest",
                        503: "Unavailable", 504: "Timeout"}
ETCD_MEMBER_COUNTS = (1, 3, 5, 7)
ETCD_TOPOLOGIES = ("stacked", "external")
# etcd refuses --election-timeout below 5 x --heartbeat-interval and above 50 s
# (etcd server/embed/config.go, Config.Validate).
ETCD_MAX_ELECTION_TIMEOUT = 50.0
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# If the engine falls this many wall seconds behind real time x speed, stop trying to catch up
# (re-anchor the clock) rather than spiral.
MAX_LAG_WALL_SECONDS = 1.0


_POD_RESOURCE = re.compile(r"\bpods\b")


def hop_rank(ev: dict) -> int:
    """Which events claim a frame's capped slots first, lowest first, as the dashboard ranks its
    dots (static/js/messages.js, rank): 0 a network hop carrying a scheduler's Binding; 1 the
    other requests that carry a pod through its life ("create pods", the "watch pods"
    notification to a kubelet, "patch pods/status"; replies, named "... → code", excluded);
    2 everything else.  Ranks 0 and 1 are a few hops per pod, where an HA control plane's
    leases and etcd traffic never stop."""
    if ev.get("kind") not in ("message", "drop"):
        return 2
    kind = str(ev.get("type", ""))
    if "bind" in kind.lower():
        return 0
    return 1 if _POD_RESOURCE.search(kind) and "→" not in kind else 2


def worker_channel_for(cluster_name: str) -> str:
    """The channel the worker owning `cluster_name` listens on.

    One worker owns every cluster for now; sharding clusters across worker processes only has
    to change this function (and start one `runsimworker --channel` per shard)."""
    return "simworker"


def group_for(cluster_name: str) -> str:
    """The channel-layer group that receives a cluster's frames (WebSocket consumers join it)."""
    return f"cluster.{cluster_name}"


def demo_config(seed: int = 1) -> ClusterConfig:
    """The `demo` cluster: kubeadm's highly available shape with stacked etcd (three
    control-plane nodes, each running kube-apiserver, kube-scheduler, kube-controller-manager
    and an etcd member: a Raft group of 3) and three workers, realistic small VMs."""
    return ClusterConfig(
        seed=seed,
        nodes=[NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + [
            NodeSpec("worker-1", "worker", "4", "8Gi"),
            NodeSpec("worker-2", "worker", "4", "8Gi"),
            NodeSpec("worker-3", "worker", "4", "8Gi"),
        ],
        etcd_members=3,
    )


class CommandError(Exception):
    """A command the worker refuses; `reason` becomes the reply's error reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class RunningCluster:
    """One engine plus the worker's bookkeeping for it."""

    name: str
    engine: Cluster
    speed: float = 1.0
    paused: bool = False
    # Pacing: virtual time = anchor_virtual + (wall - anchor_wall) * speed while running.
    anchor_wall: float = 0.0
    anchor_virtual: float = 0.0
    frame: int = 0
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_RING_SIZE))
    pending_events: list = field(default_factory=list)
    last_snapshot: dict | None = None
    last_sent_time: float | None = None
    clock_changed: bool = True
    persisted_revision: int = 0
    persisted_time: float | None = None
    persisted_topology: dict | None = None
    persisted_clock: tuple | None = None
    persisted_disks: dict | None = None
    # An etcd snapshot restore not persisted yet: the restored keyspace as entries, which the
    # next frame's write puts in place of the persisted log.  The epoch counts restores, so a
    # write begun before one does not mark the new keyspace's revisions as persisted.
    restored_keyspace: list | None = None
    keyspace_epoch: int = 0

    def reanchor(self) -> None:
        self.anchor_wall = time.monotonic()
        self.anchor_virtual = self.engine.now

    def clock(self) -> dict:
        return {"time": self.engine.now, "speed": self.speed, "paused": self.paused}


class SimulationWorker:
    """Runs simulated clusters; see the module docstring.

    `await worker.run()` serves until `await worker.stop()` (which persists a last time).
    `channels`: the command channels to listen on (default: the one from worker_channel_for).
    """

    def __init__(
        self,
        channel_layer=None,
        frame_rate: float | None = None,
        seed_demo: bool | None = None,
        channels: list[str] | None = None,
    ):
        conf = getattr(settings, "PILOTHOUSE", {})
        self.layer = channel_layer or get_channel_layer()
        self.frame_interval = 1.0 / (frame_rate or conf.get("FRAME_RATE", 10.0))
        self.seed_demo = conf.get("SEED_DEMO", True) if seed_demo is None else seed_demo
        self.channels = channels or [worker_channel_for("")]
        self.clusters: dict[str, RunningCluster] = {}
        self._tasks: list[asyncio.Task] = []
        self._frame_task: asyncio.Task | None = None
        self._started = asyncio.Event()
        self._stopping = False
        self._persist_lock = asyncio.Lock()
        self._creating: set[str] = set()

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Load every persisted cluster, seed `demo` if absent, start serving commands/frames."""
        saved = await database_sync_to_async(persistence.load_all)()
        for p in saved:
            engine = Cluster.restore(p.name, p.topology, p.etcd_log, p.time,
                                     compacted_revision=p.compacted_revision, etcd_disks=p.etcd_disks)
            _wait_ready(engine)
            rc = RunningCluster(p.name, engine, speed=p.speed, paused=p.paused)
            rc.persisted_revision = p.persisted_revision
            rc.persisted_time = p.time
            rc.persisted_topology = p.topology
            rc.persisted_clock = (p.speed, p.paused)
            rc.persisted_disks = p.etcd_disks
            self._install(rc)
            log.info("restored cluster %s at t=%.1fs (%d etcd entries)", p.name, p.time, len(p.etcd_log))
        if self.seed_demo and "demo" not in self.clusters:
            await self.create_cluster("demo", demo_config())
            log.info("seeded cluster demo")
        for ch in self.channels:
            self._tasks.append(asyncio.ensure_future(self._serve_commands(ch)))
        self._frame_task = asyncio.ensure_future(self._frame_loop())
        self._tasks.append(self._frame_task)
        self._started.set()

    async def run(self) -> None:
        """start(), then wait until stop() is called (or a serving task dies)."""
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        except asyncio.CancelledError:
            if not self._stopping:
                raise

    async def wait_started(self) -> None:
        await self._started.wait()

    async def wait_started_or(self, task: asyncio.Future) -> None:
        """Wait until started, or re-raise if `task` (running run()) fails first."""
        started = asyncio.ensure_future(self._started.wait())
        done, _ = await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done and not started.done():
            started.cancel()
            task.result()

    async def stop(self) -> None:
        """Stop serving and persist every cluster one last time (Ctrl-C path)."""
        if self._stopping:
            return
        self._stopping = True
        # Command readers may be cancelled anywhere (they only wait on the layer); the frame
        # loop is asked to finish its frame instead, so a persist is never cut in half.
        for t in self._tasks:
            if t is not self._frame_task:
                t.cancel()
        if self._frame_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._frame_task), 10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._frame_task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._persist()
        log.info("simulation worker stopped; %d cluster(s) persisted", len(self.clusters))

    def _install(self, rc: RunningCluster) -> None:
        rc.reanchor()
        rc.last_snapshot = rc.engine.snapshot()
        rc.pending_events.extend(rc.engine.drain_events())
        self.clusters[rc.name] = rc

    async def create_cluster(self, name: str, config: ClusterConfig) -> RunningCluster:
        """Boot a new engine and persist it (row + bootstrap etcd log) before serving it."""
        if name in self.clusters or name in self._creating:
            raise CommandError("AlreadyExists", f'cluster "{name}" already exists')
        self._creating.add(name)  # the save below awaits: keep a second create out meanwhile
        try:
            return await self._create(name, config)
        finally:
            self._creating.discard(name)

    async def _create(self, name: str, config: ClusterConfig) -> RunningCluster:
        if config.start_unix_time is None:
            # API timestamps count from the moment the cluster was created, so kubectl's
            # client-side ages (describe, events) read like a real cluster's.
            config.start_unix_time = time.time()
        engine = Cluster(name, config)
        rc = RunningCluster(name, engine)
        entries = engine.committed_since(0)
        disks = engine.etcd_disk_states()
        topology = engine.topology()
        await database_sync_to_async(persistence.save_frames)(
            [
                persistence.FrameWrite(
                    name=name,
                    time=engine.now,
                    speed=rc.speed,
                    paused=rc.paused,
                    compacted_revision=engine.compacted_revision,
                    entries=entries,
                    topology=topology,
                    etcd_disks=disks,
                )
            ],
            create=True,
        )
        rc.persisted_revision = max((int(e["revision"]) for e in entries), default=0)
        rc.persisted_time = engine.now
        rc.persisted_topology = topology
        rc.persisted_clock = (rc.speed, rc.paused)
        rc.persisted_disks = disks
        self._install(rc)
        return rc

    # -- frames -------------------------------------------------------------------------
    async def _frame_loop(self) -> None:
        next_at = time.monotonic()
        while not self._stopping:
            next_at += self.frame_interval
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one frame must not stop every cluster for good
                log.exception("frame failed")
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind: don't burst to catch up
                next_at = time.monotonic()
                delay = 0
            if not self._stopping:
                await asyncio.sleep(delay)

    async def tick(self) -> None:
        """One frame for every cluster: advance, send the frame, persist."""
        now = time.monotonic()
        for rc in list(self.clusters.values()):
            try:
                if not rc.paused:
                    target = rc.anchor_virtual + (now - rc.anchor_wall) * rc.speed
                    if target - rc.engine.now > MAX_LAG_WALL_SECONDS * rc.speed:
                        # Too far behind (e.g. the loop was blocked): skip the debt, keep pace.
                        rc.anchor_virtual, rc.anchor_wall = rc.engine.now, now
                        target = rc.engine.now + self.frame_interval * rc.speed
                    if target > rc.engine.now:
                        rc.engine.run_until(target)
                await self._send_frame(rc)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one cluster's frame must not stop the others, nor persistence
                log.exception("frame of cluster %s failed", rc.name)
        await self._persist()

    async def _send_frame(self, rc: RunningCluster) -> None:
        events = rc.pending_events + rc.engine.drain_events()
        rc.pending_events = []
        moved = rc.last_sent_time is None or rc.engine.now != rc.last_sent_time
        if not events and not moved and not rc.clock_changed:
            return  # paused and idle: nothing new to draw
        rc.frame += 1
        kept, omitted = [], 0
        other = 0
        grouped: dict[tuple, dict] = {}
        # The hops a lesson is about (a pod's bind, its watch notification to the kubelet, ...)
        # claim the capped slots before the busy control plane's other traffic (a stable sort,
        # so the log's order is kept).
        events.sort(key=hop_rank)
        for ev in events:
            if ev.get("kind") in LOG_KINDS:
                kept.append(ev)
                rc.log.append({"frame": rc.frame, **ev})
            elif ev.get("kind") in ("message", "drop") and ev.get("type") in GROUPED_MESSAGE_TYPES:
                key = (ev.get("kind"), ev.get("src"), ev.get("dst"), ev.get("type"))
                first = grouped.get(key)
                if first is not None:
                    first["count"] += 1
                elif other < MAX_FRAME_EVENTS:
                    grouped[key] = first = {**ev, "count": 1}
                    kept.append(first)
                    other += 1
                else:
                    omitted += 1
            elif other < MAX_FRAME_EVENTS:
                kept.append(ev)
                other += 1
            else:
                omitted += 1
        rc.last_snapshot = rc.engine.snapshot()
        rc.last_sent_time = rc.engine.now
        rc.clock_changed = False
        frame = {
            "type": "cluster.frame",
            "cluster": rc.name,
            "frame": rc.frame,
            "time": rc.engine.now,
            "speed": rc.speed,
            "paused": rc.paused,
            "events": kept,
            "omitted": omitted,
            "etcdTick": rc.engine.config.etcd_heartbeat_interval,
            "snapshot": rc.last_snapshot,
        }
        await self.layer.group_send(group_for(rc.name), frame)

    async def _persist(self) -> None:
        """Write every cluster's new etcd entries and clock in one transaction."""
        async with self._persist_lock:
            writes, marks = [], []
            for rc in self.clusters.values():
                # Taken together: the disks' (index, term) point is the keyspace these
                # entries bring the persisted log up to.
                entries = rc.engine.committed_since(rc.persisted_revision)
                disks = rc.engine.etcd_disk_states()
                topology = rc.engine.topology()
                clock = (rc.speed, rc.paused)
                replace = rc.restored_keyspace
                if (
                    replace is None
                    and not entries
                    and rc.engine.now == rc.persisted_time
                    and clock == rc.persisted_clock
                    and topology == rc.persisted_topology
                    and disks == rc.persisted_disks
                ):
                    continue
                writes.append(
                    persistence.FrameWrite(
                        name=rc.name,
                        time=rc.engine.now,
                        speed=rc.speed,
                        paused=rc.paused,
                        compacted_revision=rc.engine.compacted_revision,
                        entries=entries,
                        topology=topology if topology != rc.persisted_topology else None,
                        replace_keyspace=replace,
                        etcd_disks=disks if disks != rc.persisted_disks else None,
                    )
                )
                marks.append((rc, entries, topology, clock, rc.engine.now, replace, rc.keyspace_epoch, disks))
            if not writes:
                return
            await database_sync_to_async(persistence.save_frames)(writes)
            for rc, entries, topology, clock, t, replace, epoch, disks in marks:
                rc.persisted_topology, rc.persisted_clock, rc.persisted_time = topology, clock, t
                rc.persisted_disks = disks
                if epoch != rc.keyspace_epoch:
                    continue  # restored while this was written: the next frame replaces the log
                if replace is not None:
                    rc.restored_keyspace = None
                if entries:
                    rc.persisted_revision = max(
                        rc.persisted_revision, max(int(e["revision"]) for e in entries)
                    )

    # -- commands -----------------------------------------------------------------------
    async def _serve_commands(self, channel: str) -> None:
        while True:
            try:
                msg = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not take the worker down: retry
                log.warning("receiving on %s failed; retrying", channel, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            reply_to = msg.get("reply_channel")
            try:
                result = await self.handle(msg.get("op", ""), msg.get("cluster"), msg.get("args") or {})
                reply = {"type": "sim.reply", "ok": True, "result": result}
            except CommandError as e:
                reply = {"type": "sim.reply", "ok": False, "error": {"reason": e.reason, "message": e.message}}
            except asyncio.CancelledError:
                raise
            except Exception as e:  # report, keep serving
                log.exception("command %s on %s failed", msg.get("op"), msg.get("cluster"))
                reply = {"type": "sim.reply", "ok": False, "error": {"reason": "Internal", "message": f"internal error: {e}"}}
            if reply_to:
                try:
                    await self.layer.send(reply_to, reply)
                except Exception:  # the asker gave up (channel full/expired): nothing to do
                    log.warning("could not reply to %s", reply_to)

    def _get(self, name: str | None) -> RunningCluster:
        rc = self.clusters.get(name or "")
        if rc is None:
            raise CommandError("ClusterNotFound", f'cluster "{name}" not found')
        return rc

    async def handle(self, op: str, name: str | None, args: dict) -> Any:
        """Execute one command; returns a JSON-compatible result or raises CommandError."""
        if op == "clusters":
            return sorted(self.clusters)
        if op == "cluster.create":
            if not _DNS_LABEL.match(str(args.get("name", ""))):
                raise CommandError(
                    "BadRequest",
                    "name: a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-', and must start and end with an alphanumeric character",
                )
            try:
                rc = await self.create_cluster(args["name"], _config_from_args(args))
            except ClusterError as e:
                raise CommandError(_REASON_BY_CODE.get(e.code, "BadRequest"), str(e)) from None
            return {"cluster": rc.name, **rc.clock()}
        rc = self._get(name)
        if op == "api":
            # "now" (the cluster's clock on the API's timestamp scale, see Cluster.api_time) lets
            # front ends print ages against the simulated clock.
            before = rc.engine.now
            resp = rc.engine.request(args["request"])
            if rc.engine.now != before:
                rc.reanchor()  # a write ran the engine ahead (up to a 504 timeout): go on from there
            return {**resp, "now": rc.engine.api_time}
        if op.startswith("etcd."):
            return self._etcd(rc, op, args)
        if op == "scheduler.queue":
            return rc.engine.scheduler_queue()
        if op == "scheduler.explain":
            namespace, pod = args.get("namespace"), args.get("name")
            if not isinstance(namespace, str) or not isinstance(pod, str):
                raise CommandError("BadRequest", "namespace and name: Required value")
            return {"explanation": rc.engine.scheduling_explanation(namespace, pod)}
        if op == "state":
            return {
                "cluster": rc.name,
                "frame": rc.frame,
                "time": rc.last_sent_time if rc.last_sent_time is not None else rc.engine.now,
                "speed": rc.speed,
                "paused": rc.paused,
                # The snapshot sent with frame `frame`: a page that starts from it and applies
                # frames > `frame` sees every event exactly once.
                "snapshot": rc.last_snapshot,
                "log": list(rc.log),
                # One Raft tick in virtual seconds (etcd's --heartbeat-interval): the page runs
                # the election timers down between frames with it.
                "etcdTick": rc.engine.config.etcd_heartbeat_interval,
            }
        if op == "clock":
            return self._clock(rc, args)
        if op in ("node.kill", "node.restore"):
            node = args.get("node", "")
            try:
                (rc.engine.kill_node if op == "node.kill" else rc.engine.restore_node)(node)
            except (KeyError, ClusterError) as e:
                if isinstance(e, ClusterError) and e.code != 404:
                    raise CommandError(_REASON_BY_CODE.get(e.code, "BadRequest"), str(e)) from None
                raise CommandError("NodeNotFound", f'node "{node}" not found in cluster "{rc.name}"') from None
            return {"node": node, "alive": op == "node.restore"}
        if op == "node.add":
            node = args.get("node", "")
            try:
                rc.engine.add_node(node, cpu=str(args.get("cpu", "4")), memory=str(args.get("memory", "8Gi")))
            except ClusterError as e:
                raise CommandError(_REASON_BY_CODE.get(e.code, "BadRequest"), str(e)) from None
            except ValueError as e:
                raise CommandError("BadRequest", str(e)) from None
            return {"node": node, "alive": True}
        if op in ("network.get", "network.partition", "network.heal", "network.link"):
            try:
                if op == "network.partition":
                    rc.engine.partition(args.get("groups"))
                elif op == "network.link":
                    rc.engine.set_link(args.get("a"), args.get("b"), args.get("latencyMs"), args.get("loss"))
                elif op == "network.heal":
                    rc.engine.heal()
            except ClusterError as e:
                reason = "NodeNotFound" if e.code == 404 else _REASON_BY_CODE.get(e.code, "BadRequest")
                raise CommandError(reason, str(e)) from None
            return rc.engine.network_state()
        raise CommandError("BadRequest", f"unknown command {op!r}")

    def _etcd(self, rc: RunningCluster, op: str, args: dict) -> dict:
        """etcd commands: status, a member's kill / restore / timeout / transfer / isolate, put.

        Every member command answers {"member": name, "members": [...status...]}."""
        engine = rc.engine
        if op == "etcd.status":
            return {"members": engine.etcd_status()}
        before = engine.now
        try:
            if op == "etcd.compact":
                revision = args.get("revision")
                if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
                    raise CommandError("BadRequest", "revision must be an integer")
                return {"compacted": engine.etcd_compact(revision), "members": engine.etcd_status()}
            if op == "etcd.snapshot.save":
                return engine.etcd_snapshot_save()
            if op == "etcd.snapshot.restore":
                return self._etcd_restore(rc, args.get("snapshot"))
            if op == "etcd.put":
                key, value = args.get("key"), args.get("value")
                if not isinstance(key, str) or not key:
                    raise CommandError("BadRequest", "key: Required value")
                if not isinstance(value, str):
                    raise CommandError("BadRequest", "value must be a string")
                member = args.get("member") or None
                result = engine.etcd_put(key, value, member=member)
                return {**result, "members": engine.etcd_status()}
            member = args.get("member", "")
            names = [m["name"] for m in engine.etcd_status()]
            if member not in names:
                raise CommandError("MemberNotFound", f'etcd member "{member}" not found in cluster "{rc.name}"')
            if op == "etcd.kill":
                engine.kill_etcd_member(member)
            elif op == "etcd.restore":
                engine.restore_etcd_member(member)
            elif op == "etcd.timeout":
                engine.etcd_timeout_now(member)
            elif op == "etcd.transfer":
                engine.etcd_transfer_leadership(member)
            elif op == "etcd.isolate":
                engine.partition(isolation_groups(engine, member))
            else:
                raise CommandError("BadRequest", f"unknown command {op!r}")
        except ClusterError as e:
            raise CommandError(_ETCD_REASON_BY_CODE.get(e.code, "BadRequest"), str(e)) from None
        finally:
            if engine.now != before:
                rc.reanchor()  # a put ran the engine until commit (or etcd's request timeout)
        return {"member": member, "members": engine.etcd_status(), "network": engine.network_state()}

    def _etcd_restore(self, rc: RunningCluster, snapshot: Any) -> dict:
        """`etcdutl snapshot restore` on every member (Cluster.etcd_snapshot_restore), checked
        first so that a bad snapshot changes nothing; the next frame's write replaces the
        persisted log with the restored keyspace."""
        try:
            snap = etcdsnapshot.parse(snapshot)
        except etcdsnapshot.SnapshotInvalid as e:
            raise CommandError("Invalid", e.message) from None
        rc.engine.etcd_snapshot_restore(snap)
        rc.restored_keyspace = etcdsnapshot.keyspace_entries(snap)
        rc.keyspace_epoch += 1
        # The engine hands out the new keyspace's writes from the restored revision on.
        rc.persisted_revision = snap["revision"]
        return {"revision": snap["revision"], "keys": len(snap["kvs"]), "members": rc.engine.etcd_status()}

    def _clock(self, rc: RunningCluster, args: dict) -> dict:
        """Get or set the clock: speed, paused, advance (run ahead at once), step (pause, then
        run ahead that much)."""
        if "speed" in args:
            speed = args["speed"]
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not (
                MIN_SPEED <= speed <= MAX_SPEED
            ):
                raise CommandError("BadRequest", f"speed must be a number from {MIN_SPEED} to {MAX_SPEED}")
            rc.speed = float(speed)
        if "paused" in args:
            if not isinstance(args["paused"], bool):
                raise CommandError("BadRequest", "paused must be true or false")
            rc.paused = args["paused"]
        if "step" in args:
            # Stepping is for a paused clock: pause first, so the step is all that runs.
            rc.paused = True
        for key in ("advance", "step"):
            if key not in args:
                continue
            value = args[key]
            if key == "step" and value is True:
                value = DEFAULT_STEP_SECONDS
            try:
                seconds = parse_duration(value)
            except ValueError as e:
                raise CommandError("BadRequest", f"{key}: {e}") from None
            if seconds > MAX_ADVANCE_SECONDS:
                raise CommandError("BadRequest", f"{key}: at most {MAX_ADVANCE_SECONDS:.0f}s at once")
            rc.engine.advance(seconds)
        rc.reanchor()
        rc.clock_changed = True
        return rc.clock()


# Virtual seconds a restored control plane may take to come up before we serve it anyway.
READY_TIMEOUT = 10.0
_READY_PROBE = {"verb": "get", "group": "", "version": "v1", "resource": "namespaces", "namespace": None,
                "name": "default", "subresource": None, "body": None, "patch_type": None, "query": {}}


def _wait_ready(engine: Cluster) -> None:
    """Run a restored engine until its kube-apiserver serves what etcd holds.

    Like a readiness probe after a real restart: until the apiserver's watch cache has synced
    from etcd, reads would answer 404 for objects that exist.  A cluster that was seeded but
    never got its namespaces, or whose control-plane node is down, gives up after
    READY_TIMEOUT virtual seconds and is served as it is."""
    deadline = engine.now + READY_TIMEOUT
    while engine.now < deadline and engine.request(_READY_PROBE).get("code") != 200:
        engine.advance(0.05)


def isolation_groups(engine: Cluster, member: str) -> list[list[str]]:
    """Partition groups that cut etcd `member` off from every other host: its fellow members
    and every node (for a stacked member that is its whole control-plane node)."""
    status = engine.etcd_status()
    host = next(m["host"] for m in status if m["name"] == member)
    rest = [m["name"] for m in status if m["host"] != host]
    rest += [h for h in engine.hosts() if h != host]
    return [[member], rest]


_CREATE_KEYS = {"name", "seed", "nodes", "etcd", "nodeMonitorGracePeriod", "nodeMonitorPeriod",
                "defaultTolerationSeconds", "schedulerConfiguration"}
_ETCD_KEYS = {"members", "topology", "heartbeatInterval", "electionTimeout"}


def _duration_arg(where: str, value: Any) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise CommandError("BadRequest", f"{where}: {e}") from None
    if seconds <= 0:
        raise CommandError("BadRequest", f"{where}: must be greater than 0")
    return seconds


def _config_from_args(args: dict) -> ClusterConfig:
    """A ClusterConfig from the body of POST /sim/v1/clusters:

        {"name", "seed"?, "nodes"?: [{"name","role","cpu","memory"}],
         "etcd"?: {"members": 1|3|5|7, "topology": "stacked"|"external",
                   "heartbeatInterval": "100ms", "electionTimeout": "1s"},
         "nodeMonitorGracePeriod"?: "50s", "nodeMonitorPeriod"?: "5s",
         "defaultTolerationSeconds"?: 300,
         "schedulerConfiguration"?: {KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)}}

    The scheduler configuration is kube-scheduler's --config file as JSON; the engine
    defaults and validates it when the cluster boots (a bad one is a 400 ClusterError).

    etcd has 3 members by default (etcd's recommended minimum for fault tolerance); with
    nodes given and a stacked topology, one per control-plane node given.  Without nodes: the
    demo's workers, and as many control-plane nodes (cp-1..cp-N) as a stacked etcd has
    members (one, with an external etcd)."""
    unknown = set(args) - _CREATE_KEYS
    if unknown:
        raise CommandError("BadRequest", f"unknown field(s) {', '.join(sorted(unknown))}; "
                                         f"known: {', '.join(sorted(_CREATE_KEYS))}")
    seed = args.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CommandError("BadRequest", "seed must be an integer")
    etcd = args.get("etcd")
    if etcd is None:
        etcd = {}
    if not isinstance(etcd, dict):
        raise CommandError("BadRequest", "etcd must be an object: {members, topology, heartbeatInterval, electionTimeout}")
    unknown = set(etcd) - _ETCD_KEYS
    if unknown:
        raise CommandError("BadRequest", f"etcd: unknown field(s) {', '.join(sorted(unknown))}; "
                                         f"known: {', '.join(sorted(_ETCD_KEYS))}")
    nodes = args.get("nodes")
    topology = etcd.get("topology", "stacked")
    if "members" in etcd:
        members = etcd["members"]
    elif nodes and topology == "stacked" and isinstance(nodes, list):
        members = sum(1 for n in nodes if isinstance(n, dict) and n.get("role") == "control-plane")
    else:
        members = 3
    if isinstance(members, bool) or members not in ETCD_MEMBER_COUNTS:
        raise CommandError("BadRequest", "etcd.members must be 1, 3, 5 or 7")
    if topology not in ETCD_TOPOLOGIES:
        raise CommandError("BadRequest", 'etcd.topology must be "stacked" or "external"')
    heartbeat = _duration_arg("etcd.heartbeatInterval", etcd.get("heartbeatInterval", 0.1))
    election = _duration_arg("etcd.electionTimeout", etcd.get("electionTimeout", 1.0))
    if election < 5 * heartbeat - 1e-9:
        raise CommandError("BadRequest", f"etcd.electionTimeout ({election * 1000:g}ms) should be at least "
                                         f"5 times etcd.heartbeatInterval ({heartbeat * 1000:g}ms)")
    if election > ETCD_MAX_ELECTION_TIMEOUT:
        raise CommandError("BadRequest", "etcd.electionTimeout must be at most 50s")
    if not nodes:
        cps = members if topology == "stacked" else 1
        specs = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in range(1, cps + 1)] + \
            [n for n in demo_config(seed).nodes if n.role != "control-plane"]
    else:
        if not isinstance(nodes, list):
            raise CommandError("BadRequest", "nodes must be a list")
        try:
            specs = [NodeSpec(n["name"], n.get("role", "worker"), str(n.get("cpu", "4")), str(n.get("memory", "8Gi"))) for n in nodes]
        except (KeyError, TypeError, AttributeError):
            raise CommandError("BadRequest", "nodes: each needs a name (role, cpu, memory optional)") from None
    config = ClusterConfig(seed=seed, nodes=specs, etcd_members=members, etcd_topology=topology,
                           etcd_heartbeat_interval=heartbeat, etcd_election_timeout=election)
    for key, attr in (("nodeMonitorGracePeriod", "node_monitor_grace_period"),
                      ("nodeMonitorPeriod", "node_monitor_period")):
        if key in args:
            setattr(config, attr, _duration_arg(key, args[key]))
    if "defaultTolerationSeconds" in args:
        value = args["defaultTolerationSeconds"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CommandError("BadRequest", "defaultTolerationSeconds must be a non-negative integer")
        config.default_toleration_seconds = value
    if "schedulerConfiguration" in args:
        scheduler_config = args["schedulerConfiguration"]
        if not isinstance(scheduler_config, dict):
            raise CommandError("BadRequest", "schedulerConfiguration must be a KubeSchedulerConfiguration object "
                                             '({"profiles": [...], "percentageOfNodesToScore": ...})')
        config.scheduler_config = scheduler_config
    return config
