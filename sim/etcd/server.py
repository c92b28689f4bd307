"""An etcd member: a Raft node (sim/etcd/raft.py) in front of an MVCC keyspace (mvcc.py).

The API server sends Txn, Range, Watch and Compact requests.  Writes and compactions are
proposed to Raft and applied to every member's keyspace in log order once committed; the member
that received a write answers it after applying it, so an acknowledged write is a committed one.
A follower forwards proposals to the leader (etcd's proposal forwarding); with no leader known,
proposals wait here until one is elected, and the API server's request times out meanwhile, as
etcd's "etcdserver: request timed out" does.  Reads (Range, Watch) are served from the local
keyspace (serializable); the API server reads from its watch cache anyway.

Timing defaults are etcd's: --heartbeat-interval 100 ms (one Raft tick), --election-timeout
1000 ms (10 ticks, randomized to [10, 20) ticks).  A member's Raft log, HardState and keyspace
are its disk: they survive a restart of the process.

Log compaction (etcdserver/server.go triggerSnapshot, snapshot): once a member has applied more
than --snapshot-count entries since its last snapshot, it snapshots its keyspace at the applied
index and compacts its Raft log, keeping SnapshotCatchUpEntries entries behind the snapshot for
slightly slow followers.  A follower further behind gets the leader's snapshot (MsgSnap) and
replaces its keyspace with it (applySnapshot); its watchers then catch up from the restored
keyspace (watchableStore.Restore).
"""
from __future__ import annotations

from typing import Any

from sim.component import Component
from sim.etcd.mvcc import CompactedError, FutureRevisionError, MVCCStore
from sim.etcd.raft import (Config, HardState, LogCompacted, MemoryStorage, Message, MsgSnap,
                           ProposalDropped, RawNode, Snapshot, SnapshotFailure, SnapshotFinish,
                           StateLeader)


READ_INDEX_RETRY = 0.5
# --snapshot-count: etcd 3.5's default is 100000 (v3.2 raised it from 10000).  Ours is lower
# because a simulator process holds many clusters, each member's whole Raft log in memory (no
# WAL on disk to fall back on): 10000 entries bounds that, and a classroom cluster still goes a
# long while between snapshots.
DEFAULT_SNAPSHOT_COUNT = 10_000
# etcdserver DefaultSnapshotCatchUpEntries: entries kept behind a snapshot so that a follower a
# little behind catches up from the log instead of being sent the whole keyspace.
SNAPSHOT_CATCHUP_ENTRIES = 5000
# rafthttp snapResponseReadTimeout: how long the leader's snapshot sender waits for the
# follower's answer before it reports the snapshot failed (ReportSnapshot(SnapshotFailure)).
SNAPSHOT_SEND_TIMEOUT = 5.0


class EtcdMember(Component):
    component = "etcd"

    def __init__(self, host: str, store: MVCCStore | None = None, name: str = "etcd-1",
                 peers: dict[str, str] | None = None, heartbeat_interval: float = 0.1,
                 election_ticks: int = 10, snapshot_count: int = DEFAULT_SNAPSHOT_COUNT,
                 snapshot_catchup_entries: int = SNAPSHOT_CATCHUP_ENTRIES):
        super().__init__(host)
        self.name = name
        self.peers = peers or {name: self.address}  # member name -> address, this one included
        self.address_to_member = {a: n for n, a in self.peers.items()}
        self.heartbeat_interval = heartbeat_interval
        self.election_ticks = election_ticks
        self.snapshot_count = snapshot_count
        self.snapshot_catchup_entries = snapshot_catchup_entries
        # The member's disk: keyspace, Raft log and HardState, and the index applied to the
        # keyspace (etcd's consistent index).
        self.store = store or MVCCStore()
        self.raft_storage = MemoryStorage()
        self.applied_index = 0
        self.raft: RawNode | None = None
        # (client, watch id) -> (prefix, the next revision it is to see)
        self.watches: dict[tuple[str, Any], tuple[str, int]] = {}
        self.snapshots_inflight: dict[str, int] = {}  # member -> its snapshot-send timeout

    def set_peers(self, peers: dict[str, str]) -> None:
        self.peers = dict(peers)
        self.address_to_member = {a: n for n, a in self.peers.items()}

    # -- lifecycle ----------------------------------------------------------------------
    def on_start(self) -> None:
        self.watches = {}
        self.pending: dict[str, tuple[str, Any]] = {}   # proposal id -> (client, request id)
        self.waiting: list[dict] = []                    # proposals no leader could take yet
        self.reads: dict[str, tuple[str, Any]] = {}      # ReadIndex context -> (client, request id)
        self.read_waits: list[tuple[int, str]] = []      # (read index, context) until applied
        self.unconfirmed: dict[str, float] = {}          # reads with no ReadState yet -> last try
        self.snapshots_inflight = {}
        self.next_proposal = 0
        # etcd_server_leader_changes_seen_total: a process counter (raft.go's serveChannels).
        self.leader_changes_seen = 0
        self.last_lead: str | None = None
        self.raft = RawNode(Config(id=self.name, peers=sorted(self.peers), rng=self.rng,
                                   election_tick=self.election_ticks, heartbeat_tick=1,
                                   applied=self.applied_index), self.raft_storage)
        if len(self.peers) == 1:
            # A single member elects itself at once (etcd fast-forwards its election ticks).
            self.raft.campaign_now()
        self.emit("etcd", member=self.name, address=self.address, role="follower", term=self.raft.term,
                  event="started")
        self.set_timer(self.heartbeat_interval, "tick")
        self.process_ready()

    def on_stop(self) -> None:
        self.watches.clear()  # connections die with the process
        self.emit("etcd", member=self.name, address=self.address, role="stopped", event="stopped")

    def on_timer(self, name: str, data: Any) -> None:
        if name == "tick":
            self.raft.tick()
            self.process_ready()
            self.retry_waiting()
            self.set_timer(self.heartbeat_interval, "tick")
        elif name == "snapshot-timeout":
            self.snapshot_done(data, SnapshotFailure)

    # -- messages -----------------------------------------------------------------------
    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        t = msg["type"]
        if t == "raft":
            if src in self.address_to_member:
                m = Message.from_dict(msg["msg"])
                try:
                    self.raft.step(m)
                except ProposalDropped:
                    # A proposal a peer forwarded while this member knows no leader (it lost
                    # the old one, or is itself a new follower): etcd's raft node drops it
                    # (ErrProposalDropped); the client's request times out, as with etcd.
                    self.emit("etcd", member=self.name, address=self.address, event="proposal-dropped")
                self.process_ready()
                if m.type == MsgSnap:
                    # etcd streams a snapshot over its own HTTP request; the answer (204) tells
                    # the sender it arrived.
                    self.send(src, {"type": "raft.snapshot.ack", "index": m.snapshot.index}, "snapshot received")
        elif t == "raft.snapshot.ack":
            member = self.address_to_member.get(src)
            if member in self.snapshots_inflight:
                self.snapshot_done(member, SnapshotFinish)
        elif t == "etcd.txn":
            self.propose(src, msg["id"], {"op": "txn", "key": msg["key"], "compare": msg.get("compare", "none"),
                                          "target": msg.get("target", 0), "value": msg.get("value")})
        elif t == "etcd.compact":
            self.propose(None, None, {"op": "compact", "revision": msg["revision"]})
        elif t == "etcd.readindex":
            # A linearizable read (thesis §6.4): confirm leadership with a quorum, wait until
            # this member has applied up to the leader's commit index, then answer.
            ctx = f"{self.name}/{self.incarnation}/{src}/{msg['id']}"
            self.reads[ctx] = (src, msg["id"])
            self.unconfirmed[ctx] = self.now
            self.raft.read_index(ctx)
            self.process_ready()
        elif t == "etcd.range":
            self.step_range(src, msg)
        elif t == "etcd.watch":
            self.step_watch(src, msg)

    # -- writes through Raft -----------------------------------------------------------
    def propose(self, client: str | None, rid: Any, data: dict) -> None:
        self.next_proposal += 1
        pid = f"{self.name}/{self.incarnation}/{self.next_proposal}"
        data = dict(data, pid=pid)
        if client is not None:
            self.pending[pid] = (client, rid)
        self._propose(data)

    def _propose(self, data: dict) -> None:
        try:
            self.raft.propose(data)
        except ProposalDropped:
            self.waiting.append(data)
            return
        self.process_ready()

    def retry_waiting(self) -> None:
        # etcd's linearizable read loop asks again every 500 ms (readIndexRetryTime) until the
        # client's deadline: a read sent while no leader was known is not lost.
        for ctx, tried in list(self.unconfirmed.items()):
            if self.now - tried >= READ_INDEX_RETRY and self.raft.lead is not None:
                self.unconfirmed[ctx] = self.now
                self.raft.read_index(ctx)
        if self.unconfirmed:
            self.process_ready()
        if self.waiting and self.raft.lead is not None:
            waiting, self.waiting = self.waiting, []
            for data in waiting:
                self._propose(data)

    def process_ready(self) -> None:
        raft = self.raft
        while raft.has_ready():
            rd = raft.ready()
            self.raft_storage.apply_ready(rd)          # 1. persist
            for m in rd.messages:                      # 2. send
                addr = self.peers.get(m.to)
                if addr is not None:
                    self.send(addr, {"type": "raft", "msg": m.to_dict()}, m.type)
                    if m.type == MsgSnap:
                        self.snapshot_sent(m)
            if rd.snapshot is not None:                # 3. apply: a leader's snapshot first,
                self.apply_snapshot(rd.snapshot)
            for e in rd.committed_entries:             #    then the entries after it
                self.apply(e)
            for rs in rd.read_states:
                if rs.context in self.reads and rs.context in self.unconfirmed:
                    del self.unconfirmed[rs.context]
                    self.read_waits.append((rs.index, rs.context))
            raft.advance(rd)
            self.answer_reads()
            self.trigger_snapshot()
            if rd.soft_state is not None:
                if rd.soft_state.lead is not None and rd.soft_state.lead != self.last_lead:
                    self.leader_changes_seen += 1
                self.last_lead = rd.soft_state.lead
                self.emit("etcd", member=self.name, address=self.address, role=rd.soft_state.state,
                          term=raft.term, leader=rd.soft_state.lead, event="role")

    def answer_reads(self) -> None:
        ready = [w for w in self.read_waits if w[0] <= self.applied_index]
        if not ready:
            return
        self.read_waits = [w for w in self.read_waits if w[0] > self.applied_index]
        for _index, ctx in ready:
            client, rid = self.reads.pop(ctx)
            self.send(client, {"type": "etcd.readindex.reply", "id": rid, "revision": self.store.revision},
                      "read index reply")

    # -- snapshots (§7) ----------------------------------------------------------------
    def trigger_snapshot(self) -> None:
        """etcdserver triggerSnapshot/snapshot: more than snapshot_count entries applied since
        the last snapshot -> snapshot the keyspace at the applied index, then compact the log
        to snapshot_catchup_entries behind it (not while a snapshot is being sent to a
        follower: it needs the entries right after that snapshot to catch up)."""
        snapi = self.raft_storage.snapshot.index
        if self.applied_index - snapi <= self.snapshot_count:
            return
        snap = self.raft_storage.create_snapshot(self.applied_index, make_data=self.store.snapshot_view())
        compacted = None
        if not self.snapshots_inflight:
            compacted = max(1, snap.index - self.snapshot_catchup_entries)
            try:
                self.raft_storage.compact(compacted)
            except LogCompacted:
                compacted = None  # already compacted that far
        self.emit("etcd", member=self.name, address=self.address, event="snapshot", index=snap.index,
                  term=snap.term, revision=self.store.revision, compactIndex=compacted,
                  firstIndex=self.raft_storage.first_index())

    def snapshot_sent(self, m: Message) -> None:
        """The leader streams its snapshot to a follower; its answer (or a timeout) is reported
        back to Raft (rafthttp snapshotSender -> ReportSnapshot)."""
        old = self.snapshots_inflight.pop(m.to, None)
        if old is not None:
            self.cancel_timer(old)
        self.snapshots_inflight[m.to] = self.set_timer(SNAPSHOT_SEND_TIMEOUT, "snapshot-timeout", m.to)
        self.emit("etcd", member=self.name, address=self.address, event="snapshot-send", to=m.to,
                  index=m.snapshot.index, term=m.snapshot.term)

    def snapshot_done(self, member: str, status: str) -> None:
        handle = self.snapshots_inflight.pop(member, None)
        if handle is None:
            return
        self.cancel_timer(handle)
        self.raft.report_snapshot(member, status)
        self.process_ready()

    def apply_snapshot(self, snap: Snapshot) -> None:
        """etcdserver applySnapshot: the leader's snapshot replaces this member's keyspace, and
        the applied index jumps to the snapshot's."""
        if snap.index <= self.applied_index:
            raise AssertionError(f"snapshot at {snap.index} from an outdated index (applied {self.applied_index})")
        self.store.restore(snap.data)
        self.applied_index = snap.index
        self.emit("etcd", member=self.name, address=self.address, event="snapshot-restore", index=snap.index,
                  term=snap.term, revision=self.store.revision)
        self.resync_watchers()

    def resync_watchers(self) -> None:
        """watchableStore.Restore: every watcher catches up from the revision it was to see next,
        on the restored keyspace - no event twice, none missed; one whose revision is compacted
        away there gets a compacted response (kube-apiserver then relists)."""
        for key, (prefix, nxt) in list(self.watches.items()):
            client, wid = key
            try:
                events = self.store.events_since(nxt, prefix)
            except CompactedError as e:
                del self.watches[key]
                self.send(client, {"type": "etcd.watch.compacted", "id": wid,
                                   "compact_revision": e.compact_revision}, "watch compacted")
                continue
            self.watches[key] = (prefix, self.store.revision + 1)
            if events:
                self._send_events(client, wid, events)

    # -- the member's disk, for a restart from a persisted point ------------------------
    def disk_state(self) -> dict[str, Any]:
        """What must survive a restart of the whole simulator besides the keyspace (JSON):
        the HardState (term, vote, commit) and the point the keyspace is at - the applied index
        and that entry's term - from which the member restarts as from a snapshot
        (load_disk).  `revision` is the keyspace's revision at that point."""
        hs = self.raft_storage.hard_state
        term = self.raft_storage.term(self.applied_index)
        if term is None:  # not on disk: applied from the (only) snapshot
            term = self.raft_storage.snapshot.term
        return {"hardState": {"term": hs.term, "vote": hs.vote, "commit": hs.commit},
                "snapshot": {"index": self.applied_index, "term": term},
                "appliedIndex": self.applied_index, "revision": self.store.revision}

    def load_disk(self, state: dict[str, Any]) -> None:
        """Before start(): make this member's disk the persisted point `state` (disk_state's
        format): the keyspace is self.store, already at the snapshot's index; the Raft log is a
        snapshot at (index, term) of that keyspace with no entries after it; the HardState keeps
        its term and vote.  Its commit index becomes the snapshot's: the log ends there, and
        everything up to it was applied, hence committed."""
        if self.running:
            raise RuntimeError("load_disk before start")
        index, snap_term = int(state["snapshot"]["index"]), int(state["snapshot"]["term"])
        hs = state["hardState"]
        term, vote = int(hs.get("term", 0)), hs.get("vote")
        if term < snap_term:
            term, vote = snap_term, None  # a member's term is never behind its log's
        storage = MemoryStorage()
        if index > 0:
            storage.apply_snapshot(Snapshot(index, snap_term, self.store.to_snapshot()))
        storage.set_hard_state(HardState(term, vote, index))
        self.raft_storage = storage
        self.applied_index = index

    def apply(self, entry) -> None:
        self.applied_index = entry.index
        data = entry.data
        if not data:
            return  # a new leader's empty entry
        if data["op"] == "compact":
            try:
                self.store.compact(data["revision"])
                self.emit("etcd", member=self.name, address=self.address, event="compact",
                          revision=data["revision"])
            except (CompactedError, FutureRevisionError):
                pass
            return
        before = self.store.revision
        ok, rev, cur = self.store.txn(data["key"], data["compare"], data["target"], data["value"])
        waiter = self.pending.pop(data["pid"], None)
        if waiter is not None:
            reply = {"type": "etcd.txn.reply", "id": waiter[1], "succeeded": ok, "revision": rev}
            if not ok and cur is not None:
                reply["current"] = {"value": cur.value, "mod_revision": cur.mod_revision}
            self.send(waiter[0], reply, "txn reply")
        if self.store.revision != before:
            self.notify_watchers(before + 1)

    # -- reads -------------------------------------------------------------------------
    def step_range(self, src: str, msg: dict[str, Any]) -> None:
        try:
            kvs = self.store.range(msg["prefix"], msg.get("revision", 0))
            reply = {"type": "etcd.range.reply", "id": msg["id"], "revision": self.store.revision,
                     "kvs": [(kv.key, kv.value, kv.mod_revision) for kv in kvs]}
        except (CompactedError, FutureRevisionError) as e:
            reply = {"type": "etcd.range.reply", "id": msg["id"], "error": str(e)}
        self.send(src, reply, "range reply")

    def step_watch(self, src: str, msg: dict[str, Any]) -> None:
        key = (src, msg["id"])
        start = msg.get("start_revision") or self.store.revision + 1
        try:
            events = self.store.events_since(start, msg["prefix"])
        except CompactedError as e:
            self.send(src, {"type": "etcd.watch.compacted", "id": msg["id"],
                            "compact_revision": e.compact_revision}, "watch compacted")
            return
        self.watches[key] = (msg["prefix"], self.store.revision + 1)
        if events:
            self._send_events(src, msg["id"], events)

    def notify_watchers(self, from_rev: int) -> None:
        log = self.store.log
        if log and log[-1].revision == from_rev:
            # The one event the write just applied made (revisions in the log strictly rise):
            # what events_since finds, without its bisection.
            events = [log[-1]]
        else:
            events = self.store.events_since(from_rev)
        nxt = self.store.revision + 1
        for key, (prefix, _next) in self.watches.items():
            matching = [e for e in events if e.key.startswith(prefix)]
            if matching:
                self._send_events(key[0], key[1], matching)
            self.watches[key] = (prefix, nxt)

    def _send_events(self, client: str, wid, events) -> None:
        self.send(client, {"type": "etcd.watch.events", "id": wid,
                           "events": [(e.revision, e.key, e.value) for e in events]}, "watch event")

    def campaign(self) -> None:
        """The election timer fires now (MsgHup): a pre-vote, then an election if it wins."""
        self.raft.campaign_now()
        self.process_ready()

    def transfer_leadership(self, to: str) -> None:
        self.raft.transfer_leader(to)
        self.process_ready()

    # -- observation -------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """`etcdctl endpoint status` and the member list, in one record."""
        if not self.running or self.raft is None:
            return {"name": self.name, "address": self.address, "host": self.host, "role": "stopped",
                    "term": self.raft_storage.hard_state.term, "vote": self.raft_storage.hard_state.vote,
                    "commitIndex": self.raft_storage.hard_state.commit, "appliedIndex": self.applied_index,
                    "leader": None, "raftIndex": self.raft_storage.last_index(),
                    "firstIndex": self.raft_storage.first_index(),
                    "snapshotIndex": self.raft_storage.snapshot.index,
                    "revision": self.store.revision, "dbSize": self.db_size(), "log": self.log_tail()}
        st = self.raft.status()
        role = {"pre-candidate": "candidate"}.get(st["state"], st["state"])
        return {"name": self.name, "address": self.address, "host": self.host, "role": role,
                "term": st["term"], "vote": st["vote"], "leader": st["lead"],
                "commitIndex": st["commit"], "appliedIndex": st["applied"], "raftIndex": st["lastIndex"],
                "firstIndex": st["firstIndex"], "snapshotIndex": st["snapshotIndex"],
                "electionElapsed": st["electionElapsed"],
                "randomizedElectionTimeout": st["randomizedElectionTimeout"],
                "revision": self.store.revision, "dbSize": self.db_size(), "log": self.log_tail()}

    LOG_TAIL = 16

    def log_tail(self, n: int | None = None) -> list[dict[str, Any]]:
        """The last `n` entries of this member's Raft log on disk, for RaftScope's log boxes:
        index, term and what the entry carries (`empty` for a new leader's entry (§8), `put`,
        `delete`, `compact`).  Read from storage, so a stopped member's log shows too."""
        n = n or self.LOG_TAIL
        last = self.raft_storage.last_index()
        out = []
        for i in range(max(1, last - n + 1), last + 1):
            e = self.raft_storage.entry(i)
            if e is None:
                continue  # compacted away
            d = e.data
            kind = "empty" if not d else "compact" if d.get("op") == "compact" else \
                "delete" if d.get("value") is None else "put"
            out.append({"index": e.index, "term": e.term, "kind": kind,
                        **({"key": d["key"]} if d and "key" in d else {})})
        return out

    def db_size(self) -> int:
        return self.store.size  # kept up to date by every write: a status costs nothing per key

    @property
    def is_leader(self) -> bool:
        return self.running and self.raft is not None and self.raft.state == StateLeader
