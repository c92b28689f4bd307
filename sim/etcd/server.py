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

Membership (etcdserver's RaftCluster, server/etcdserver/api/membership): each member keeps the
member list as it applied it - every member's ID, name, peer URLs and whether it is a learner -
and the IDs of removed members, which can never come back.  `etcdctl member add / promote /
remove` arrive as "etcd.member.change" requests: the member proposes the ConfChange
(EtcdServer.configure) and answers once it applied it.  Applying one first checks it against the
membership (ValidateConfigurationChange: an ID or peer URL already there, too many learners, a
member not found, promoting a voter); a refused change is applied as a change to nothing, and the
error goes back to the client.  A member that applies its own removal stops a second later
(etcd's stopWithDelay), and a removed member that still sends Raft messages is told so by the
others (rafthttp's 410 Gone: "the member has been permanently removed from the cluster") and
stops too.  A new member starts with an empty disk (--initial-cluster-state=existing): it knows
the members' addresses, takes the configuration the log starts from, and learns the rest from the
leader's entries or snapshot.  The snapshot a leader sends is etcd's "merged" one
(createMergedSnapshotMessage): its keyspace and membership as applied now, at the applied index,
with the configuration then (Raft's ConfState).
"""
from __future__ import annotations

import hashlib
from typing import Any

from sim.component import Component
from sim.etcd.mvcc import CompactedError, FutureRevisionError, MVCCStore
from sim.etcd.raft import (Config, ConfChange, ConfChangeAddLearnerNode, ConfChangeAddNode,
                           ConfChangeRemoveNode, ConfState, EntryConfChange, HardState, LazySnapshot,
                           LogCompacted, MemoryStorage, Message, MsgSnap, ProposalDropped, RawNode,
                           Snapshot, SnapshotFailure, SnapshotFinish, StateLeader)


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
# etcd's --experimental-max-learners default: one learner at a time
# (membership.ValidateConfigurationChange: "too many learner members in cluster").
MAX_LEARNERS = 1
# A member that applied its own removal stops this much later (etcdserver applyEntries:
# stopWithDelay(10 * 100 ms), "the member has been permanently removed from the cluster").
REMOVED_STOP_DELAY = 1.0
REMOVED = "the member has been permanently removed from the cluster"

# etcd's errors for membership changes, as the gRPC API (and so etcdctl) gives them
# (api/v3rpc/rpctypes/error.go), with their gRPC code.
ERR_MEMBER_NOT_FOUND = ("NotFound", "etcdserver: member not found")
ERR_MEMBER_EXIST = ("FailedPrecondition", "etcdserver: member ID already exist")
ERR_PEER_URL_EXIST = ("FailedPrecondition", "etcdserver: Peer URLs already exists")
ERR_MEMBER_NOT_LEARNER = ("FailedPrecondition", "etcdserver: can only promote a learner member")
ERR_TOO_MANY_LEARNERS = ("FailedPrecondition", "etcdserver: too many learner members in cluster")


def member_id(peer_urls: list[str], token: str, unix_time: int | None = None) -> str:
    """etcd's computeMemberID: the first 8 bytes of SHA-1(sorted peer URLs + cluster token
    [+ the Unix time, for a member added at run time]), printed as hex (types.ID.String)."""
    b = "".join(sorted(peer_urls)) + token + ("" if unix_time is None else str(int(unix_time)))
    return format(int.from_bytes(hashlib.sha1(b.encode()).digest()[:8], "big"), "x")


def member_record(id: str, name: str, host: str, address: str, peer_ip: str, learner: bool = False) -> dict:
    """A member as etcd's RaftCluster keeps it (membership.Member), plus where the simulator
    runs it: {"id" (16 hex digits), "name", "peerURLs", "clientURLs", "isLearner", "host",
    "address" (the component's)}."""
    return {"id": id, "name": name, "peerURLs": [f"https://{peer_ip}:2380"],
            "clientURLs": [f"https://{peer_ip}:2379"], "isLearner": bool(learner), "host": host,
            "address": address}


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
        # Membership, on disk with the keyspace (etcd's backend "members" bucket): the members
        # as applied (name -> member_record), the IDs and addresses of removed ones, Raft's
        # configuration as applied, and whether this member was removed itself.
        self.members: dict[str, dict] = {}
        self.removed_ids: set[str] = set()
        self.removed_names: set[str] = set()
        self.conf_state = ConfState(tuple(sorted(self.peers)), ())
        self.removed_self = False
        self.max_learners = MAX_LEARNERS
        # Called as on_conf_change(member, index, ConfChange, error or None) for every
        # configuration change this member applies; on_removed_exit(member) when it stops
        # because it was removed.
        self.on_conf_change: list = []
        self.on_removed_exit = None
        # The transport's view of each peer: (active since, last heard), as rafthttp's
        # ActiveSince: a peer heard from within an election timeout is connected.
        self.active: dict[str, list[float]] = {}

    def set_peers(self, peers: dict[str, str]) -> None:
        """The transport: who this member can send to (member name -> address)."""
        self.peers = dict(peers)
        self.address_to_member = {a: n for n, a in self.peers.items()}
        if not self.members:
            self.conf_state = ConfState(tuple(sorted(self.peers)), ())

    def set_membership(self, records: list[dict], conf_state: ConfState | None = None,
                       transport: list[dict] | None = None, removed: list[dict] | tuple = ()) -> None:
        """The membership on disk before start(): member records (member_record), removed ones,
        Raft's configuration (default: the records' voters and learners) and the transport's
        peers (default: the records; a joining member knows every current member's address from
        --initial-cluster while its membership is still the one the log starts from)."""
        self.members = {r["name"]: dict(r) for r in records}
        self.removed_ids = {r["id"] for r in removed}
        self.removed_names = {r["name"] for r in removed}
        if conf_state is None:
            conf_state = ConfState(tuple(sorted(r["name"] for r in records if not r["isLearner"])),
                                   tuple(sorted(r["name"] for r in records if r["isLearner"])))
        self.conf_state = conf_state
        self.set_peers({r["name"]: r["address"] for r in (transport if transport is not None else records)})

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
        self.active = {}
        cs = self.conf_state
        self.raft = RawNode(Config(id=self.name, peers=list(cs.voters), learners=list(cs.learners), rng=self.rng,
                                   election_tick=self.election_ticks, heartbeat_tick=1,
                                   applied=self.applied_index), self.raft_storage)
        if self.removed_self:
            # Restarted after its removal: the others answer 410 Gone and it exits again.
            self.set_timer(self.heartbeat_interval, "removed")
        elif cs.voters == (self.name,):
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
        elif name == "removed":
            self.exit_removed()

    def exit_removed(self) -> None:
        """etcd exits: "the member has been permanently removed from the cluster"."""
        if not self.running:
            return
        self.removed_self = True
        self.emit("etcd", member=self.name, address=self.address, role="stopped", event="removed-exit",
                  message=REMOVED)
        self.stop()
        if self.on_removed_exit is not None:
            self.on_removed_exit(self)

    # -- messages -----------------------------------------------------------------------
    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        t = msg["type"]
        if t == "raft":
            frm = msg["msg"].get("from")
            if frm in self.removed_names:
                # rafthttp answers a removed member 410 Gone; it stops on hearing it.
                self.send(src, {"type": "raft.removed"}, "410 Gone")
                return
            if self.address_to_member.get(src) == frm:
                self._heard(frm)
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
        elif t == "raft.removed":
            if src in self.address_to_member and self.running:
                self.exit_removed()
        elif t == "etcd.member.change":
            self.propose_conf_change(src, msg["id"], msg["change"])
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
            if "confChange" in data:
                self.raft.propose_conf_change(data["confChange"])
            else:
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
                    if m.type == MsgSnap:
                        m.snapshot = self.merged_snapshot()
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
        snap = self.raft_storage.create_snapshot(self.applied_index, make_data=self.store.snapshot_view(),
                                                 conf_state=self.conf_state)
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

    def merged_snapshot(self) -> Snapshot:
        """etcd's createMergedSnapshotMessage: what goes out for a MsgSnap is this member's
        keyspace and membership as applied now, at the applied index and term, with the
        configuration as applied - not the older snapshot in storage, whose configuration may
        not hold a member added since (raft.go restore would ignore it)."""
        index = self.applied_index
        term = self.raft.log.term(index)
        if term is None:
            term = self.raft_storage.snapshot.term
        view = self.store.snapshot_view()
        membership = self.membership_data()
        return LazySnapshot(index, term, lambda: {**view(), "membership": membership}, self.conf_state)

    def membership_data(self) -> dict:
        return {"members": [dict(r) for r in self.members.values()], "removedIds": sorted(self.removed_ids),
                "removedNames": sorted(self.removed_names)}

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
        membership = snap.data.get("membership") if isinstance(snap.data, dict) else None
        if membership is not None:
            # The backend's members bucket comes with the snapshot (etcd: cluster.Recover).
            self.members = {r["name"]: dict(r) for r in membership["members"]}
            self.removed_ids = set(membership["removedIds"])
            self.removed_names = set(membership["removedNames"])
            for r in self.members.values():
                self.peers[r["name"]] = r["address"]
            for name in [n for n in self.peers if n in self.removed_names and n != self.name]:
                del self.peers[name]
            self.address_to_member = {a: n for n, a in self.peers.items()}
        if snap.conf_state is not None:
            self.conf_state = snap.conf_state
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
            storage.apply_snapshot(Snapshot(index, snap_term, self.store.to_snapshot(), self.conf_state))
        storage.set_hard_state(HardState(term, vote, index))
        self.raft_storage = storage
        self.applied_index = index

    def apply(self, entry) -> None:
        self.applied_index = entry.index
        data = entry.data
        if entry.type == EntryConfChange:
            self.apply_conf_change(entry.index, ConfChange.from_dict(data))
            return
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

    # -- membership ----------------------------------------------------------------------
    def propose_conf_change(self, client: str | None, rid: Any, change: dict) -> None:
        """EtcdServer.configure: propose the ConfChange and answer `client` once it is applied
        here ({"type": "etcd.member.reply", "id", "error": [code, message] or None, "members"}).
        A change the leader turned into an empty entry (another was pending) is never answered:
        the client times out, as etcd's does."""
        self.next_proposal += 1
        pid = f"{self.name}/{self.incarnation}/{self.next_proposal}"
        cc = dict(change, context=dict(change.get("context") or {}, pid=pid))
        if client is not None:
            self.pending[pid] = (client, rid)
        self._propose({"confChange": cc})

    def validate_conf_change(self, cc: ConfChange, ctx: dict) -> tuple[str, str] | None:
        """membership.ValidateConfigurationChange, against the membership as applied."""
        rec = ctx.get("member") or {}
        if rec.get("id") in self.removed_ids:
            return ERR_MEMBER_NOT_FOUND  # ErrIDRemoved: a removed ID never comes back
        if cc.type in (ConfChangeAddNode, ConfChangeAddLearnerNode):
            if ctx.get("isPromote"):
                if cc.node_id not in self.members:
                    return ERR_MEMBER_NOT_FOUND
                if not self.members[cc.node_id]["isLearner"]:
                    return ERR_MEMBER_NOT_LEARNER
                return None
            if cc.node_id in self.members or any(r["id"] == rec.get("id") for r in self.members.values()):
                return ERR_MEMBER_EXIST
            urls = {u for r in self.members.values() for u in r["peerURLs"]}
            if urls & set(rec.get("peerURLs") or ()):
                return ERR_PEER_URL_EXIST
            if cc.type == ConfChangeAddLearnerNode and \
                    sum(1 for r in self.members.values() if r["isLearner"]) + 1 > self.max_learners:
                return ERR_TOO_MANY_LEARNERS
            return None
        if cc.node_id not in self.members:
            return ERR_MEMBER_NOT_FOUND
        return None

    def apply_conf_change(self, index: int, cc: ConfChange) -> None:
        """etcdserver applyConfChange: validate, then change Raft's configuration and the member
        list together (a refused change changes neither: Raft applies it with NodeID none)."""
        ctx = dict(cc.context or {})
        err = self.validate_conf_change(cc, ctx)
        if err is not None:
            self.conf_state = self.raft.apply_conf_change(ConfChange(cc.type, None))
        else:
            self.conf_state = self.raft.apply_conf_change(cc)
            name = cc.node_id
            if cc.type == ConfChangeRemoveNode:
                gone = self.members.pop(name)
                self.removed_ids.add(gone["id"])
                self.removed_names.add(name)
                if name != self.name:
                    self.peers.pop(name, None)
            elif ctx.get("isPromote"):
                self.members[name] = dict(self.members[name], isLearner=False)
            else:
                rec = dict(ctx["member"], isLearner=cc.type == ConfChangeAddLearnerNode)
                self.members[name] = rec
                self.peers[name] = rec["address"]
            self.address_to_member = {a: n for n, a in self.peers.items()}
        self.emit("etcd", member=self.name, address=self.address, event="conf-change", index=index,
                  change=cc.type, node=cc.node_id, promote=bool(ctx.get("isPromote")),
                  error=None if err is None else err[1], voters=list(self.conf_state.voters),
                  learners=list(self.conf_state.learners))
        waiter = self.pending.pop(ctx.get("pid"), None)
        if waiter is not None:
            self.send(waiter[0], {"type": "etcd.member.reply", "id": waiter[1],
                                  "error": None if err is None else list(err), "members": self.member_list()},
                      "member reply")
        for cb in self.on_conf_change:
            cb(self, index, cc, err)
        if err is None and cc.type == ConfChangeRemoveNode and cc.node_id == self.name:
            self.removed_self = True
            self.set_timer(REMOVED_STOP_DELAY, "removed")

    def member_list(self) -> list[dict]:
        """`etcdctl member list`: the members as applied here, by ID."""
        return sorted((dict(r) for r in self.members.values()), key=lambda r: r["id"])

    def _heard(self, name: str) -> None:
        a = self.active.get(name)
        if a is None or self.now - a[1] > self.heartbeat_interval * self.election_ticks:
            self.active[name] = [self.now, self.now]
        else:
            a[1] = self.now

    def active_since(self, name: str) -> float | None:
        """rafthttp Transport.ActiveSince: since when the peer has been connected, None when it
        is not (nothing heard from it within an election timeout)."""
        a = self.active.get(name)
        if a is None or self.now - a[1] > self.heartbeat_interval * self.election_ticks:
            return None
        return a[0]

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
                "revision": self.store.revision, "dbSize": self.db_size(), "log": self.log_tail(),
                "voters": st["voters"], "learners": st["learners"]}

    LOG_TAIL = 16

    def log_tail(self, n: int | None = None) -> list[dict[str, Any]]:
        """The last `n` entries of this member's Raft log on disk, for RaftScope's log boxes:
        index, term and what the entry carries (`empty` for a new leader's entry (§8), `put`,
        `delete`, `compact`, `conf` for a membership change, whose "key" says which).  Read
        from storage, so a stopped member's log shows too."""
        n = n or self.LOG_TAIL
        last = self.raft_storage.last_index()
        out = []
        for i in range(max(1, last - n + 1), last + 1):
            e = self.raft_storage.entry(i)
            if e is None:
                continue  # compacted away
            d = e.data
            if e.type == EntryConfChange:
                # a membership change: "conf", and what it does ("add-learner etcd-4")
                what = {ConfChangeAddNode: "add", ConfChangeAddLearnerNode: "add-learner",
                        ConfChangeRemoveNode: "remove"}.get(d.get("type"), "conf")
                if what == "add" and (d.get("context") or {}).get("isPromote"):
                    what = "promote"
                out.append({"index": e.index, "term": e.term, "kind": "conf", "key": f"{what} {d.get('nodeId')}"})
                continue
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
