"""Frames: what the worker sends a cluster's pages about ten times a second (DESIGN.md "Frames,
not floods").

A frame carries the trace events since the last one, ranked, grouped and capped, and (when it
is due) a snapshot of the cluster.  Whatever the cluster does, a frame stays small:

* at most MAX_FRAME_EVENTS network events (the rest counted in "omitted"), Raft heartbeats
  grouped per (src, dst, type) with a "count";
* at most MAX_FRAME_LOG_EVENTS log events (actions, Kubernetes Events, node changes; the rest
  counted in "omittedLog"), so a burst of thousands of pods cannot flood the page;
* a snapshot that lists each pod only while the cluster has at most SNAPSHOT_POD_LIMIT pods;
  beyond that, each node carries its pods' counts per phase (`podCounts`) and the pending
  queue its first pods and a count, so the page draws counts instead of a chip per pod;
* and, last line of defence, at most MAX_FRAME_BYTES of JSON: a frame over it loses its
  network events, then its snapshot's details, and says so ("truncated").

A snapshot costs time proportional to the cluster's objects, so an expensive one is rebuilt only
as often as SNAPSHOT_CPU_SHARE of the wall clock allows (a small cluster's, under
CHEAP_SNAPSHOT_SECONDS, goes with every frame; one with 100,000 pods every second or two);
frames in between carry "snapshot": null and the page keeps the last one.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any

from sim.api.jsonserializer import encode

# Event kinds that make the human-readable log: kept before any network event, kept in the ring.
LOG_KINDS = frozenset({"action", "k8s-event", "node", "error"})
# At most this many other events (network hops, drops, ...) per frame.
MAX_FRAME_EVENTS = 200
MAX_FRAME_LOG_EVENTS = 300
LOG_RING_SIZE = 300
# Raft heartbeats (and their replies) come every 100 ms per follower: a frame keeps one per
# (src, dst, type) with a "count" of how many it stands for.
GROUPED_MESSAGE_TYPES = frozenset({"MsgHeartbeat", "MsgHeartbeatResp"})
# An election's messages (etcd's raftpb names): rare, and what the etcd panel is about.
ELECTION_MESSAGE_TYPES = frozenset({"MsgVote", "MsgVoteResp", "MsgPreVote", "MsgPreVoteResp", "MsgTimeoutNow"})
# Beyond this many pods the snapshot summarises them (counts per node and phase), unless
# settings.PILOTHOUSE["SNAPSHOT_POD_LIMIT"] (PILOTHOUSE_SNAPSHOT_POD_LIMIT) says otherwise.
SNAPSHOT_POD_LIMIT = 600
SNAPSHOT_PENDING_SHOWN = 50
SNAPSHOT_REPLICASETS_SHOWN = 100
# Far below channels_redis' and Daphne's limits, and what a projector page can digest.
MAX_FRAME_BYTES = 512 * 1024
# Snapshots may take this share of the wall clock in CPU (per cluster) ...
SNAPSHOT_CPU_SHARE = 0.1
# ... unless they are cheap: one that took less than this goes out with every frame.
CHEAP_SNAPSHOT_SECONDS = 0.025
# While requests are answered, snapshots wait for a quieter frame, but never longer than this.
MAX_SNAPSHOT_DEFER_SECONDS = 1.0

_POD_RESOURCE = re.compile(r"\bpods\b")


def _from_console(ev: dict) -> bool:
    return str(ev.get("src", "")).startswith(CONSOLE_PREFIX) or str(ev.get("dst", "")).startswith(CONSOLE_PREFIX)


CONSOLE_PREFIX = "console@"   # sim/external.py ConsoleClient's address


def hop_rank(ev: dict) -> int:
    """Which events claim a frame's capped slots first, lowest first, as the dashboard ranks its
    dots (static/js/messages.js, rank): 0 a network hop carrying a scheduler's Binding, and an
    etcd election's votes (the etcd panel draws them; a busy cluster's frame must not crowd them
    out), and the requests of the page's kubectl console and their replies (a student watches
    their own command travel); 1 the other requests that carry a pod through its life ("create pods", the "watch
    pods" notification to a kubelet, "patch pods/status"; replies, named "... → code",
    excluded), and Raft heartbeats, grouped to one event per member pair; 2 everything else.
    Ranks 0 and 1 are a few hops per pod or member, where an HA control plane's leases and etcd
    writes never stop."""
    if ev.get("kind") not in ("message", "drop"):
        return 2
    kind = str(ev.get("type", ""))
    if "bind" in kind.lower() or kind in ELECTION_MESSAGE_TYPES or _from_console(ev):
        return 0
    if kind in GROUPED_MESSAGE_TYPES:
        return 1
    return 1 if _POD_RESOURCE.search(kind) and "→" not in kind else 2


def select_events(events: list[dict]) -> tuple[list[dict], list[dict], int, int]:
    """(kept events, the log events among them, network events omitted, log events omitted).

    The hops a lesson is about claim the capped slots before the busy control plane's other
    traffic (a stable sort, so the log's order is kept)."""
    events = sorted(events, key=hop_rank)
    kept: list[dict] = []
    logged: list[dict] = []
    omitted = omitted_log = 0
    other = 0
    grouped: dict[tuple, dict] = {}
    for ev in events:
        kind = ev.get("kind")
        if kind in LOG_KINDS:
            if len(logged) < MAX_FRAME_LOG_EVENTS:
                kept.append(ev)
                logged.append(ev)
            else:
                omitted_log += 1
        elif kind in ("message", "drop") and ev.get("type") in GROUPED_MESSAGE_TYPES:
            key = (kind, ev.get("src"), ev.get("dst"), ev.get("type"))
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
    return kept, logged, omitted, omitted_log


class SnapshotClock:
    """When a cluster's next snapshot is due: at once for a cheap one; after a pause ten times
    its cost (SNAPSHOT_CPU_SHARE) for an expensive one.  The cost is the CPU it took."""

    def __init__(self) -> None:
        self.not_before = 0.0
        self.taken = 0.0

    def due(self, now: float, defer: bool = False) -> bool:
        """`defer`: a request is being answered (cluster/worker/foreground.py) - the snapshot
        waits for a later frame, unless the last one is older than MAX_SNAPSHOT_DEFER_SECONDS."""
        if defer and now < self.taken + MAX_SNAPSHOT_DEFER_SECONDS:
            return False
        return now >= self.not_before

    def took(self, finished: float, cost: float) -> None:
        """A snapshot finished at `finished` (monotonic) and cost `cost` seconds of this
        thread's CPU."""
        self.taken = finished
        self.not_before = 0.0 if cost < CHEAP_SNAPSHOT_SECONDS else finished + cost * (1 / SNAPSHOT_CPU_SHARE - 1)

    def force(self) -> None:
        self.not_before = 0.0


def snapshot_pod_limit() -> int:
    """The deployment's limit (settings), at least 1; SNAPSHOT_POD_LIMIT outside Django."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    try:
        limit = int(getattr(settings, "PILOTHOUSE", {}).get("SNAPSHOT_POD_LIMIT", SNAPSHOT_POD_LIMIT))
    except ImproperlyConfigured:  # no settings configured (benches run the worker's code bare)
        limit = SNAPSHOT_POD_LIMIT
    return max(1, limit)


def take_snapshot(engine, clock: SnapshotClock) -> dict:
    """The engine's snapshot (summarised beyond SNAPSHOT_POD_LIMIT pods, at a cost that does not
    grow with them: Cluster.snapshot reads the watch cache's per-node counts), with its cost
    recorded on `clock`."""
    cpu = time.thread_time()
    snapshot = engine.snapshot(pod_limit=snapshot_pod_limit(), pending_shown=SNAPSHOT_PENDING_SHOWN,
                               replicasets_shown=SNAPSHOT_REPLICASETS_SHOWN)
    # The cost is the CPU the snapshot took, not the wall time: on a machine other processes
    # keep busy a cheap snapshot can take ten times longer by the clock, and the pages then got
    # one every few frames for no saving of this process's time.
    clock.took(time.monotonic(), cost=time.thread_time() - cpu)
    return snapshot


def fit(frame: dict) -> dict:
    """The frame within MAX_FRAME_BYTES: first without its network events, then with a
    snapshot stripped to nodes and control plane, then without a snapshot at all."""
    if _size(frame) <= MAX_FRAME_BYTES:
        return frame
    logged = [e for e in frame["events"] if e.get("kind") in LOG_KINDS]
    frame = dict(frame, events=logged, omitted=frame["omitted"] + len(frame["events"]) - len(logged),
                 truncated=True)
    if _size(frame) <= MAX_FRAME_BYTES:
        return frame
    snapshot = frame.get("snapshot")
    if snapshot:
        lean = {k: v for k, v in snapshot.items() if k not in ("pending", "replicasets", "scheduler", "workloads")}
        lean["nodes"] = [dict(n, pods=[], taints=[]) for n in snapshot.get("nodes") or []]
        frame = dict(frame, snapshot=dict(lean, summarised=True))
        if _size(frame) <= MAX_FRAME_BYTES:
            return frame
    return dict(frame, snapshot=None, events=frame["events"][:50])


def _size(frame: dict) -> int:
    return len(encode(frame))


def group_message(frame: dict) -> dict:
    """The channel-layer message that carries `frame` to the pages: its JSON text, encoded here
    once for every page (cluster/fanout.py hands the same text to each socket), and its number."""
    return {"type": "cluster.frame", "frame": frame["frame"], "text": ascii_json(frame)}


def ascii_json(obj) -> str:
    """Compact JSON of `obj` in ASCII only (other characters as \\u escapes).  Each socket
    encodes the text to UTF-8 again (Daphne), which for an ASCII string is a plain copy; a
    frame's events name their replies "... → 201", and one such character makes it a real
    re-encoding per socket."""
    text = encode(obj).decode()
    if text.isascii():
        return text
    # Outside ASCII, JSON text holds only string contents: escape each such character.
    return _NON_ASCII.sub(_json_escape, text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _json_escape(match: re.Match) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # beyond the BMP: a UTF-16 surrogate pair, as JSON spells it
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04x" % code


def decode_group_message(message: dict) -> dict:
    """The frame a group message carries (for readers of the group other than the pages)."""
    return json.loads(message["text"])


def frame_message(rc, kept: list[dict], omitted: int, omitted_log: int, snapshot: dict | None) -> dict:
    """The channel-layer message of frame `rc.frame`."""
    frame: dict[str, Any] = {
        "type": "cluster.frame",
        "cluster": rc.name,
        "frame": rc.frame,
        # The wall time (Unix seconds) the frame was produced: a client measures its delay.
        "sentAt": round(time.time(), 4),
        "time": rc.engine.now,
        "speed": rc.speed,
        "paused": rc.paused,
        # The ratio of the speed asked that the cluster really runs at (1.0: keeping up).
        "pace": round(rc.lag.ratio, 3),
        "events": kept,
        "omitted": omitted,
        "omittedLog": omitted_log,
        "etcdTick": rc.engine.config.etcd_heartbeat_interval,
        "snapshot": snapshot,
    }
    return fit(frame)
