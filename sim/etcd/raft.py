"""The Raft consensus core: a pure state machine in the spirit of etcd's raft library.

This module mirrors go.etcd.io/raft (raft.go, log.go, tracker/progress.go, rawnode.go) closely
enough that its comments can name the upstream function each piece corresponds to.  It does no
I/O, owns no timers and reads no clock:

    node = RawNode(Config(id="etcd-1", peers=[...], rng=random.Random(7)), storage)
    node.tick()                 # one logical clock tick (etcd: every --heartbeat-interval)
    node.step(message)          # a message from a peer (or a local one: MsgHup, MsgProp, ...)
    if node.has_ready():
        rd = node.ready()
        storage.apply_ready(rd) # 1. persist rd.snapshot, rd.entries, rd.hard_state (stable storage)
        send(rd.messages)       # 2. then send (a vote or an ack must never outrun its fsync)
        restore(rd.snapshot)    # 3. load a snapshot from the leader into the state machine, then
        apply(rd.committed_entries)   #  apply committed entries (after 1.)
        node.advance(rd)
    storage.create_snapshot(applied, state); storage.compact(i)   # log compaction (§7), by the app

Section numbers (§) refer to Ongaro & Ousterhout, "In Search of an Understandable Consensus
Algorithm (Extended Version)", 2014; "thesis" to Ongaro's dissertation "Consensus: Bridging Theory
and Practice", 2014 (pre-vote §9.6, check-quorum §6.2, leadership transfer §3.10).

What is here: leader election with randomized timeouts (§5.2), terms and votes, heartbeats, log
replication with the consistency check and etcd's fast backtracking by conflict hint (§5.3),
commit by a majority of entries of the current term only (§5.4.2), persisted HardState and log
surviving a restart (Figure 2, "Persistent state"), PreVote and CheckQuorum as etcd enables them,
leadership transfer (MsgTransferLeader / MsgTimeoutNow), proposals forwarded by followers or
dropped with ProposalDropped, linearizable reads by ReadIndex (thesis §6.4, ReadOnlySafe), and
log compaction with snapshots (§7): the application snapshots its state machine into the storage
and compacts the log behind it; a leader whose log no longer holds what a follower needs sends
that snapshot instead (MsgSnap), and the follower replaces its log (or keeps a matching suffix).

Membership changes one server at a time (thesis §4.1, etcd's ConfChange "V1"): a ConfChange
entry (EntryConfChange) adds a voter (ConfChangeAddNode), adds a learner
(ConfChangeAddLearnerNode: it is sent the log but neither votes nor counts for a quorum or a
commit; AddNode on a learner promotes it), or removes a node (ConfChangeRemoveNode).  It is
proposed with propose_conf_change and takes effect when the application applies it
(apply_conf_change: thesis §4.1 has a server use a configuration once it is in its log; etcd, and
so this port, once it is applied, which is safe with one change at a time because the leader
refuses a second one while one is unapplied: pendingConfIndex).  A snapshot carries the
configuration it was taken at (ConfState).  Not here: joint consensus (ConfChangeV2, thesis
§4.3), which etcd's server never uses.

Messages and entries are small dataclasses whose `to_dict()` is JSON-compatible, so the
dashboard can animate them.  Node ids are strings ("etcd-1"); None plays etcd's `None` (0).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

# -- message types (raftpb.MessageType names) -------------------------------------------------
MsgHup = "MsgHup"                      # local: start an election (the election timer fired)
MsgBeat = "MsgBeat"                    # local: leader, send heartbeats
MsgProp = "MsgProp"                    # a proposal (client write), local or forwarded
MsgApp = "MsgApp"                      # AppendEntries RPC (§5.3)
MsgAppResp = "MsgAppResp"
MsgVote = "MsgVote"                    # RequestVote RPC (§5.2)
MsgVoteResp = "MsgVoteResp"
MsgPreVote = "MsgPreVote"              # thesis §9.6
MsgPreVoteResp = "MsgPreVoteResp"
MsgHeartbeat = "MsgHeartbeat"          # etcd's empty AppendEntries, carrying a safe commit index
MsgHeartbeatResp = "MsgHeartbeatResp"
MsgTransferLeader = "MsgTransferLeader"  # thesis §3.10; From is the transferee
MsgTimeoutNow = "MsgTimeoutNow"        # "start an election now", from a transferring leader
MsgCheckQuorum = "MsgCheckQuorum"      # local: leader, check that a quorum was recently active
MsgReadIndex = "MsgReadIndex"          # thesis §6.4
MsgReadIndexResp = "MsgReadIndexResp"
MsgSnap = "MsgSnap"                    # InstallSnapshot RPC (§7)
MsgSnapStatus = "MsgSnapStatus"        # local: the transport reports a MsgSnap delivered or failed

LOCAL_MESSAGES = frozenset({MsgHup, MsgBeat, MsgCheckQuorum})

# -- entry types (raftpb.EntryType) -----------------------------------------------------------
EntryNormal = "EntryNormal"
EntryConfChange = "EntryConfChange"      # data: a ConfChange's to_dict()

# -- configuration changes (raftpb.ConfChangeType), one server at a time (thesis §4.1) -------
ConfChangeAddNode = "ConfChangeAddNode"                  # a voter; on a learner: promote it
ConfChangeRemoveNode = "ConfChangeRemoveNode"
ConfChangeAddLearnerNode = "ConfChangeAddLearnerNode"    # a non-voting member (thesis §4.2.1)
CONF_CHANGE_TYPES = (ConfChangeAddNode, ConfChangeRemoveNode, ConfChangeAddLearnerNode)

# -- snapshot status (raft.SnapshotStatus), reported with RawNode.report_snapshot ---------------
SnapshotFinish = "finish"
SnapshotFailure = "failure"

# -- roles (raft.StateType) -------------------------------------------------------------------
StateFollower = "follower"
StateCandidate = "candidate"
StateLeader = "leader"
StatePreCandidate = "pre-candidate"

# -- campaign types (raft.CampaignType) -------------------------------------------------------
CampaignPreElection = "CampaignPreElection"
CampaignElection = "CampaignElection"
CampaignTransfer = "CampaignTransfer"

# -- progress states (tracker.StateType) ------------------------------------------------------
StateProbe = "probe"
StateReplicate = "replicate"
StateSnapshot = "snapshot"   # a MsgSnap is on its way: no MsgApp until the follower answers

VOTE_WON, VOTE_LOST, VOTE_PENDING = "won", "lost", "pending"


class ProposalDropped(Exception):
    """etcd's ErrProposalDropped: no leader is known, a transfer is in progress, or this node is
    a candidate.  The caller sees it at once (a forwarded proposal that the leader drops is
    silently lost: the client's request times out, as with etcd)."""


class StepLocalMsg(Exception):
    """A local-only message type arrived from the network (etcd's ErrStepLocalMsg)."""


class LogCompacted(Exception):
    """The requested index is behind the log's compaction point (etcd's ErrCompacted)."""


class SnapshotOutOfDate(Exception):
    """A snapshot no newer than the one already held (etcd's ErrSnapOutOfDate)."""


class ConfChangeError(Exception):
    """A configuration change that cannot be applied (confchange.Changer's errors: removing the
    last voter; go.etcd.io/raft panics on them, the caller sees this)."""


@dataclass
class Entry:
    term: int
    index: int
    data: Any = None  # None: the leader's empty entry at the start of its term (§8)
    type: str = EntryNormal  # EntryConfChange: data is a ConfChange's to_dict()

    def to_dict(self) -> dict[str, Any]:
        d = {"term": self.term, "index": self.index, "data": self.data}
        if self.type != EntryNormal:
            d["type"] = self.type
        return d

    def copy(self) -> "Entry":
        return Entry(self.term, self.index, self.data, self.type)


@dataclass(frozen=True)
class ConfChange:
    """raftpb.ConfChange (V1: one change).  `context` is the application's (etcd: the member's
    name and peer URLs as JSON); node_id None is etcd's "apply nothing" (a change the server
    refused after it was committed is applied with NodeID 0)."""
    type: str
    node_id: str | None
    context: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "nodeId": self.node_id, "context": self.context}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ConfChange":
        return cls(type=d["type"], node_id=d.get("nodeId"), context=d.get("context"))


@dataclass(frozen=True)
class ConfState:
    """raftpb.ConfState: the voters and learners of a configuration (sorted)."""
    voters: tuple[str, ...] = ()
    learners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"voters": list(self.voters), "learners": list(self.learners)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "ConfState | None":
        if d is None:
            return None
        return cls(tuple(sorted(d.get("voters") or ())), tuple(sorted(d.get("learners") or ())))


@dataclass
class Snapshot:
    """raftpb.Snapshot: the state machine's state as of entry `index` (of term `term`), standing in
    for every entry up to it (§7: "the last included index and term" and the state).  `data` is
    the application's, JSON-compatible and never mutated once made (a MsgSnap carries it by
    reference).  index 0: no snapshot (etcd's IsEmptySnap)."""
    index: int = 0
    term: int = 0
    data: Any = None
    # The configuration as of `index` (raftpb.SnapshotMetadata.ConfState); None: the node keeps
    # the one it has (a snapshot made before membership could change).
    conf_state: ConfState | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"index": self.index, "term": self.term, "data": self.data}
        if self.conf_state is not None:
            d["confState"] = self.conf_state.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Snapshot":
        return cls(index=d["index"], term=d["term"], data=d.get("data"),
                   conf_state=ConfState.from_dict(d.get("confState")))


class LazySnapshot(Snapshot):
    """A Snapshot whose `data` is made when first read: an etcd member snapshots its keyspace
    every --snapshot-count entries, and the data is read only when a follower must be sent it
    or the member restores from it (sim/etcd/mvcc.py snapshot_view).  Once made it is kept,
    never mutated, as Snapshot's."""

    def __init__(self, index: int, term: int, make_data: Callable[[], Any], conf_state: ConfState | None = None):
        self._make = make_data
        self._data = None
        super().__init__(index, term, conf_state=conf_state)

    @property
    def data(self) -> Any:
        if self._make is not None:
            self._data, self._make = self._make(), None
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if value is not None or self._make is None:
            self._data, self._make = value, None


@dataclass
class Message:
    type: str
    to: str | None = None
    frm: str | None = None         # "from" (a Python keyword)
    term: int = 0                  # 0: a local message, or a response carrying no term (etcd)
    log_term: int = 0              # MsgApp: prevLogTerm; MsgVote: lastLogTerm; MsgAppResp: hint term
    index: int = 0                 # MsgApp: prevLogIndex; MsgVote: lastLogIndex; MsgAppResp: index
    entries: list[Entry] = field(default_factory=list)
    commit: int = 0                # leaderCommit
    reject: bool = False
    reject_hint: int = 0
    context: Any = None            # CampaignTransfer, a read request context
    snapshot: Snapshot | None = None  # MsgSnap

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "from": self.frm, "to": self.to, "term": self.term,
                "logTerm": self.log_term, "index": self.index,
                "entries": [e.to_dict() for e in self.entries], "commit": self.commit,
                "reject": self.reject, "rejectHint": self.reject_hint, "context": self.context,
                "snapshot": None if self.snapshot is None else self.snapshot.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Message":
        snap = d.get("snapshot")
        return cls(type=d["type"], to=d.get("to"), frm=d.get("from"), term=d.get("term", 0),
                   log_term=d.get("logTerm", 0), index=d.get("index", 0),
                   entries=[Entry(**e) for e in d.get("entries", [])], commit=d.get("commit", 0),
                   reject=d.get("reject", False), reject_hint=d.get("rejectHint", 0),
                   context=d.get("context"),
                   snapshot=None if snap is None else Snapshot.from_dict(snap))


@dataclass(frozen=True)
class HardState:
    """What Figure 2 calls persistent state (the log is kept by Storage), plus etcd's commit."""
    term: int = 0
    vote: str | None = None
    commit: int = 0


@dataclass(frozen=True)
class SoftState:
    lead: str | None
    state: str


@dataclass(frozen=True)
class ReadState:
    index: int
    context: Any


@dataclass
class Ready:
    """What the node wants done (rawnode.go Ready): persist, send, apply - in that order."""
    soft_state: SoftState | None = None
    hard_state: HardState | None = None
    entries: list[Entry] = field(default_factory=list)          # to append to stable storage
    committed_entries: list[Entry] = field(default_factory=list)  # to apply, after persisting
    messages: list[Message] = field(default_factory=list)
    read_states: list[ReadState] = field(default_factory=list)
    # A snapshot from the leader: persist it (before the entries) and load it into the state
    # machine before applying committed_entries, which all come after it.
    snapshot: Snapshot | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"softState": None if self.soft_state is None else vars(self.soft_state),
                "hardState": None if self.hard_state is None else vars(self.hard_state),
                "snapshot": None if self.snapshot is None else {"index": self.snapshot.index,
                                                                "term": self.snapshot.term},
                "entries": [e.to_dict() for e in self.entries],
                "committedEntries": [e.to_dict() for e in self.committed_entries],
                "messages": [m.to_dict() for m in self.messages],
                "readStates": [vars(r) for r in self.read_states]}


class MemoryStorage:
    """A member's disk (storage.go MemoryStorage): HardState, the latest snapshot, and the log
    entries after the compaction point, all surviving restarts.

    etcd keeps a dummy entry at ents[0] carrying the index and term of the last compacted entry;
    here that is (`offset`, `offset_term`), and `entries[k]` is the entry at index offset + 1 + k
    (with nothing compacted, entry i sits at entries[i - 1]).  The compaction point may lie
    below the snapshot: etcd keeps SnapshotCatchUpEntries entries behind its snapshot so a
    follower slightly behind catches up from the log rather than by a whole snapshot.

    `append` truncates a conflicting suffix first, as etcd's MemoryStorage.Append does: the
    follower's log may be overwritten by a new leader's (§5.3), never below the commit index."""

    def __init__(self) -> None:
        self.hard_state = HardState()
        self.snapshot = Snapshot()
        self.offset = 0          # index of the last compacted entry (etcd: ents[0].Index)
        self.offset_term = 0     # its term, kept for the consistency check at the boundary
        self.entries: list[Entry] = []

    def initial_state(self) -> HardState:
        return self.hard_state

    def set_hard_state(self, hs: HardState) -> None:
        self.hard_state = hs

    def first_index(self) -> int:
        return self.offset + 1

    def last_index(self) -> int:
        return self.offset + len(self.entries)

    def term(self, i: int) -> int | None:
        """The term of entry i (storage.go Term): also known for the last compacted entry;
        None below it (ErrCompacted) or past the end (ErrUnavailable)."""
        if i == self.offset:
            return self.offset_term
        e = self.entry(i)
        return None if e is None else e.term

    def entry(self, i: int) -> Entry | None:
        """Entry i, or None when it is not on this disk (compacted away, or not written)."""
        return self.entries[i - self.offset - 1] if self.offset < i <= self.last_index() else None

    def slice(self, lo: int, hi: int) -> list[Entry]:
        """Entries [lo, hi), as copies (storage.go Entries); LogCompacted when lo is compacted."""
        if lo <= self.offset:
            raise LogCompacted(f"entry {lo} is compacted (first index {self.first_index()})")
        if hi > self.last_index() + 1:
            raise AssertionError(f"entries [{lo}, {hi}) out of bound (last index {self.last_index()})")
        return [e.copy() for e in self.entries[lo - self.offset - 1:hi - self.offset - 1]]

    def create_snapshot(self, index: int, data: Any = None, make_data: Callable[[], Any] | None = None,
                        conf_state: ConfState | None = None) -> Snapshot:
        """storage.go CreateSnapshot: record the state machine's state as of applied entry
        `index` (which must be on disk) and the configuration then (`conf_state`); the log is
        left alone (compact it separately).  `make_data` instead of `data`: the state, made
        when the snapshot is first read."""
        if index <= self.snapshot.index:
            raise SnapshotOutOfDate(f"snapshot at {index} <= {self.snapshot.index}")
        term = self.term(index)
        if term is None:
            raise AssertionError(f"snapshot {index} is out of bound [{self.offset}, {self.last_index()}]")
        self.snapshot = Snapshot(index, term, data, conf_state) if make_data is None else \
            LazySnapshot(index, term, make_data, conf_state)
        return self.snapshot

    def compact(self, index: int) -> None:
        """storage.go Compact: discard the entries up to `index` (the application must have
        snapshotted at least that far); `index` becomes the new dummy entry."""
        if index <= self.offset:
            raise LogCompacted(f"already compacted at {self.offset}")
        if index > self.last_index():
            raise AssertionError(f"compact {index} is out of bound (last index {self.last_index()})")
        k = index - self.offset
        self.offset_term = self.entries[k - 1].term
        self.entries = self.entries[k:]
        self.offset = index

    def apply_snapshot(self, snap: Snapshot) -> None:
        """storage.go ApplySnapshot: a snapshot from the leader replaces the whole log."""
        if snap.index <= self.snapshot.index:
            raise SnapshotOutOfDate(f"snapshot at {snap.index} <= {self.snapshot.index}")
        self.snapshot = snap
        self.offset, self.offset_term, self.entries = snap.index, snap.term, []

    def append(self, entries: list[Entry]) -> None:
        if not entries:
            return
        first = self.first_index()
        if entries[0].index + len(entries) - 1 < first:
            return  # all compacted already
        if entries[0].index < first:
            entries = entries[first - entries[0].index:]  # drop the compacted head
        pos = entries[0].index - self.offset - 1
        assert pos <= len(self.entries), "gap in the log"
        del self.entries[pos:]
        self.entries.extend(e.copy() for e in entries)

    def apply_ready(self, rd: Ready) -> None:
        """Persist what a Ready asks to persist: the snapshot first (it resets the log), then
        the entries that follow it, then the HardState (etcd raftNode: SaveSnap, Save,
        ApplySnapshot, Append)."""
        if rd.snapshot is not None:
            self.apply_snapshot(rd.snapshot)
        self.append(rd.entries)
        if rd.hard_state is not None:
            self.set_hard_state(rd.hard_state)


# -- the log (log.go raftLog, log_unstable.go unstable) ----------------------------------------
class Unstable:
    """What the node has not yet handed to storage (log_unstable.go): entries from `offset` on,
    and possibly a snapshot received from the leader (which then precedes them)."""

    def __init__(self, offset: int):
        self.snapshot: Snapshot | None = None
        self.entries: list[Entry] = []
        self.offset = offset  # index of entries[0]

    def maybe_first_index(self) -> int | None:
        return self.snapshot.index + 1 if self.snapshot is not None else None

    def maybe_last_index(self) -> int | None:
        if self.entries:
            return self.offset + len(self.entries) - 1
        return self.snapshot.index if self.snapshot is not None else None

    def maybe_term(self, i: int) -> int | None:
        if i < self.offset:
            if self.snapshot is not None and self.snapshot.index == i:
                return self.snapshot.term
            return None
        last = self.maybe_last_index()
        if last is None or i > last:
            return None
        return self.entries[i - self.offset].term

    def stable_to(self, i: int, t: int) -> None:
        """Entries up to (i, t) are on disk: forget them, unless (i, t) was overwritten since."""
        if i >= self.offset and self.maybe_term(i) == t:
            self.entries = self.entries[i + 1 - self.offset:]
            self.offset = i + 1

    def stable_snap_to(self, i: int) -> None:
        if self.snapshot is not None and self.snapshot.index == i:
            self.snapshot = None

    def restore(self, s: Snapshot) -> None:
        self.offset = s.index + 1
        self.entries = []
        self.snapshot = s

    def truncate_and_append(self, ents: list[Entry]) -> None:
        after = ents[0].index
        if after == self.offset + len(self.entries):
            self.entries.extend(ents)
        elif after <= self.offset:
            # The new entries replace everything unstable, and storage's suffix from `after`
            # is superseded too (MemoryStorage.append truncates it when they are persisted).
            self.offset = after
            self.entries = list(ents)
        else:
            self.entries = self.entries[:after - self.offset] + list(ents)

    def slice(self, lo: int, hi: int) -> list[Entry]:
        return [e.copy() for e in self.entries[lo - self.offset:hi - self.offset]]


class RaftLog:
    """Stable entries are read from storage, newer ones from `unstable` (log.go raftLog).  After
    compaction the log starts at first_index(); the entry before it is known by its term only,
    which is all the consistency check (§5.3) needs at that boundary (§7: "the last included
    index and term")."""

    def __init__(self, storage: MemoryStorage, applied: int = 0):
        self.storage = storage
        first, last = storage.first_index(), storage.last_index()
        self.unstable = Unstable(last + 1)
        hs = storage.initial_state()
        # log.go newLog starts committed and applied at the compaction point; loadState and
        # Config.Applied move them on.  Everything compacted was applied, hence committed.
        self.committed = first - 1
        if hs != HardState():
            if hs.commit < self.committed:
                raise AssertionError(f"commit {hs.commit} is below the compaction point {self.committed}")
            self.committed = hs.commit
        self.applied = max(first - 1, applied)
        if self.applied > self.committed:
            raise AssertionError(f"applied {self.applied} is past commit {self.committed}")

    def first_index(self) -> int:
        i = self.unstable.maybe_first_index()
        return i if i is not None else self.storage.first_index()

    def last_index(self) -> int:
        i = self.unstable.maybe_last_index()
        return i if i is not None else self.storage.last_index()

    def last_term(self) -> int:
        t = self.term(self.last_index())
        assert t is not None, "the last entry's term is always known"
        return t

    def term(self, i: int) -> int | None:
        """The term of entry i: known from first_index() - 1 (the snapshot's or the compaction
        point's, 0 for the dummy entry 0 of an uncompacted log) to last_index(); None for a
        compacted index (ErrCompacted) or past the end (ErrUnavailable)."""
        t = self.unstable.maybe_term(i)
        if t is not None:
            return t
        if i < self.first_index() - 1 or i > self.last_index():
            return None
        return self.storage.term(i)

    def match_term(self, i: int, term: int) -> bool:
        return self.term(i) == term

    def slice(self, lo: int, hi: int) -> list[Entry]:
        """Entries [lo, hi), as copies (messages never share mutable entries); LogCompacted
        when lo is behind the first index."""
        if lo < self.first_index():
            raise LogCompacted(f"entry {lo} is compacted (first index {self.first_index()})")
        if hi > self.last_index() + 1:
            raise AssertionError(f"slice [{lo}, {hi}) out of bound (last index {self.last_index()})")
        if lo >= hi:
            return []
        off = self.unstable.offset
        ents: list[Entry] = []
        if lo < off:
            ents = self.storage.slice(lo, min(hi, off))
        if hi > off:
            ents += self.unstable.slice(max(lo, off), hi)
        return ents

    def all_entries(self) -> list[Entry]:
        """Every entry still in the log (log.go allEntries), from first_index()."""
        return self.slice(self.first_index(), self.last_index() + 1)

    def snapshot(self) -> Snapshot:
        """The snapshot a lagging follower needs: a pending one, else storage's (log.go snapshot)."""
        return self.unstable.snapshot if self.unstable.snapshot is not None else self.storage.snapshot

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """§5.4.1: the candidate's log is at least as up-to-date as ours: compare the last terms,
        then (same term) the lengths."""
        return last_term > self.last_term() or (last_term == self.last_term()
                                                 and last_index >= self.last_index())

    def find_conflict(self, ents: list[Entry]) -> int:
        """The index of the first entry of `ents` that is not in our log (different term or past
        the end); 0 when all are present."""
        for e in ents:
            if not self.match_term(e.index, e.term):
                return e.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """etcd's fast backtracking (log.go findConflictByTerm; cf. §5.3's "the follower can
        include the term of the conflicting entry and the first index it stores for that term"):
        the largest index <= `index` whose term is <= `term`, and that term; (index, 0) when the
        term there is unknown (compacted)."""
        while index > 0:
            t = self.term(index)
            if t is None:
                return index, 0
            if t <= term:
                return index, t
            index -= 1
        return 0, 0

    def append(self, ents: list[Entry]) -> int:
        """Append, truncating a conflicting suffix (never below commit)."""
        if not ents:
            return self.last_index()
        after = ents[0].index - 1
        if after < self.committed:
            raise AssertionError(f"append at {after + 1} would overwrite committed {self.committed}")
        self.unstable.truncate_and_append([e.copy() for e in ents])
        return self.last_index()

    def maybe_append(self, index: int, log_term: int, committed: int,
                     ents: list[Entry]) -> int | None:
        """AppendEntries receiver rules 2-5 (Figure 2): the consistency check on
        (prevLogIndex, prevLogTerm), delete a conflicting suffix, append what is new, advance
        commit to min(leaderCommit, index of last new entry).  Returns the last new index, or
        None when the consistency check fails."""
        if not self.match_term(index, log_term):
            return None
        lastnewi = index + len(ents)
        ci = self.find_conflict(ents)
        if ci:
            if ci <= self.committed:
                raise AssertionError(f"entry {ci} conflicts with committed entry {self.committed}")
            self.append(ents[ci - (index + 1):])
        self.commit_to(min(committed, lastnewi))
        return lastnewi

    def commit_to(self, tocommit: int) -> None:
        if self.committed < tocommit:  # never decrease commit
            if self.last_index() < tocommit:
                raise AssertionError(f"commit {tocommit} out of range [last {self.last_index()}]")
            self.committed = tocommit

    def maybe_commit(self, max_index: int, term: int) -> bool:
        """§5.4.2: only an entry of the leader's current term is committed by counting replicas;
        earlier entries are committed with it, by the Log Matching Property."""
        if max_index > self.committed and self.term(max_index) == term:
            self.commit_to(max_index)
            return True
        return False

    def restore(self, s: Snapshot) -> None:
        """Replace the whole log by a snapshot (log.go restore): committed up to its index,
        nothing after it until the leader sends more."""
        self.committed = s.index
        self.unstable.restore(s)

    def applied_to(self, i: int) -> None:
        if i:
            if i > self.committed or i < self.applied:
                raise AssertionError(f"applied {i} is out of range [{self.applied}, {self.committed}]")
            self.applied = i

    def unstable_entries(self) -> list[Entry]:
        return self.unstable.slice(self.unstable.offset, self.unstable.offset + len(self.unstable.entries))

    def has_next_committed_entries(self) -> bool:
        return self.committed + 1 > max(self.applied + 1, self.first_index())

    def next_committed_entries(self) -> list[Entry]:
        """Committed entries not yet applied.  Entries covered by a pending snapshot are never
        handed out: applying the snapshot stands for them (log.go nextEnts starts at
        max(applied+1, firstIndex))."""
        off = max(self.applied + 1, self.first_index())
        return self.slice(off, self.committed + 1) if self.committed + 1 > off else []


# -- replication progress (tracker/progress.go, tracker/inflights.go) ---------------------------
class Progress:
    """The leader's view of one follower: Figure 2's nextIndex and matchIndex, plus etcd's flow
    control state (probe: one MsgApp per heartbeat until a match is found; replicate: pipeline
    up to max_inflight messages; snapshot: a MsgSnap is on its way, nothing else is sent)."""

    def __init__(self, next_index: int, max_inflight: int):
        self.match = 0
        self.next = next_index
        self.state = StateProbe
        self.msg_app_flow_paused = False
        self.recent_active = False
        self.inflights: list[int] = []  # last index of each in-flight MsgApp
        self.max_inflight = max_inflight
        self.pending_snapshot = 0       # StateSnapshot: the index of the snapshot sent
        self.is_learner = False         # replicated to, but no vote and no say in a commit

    def reset_state(self, state: str) -> None:
        self.msg_app_flow_paused = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.clear()

    def become_probe(self) -> None:
        if self.state == StateSnapshot:
            # The snapshot was delivered: probe from just after it (a failed one has had
            # pending_snapshot cleared first, so we probe from match + 1).
            pending = self.pending_snapshot
            self.reset_state(StateProbe)
            self.next = max(self.match + 1, pending + 1)
        else:
            self.reset_state(StateProbe)
            self.next = self.match + 1

    def become_replicate(self) -> None:
        self.reset_state(StateReplicate)
        self.next = self.match + 1

    def become_snapshot(self, snapshot_index: int) -> None:
        self.reset_state(StateSnapshot)
        self.pending_snapshot = snapshot_index

    def maybe_update(self, n: int) -> bool:
        updated = False
        if self.match < n:
            self.match = n
            updated = True
            self.msg_app_flow_paused = False
        self.next = max(self.next, n + 1)
        return updated

    def maybe_decr_to(self, rejected: int, match_hint: int) -> bool:
        if self.state == StateReplicate:
            if rejected <= self.match:  # stale rejection
                return False
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:  # stale rejection
            return False
        self.next = max(min(rejected, match_hint + 1), 1)
        self.msg_app_flow_paused = False
        return True

    def inflights_full(self) -> bool:
        return len(self.inflights) >= self.max_inflight

    def free_le(self, index: int) -> None:
        while self.inflights and self.inflights[0] <= index:
            self.inflights.pop(0)

    def is_paused(self) -> bool:
        if self.state == StateProbe:
            return self.msg_app_flow_paused
        if self.state == StateSnapshot:
            return True
        return self.inflights_full()

    def sent_entries(self, n: int, last: int) -> None:
        if self.state == StateReplicate:
            if n:
                self.next = last + 1
                self.inflights.append(last)
        elif self.state == StateProbe:
            self.msg_app_flow_paused = True

    def to_dict(self) -> dict[str, Any]:
        return {"match": self.match, "next": self.next, "state": self.state,
                "recentActive": self.recent_active, "pendingSnapshot": self.pending_snapshot,
                "isLearner": self.is_learner}


# -- configuration -----------------------------------------------------------------------------
@dataclass
class Config:
    id: str
    # The configuration to start with: every voter (and learner), this node included - or
    # neither, for a node joining a running group (etcd's RestartNode with no peers) or one
    # restarting from a storage whose snapshot carries the configuration (Snapshot.conf_state),
    # which it then takes.
    peers: list[str]
    learners: list[str] = field(default_factory=list)
    election_tick: int = 10              # etcd: --election-timeout 1000 ms / 100 ms ticks
    heartbeat_tick: int = 1              # etcd: --heartbeat-interval 100 ms = one tick
    pre_vote: bool = True                # etcd server: --pre-vote, on by default since v3.5
    check_quorum: bool = True            # etcd server always sets CheckQuorum
    rng: random.Random | None = None     # injected randomness (the kernel's seeded generator)
    applied: int = 0                     # last index the state machine applied before a restart
    max_inflight: int = 256
    max_entries_per_msg: int = 64
    disable_proposal_forwarding: bool = False
    # The randomized election timeout in ticks.  Default: etcd's
    # electionTimeout + rand.Intn(electionTimeout), i.e. uniform over [et, 2*et) (§5.2 asks for
    # "randomized election timeouts ... chosen randomly from a fixed interval").  A harness
    # measuring the paper's Figure 16 plugs a continuous uniform [lo, hi] in here.
    election_timeout_fn: Callable[[random.Random], int] | None = None
    # etcd resets (and re-randomizes) the election timer whenever a node steps down to follower,
    # including on merely seeing a higher term.  The paper's Figure 2 (and LogCabin, whose
    # RaftConsensus::stepDown keeps a follower's timer) resets it only on hearing from the
    # leader or granting a vote.  False selects the paper's rule; only the Figure 16 benchmark
    # uses it.
    reset_timer_on_step_down: bool = True
    # go.etcd.io/raft's StepDownOnRemoval: a leader that applies its own removal (or demotion to
    # learner) steps down at once.  Off by default, as upstream, and etcd's server does not set
    # it: a removed etcd leader stops its process a second after applying the change instead.
    step_down_on_removal: bool = False


# -- the state machine (raft.go) -------------------------------------------------------------------
class RawNode:
    def __init__(self, config: Config, storage: MemoryStorage):
        if config.heartbeat_tick <= 0 or config.election_tick <= config.heartbeat_tick:
            raise ValueError("election tick must be greater than heartbeat tick > 0")
        self.id = config.id
        self.cfg = config
        self.rng = config.rng or random.Random(0)
        self.storage = storage
        self.log = RaftLog(storage, config.applied)
        hs = storage.initial_state()
        if hs.commit > self.log.last_index():
            raise AssertionError(f"commit {hs.commit} is out of range [last {self.log.last_index()}]")
        # Figure 2 "Persistent state on all servers": currentTerm, votedFor, log[] - read back
        # from stable storage on restart.
        self.term = hs.term
        self.vote: str | None = hs.vote
        self.lead: str | None = None
        self.state = StateFollower
        self.election_timeout = config.election_tick
        self.heartbeat_timeout = config.heartbeat_tick
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = 0
        self.lead_transferee: str | None = None
        # The configuration (tracker.Config): voters decide elections and commits; learners are
        # only replicated to.  Both have a Progress at the leader.
        cs = ConfState(tuple(sorted(config.peers)), tuple(sorted(config.learners)))
        if not cs.voters and not cs.learners and storage.snapshot.conf_state is not None:
            cs = storage.snapshot.conf_state
        if set(cs.voters) & set(cs.learners):
            raise ValueError(f"{sorted(set(cs.voters) & set(cs.learners))} both voter and learner")
        self.voters: set[str] = set(cs.voters)
        self.learners: set[str] = set(cs.learners)
        self.is_learner = self.id in self.learners
        # Only one configuration change may be in the log unapplied: the leader refuses another
        # until its applied index passes this (raft.go pendingConfIndex).
        self.pending_conf_index = 0
        self.prs: dict[str, Progress] = {}
        self.votes: dict[str, bool] = {}
        self.msgs: list[Message] = []
        self.read_states: list[ReadState] = []
        self.pending_read_index: list[Message] = []  # reads waiting for a commit in this term
        self.read_only: dict[Any, dict[str, Any]] = {}  # ctx -> {index, from, acks}
        self.read_queue: list[Any] = []
        self._prev_soft = SoftState(None, StateFollower)
        self._prev_hard = hs
        self.become_follower(self.term, None)

    # -- small helpers ------------------------------------------------------------------------
    @property
    def peers(self) -> list[str]:
        """Every node of the configuration, voters and learners (the leader replicates to all)."""
        return sorted(self.voters | self.learners)

    @property
    def quorum(self) -> int:
        """A majority of the voters (learners do not count)."""
        return len(self.voters) // 2 + 1

    def conf_state(self) -> ConfState:
        return ConfState(tuple(sorted(self.voters)), tuple(sorted(self.learners)))

    def promotable(self) -> bool:
        # raft.go promotable: a voter (not a learner, not a node outside the configuration), and
        # not while a snapshot from the leader waits to be applied.
        return self.id in self.voters and self.log.unstable.snapshot is None

    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    def soft_state(self) -> SoftState:
        return SoftState(self.lead, self.state)

    def send(self, m: Message) -> None:
        m.frm = self.id
        if m.type in (MsgVote, MsgVoteResp, MsgPreVote, MsgPreVoteResp):
            # Votes carry the term explicitly (for a pre-vote, the term the candidate would
            # campaign at; for a response, the term of the request or our own on rejection).
            assert m.term != 0, f"term should be set when sending {m.type}"
        else:
            assert m.term == 0, f"term should not be set when sending {m.type}"
            if m.type not in (MsgProp, MsgReadIndex):
                m.term = self.term
            # Proposals and read requests are forwarded as local messages (term 0), as etcd does.
        self.msgs.append(m)

    def reset_randomized_election_timeout(self) -> None:
        fn = self.cfg.election_timeout_fn
        if fn is not None:
            self.randomized_election_timeout = int(fn(self.rng))
        else:
            self.randomized_election_timeout = self.election_timeout + self.rng.randrange(self.election_timeout)

    def past_election_timeout(self) -> bool:
        return self.election_elapsed >= self.randomized_election_timeout

    def reset(self, term: int) -> None:
        if self.term != term:
            self.term = term
            self.vote = None
        self.lead = None
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.reset_randomized_election_timeout()
        self.abort_leader_transfer()
        self.votes = {}
        self._reset_progress()
        self.pending_read_index = []
        self.read_only = {}
        self.read_queue = []

    def _reset_progress(self) -> None:
        """A fresh Progress for every node of the configuration (raft.go reset: Next = last + 1,
        our own Match = last)."""
        last = self.log.last_index()
        self.prs = {}
        for p in self.peers:
            pr = Progress(last + 1, self.cfg.max_inflight)
            pr.is_learner = p in self.learners
            if p == self.id:
                pr.match = last
            self.prs[p] = pr

    def abort_leader_transfer(self) -> None:
        self.lead_transferee = None

    # -- configuration changes (raft.go applyConfChange / switchToConfig, confchange.Simple) ------
    def apply_conf_change(self, cc: ConfChange | dict) -> ConfState:
        """Apply a committed ConfChange to the progress tracker: the configuration it makes is
        used from now on (thesis §4.1).  The application calls this when it applies the entry,
        on every node (rawnode.ApplyConfChange); it answers the new ConfState, which the
        application keeps with its state (and its snapshots).  A change with node_id None
        changes nothing (etcd applies a change it refused that way)."""
        if isinstance(cc, dict):
            cc = ConfChange.from_dict(cc)
        nid = cc.node_id
        if nid is None:
            return self.conf_state()
        if cc.type not in CONF_CHANGE_TYPES:
            raise ConfChangeError(f"unknown ConfChange type {cc.type!r}")
        voters, learners = set(self.voters), set(self.learners)
        if cc.type == ConfChangeAddNode:          # makeVoter: a new voter, or promote a learner
            learners.discard(nid)
            voters.add(nid)
        elif cc.type == ConfChangeAddLearnerNode:  # makeLearner (on a voter: a demotion)
            voters.discard(nid)
            learners.add(nid)
        else:                                      # remove
            voters.discard(nid)
            learners.discard(nid)
        if not voters:
            raise ConfChangeError("removed all voters")
        return self._switch_to_config(voters, learners)

    def _switch_to_config(self, voters: set[str], learners: set[str]) -> ConfState:
        last = self.log.last_index()
        for p in voters | learners:
            pr = self.prs.get(p)
            if pr is None:
                # confchange initProgress: probe from the last index (the new node most likely
                # has nothing and will be walked back, or sent a snapshot), and count it as
                # recently active so that CheckQuorum does not depose us before it answers.
                pr = Progress(max(last, 1), self.cfg.max_inflight)
                pr.recent_active = True
                self.prs[p] = pr
            pr.is_learner = p in learners
        for p in list(self.prs):
            if p not in voters and p not in learners:
                del self.prs[p]
        self.voters, self.learners = voters, learners
        self.is_learner = self.id in learners
        cs = self.conf_state()
        if self.state == StateLeader and self.id not in voters:
            # This leader was removed (or demoted).  go.etcd.io/raft steps down only with
            # StepDownOnRemoval; without it (etcd) it goes on leading the others, no longer
            # counting itself, until the application stops it.
            if self.cfg.step_down_on_removal:
                self.become_follower(self.term, None)
            return cs
        if self.state != StateLeader or not voters:
            return cs
        if self.maybe_commit():
            # The new majority may commit more (a removed voter no longer holds commits back).
            self.bcast_append()
        else:
            # Still probe the new nodes at once rather than at the next heartbeat.
            for p in self.peers:
                if p != self.id:
                    self.maybe_send_append(p, send_if_empty=False)
        if self.lead_transferee is not None and self.lead_transferee not in voters:
            self.abort_leader_transfer()
        return cs

    # -- role changes (becomeFollower, becomeCandidate, becomePreCandidate, becomeLeader) -------
    def become_follower(self, term: int, lead: str | None) -> None:
        keep = (not self.cfg.reset_timer_on_step_down and self.state != StateLeader
                and self.randomized_election_timeout > 0)
        elapsed, timeout = self.election_elapsed, self.randomized_election_timeout
        self.reset(term)
        if keep:
            self.election_elapsed, self.randomized_election_timeout = elapsed, timeout
        self.lead = lead
        self.state = StateFollower

    def become_candidate(self) -> None:
        """§5.2: increment currentTerm, vote for self."""
        if self.state == StateLeader:
            raise AssertionError("invalid transition [leader -> candidate]")
        self.reset(self.term + 1)
        self.vote = self.id
        self.state = StateCandidate

    def become_pre_candidate(self) -> None:
        """Thesis §9.6: ask first whether we *could* win, without bumping the term, so a node
        that was cut off does not disrupt the cluster when it returns.  Term, vote and the
        election timer are left alone (etcd becomePreCandidate)."""
        if self.state == StateLeader:
            raise AssertionError("invalid transition [leader -> pre-candidate]")
        self.votes = {}
        self.lead = None
        self.state = StatePreCandidate

    def become_leader(self) -> None:
        if self.state == StateFollower:
            raise AssertionError("invalid transition [follower -> leader]")
        self.reset(self.term)
        self.lead = self.id
        self.state = StateLeader
        self.prs[self.id].become_replicate()
        self.prs[self.id].recent_active = True
        # Conservatively, the last index: there may be an unapplied conf change in the log, and
        # no other may be proposed until everything up to here is applied (raft.go becomeLeader).
        self.pending_conf_index = self.log.last_index()
        # §8: "each leader commit a blank no-op entry into the log at the start of its term",
        # which commits the entries of earlier terms (§5.4.2) and makes ReadIndex possible.
        self.append_entry([Entry(0, 0, None)])

    # -- ticks (tickElection, tickHeartbeat) ---------------------------------------------------
    def tick(self, n: int = 1) -> None:
        """Advance the logical clock by n ticks: exactly equivalent to n single ticks (etcd
        calls Tick once per --heartbeat-interval), but O(timers fired), so an event-driven
        harness with fine-grained ticks can jump straight to the next due timer."""
        while n > 0:
            k = min(n, self.ticks_until_due())
            n -= k
            if self.state == StateLeader:
                self._tick_heartbeat(k)
            else:
                self._tick_election(k)

    def ticks_until_due(self) -> int:
        """Ticks until this node's next timer fires (>= 1)."""
        if self.state == StateLeader:
            return max(1, min(self.heartbeat_timeout - self.heartbeat_elapsed,
                              self.election_timeout - self.election_elapsed))
        if not self.promotable():
            return 1 << 62
        return max(1, self.randomized_election_timeout - self.election_elapsed)

    def _tick_election(self, k: int = 1) -> None:
        self.election_elapsed += k
        if self.promotable() and self.past_election_timeout():
            self.election_elapsed = 0
            self.step(Message(MsgHup, frm=self.id))

    def _tick_heartbeat(self, k: int = 1) -> None:
        self.heartbeat_elapsed += k
        self.election_elapsed += k
        if self.election_elapsed >= self.election_timeout:
            self.election_elapsed = 0
            if self.cfg.check_quorum:
                self.step(Message(MsgCheckQuorum, frm=self.id))
            # A transfer must finish within one election timeout, or it is abandoned.
            if self.state == StateLeader and self.lead_transferee is not None:
                self.abort_leader_transfer()
        if self.state != StateLeader:
            return
        if self.heartbeat_elapsed >= self.heartbeat_timeout:
            self.heartbeat_elapsed = 0
            self.step(Message(MsgBeat, frm=self.id))

    # -- campaigns (hup, campaign, poll) -------------------------------------------------------
    def hup(self, t: str) -> None:
        if self.state == StateLeader or not self.promotable():
            return
        self.campaign(t)

    def campaign(self, t: str) -> None:
        if t == CampaignPreElection:
            self.become_pre_candidate()
            vote_msg, term = MsgPreVote, self.term + 1  # the term we would campaign at
        else:
            self.become_candidate()
            vote_msg, term = MsgVote, self.term
        if self.poll(self.id, True) == VOTE_WON:  # a single-member cluster wins at once
            if t == CampaignPreElection:
                self.campaign(CampaignElection)
            else:
                self.become_leader()
            return
        for p in sorted(self.voters):  # learners are not asked: they have no vote
            if p == self.id:
                continue
            self.send(Message(vote_msg, to=p, term=term, index=self.log.last_index(),
                              log_term=self.log.last_term(),
                              context=CampaignTransfer if t == CampaignTransfer else None))

    def poll(self, voter: str, granted: bool) -> str:
        self.votes.setdefault(voter, granted)
        # Only the voters' answers count (tracker.TallyVotes): a learner may answer a vote - it
        # may have been promoted without knowing it yet - but is not counted until it is a voter.
        won = sum(1 for v, g in self.votes.items() if g and v in self.voters)
        lost = sum(1 for v, g in self.votes.items() if not g and v in self.voters)
        if won >= self.quorum:
            return VOTE_WON
        if lost > len(self.voters) - self.quorum:
            return VOTE_LOST
        return VOTE_PENDING

    # -- Step: the entry point for every message -------------------------------------------------
    def step(self, m: Message) -> None:
        if m.type == MsgSnapStatus or (m.type in LOCAL_MESSAGES and m.frm not in (None, self.id)):
            raise StepLocalMsg(m.type)  # MsgSnapStatus only comes through report_snapshot
        self._step(m)

    def _step(self, m: Message) -> None:
        if m.term == 0:
            pass  # a local message (or a forwarded proposal / read request)
        elif m.term > self.term:
            if m.type in (MsgVote, MsgPreVote):
                force = m.context == CampaignTransfer
                # CheckQuorum's lease (thesis §4.2.3 / §9.6): a server that has heard from a
                # leader within the minimum election timeout ignores RequestVote, so a
                # partitioned-and-back server cannot depose a working leader.
                in_lease = (self.cfg.check_quorum and self.lead is not None
                            and self.election_elapsed < self.election_timeout)
                if not force and in_lease:
                    return
            if m.type == MsgPreVote:
                pass  # never change our term in response to a PreVote
            elif m.type == MsgPreVoteResp and not m.reject:
                pass  # the future term we asked about; we bump it when a quorum grants
            else:
                # §5.1: "If a server receives a request with a stale term number ... it updates
                # its current term ... and reverts to follower state".
                if m.type in (MsgApp, MsgHeartbeat, MsgSnap):
                    self.become_follower(m.term, m.frm)
                else:
                    self.become_follower(m.term, None)
        elif m.term < self.term:
            if (self.cfg.check_quorum or self.cfg.pre_vote) and m.type in (MsgHeartbeat, MsgApp):
                # A stale leader (e.g. one that was partitioned away) would never learn of the
                # new term from our silence: pre-vote means we do not bump terms on its
                # requests.  Answer so that it steps down (etcd raft.go Step).
                self.send(Message(MsgAppResp, to=m.frm))
            elif m.type == MsgPreVote:
                self.send(Message(MsgPreVoteResp, to=m.frm, term=self.term, reject=True))
            return  # §5.1: "If a server receives a request with a stale term number, it rejects"

        t = m.type
        if t == MsgHup:
            self.hup(CampaignPreElection if self.cfg.pre_vote else CampaignElection)
        elif t in (MsgVote, MsgPreVote):
            # §5.2: at most one vote per term, first-come-first-served; §5.4.1: only for a
            # candidate whose log is at least as up-to-date.  A pre-vote is granted for any
            # future term without recording a vote.
            can_vote = (self.vote == m.frm
                        or (self.vote is None and self.lead is None)
                        or (t == MsgPreVote and m.term > self.term))
            resp = MsgVoteResp if t == MsgVote else MsgPreVoteResp
            if can_vote and self.log.is_up_to_date(m.index, m.log_term):
                self.send(Message(resp, to=m.frm, term=m.term))
                if t == MsgVote:
                    self.election_elapsed = 0  # Figure 2: granting a vote resets the timer
                    self.vote = m.frm
            else:
                self.send(Message(resp, to=m.frm, term=self.term, reject=True))
        elif self.state == StateLeader:
            self.step_leader(m)
        elif self.state in (StateCandidate, StatePreCandidate):
            self.step_candidate(m)
        else:
            self.step_follower(m)

    # -- stepLeader -----------------------------------------------------------------------------------
    def step_leader(self, m: Message) -> None:
        t = m.type
        if t == MsgBeat:
            self.bcast_heartbeat()
            return
        if t == MsgCheckQuorum:
            # Check-quorum (thesis §6.2): a leader that has not heard from a majority within an
            # election timeout steps down, so clients can find the real leader.
            if not self.quorum_active():
                self.become_follower(self.term, None)
            for p, pr in self.prs.items():
                if p != self.id:
                    pr.recent_active = False
            return
        if t == MsgProp:
            if not m.entries:
                raise ValueError("stepped empty MsgProp")
            if self.lead_transferee is not None:
                raise ProposalDropped(f"{self.id} is transferring leadership to {self.lead_transferee}")
            entries = list(m.entries)
            for i, e in enumerate(entries):
                if e.type != EntryConfChange:
                    continue
                # Thesis §4.1: one change at a time, so that any majority of the old
                # configuration overlaps any of the new.  A change proposed while another is in
                # the log unapplied is not refused with an error: raft.go replaces it with an
                # empty entry, and the proposer (etcd's server) waits for it in vain and times out.
                if self.pending_conf_index > self.log.applied:
                    entries[i] = Entry(0, 0, None)
                else:
                    self.pending_conf_index = self.log.last_index() + i + 1
            self.append_entry(entries)
            self.bcast_append()
            return
        if t == MsgReadIndex:
            self.handle_read_index(m)
            return
        pr = self.prs.get(m.frm)
        if pr is None:
            return
        if t == MsgAppResp:
            pr.recent_active = True
            if m.reject:
                # §5.3 backtracking, with etcd's hint: jump straight past the conflicting term.
                next_probe = m.reject_hint
                if m.log_term > 0:
                    next_probe, _ = self.log.find_conflict_by_term(m.reject_hint, m.log_term)
                if pr.maybe_decr_to(m.index, next_probe):
                    if pr.state == StateReplicate:
                        pr.become_probe()
                    self.send_append(m.frm)
            else:
                old_paused = pr.is_paused()
                if pr.maybe_update(m.index):
                    if pr.state == StateProbe:
                        pr.become_replicate()
                    elif pr.state == StateSnapshot:
                        # The follower installed the snapshot (or otherwise got this far): once
                        # our log can take it on from its match, replicate again (through probe,
                        # which accounts for the snapshot).  etcd: "recovered from needing
                        # snapshot".
                        if pr.match + 1 >= self.log.first_index():
                            pr.become_probe()
                            pr.become_replicate()
                    else:
                        pr.free_le(m.index)
                    if self.maybe_commit():
                        self.release_pending_read_index()
                        self.bcast_append()
                    elif old_paused:
                        self.send_append(m.frm)
                    while self.maybe_send_append(m.frm, send_if_empty=False):
                        pass
                    if m.frm == self.lead_transferee and pr.match == self.log.last_index():
                        self.send_timeout_now(m.frm)
        elif t == MsgHeartbeatResp:
            pr.recent_active = True
            pr.msg_app_flow_paused = False
            if pr.state == StateReplicate and pr.inflights_full():
                pr.inflights.pop(0)
            if pr.match < self.log.last_index():
                self.send_append(m.frm)
            if m.context is not None:
                self.ack_read(m.context, m.frm)
        elif t == MsgSnapStatus:
            # The transport's word on a MsgSnap (rawnode.ReportSnapshot).  Delivered: probe from
            # after the snapshot; failed: probe from the match.  Either way wait for a heartbeat
            # response (or the MsgAppResp) before sending again.
            if pr.state != StateSnapshot:
                return
            if m.reject:
                pr.pending_snapshot = 0  # before become_probe, or it would probe past a snapshot never installed
            pr.become_probe()
            pr.msg_app_flow_paused = True
        elif t == MsgTransferLeader:
            transferee = m.frm
            if transferee in self.learners:
                return  # raft.go: a learner cannot lead ("Ignored transferring leadership")
            if self.lead_transferee is not None:
                if self.lead_transferee == transferee:
                    return  # already in progress
                self.abort_leader_transfer()
            if transferee == self.id:
                return  # already the leader
            # The transfer must finish within one election timeout (thesis §3.10).
            self.election_elapsed = 0
            self.lead_transferee = transferee
            if pr.match == self.log.last_index():
                self.send_timeout_now(transferee)
            else:
                self.send_append(transferee)  # catch it up first; MsgAppResp sends TimeoutNow

    def quorum_active(self) -> bool:
        """tracker.QuorumActive: a majority of the voters were heard from (the leader counts
        itself while it is a voter)."""
        return sum(1 for p in self.voters
                   if p == self.id or (p in self.prs and self.prs[p].recent_active)) >= self.quorum

    def send_timeout_now(self, to: str) -> None:
        self.send(Message(MsgTimeoutNow, to=to))

    def append_entry(self, ents: Iterable[Entry]) -> None:
        li = self.log.last_index()
        new = [Entry(self.term, li + i + 1, e.data, e.type) for i, e in enumerate(ents)]
        li = self.log.append(new)
        pr = self.prs.get(self.id)
        if pr is not None:  # a leader that applied its own removal has no Progress of its own
            pr.maybe_update(li)
        self.maybe_commit()

    def maybe_commit(self) -> bool:
        """§5.3/§5.4.2: the largest index replicated on a majority of the voters (learners do
        not count), if it is of this term."""
        matches = sorted((self.prs[p].match for p in self.voters if p in self.prs), reverse=True)
        if len(matches) < self.quorum:
            return False
        return self.log.maybe_commit(matches[self.quorum - 1], self.term)

    def send_append(self, to: str) -> None:
        self.maybe_send_append(to, send_if_empty=True)

    def maybe_send_append(self, to: str, send_if_empty: bool = True) -> bool:
        pr = self.prs[to]
        if pr.is_paused():
            return False
        prev_index = pr.next - 1
        prev_term = self.log.term(prev_index)
        if prev_term is None:
            # §7: "the leader must occasionally send snapshots to followers that lag behind":
            # the entries this follower needs next were compacted away.
            return self.maybe_send_snapshot(to, pr)
        ents: list[Entry] = []
        if pr.state != StateReplicate or not pr.inflights_full():
            hi = min(self.log.last_index() + 1, pr.next + self.cfg.max_entries_per_msg)
            ents = self.log.slice(pr.next, hi)
        if not ents and not send_if_empty:
            return False
        self.send(Message(MsgApp, to=to, index=prev_index, log_term=prev_term, entries=ents,
                          commit=self.log.committed))
        pr.sent_entries(len(ents), ents[-1].index if ents else 0)
        return True

    def maybe_send_snapshot(self, to: str, pr: Progress) -> bool:
        """InstallSnapshot (§7) as etcd does it (raft.go maybeSendSnapshot): the whole snapshot
        in one MsgSnap, and the follower's Progress paused in StateSnapshot until it answers or
        the transport reports the snapshot's fate (report_snapshot)."""
        if not pr.recent_active:
            return False  # not while it seems down: a snapshot is expensive to send
        snap = self.log.snapshot()
        if snap.index == 0:
            raise AssertionError("need non-empty snapshot: the log was compacted without one")
        pr.become_snapshot(snap.index)
        self.send(Message(MsgSnap, to=to, snapshot=snap))
        return True

    def bcast_append(self) -> None:
        for p in self.peers:
            if p != self.id:
                self.send_append(p)

    def bcast_heartbeat(self, ctx: Any = None) -> None:
        for p in self.peers:
            if p == self.id:
                continue
            # etcd: the follower may not have the leader's committed entries yet, so the
            # heartbeat carries min(match, committed): commit never points past its log.
            commit = min(self.prs[p].match, self.log.committed)
            self.send(Message(MsgHeartbeat, to=p, commit=commit, context=ctx))

    # -- ReadIndex (thesis §6.4, etcd ReadOnlySafe) ------------------------------------------------
    def committed_entry_in_current_term(self) -> bool:
        return self.log.term(self.log.committed) == self.term

    def handle_read_index(self, m: Message) -> None:
        if self.voters == {self.id}:  # tracker.IsSingleton: the only voter needs nobody's ack
            self.respond_read(m, self.log.committed)
            return
        if not self.committed_entry_in_current_term():
            # Until its no-op commits, a new leader does not know the commit index (§8).
            self.pending_read_index.append(m)
            return
        ctx = m.context
        self.read_only[ctx] = {"index": self.log.committed, "req": m, "acks": {self.id}}
        self.read_queue.append(ctx)
        self.bcast_heartbeat(ctx)

    def release_pending_read_index(self) -> None:
        if not self.committed_entry_in_current_term():
            return
        pending, self.pending_read_index = self.pending_read_index, []
        for m in pending:
            self.handle_read_index(m)

    def ack_read(self, ctx: Any, frm: str) -> None:
        rs = self.read_only.get(ctx)
        if rs is None:
            return
        rs["acks"].add(frm)
        if len(rs["acks"] & self.voters) < self.quorum:  # a learner's ack does not count
            return
        # A quorum confirmed our leadership: this read and every one queued before it are safe.
        i = self.read_queue.index(ctx)
        done, self.read_queue = self.read_queue[:i + 1], self.read_queue[i + 1:]
        for c in done:
            r = self.read_only.pop(c)
            self.respond_read(r["req"], r["index"])

    def respond_read(self, m: Message, index: int) -> None:
        if m.frm in (None, self.id):
            self.read_states.append(ReadState(index, m.context))
        else:
            self.send(Message(MsgReadIndexResp, to=m.frm, index=index, context=m.context))

    # -- stepCandidate (shared by candidates and pre-candidates) ------------------------------------
    def step_candidate(self, m: Message) -> None:
        t = m.type
        my_resp = MsgPreVoteResp if self.state == StatePreCandidate else MsgVoteResp
        if t == MsgProp:
            raise ProposalDropped(f"{self.id} is a {self.state}: no leader")
        if t == MsgApp:
            # §5.2: "If the leader's term is at least as large as the candidate's current term,
            # then the candidate recognizes the leader as legitimate and returns to follower".
            self.become_follower(m.term, m.frm)
            self.handle_append_entries(m)
        elif t == MsgHeartbeat:
            self.become_follower(m.term, m.frm)
            self.handle_heartbeat(m)
        elif t == MsgSnap:
            self.become_follower(m.term, m.frm)
            self.handle_snapshot(m)
        elif t == my_resp:
            res = self.poll(m.frm, not m.reject)
            if res == VOTE_WON:
                if self.state == StatePreCandidate:
                    self.campaign(CampaignElection)
                else:
                    self.become_leader()
                    self.bcast_append()
            elif res == VOTE_LOST:
                # A MsgPreVoteResp carries the future term; stay at ours.
                self.become_follower(self.term, None)
        elif t == MsgReadIndex:
            pass  # no leader to ask: dropped

    # -- stepFollower -----------------------------------------------------------------------------
    def step_follower(self, m: Message) -> None:
        t = m.type
        if t == MsgProp:
            if self.lead is None:
                raise ProposalDropped(f"{self.id}: no leader at term {self.term}")
            if self.cfg.disable_proposal_forwarding:
                raise ProposalDropped(f"{self.id}: not the leader (forwarding disabled)")
            self.send(Message(MsgProp, to=self.lead, entries=m.entries))
        elif t == MsgApp:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_append_entries(m)
        elif t == MsgHeartbeat:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_heartbeat(m)
        elif t == MsgSnap:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_snapshot(m)
        elif t == MsgTransferLeader:
            if self.lead is not None:
                self.send(Message(MsgTransferLeader, to=self.lead))
                self.msgs[-1].frm = m.frm  # keep the transferee
        elif t == MsgTimeoutNow:
            # Thesis §3.10: the leader tells the caught-up transferee to start an election at
            # once; it skips pre-vote and the lease, since the leader asked for it.
            self.hup(CampaignTransfer)
        elif t == MsgReadIndex:
            if self.lead is not None:
                self.send(Message(MsgReadIndex, to=self.lead, context=m.context))
        elif t == MsgReadIndexResp:
            self.read_states.append(ReadState(m.index, m.context))

    def handle_append_entries(self, m: Message) -> None:
        if m.index < self.log.committed:
            self.send(Message(MsgAppResp, to=m.frm, index=self.log.committed))
            return
        last = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last is not None:
            self.send(Message(MsgAppResp, to=m.frm, index=last))
            return
        # §5.3 consistency check failed: reject, with a hint that lets the leader skip a whole
        # conflicting term at once (the largest index <= prevLogIndex whose term <= prevLogTerm).
        hint_index = min(m.index, self.log.last_index())
        hint_index, hint_term = self.log.find_conflict_by_term(hint_index, m.log_term)
        self.send(Message(MsgAppResp, to=m.frm, index=m.index, reject=True,
                          reject_hint=hint_index, log_term=hint_term))

    def handle_heartbeat(self, m: Message) -> None:
        self.log.commit_to(m.commit)
        self.send(Message(MsgHeartbeatResp, to=m.frm, context=m.context))

    def handle_snapshot(self, m: Message) -> None:
        """InstallSnapshot receiver (§7, raft.go handleSnapshot): answer with our new last index
        when the snapshot was installed, with our commit index when it was not needed."""
        s = m.snapshot or Snapshot()
        if self.restore(s):
            self.send(Message(MsgAppResp, to=m.frm, index=self.log.last_index()))
        else:
            self.send(Message(MsgAppResp, to=m.frm, index=self.log.committed))

    def restore(self, s: Snapshot) -> bool:
        """raft.go restore.  §7: "If existing log entry has same index and term as snapshot's
        last included entry, retain log entries following it" - we already have everything the
        snapshot covers, so only the commit index moves; otherwise "discard the entire log" and
        take the snapshot (the state machine loads it from the next Ready) and the configuration
        it carries.  A snapshot no newer than our commit index is stale and ignored, and so is
        one whose configuration does not hold this node (etcd: "should never happen")."""
        if s.index <= self.log.committed:
            return False
        if self.state != StateFollower:
            # Defense in depth, as etcd: only a follower restores (MsgSnap makes us one).
            self.become_follower(self.term + 1, None)
            return False
        cs = s.conf_state
        if cs is not None and self.id not in cs.voters and self.id not in cs.learners:
            return False
        if self.log.match_term(s.index, s.term):
            self.log.commit_to(s.index)
            return False
        self.log.restore(s)
        if cs is not None:
            # Reset the configuration to the snapshot's (confchange.Restore + switchToConfig).
            self.voters, self.learners = set(cs.voters), set(cs.learners)
            self.is_learner = self.id in self.learners
        self._reset_progress()
        return True

    # -- the RawNode interface ------------------------------------------------------------------
    def campaign_now(self) -> None:
        self.step(Message(MsgHup, frm=self.id))

    def propose(self, data: Any) -> None:
        """Propose one entry; raises ProposalDropped when it cannot be accepted here."""
        self.step(Message(MsgProp, frm=self.id, entries=[Entry(0, 0, data)]))

    def propose_conf_change(self, cc: ConfChange | dict) -> None:
        """Propose a configuration change (rawnode.ProposeConfChange): an EntryConfChange whose
        data is the change.  Like any proposal it is forwarded to the leader or dropped; the
        leader turns it into an empty entry while another change is unapplied.  It takes
        effect when the application applies it (apply_conf_change)."""
        if isinstance(cc, ConfChange):
            cc = cc.to_dict()
        if cc.get("type") not in CONF_CHANGE_TYPES:
            raise ConfChangeError(f"unknown ConfChange type {cc.get('type')!r}")
        self.step(Message(MsgProp, frm=self.id, entries=[Entry(0, 0, cc, EntryConfChange)]))

    def transfer_leader(self, transferee: str) -> None:
        """Ask the leader to hand leadership to `transferee` (rawnode.TransferLeader)."""
        self.step(Message(MsgTransferLeader, frm=transferee))

    def read_index(self, ctx: Any) -> None:
        self.step(Message(MsgReadIndex, frm=self.id, context=ctx))

    def report_snapshot(self, id: str, status: str = SnapshotFinish) -> None:
        """The transport tells the leader whether the MsgSnap to `id` got there
        (rawnode.ReportSnapshot): a failure puts that follower back to probing."""
        self._step(Message(MsgSnapStatus, frm=id, reject=status == SnapshotFailure))

    def has_ready(self) -> bool:
        log = self.log
        return bool(self.msgs or self.read_states or log.unstable.entries
                    or log.unstable.snapshot is not None or log.has_next_committed_entries()
                    or self.soft_state() != self._prev_soft or self.hard_state() != self._prev_hard)

    def ready(self) -> Ready:
        rd = Ready(entries=self.log.unstable_entries(),
                   committed_entries=self.log.next_committed_entries(),
                   messages=self.msgs, read_states=self.read_states,
                   snapshot=self.log.unstable.snapshot)
        ss, hs = self.soft_state(), self.hard_state()
        if ss != self._prev_soft:
            rd.soft_state = ss
        if hs != self._prev_hard:
            rd.hard_state = hs
        self.msgs, self.read_states = [], []
        return rd

    def advance(self, rd: Ready) -> None:
        if rd.soft_state is not None:
            self._prev_soft = rd.soft_state
        if rd.hard_state is not None:
            self._prev_hard = rd.hard_state
        # Applied up to the last committed entry handed out, or else the snapshot
        # (Ready.appliedCursor).
        if rd.committed_entries:
            self.log.applied_to(max(self.log.applied, rd.committed_entries[-1].index))
        elif rd.snapshot is not None:
            self.log.applied_to(max(self.log.applied, rd.snapshot.index))
        if rd.entries:
            last = rd.entries[-1]
            # Only forgets them if the log still holds that entry (it may have been overwritten).
            self.log.unstable.stable_to(last.index, last.term)
        if rd.snapshot is not None:
            self.log.unstable.stable_snap_to(rd.snapshot.index)

    def status(self) -> dict[str, Any]:
        """JSON-compatible status for the dashboard and `endpoint status`."""
        st = {"id": self.id, "state": self.state, "term": self.term, "vote": self.vote,
              "lead": self.lead, "commit": self.log.committed, "applied": self.log.applied,
              "lastIndex": self.log.last_index(), "firstIndex": self.log.first_index(),
              "snapshotIndex": self.log.snapshot().index, "electionElapsed": self.election_elapsed,
              "randomizedElectionTimeout": self.randomized_election_timeout,
              "leadTransferee": self.lead_transferee, "voters": sorted(self.voters),
              "learners": sorted(self.learners), "isLearner": self.is_learner}
        if self.state == StateLeader:
            st["progress"] = {p: pr.to_dict() for p, pr in self.prs.items()}
        return st
