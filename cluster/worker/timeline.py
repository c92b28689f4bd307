"""The timeline of a running cluster: its history of moments, its command journal, and replay.

The engine is deterministic (sim/kernel.py: one event queue ordered by (time, sequence), one
seeded random generator, no wall clock): a cluster built from the same configuration (seed,
nodes, start time, credentials) that is given the same commands at the same points of its run
goes through the very same states, byte for byte.  A point of a run is (virtual time, kernel
events run so far): the worker runs the kernel in slices that may stop between two events of
the same instant, so the time alone does not say where a command came in.

* **The journal** is every command that reached the engine, with its point: Kubernetes API
  requests that travelled to kube-apiserver (reads too: a consistent read's messages take
  their latency from the seeded generator, so they shape the rest of the run; a watch or a
  read answered at once from the watch cache touches nothing and is not kept), the control
  API's actions (kill a node, partition, etcd put, a pod fault, exec input ...) and any other
  command that ran the kernel.  The clock (pause, speed, advance) is not in it: it only says
  how far the kernel runs, and the next entry's point says that exactly.  Bounded by
  MAX_JOURNAL_BYTES: a journal that outgrows it stops, and the run can no longer be replayed
  (history goes on).
* **The history** is a ring of moments, one at most every MOMENT_INTERVAL virtual seconds and
  one after each command (and at most one a wall second between commands): the point, the frame number, the page's snapshot and the log lines
  since the moment before (zlib-compressed JSON), and the etcd keyspace (the live keys of the
  most advanced member, shared with the store: its values are immutable, so a moment costs a
  pointer per key, not a copy of the values).  Bounded by MAX_MOMENTS and MAX_HISTORY_BYTES:
  the oldest moments go first.
* **Persisted** with each frame's write (cluster/persistence.py: the origin, the journal, each
  moment's point and page; not its keyspace, which shares the store's values in memory).  A
  restart restores the cluster from its etcd log, not by replay, so the journal stops there
  (`Timeline.restored`); the moments from before it are still shown, and a fork from one of
  them is replayed from the origin (docs/timeline.md).
* **Replay** (`replay`) builds the run again in a new engine: run to each entry's point, apply
  the entry, run to the end.  Forks and imports are replays; a replay that does not arrive at
  an entry's point exactly raises ReplayDiverged instead of handing out a different cluster.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

# The export's document (kind, apiVersion, its check) is the engine's run format, readable
# without the worker: sim/runexport.py (a lesson's saved moment is checked with it too).
from sim.runexport import EXPORT_API_VERSION, EXPORT_KIND, TimelineError, check_export  # noqa: F401

# A moment at most every this many virtual seconds (and after each command) ...
MOMENT_INTERVAL = 5.0
# ... and, whatever the speed, at most one a wall-clock second between commands: a cluster at
# 50x would otherwise copy its keyspace and compress its snapshot ten times a second (the ring
# then spans more virtual time, in coarser steps).
MOMENT_WALL_INTERVAL = 1.0
# ... at most this many of them (an hour of a cluster at the default interval) ...
MAX_MOMENTS = 720
# ... within this many bytes per cluster (the compressed snapshots, plus KEY_COST per etcd key:
# a moment's keyspace is a dict of pointers to the store's immutable values, about 33 bytes a
# key measured; a moment of the demo cluster is about 5 KiB of snapshot and 200 keys).
MAX_HISTORY_BYTES = 32 * 1024 * 1024
KEY_COST = 40
# GET .../history/<at> decodes at most this many objects (the rest are counted): decoding is the
# worker's time, and a cluster of 100,000 pods would hold it for seconds.
MAX_OBJECTS_SHOWN = 2000
# Log lines a moment keeps (the ones since the moment before it).
MOMENT_LOG_LINES = 300
# A journal larger than this stops: the run is no longer replayable (an export would be huge).
MAX_JOURNAL_BYTES = 16 * 1024 * 1024
# Replay runs the kernel in chunks of this many events, yielding to the event loop between
# chunks at most every REPLAY_YIELD_SECONDS, and gives up after REPLAY_WALL_SECONDS.
REPLAY_CHUNK = 500
REPLAY_YIELD_SECONDS = 0.01
REPLAY_WALL_SECONDS = 120.0

# What GET .../history/<at> may return (?parts=snapshot,events,etcd,objects).
PARTS = frozenset({"snapshot", "events", "etcd", "objects"})


# Commands that are journaled when they succeed (they change the cluster even when the kernel
# runs nothing, a partition say); any other command is journaled only if it ran the kernel.
CHANGING_OPS = frozenset({
    "node.kill", "node.restore", "node.add", "component.kill", "pod.fault", "traffic", "workload.load",
    "network.partition", "network.heal", "network.link", "etcd.compact", "etcd.snapshot.restore", "etcd.put",
    "etcd.kill", "etcd.restore", "etcd.timeout", "etcd.transfer", "etcd.isolate", "stream",
    "etcd.member.add", "etcd.member.promote", "etcd.member.remove",
    "kubeadm.init", "kubeadm.join", "kubeadm.pod-network",
})
# Never journaled: the clock (see the module docstring), reads of the worker's own state, and
# "api", which its handler journals itself (only requests that travelled).
# "lesson" too: the actions its player runs are journaled one by one as "lesson.do"
# (cluster/worker/lessons.py), since a replay has no player.
NOT_JOURNALED = frozenset({"clock", "state", "cluster.kubeconfig", "api", "history", "history.at",
                           "export", "cluster.delete", "cluster.reset", "cluster.retry", "cluster.delete-key",
                           "lesson"})


class ReplayDiverged(Exception):
    """A replay did not reach an entry's point: the run cannot be rebuilt faithfully."""


def point(engine) -> tuple[float, int]:
    """Where the engine's run is: (virtual time, kernel events run)."""
    return engine.now, engine.kernel.events_run


def _kernel_mark(engine) -> tuple[int, int]:
    """What changes when anything is queued or run on the kernel."""
    return engine.kernel._seq, engine.kernel.events_run


def etcd_store(engine):
    """The keyspace of the most advanced etcd member (a stopped member's lags behind)."""
    return max((m.store for m in engine.etcd_members), key=lambda s: s.revision)


def keyspace_digest(items) -> str:
    """sha256 of a keyspace's (key, value, mod revision), in key order: what "byte for byte"
    compares."""
    h = hashlib.sha256()
    for key, kv in sorted(items):
        h.update(json.dumps([key, kv.value, kv.mod_revision]).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class Moment:
    time: float
    frame: int
    events: int          # kernel events run (with `time`, the moment's point)
    revision: int        # the etcd revision of `keyspace`
    blob: bytes          # zlib(JSON {"snapshot", "events"})
    keyspace: dict       # key -> sim.etcd.mvcc.KeyValue (frozen, shared with the store)
    size: int
    # The journal entries applied before it was taken: a command may come in at the very point
    # of a moment, after it (a fork from the moment leaves it out).
    journal: int = 0
    # Cluster.topology() then (shared with the moment before when unchanged): what a fork from
    # this moment's checkpoint restores, for a run that cannot be replayed.
    topology: dict | None = None
    # Its number in the cluster's history (HistoryMoment.seq), and whether the journal replays
    # the run up to it (taken while the run was replayable).  A moment from before a restart has
    # no keyspace (None) and no topology: only its page was persisted.
    seq: int = 0
    replayable: bool = False

    def etcd_log(self) -> list[dict]:
        """The keyspace as the entries Cluster.restore takes (oldest revision first)."""
        return sorted(({"revision": kv.mod_revision, "key": k, "value": kv.value} for k, kv in self.keyspace.items()),
                      key=lambda e: e["revision"])

    def summary(self) -> dict:
        return {"time": self.time, "frame": self.frame, "revision": self.revision, "replayable": self.replayable}

    def page(self) -> dict:
        return json.loads(zlib.decompress(self.blob))

    def row(self) -> dict:
        """What cluster/persistence.py keeps of it (HistoryMoment's fields)."""
        return {"seq": self.seq, "time": self.time, "frame": self.frame, "events": self.events,
                "revision": self.revision, "journal": self.journal, "replayable": self.replayable,
                "blob": self.blob}


class Timeline:
    """One cluster's journal and history (see the module docstring).

    `origin`: the ClusterConfig JSON the engine was built with (seed, nodes, start time,
    credentials): with the journal, what a replay needs.  None when the run cannot be replayed
    (`unreplayable` says why: restored from the database after a restart, say)."""

    def __init__(self, origin: dict | None, unreplayable: str | None = None,
                 journal: list[dict] | None = None):
        self.origin = origin
        self.unreplayable = unreplayable if origin is not None else (unreplayable or "the run has no origin")
        self.journal: list[dict] = list(journal or [])
        self.journal_bytes = sum(len(e["args"]) for e in self.journal)
        self.moments: collections.deque[Moment] = collections.deque()
        self.bytes = 0
        self.dirty = True                      # a command since the last moment
        self.recorded_at = 0.0                 # when the last moment was kept (monotonic)
        self.log: collections.deque = collections.deque(maxlen=MOMENT_LOG_LINES)
        # What has been handed to the database (see unpersisted): the journal's length, the
        # newest moment's seq, the seqs of handed moments the ring has let go since, the meta.
        self.next_seq = 0
        self.handed_journal = 0
        self.handed_seq = -1
        self.dropped: list[int] = []
        self.handed_meta: dict | None = None
        self.handed_from: int | None = None   # the oldest moment's seq the last write kept from
        self.in_flight_seq = -1                # the newest moment a write (maybe in flight) carries

    @classmethod
    def restored(cls, meta: dict | None, journal: list[dict] | None, moments: list[dict] | None,
                 why: str) -> "Timeline":
        """The timeline of a cluster restored from the database (`why` it is no longer
        replayable): the origin and journal of the run before, and its moments, pages only.
        Moments taken while that run was replayable are still forked by replaying the journal."""
        meta = meta if isinstance(meta, dict) else {}
        origin = meta.get("origin") if isinstance(meta.get("origin"), dict) else None
        tl = cls(origin, why, journal=[e for e in journal or [] if isinstance(e.get("args"), str)])
        tl.unreplayable = why
        for row in moments or []:
            m = Moment(row["time"], row["frame"], row["events"], row["revision"], row["blob"], None,
                       len(row["blob"]), row["journal"], None, row["seq"],
                       bool(row["replayable"]) and origin is not None and row["journal"] <= len(tl.journal))
            tl.moments.append(m)
            tl.bytes += m.size
        tl.handed_journal = len(tl.journal)
        tl.handed_seq = tl.in_flight_seq = tl.moments[-1].seq if tl.moments else -1
        tl.handed_from = tl.moments[0].seq if tl.moments else None
        tl.next_seq = max(int(meta.get("nextSeq") or 0), tl.handed_seq + 1)
        return tl

    def meta(self) -> dict:
        return {"origin": self.origin, "unreplayable": self.unreplayable, "nextSeq": self.next_seq}

    def unpersisted(self) -> tuple[dict, tuple]:
        """What the next frame's write carries (cluster/persistence.py FrameWrite's timeline
        fields), and the mark to hand to `handed` once it is written (a write that fails leaves
        it all for the next one)."""
        meta = self.meta()
        first = self.moments[0].seq if self.moments else None
        last = self.moments[-1].seq if self.moments else self.handed_seq
        out = {"timeline": meta if meta != self.handed_meta else None,
               "journal": [dict(e, seq=i) for i, e in enumerate(self.journal[self.handed_journal:], self.handed_journal)],
               "moments": [m.row() for m in self.moments if m.seq > self.handed_seq],
               "moments_from": first if first != self.handed_from else None,
               "moments_dropped": list(self.dropped)}
        self.in_flight_seq = max(self.in_flight_seq, last)
        return out, (meta, len(self.journal), last, first, len(self.dropped))

    def handed(self, mark: tuple) -> None:
        """The write of `unpersisted`'s answer is in the database."""
        meta, journal, last, first, dropped = mark
        self.handed_meta, self.handed_journal = meta, journal
        self.handed_seq = max(self.handed_seq, last)
        if first is not None:
            self.handed_from = first
        del self.dropped[:dropped]

    def pending(self) -> bool:
        """Whether anything of it is not handed to the database yet."""
        return (len(self.journal) > self.handed_journal or bool(self.dropped) or self.meta() != self.handed_meta
                or bool(self.moments) and self.moments[-1].seq > self.handed_seq)

    # -- the journal ----------------------------------------------------------------------
    def note(self, at: tuple[float, int], op: str, args: dict | None, text: str | None = None) -> None:
        """Journal command `op` applied at point `at`: its arguments as given (`args`), or
        already as JSON (`text`, taken before the engine saw them: it may change what it gets)."""
        self.dirty = True
        if self.unreplayable is not None:
            return
        if text is None:
            try:
                text = json.dumps(args, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as e:
                self.unreplayable = f"a {op} command at t={at[0]:.3f}s could not be journaled ({e})"
                return
        if self.journal_bytes + len(text) > MAX_JOURNAL_BYTES:
            self.unreplayable = (f"the journal outgrew {MAX_JOURNAL_BYTES // (1024 * 1024)} MiB at t={at[0]:.1f}s; "
                                 "the run from there on is in the history but cannot be replayed")
            return
        self.journal.append({"t": at[0], "events": at[1], "op": op, "args": text})
        self.journal_bytes += len(text)

    def spoil(self, at: tuple[float, int], op: str, why: str) -> None:
        """A command reached the engine that cannot be journaled: the run is not replayable."""
        self.dirty = True
        if self.unreplayable is None:
            self.unreplayable = f"a {op} command at t={at[0]:.3f}s could not be journaled ({why})"

    def guard(self, engine, op: str) -> "CommandGuard":
        return CommandGuard(self, engine, op)

    # -- the history ----------------------------------------------------------------------
    def note_log(self, lines: list[dict]) -> None:
        self.log.extend(lines)

    def due(self, now: float) -> bool:
        if self.dirty or not self.moments:
            return True
        return now >= self.moments[-1].time + MOMENT_INTERVAL and \
            time.monotonic() >= self.recorded_at + MOMENT_WALL_INTERVAL

    def record(self, engine, frame: int, snapshot: dict) -> Moment:
        """Keep a moment of the engine as it is now, with the page's `snapshot` of it."""
        store = etcd_store(engine)
        blob = zlib.compress(json.dumps({"snapshot": snapshot, "events": list(self.log)},
                                        separators=(",", ":"), default=str).encode(), 3)
        keyspace = dict(store.current)
        topology = engine.topology()
        if self.moments and self.moments[-1].topology == topology:
            topology = self.moments[-1].topology
        m = Moment(engine.now, frame, engine.kernel.events_run, store.revision, blob, keyspace,
                   len(blob) + KEY_COST * len(keyspace), len(self.journal), topology, self.next_seq,
                   self.unreplayable is None and self.origin is not None)
        self.next_seq += 1
        if self.moments and self.moments[-1].time == m.time and self.moments[-1].events == m.events:
            self._drop(self.moments.pop())  # the same point again: the newer frame wins
        self.moments.append(m)
        self.bytes += m.size
        while len(self.moments) > 1 and (len(self.moments) > MAX_MOMENTS or self.bytes > MAX_HISTORY_BYTES):
            self._drop(self.moments.popleft())
        self.log.clear()
        self.dirty = False
        self.recorded_at = time.monotonic()
        return m

    def keep_keyspace(self, m: Moment, keyspace: dict) -> None:
        """A moment's etcd keyspace rebuilt by a replay (a moment kept from before a restart),
        counted in the history's bytes like a live moment's."""
        if m.keyspace is None and any(x is m for x in self.moments):
            m.keyspace = keyspace
            m.size += KEY_COST * len(keyspace)
            self.bytes += KEY_COST * len(keyspace)

    def _drop(self, m: Moment) -> None:
        self.bytes -= m.size
        if m.seq <= max(self.handed_seq, self.in_flight_seq):
            self.dropped.append(m.seq)   # persisted (or being): the next write deletes its row

    def listing(self) -> dict:
        return {"moments": [m.summary() for m in self.moments],
                "journal": len(self.journal),
                "replayable": self.unreplayable is None,
                "unreplayable": self.unreplayable,
                "bounds": {"moments": MAX_MOMENTS, "bytes": MAX_HISTORY_BYTES, "interval": MOMENT_INTERVAL,
                           "journalBytes": MAX_JOURNAL_BYTES},
                "bytes": self.bytes}

    def find(self, at: str) -> Moment:
        """The moment `at` names: "frame-<n>" (the latest moment at or before frame n), or a
        virtual time "<seconds>" / "<seconds>s" (the latest moment at or before it)."""
        if not self.moments:
            raise TimelineError("NotFound", "the cluster has no history yet")
        text = str(at).strip()
        try:
            if text.startswith("frame-"):
                key, value = "frame", int(text[len("frame-"):])
            else:
                key, value = "time", float(text[:-1] if text.endswith("s") else text)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError(text)
        except ValueError:
            raise TimelineError("BadRequest", f'"{at}" is neither a virtual time ("12.5" or "12.5s") nor a '
                                              'frame ("frame-42")') from None
        found = None
        for m in self.moments:
            if getattr(m, key) <= value:
                found = m
            else:
                break
        if found is None:
            first = self.moments[0]
            raise TimelineError("NotFound", f"the history starts at t={first.time:.1f}s (frame {first.frame}); "
                                            f"nothing is kept from before {at}")
        return found

    def state_at(self, at: str, parts: set[str]) -> dict:
        """The cluster as it was at moment `at`: {"time", "frame", "revision"} and the `parts`
        asked for: "snapshot" (the page's), "events" (the log's events since the moment before:
        actions, Kubernetes Events, node changes),
        "etcd" ({"revision", "kvs": [[key, value, modRevision]]}), "objects" (the stored
        Kubernetes objects, decoded)."""
        m = self.find(at)
        out: dict[str, Any] = m.summary()
        if parts & {"snapshot", "events"}:
            try:
                page = m.page()
            except (zlib.error, ValueError) as e:   # a stored moment damaged in the database
                raise TimelineError("InternalError", f"the stored page of the moment at t={m.time:.1f}s (frame "
                                                     f"{m.frame}) is corrupt: {e}") from None
            for p in ("snapshot", "events"):
                if p in parts:
                    out[p] = page.get(p)
        if parts & {"etcd", "objects"} and m.keyspace is None:
            # (A replayable one is rebuilt by replay first: cluster/worker/commands.py history_at.)
            raise TimelineError("Expired", f"the etcd keyspace of the moment at t={m.time:.1f}s (frame {m.frame}) was "
                                           "not kept across the server's restart, only its page, and the run up to it "
                                           "cannot be replayed to rebuild it")
        if "etcd" in parts:
            out["etcd"] = {"revision": m.revision,
                           "kvs": [[k, kv.value, kv.mod_revision] for k, kv in sorted(m.keyspace.items())]}
        if "objects" in parts:
            out["objects"], total = _objects(m.keyspace)
            if total > len(out["objects"]):
                out["objectsTotal"] = total
        return out

    # -- export ----------------------------------------------------------------------------
    def export(self, name: str, engine) -> dict:
        """The run as a document another Pilothouse can replay: its configuration (seed,
        topology, start time and credentials), the journal, the end point and what etcd held
        there (a digest, which an import checks)."""
        if self.unreplayable is not None:
            raise TimelineError("Conflict", f'the run of cluster "{name}" cannot be exported: {self.unreplayable}')
        store = etcd_store(engine)
        return {"apiVersion": EXPORT_API_VERSION, "kind": EXPORT_KIND,
                "metadata": {"cluster": name, "exportedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                "seed": self.origin.get("seed"), "config": self.origin,
                "journal": [dict(e, args=json.loads(e["args"])) for e in self.journal],
                "end": {"time": engine.now, "events": engine.kernel.events_run, "revision": store.revision,
                        "etcdDigest": keyspace_digest(store.current.items())}}


class CommandGuard:
    """Journals a synchronous command: taken before it runs, `done(ok)` after (see CHANGING_OPS)."""

    def __init__(self, timeline: Timeline, engine, op: str):
        self.timeline, self.engine, self.op = timeline, engine, op
        self.at = point(engine)
        self.mark = _kernel_mark(engine)

    def done(self, args: dict, ok: bool) -> None:
        if (ok and self.op in CHANGING_OPS) or _kernel_mark(self.engine) != self.mark:
            self.timeline.note(self.at, self.op, args)


def _objects(keyspace: dict) -> tuple[list[dict], int]:
    """The first MAX_OBJECTS_SHOWN stored objects by key, decoded, and how many keys there are
    under /registry/."""
    out = []
    keys = sorted(k for k in keyspace if k.startswith("/registry/"))
    for key in keys[:MAX_OBJECTS_SHOWN]:
        kv = keyspace[key]
        try:
            obj = json.loads(kv.value)
        except (TypeError, ValueError):
            continue
        if isinstance(obj, dict) and obj.get("kind"):
            out.append(obj)
    return out, len(keys)


# -- replay ----------------------------------------------------------------------------------

async def run_to(engine, t: float, events: int | None, started: float) -> None:
    """Run the kernel to point (t, events) exactly (events None: every event due by t)."""
    kernel = engine.kernel
    slice_end = time.monotonic() + REPLAY_YIELD_SECONDS
    while True:
        if events is None:
            budget = REPLAY_CHUNK
        else:
            if kernel.events_run >= events:
                break
            budget = min(REPLAY_CHUNK, events - kernel.events_run)
        reached = kernel.run_until(t, max_events=budget)
        if reached and (events is None or kernel.events_run >= events):
            break
        if reached:
            raise ReplayDiverged(f"the replay reached t={t:.3f}s after {kernel.events_run} events, "
                                 f"where the run had {events}")
        if time.monotonic() >= slice_end:
            await asyncio.sleep(0)
            slice_end = time.monotonic() + REPLAY_YIELD_SECONDS
            if time.monotonic() - started > REPLAY_WALL_SECONDS:
                raise TimelineError("Timeout", f"the replay did not reach t={t:.1f}s within "
                                               f"{REPLAY_WALL_SECONDS:.0f}s of wall time")
    if events is not None:
        # The clock on to t when nothing more is due by then (as the original's run_until set
        # it); next_time() drops cancelled timers at the head, as a run would have.
        due = kernel.next_time()
        if due is None or due > t:
            kernel.run_until(t)
        if kernel.now != t:
            raise ReplayDiverged(f"the replay is at t={kernel.now:.6f}s after {events} events, where the run "
                                 f"was at t={t:.6f}s")


async def replay(rc, journal: list[dict], end: tuple[float, int | None], apply, exact: bool = True) -> int:
    """Replay `journal` (entries at or before `end`) into `rc`'s new engine and run it to
    `end`; `apply(rc, op, args)` applies one entry.  The entries applied.

    `exact`: each entry at its point, or ReplayDiverged.  Otherwise each at its virtual time
    (every event due by then run first): the same commands at the same times, for a run
    recorded by another version of the engine (a lesson's saved start), which then arrives
    somewhere close to where the original did rather than nowhere."""
    engine = rc.engine
    started = time.monotonic()
    applied = 0
    for e in journal:
        if (e["t"], e["events"]) > (end[0], end[1] if end[1] is not None else float("inf")):
            break
        await run_to(engine, e["t"], e["events"] if exact else None, started)
        at = point(engine)
        try:
            apply(rc, e["op"], json.loads(e["args"]))
        except (TimelineError, ReplayDiverged):
            raise
        except Exception as ex:  # noqa: BLE001 - a hand-made journal entry the engine cannot take
            if getattr(ex, "reason", None) and getattr(ex, "message", None):  # a CommandError
                raise TimelineError(ex.reason, ex.message) from None
            raise TimelineError("Invalid", f"journal entry {applied} ({e['op']} at t={e['t']:.3f}s) could not be "
                                           f"applied: {type(ex).__name__}: {ex}") from None
        rc.timeline.note(at, e["op"], None, text=e["args"])  # where it came in here: the new run's own journal
        applied += 1
    if end[0] < engine.now and exact:
        raise ReplayDiverged(f"the replay is already at t={engine.now:.3f}s, past the end t={end[0]:.3f}s")
    await run_to(engine, end[0], end[1] if exact else None, started)
    return applied
