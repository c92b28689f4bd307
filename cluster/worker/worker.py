"""SimulationWorker: owns the running clusters, paces them, sends their frames, serves commands.

* On start it brings back every persisted cluster (cluster/worker/restore.py: a cluster that
  cannot be restored is served broken, for repair, and the others run) and seeds `demo` when
  absent.
* About ten times a second (a frame) it runs each cluster toward where its clock should be, in
  a bounded slice of wall time (cluster/worker/pacing.py; a cluster that cannot keep up falls
  behind and says so), sends ONE numbered frame per cluster to its group `cluster.<name>`
  (cluster/worker/frames.py), and persists every cluster's new etcd entries in one transaction
  (cluster/worker/durability.py).
* It takes commands from the channel layer on `worker_channel_for(name)`, each in a task of
  its own so a long one (a request waiting for its commit in a busy cluster, an `advance`)
  never holds up the others, and answers each on the reply channel the command names
  (cluster/worker/commands.py holds the table; cluster/services.py the client side).

HTTP and WebSocket front ends hold no simulation state; they only talk to this worker.  In the
embedded deployment it runs on Daphne's event loop (`manage.py demo`), in the scaled-out one in
its own process (`manage.py runsimworker`).
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from cluster import persistence
from cluster.worker import frames, lessons, timeline
from cluster.worker.channels import group_for, worker_channel_for
from cluster.worker.commands import COMMANDS, CommandError, is_durable
from cluster.worker.durability import Persister
from cluster.worker.foreground import FOREGROUND
from cluster.worker.gcpolicy import GenerationFreezer
from cluster.worker.pacing import ENGINE_SHARE, MIN_SLICE_SECONDS, run_slice
from cluster.worker.restore import restore_cluster, wait_ready
from cluster.worker.running import RunningCluster
from cluster.worker.suspension import maybe_suspend, touch
from cluster.worker.timeline import Timeline
from sim.cluster import Cluster, ClusterConfig, ClusterError
from sim.clusterconfig import demo_config

log = logging.getLogger("cluster.worker")

# At most this many commands are handled at once; more wait on the channel.
MAX_CONCURRENT_COMMANDS = 64
# However late a frame is, the next one waits at least this long: the rest of the server's
# work (HTTP, the WebSocket, the database thread) always gets a share of the loop.
MIN_FRAME_GAP_SECONDS = 0.01
# While requests are answered, a frame's persist may wait (a write's own persist carries what
# the frames committed), but never longer than this.
MAX_PERSIST_DEFER_SECONDS = 1.0
# stop() lets the frame in progress finish for at most this long before cancelling it.
STOP_FRAME_WAIT_SECONDS = 2.0
# ... and the cancelled command-serving tasks this long (see stop).
STOP_TASKS_WAIT_SECONDS = 0.5


class SimulationWorker:
    """Runs simulated clusters; see the module docstring.

    `await worker.run()` serves until `await worker.stop()` (which persists a last time).
    `channels`: the command channels to listen on (default: the one from worker_channel_for).
    """

    def __init__(self, channel_layer=None, frame_rate: float | None = None, seed_demo: bool | None = None,
                 channels: list[str] | None = None):
        conf = getattr(settings, "PILOTHOUSE", {})
        self.layer = channel_layer or get_channel_layer()
        self.frame_interval = 1.0 / (frame_rate or conf.get("FRAME_RATE", 10.0))
        self.seed_demo = conf.get("SEED_DEMO", True) if seed_demo is None else seed_demo
        self.channels = channels or [worker_channel_for("")]
        self.clusters: dict[str, RunningCluster] = {}
        # For broken clusters: their newest stored keys, which the repair view lists.
        self.broken_keys: dict[str, list[str]] = {}
        self.persister = Persister(lambda: self.clusters.values())
        self.freezer = GenerationFreezer()
        self._tasks: list[asyncio.Task] = []
        self._commands: set[asyncio.Task] = set()
        self._command_slots = asyncio.Semaphore(MAX_CONCURRENT_COMMANDS)
        self._frame_task: asyncio.Task | None = None
        self._started = asyncio.Event()
        self._stopping = False
        self._creating: set[str] = set()

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Bring back every persisted cluster, seed `demo` if absent, serve commands/frames."""
        try:
            saved = await database_sync_to_async(persistence.load_all)()
        except Exception:  # the table itself is unreadable: serve what can be created anew
            log.exception("could not read the persisted clusters")
            saved = []
        for p in saved:
            rc = await restore_cluster(p)
            rc.template = p.template or _template_of(p)
            _restored(rc, p)
            await self._install(rc)
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
        """Stop serving and persist every cluster one last time (SIGTERM / Ctrl-C path).

        Bounded: the frame in progress gets STOP_FRAME_WAIT_SECONDS to finish (its slice of
        engine work is a fraction of a second), commands are cancelled; what was acknowledged
        is already persisted."""
        if self._stopping:
            return
        self._stopping = True
        for t in [*self._tasks, *self._commands]:
            if t is not self._frame_task:
                t.cancel()
        if self._frame_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._frame_task), STOP_FRAME_WAIT_SECONDS)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._frame_task.cancel()
        # Bounded: whatever a cancelled task still awaits (a Redis receive), the persist below
        # does not wait for it long.
        pending = [t for t in (*self._tasks, *self._commands) if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=STOP_TASKS_WAIT_SECONDS)
        await self._persist()
        log.info("simulation worker stopped; %d cluster(s) persisted", len(self.clusters))

    async def _install(self, rc: RunningCluster) -> None:
        rc.reanchor()
        if rc.broken is not None:
            self.broken_keys[rc.name] = await database_sync_to_async(persistence.stored_keys)(rc.name)
        else:
            self.broken_keys.pop(rc.name, None)
            rc.last_snapshot = frames.take_snapshot(rc.engine, rc.snapshots)
            rc.pending_events.extend(rc.engine.drain_events())
        self.clusters[rc.name] = rc

    async def create_cluster(self, name: str, config: ClusterConfig, prepare=None) -> RunningCluster:
        """Boot a new engine and persist it (row + bootstrap etcd log) before serving it.
        `prepare`: see _boot (a fork's or an import's replay)."""
        if name in self.clusters or name in self._creating:
            raise CommandError("AlreadyExists", f'cluster "{name}" already exists')
        self._creating.add(name)  # the save below awaits: keep a second create out meanwhile
        try:
            rc = await self._boot(name, config, create=True, prepare=prepare)
        finally:
            self._creating.discard(name)
        await self._install(rc)
        return rc

    async def _boot(self, name: str, config: ClusterConfig, create: bool, prepare=None) -> RunningCluster:
        """A new engine for `config`, its bootstrap keyspace persisted: as a new row (create)
        or in place of the row's whole keyspace (a reset).  `prepare(rc)` (a coroutine
        function) runs the new engine before anything is persisted: a fork's or an import's
        replay (cluster/worker/timeline.py)."""
        if not config.credentials:
            # The cluster's secrets (sim/apiserver/authfilter.py): the admin's static token and
            # the ServiceAccount token signing key, random, kept in its template so a reset or a
            # restart keeps them.
            config.credentials = {"adminToken": secrets.token_urlsafe(32),
                                  "serviceAccountKey": secrets.token_urlsafe(48)}
        template = config.to_json()
        if config.start_unix_time is None:
            # API timestamps count from the moment the cluster was created, so kubectl's
            # client-side ages (describe, events) read like a real cluster's.
            config.start_unix_time = time.time()
        # What a replay of this run starts from: the configuration with its start time and
        # credentials (cluster/worker/timeline.py).
        origin = config.to_json()
        engine = Cluster(name, config)
        rc = RunningCluster(name, engine, template=template)
        rc.timeline = Timeline(origin)
        if prepare is not None:
            await prepare(rc)
        entries = engine.committed_since(0)
        disks = engine.etcd_disk_states()
        topology = engine.topology()
        write = persistence.FrameWrite(name=name, time=engine.now, speed=rc.speed, paused=rc.paused,
                                       compacted_revision=engine.compacted_revision,
                                       entries=[] if not create else entries, topology=topology,
                                       etcd_disks=disks, template=template,
                                       replace_keyspace=None if create else entries, new_run=not create,
                                       lesson={})
        async with self.persister.exclusive():
            await database_sync_to_async(persistence.save_frames)([write], create=create)
        rc.persisted_revision = max((int(e["revision"]) for e in entries), default=0)
        rc.mark_persisted(topology, (rc.speed, rc.paused), engine.now, disks)
        return rc

    async def fork_checkpoint(self, name: str, source: RunningCluster, moment, paused: bool) -> RunningCluster:
        """A new cluster restored from a moment's checkpoint of `source` (its topology and etcd
        keyspace then), as a restart restores a cluster from its persisted state: for a run that
        cannot be replayed (cluster/worker/timeline.py).  Persisted before it is served."""
        if name in self.clusters or name in self._creating:
            raise CommandError("AlreadyExists", f'cluster "{name}" already exists')
        self._creating.add(name)
        try:
            entries = moment.etcd_log()
            try:
                engine = Cluster.restore(name, moment.topology, entries, moment.time)
            except ClusterError as e:
                raise CommandError("Conflict", f"the moment could not be restored: {e}") from None
            await wait_ready(engine)
            rc = RunningCluster(name, engine, paused=paused, template=source.template)
            rc.timeline = Timeline(None, f'the cluster was forked from a checkpoint of "{source.name}" at '
                                         f"t={moment.time:.1f}s, not replayed: its run cannot be replayed from a seed")
            topology, disks = engine.topology(), engine.etcd_disk_states()
            engine.committed_since(max((e["revision"] for e in entries), default=0))
            write = persistence.FrameWrite(name=name, time=engine.now, speed=rc.speed, paused=rc.paused,
                                           compacted_revision=engine.compacted_revision, entries=entries,
                                           topology=topology, etcd_disks=disks, template=source.template or {})
            async with self.persister.exclusive():
                await database_sync_to_async(persistence.save_frames)([write], create=True)
            rc.persisted_revision = max((e["revision"] for e in entries), default=0)
            rc.mark_persisted(topology, (rc.speed, rc.paused), engine.now, disks)
        finally:
            self._creating.discard(name)
        await self._install(rc)
        log.info("forked cluster %s from a checkpoint of %s at t=%.1fs", name, source.name, moment.time)
        return rc

    async def delete_cluster(self, rc: RunningCluster) -> None:
        """Stop the cluster, forget it and its persisted row; its pages get a last frame."""
        rc.closed = True
        self.clusters.pop(rc.name, None)
        self.broken_keys.pop(rc.name, None)
        async with self.persister.exclusive():
            await database_sync_to_async(persistence.delete_cluster)(rc.name)
        await self._send_final(rc, "deleted", f"cluster {rc.name} was deleted")
        self.freezer.collect_all()  # the dropped engine's reference cycles
        log.info("deleted cluster %s", rc.name)

    async def reset_cluster(self, rc: RunningCluster) -> RunningCluster:
        """Start the cluster again from the configuration it was created with: a new engine,
        its bootstrap keyspace in place of everything stored (as `kubeadm reset` + `init`)."""
        config = _config_from_template(rc)
        rc.closed = True
        new = await self._boot(rc.name, config, create=False)
        new.frame = rc.frame  # pages keep counting; the next frame's snapshot replaces their view
        new.watchers, new.follow = rc.watchers, rc.follow   # ... and keep watching (suspension.py)
        new.log.extend(rc.log)
        new.pending_events.append({"kind": "action", "component": "pilothouse", "t": 0.0,
                                   "text": f"cluster {rc.name} was reset to its template"})
        await self._install(new)
        self.freezer.collect_all()  # the old engine's reference cycles
        log.info("reset cluster %s to its template", rc.name)
        return new

    async def retry_cluster(self, rc: RunningCluster) -> RunningCluster:
        """Restore a broken cluster from what is persisted now."""
        p = await database_sync_to_async(persistence.load_one)(rc.name)
        if p is None:
            raise CommandError("ClusterNotFound", f'cluster "{rc.name}" not found')
        new = await restore_cluster(p)
        new.template = rc.template or p.template or _template_of(p)
        new.frame = rc.frame
        _restored(new, p)
        new.watchers, new.follow = rc.watchers, rc.follow
        rc.closed = True
        await self._install(new)
        return new

    async def delete_stored_key(self, rc: RunningCluster, key: str) -> int:
        return await database_sync_to_async(persistence.delete_key)(rc.name, key)

    # -- frames -------------------------------------------------------------------------
    async def _frame_loop(self) -> None:
        # Full collections are this loop's (maybe_freeze) only while it runs.
        self.freezer.install()
        try:
            await self._run_frames()
        finally:
            self.freezer.uninstall()

    async def _run_frames(self) -> None:
        next_at = time.monotonic()
        while not self._stopping:
            next_at += self.frame_interval
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one frame must not stop every cluster for good
                log.exception("frame failed")
            self.freezer.maybe_freeze()
            delay = next_at - time.monotonic()
            if delay < MIN_FRAME_GAP_SECONDS:  # fell behind: don't burst to catch up
                next_at = time.monotonic() + MIN_FRAME_GAP_SECONDS
                delay = MIN_FRAME_GAP_SECONDS
            if not self._stopping:
                await asyncio.sleep(delay)

    async def tick(self) -> None:
        """One frame for every cluster: advance (within its slice), send the frame, persist."""
        now = time.monotonic()
        # A cluster nobody watches or uses is suspended: not run, no frames (suspension.py).
        running = [rc for rc in self.clusters.values()
                   if rc.engine is not None and not rc.closed and not maybe_suspend(rc, now)]
        moving = sum(1 for rc in running if not rc.paused)
        share = max(MIN_SLICE_SECONDS, self.frame_interval * ENGINE_SHARE / max(1, moving))
        for rc in running:
            try:
                if not rc.paused:
                    await self._advance(rc, share)
                if rc.closed:
                    continue
                await self._send_frame(rc)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one cluster's frame must not stop the others, nor persistence
                log.exception("frame of cluster %s failed", rc.name)
            await asyncio.sleep(0)  # HTTP and the WebSocket get their turn between clusters
        started = time.monotonic()
        if FOREGROUND.busy and started - self.persister.last < MAX_PERSIST_DEFER_SECONDS:
            # A request is being answered: a write among them persists everything committed so
            # far anyway, and this frame's persist would only make it wait for a second one.
            return
        await self._persist()
        log.debug("persist took %.3fs", time.monotonic() - started)

    @staticmethod
    async def _advance(rc: RunningCluster, share: float) -> None:
        engine = rc.engine
        target = rc.target(time.monotonic())
        start = engine.now
        if target <= start:
            return
        reached = await run_slice(engine, target, share, FOREGROUND)
        rc.lag.record(asked=target - start, got=engine.now - start)
        log.debug("cluster %s: asked %.3fs, got %.3fs (pace %.2f)", rc.name, target - start, engine.now - start,
                  rc.lag.ratio)
        if not reached:
            # The cluster cannot keep up: its clock falls behind instead of starving the server,
            # and the debt is not carried over (the next frame asks for one frame's worth again).
            rc.anchor_virtual, rc.anchor_wall = engine.now, time.monotonic()

    async def _send_frame(self, rc: RunningCluster) -> None:
        events = rc.pending_events + rc.engine.drain_events()
        rc.pending_events = []
        moved = rc.last_sent_time is None or rc.engine.now != rc.last_sent_time
        if not events and not moved and not rc.clock_changed and not (
                rc.snapshot_owed and rc.snapshots.due(time.monotonic(), defer=FOREGROUND.busy)):
            return  # paused and idle: nothing new to draw
        rc.frame += 1
        kept, logged, omitted, omitted_log = frames.select_events(events)
        for ev in logged:
            rc.log.append({"frame": rc.frame, **ev})
        rc.timeline.note_log([{"frame": rc.frame, **ev} for ev in logged])
        snapshot = None
        if rc.snapshots.due(time.monotonic(), defer=FOREGROUND.busy) or rc.clock_changed:
            snapshot = frames.take_snapshot(rc.engine, rc.snapshots)
            # (rc.last_snapshot: what the pages hold, set below once the frame is made.)
            if rc.timeline.due(rc.engine.now):
                rc.timeline.record(rc.engine, rc.frame, snapshot)
        rc.snapshot_owed = snapshot is None
        rc.last_sent_time = rc.engine.now
        rc.clock_changed = False
        message = frames.frame_message(rc, kept, omitted, omitted_log, snapshot)
        if message["snapshot"] is not None:  # what the pages hold once they applied it (fit may cut it)
            rc.last_snapshot = message["snapshot"]
        # One encoding per frame, whatever the number of pages (cluster/fanout.py), and only
        # what changed in the snapshot (cluster/worker/snapdelta.py).
        await self.layer.group_send(group_for(rc.name), frames.group_message(rc.deltas.encode(message)))

    async def _send_final(self, rc: RunningCluster, what: str, message: str) -> None:
        try:
            await self.layer.group_send(group_for(rc.name), frames.group_message({
                "type": "cluster.frame", "cluster": rc.name, "frame": rc.frame + 1, "sentAt": round(time.time(), 4),
                what: True, "time": rc.engine.now if rc.engine is not None else 0.0, "speed": rc.speed,
                "paused": True, "events": [{"kind": "action", "component": "pilothouse", "text": message}],
                "omitted": 0, "omittedLog": 0, "snapshot": None}))
        except Exception:
            log.warning("could not tell the pages of %s", rc.name, exc_info=True)

    async def _persist(self) -> None:
        await self.persister.persist()

    # -- commands -----------------------------------------------------------------------
    async def _serve_commands(self, channel: str) -> None:
        while True:
            await self._command_slots.acquire()
            try:
                msg = await self.layer.receive(channel)
            except asyncio.CancelledError:
                self._command_slots.release()
                raise
            except Exception:  # a Redis hiccup must not take the worker down: retry
                self._command_slots.release()
                if self._stopping:
                    # The stop's cancellation, which redis-py can turn into a connection error
                    # while a BZPOPMIN is under way: retrying would never end the task.
                    return
                log.warning("receiving on %s failed; retrying", channel, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            task = asyncio.ensure_future(self._answer(msg))
            self._commands.add(task)
            task.add_done_callback(self._command_done)

    def _command_done(self, task: asyncio.Task) -> None:
        self._commands.discard(task)
        self._command_slots.release()

    async def _answer(self, msg: dict) -> None:
        reply_to = msg.get("reply_channel")
        op, name = msg.get("op", ""), msg.get("cluster")
        args = msg.get("args") if isinstance(msg.get("args"), dict) else {}
        # A Kubernetes API request is foreground work: the frame loop's advance steps aside for
        # it (with the worker in its own process, the web process's count does not reach here).
        foreground = op == "api"
        if foreground:
            FOREGROUND.enter()
        try:
            reply = {"type": "sim.reply", "ok": True, "result": await self.handle(op, name, args)}
        except CommandError as e:
            reply = {"type": "sim.reply", "ok": False, "error": {"reason": e.reason, "message": e.message}}
        except asyncio.CancelledError:
            raise
        except Exception as e:  # report, keep serving
            log.exception("command %s on %s failed", op, name)
            reply = {"type": "sim.reply", "ok": False,
                     "error": {"reason": "Internal", "message": f"internal error: {type(e).__name__}: {e}"}}
        finally:
            if foreground:
                FOREGROUND.leave()
        if reply_to:
            try:
                await self.layer.send(reply_to, reply)
            except Exception:  # the asker gave up (channel full/expired): nothing to do
                log.warning("could not reply to %s", reply_to)

    def _get(self, name: str | None) -> RunningCluster:
        rc = self.clusters.get(name) if isinstance(name, str) else None
        if rc is None:
            raise CommandError("ClusterNotFound", f'cluster "{name}" not found')
        return rc

    async def handle(self, op: str, name: str | None, args: dict):
        """Execute one command; returns a JSON-compatible result or raises CommandError.  A
        command that changes a cluster is answered only once the change is persisted."""
        command = COMMANDS.get(op) if isinstance(op, str) else None
        if command is None:
            raise CommandError("BadRequest", f"unknown command {op!r}")
        rc = None
        if command.scope != "global":
            rc = self._get(name)
            if command.touches:
                touch(rc)   # a suspended cluster resumes on demand
            if rc.broken is not None and command.scope != "any":
                raise CommandError("ClusterBroken", f'cluster "{rc.name}" could not be restored ({rc.broken}); '
                                                    "repair it: reset it to its template, delete it, or delete "
                                                    "the stored key that breaks it")
        # A command that reaches the engine goes into the cluster's journal with the point
        # of the run where it came in (cluster/worker/timeline.py); "api" journals itself.
        guard = None
        if rc is not None and rc.engine is not None and op not in timeline.NOT_JOURNALED:
            guard = rc.timeline.guard(rc.engine, op)
        try:
            result = command.handler(self, rc, args)
        except Exception:
            if guard is not None:
                guard.done(args, ok=False)
                rc.snapshots.force()
            raise
        if guard is not None:
            guard.done(args, ok=True)
            rc.snapshots.force()  # the next frame's snapshot makes the moment after it
        if asyncio.iscoroutine(result):
            result = await result
        if is_durable(op, args):
            await self._persist()
        return result


def _template_of(p: persistence.PersistedCluster) -> dict | None:
    """For clusters persisted before templates were kept: their topology's configuration."""
    config = (p.topology or {}).get("config")
    return config if isinstance(config, dict) else None


def _config_from_template(rc: RunningCluster) -> ClusterConfig:
    """The configuration a reset goes back to: the cluster's template (every node alive, a new
    start time), or the demo's when there is none that can be read."""
    try:
        config = ClusterConfig.from_json(rc.template)
        for node in config.nodes:
            node.alive = True
        config.start_unix_time = None
        return config
    except Exception:
        log.warning("cluster %s has no usable template; resetting it to the demo's shape", rc.name)
        return demo_config()


def _restored(rc: RunningCluster, p: persistence.PersistedCluster) -> None:
    """A cluster brought back from the database is restored from its etcd log, not replayed from
    its seed: its journal stops here and its run from now on cannot be replayed.  Its history
    goes on (the moments from before, pages only; a fork from one the journal replays is a
    replay: docs/timeline.md), its frames count on from them, and the lesson it was playing
    resumes at the step it was on."""
    when = f"t={rc.engine.now:.1f}s" if rc.engine is not None else "its restore"
    rc.timeline = Timeline.restored(
        p.timeline, p.journal, p.moments,
        f"the cluster was restored from the database at {when} after a restart: its run since then is not "
        "a replay of its seed (a fork from a moment before the restart is replayed, and can be exported)")
    if rc.timeline.moments:
        rc.frame = max(rc.frame, rc.timeline.moments[-1].frame + 1)
    if rc.engine is not None:
        lessons.resume(rc, p.lesson)
