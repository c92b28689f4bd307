"""A deterministic in-test network for the Raft core (test-only code; it does not use the kernel).

`Net` holds N RawNodes and their MemoryStorages, a queue of messages in flight, and the faults:
message loss, partitions, crashes and restarts.  Every node's Ready is handled right after each
step or tick, in etcd's order: persist (snapshot, entries, HardState), then send, then apply (a
snapshot from the leader first, then committed entries).  A crash loses everything but the
storage; a restart builds a fresh RawNode from it (applied state is rebuilt from the storage's
snapshot, if any, then by re-applying committed entries after it).

The state machine of node i is `applied[i]`, the list of (term, data) it applied; its snapshot
data is that list.  Log compaction (§7) happens on request (`compact`) or, with `compact_every`,
whenever a node has applied that many entries past its last snapshot (etcd's --snapshot-count),
keeping `compact_keep` entries behind the snapshot (etcd's SnapshotCatchUpEntries).  The harness
plays etcd's transport for MsgSnap: it reports each one delivered or lost (report_snapshot), and
etcd's server: the snapshot it sends is the leader's state as applied now (merged_snapshot).

Membership changes (thesis §4.1): `add(i)` starts a node that joins the running group with an
empty log (etcd's `--initial-cluster-state=existing`): it is given the configuration the others
started from (their index 0, what etcd's bootstrap ConfChange entries would tell it) and learns
every change after it from the log, or from a snapshot's ConfState.  Every node applies the
EntryConfChange entries it applies (apply_conf_change), and its snapshots carry its
configuration; a restart rebuilds the configuration from the snapshot and the log after it.

`Net` also checks the Raft paper's guarantees (Figure 3) as it runs, raising AssertionError:
election safety, log matching, leader completeness and state machine safety; `acked` records every
client write that was applied somewhere (acknowledged), for "no acknowledged write is ever lost".
"""
from __future__ import annotations

import json
import random

from sim.etcd.raft import (Config, ConfChange, EntryConfChange, MemoryStorage, Message, MsgSnap,
                           ProposalDropped, RawNode, Snapshot, SnapshotFailure, SnapshotFinish, StateLeader)


class Net:
    def __init__(self, n: int = 3, seed: int = 1, pre_vote: bool = True, check_quorum: bool = True,
                 election_tick: int = 10, heartbeat_tick: int = 1, check_every_step: bool = True,
                 max_entries_per_msg: int = 64, compact_every: int | None = None, compact_keep: int = 0,
                 learners: int = 0, step_down_on_removal: bool = False):
        self.ids = [f"n{i}" for i in range(1, n + learners + 1)]
        # The configuration every node's log starts from (index 0).
        self.bootstrap = (self.ids[:n], self.ids[n:])
        self.rng = random.Random(seed)
        self.cfg = dict(pre_vote=pre_vote, check_quorum=check_quorum, election_tick=election_tick,
                        heartbeat_tick=heartbeat_tick, max_entries_per_msg=max_entries_per_msg,
                        step_down_on_removal=step_down_on_removal)
        self.storage = {i: MemoryStorage() for i in self.ids}
        self.nodes: dict[str, RawNode | None] = {}
        self.applied: dict[str, list] = {}
        self.queue: list[Message] = []
        self.loss = 0.0
        self.group: dict[str, int] = {}       # partition: node -> group number
        self.leaders: dict[int, str] = {}     # term -> the one leader of that term (election safety)
        self.committed: dict[int, tuple] = {}  # index -> (term, data): every entry ever committed
        self.acked: dict = {}                  # write id -> index at which it was applied
        self.errors: list[str] = []
        self.check_every_step = check_every_step
        self.delivered: list[Message] = []
        self.record = False
        self.reads: dict[str, list] = {i: [] for i in self.ids}  # ReadStates handed out
        self.drop = None  # optional predicate: a message in flight it answers True for is lost
        self.compact_every = compact_every
        self.compact_keep = compact_keep
        self.installed: list[tuple[str, int]] = []  # (node, index): snapshots from a leader applied
        self.snap_reported: dict[int, Message] = {}  # MsgSnaps whose fate was reported (by id)
        for i in self.ids:
            self.start(i)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, i: str) -> None:
        # The state machine comes back from the snapshot on disk; RawNode hands out the
        # committed entries after it again.
        snap = self.storage[i].snapshot
        # A snapshot's configuration, else index 0's; the log's changes after it are applied
        # again with the entries (applied starts at the snapshot).
        voters, learners = ([], []) if snap.conf_state is not None else self.bootstrap
        cfg = Config(id=i, peers=list(voters), learners=list(learners), rng=random.Random(self.rng.random()),
                     applied=snap.index, **self.cfg)
        self.nodes[i] = RawNode(cfg, self.storage[i])
        self.applied[i] = [tuple(x) for x in snap.data] if snap.index else []

    def crash(self, i: str) -> None:
        self.nodes[i] = None
        # What was on its way to i is lost, and so is a snapshot i was streaming (the
        # transport dies with the process).
        lost = [m for m in self.queue if m.to == i or (m.type == MsgSnap and m.frm == i)]
        self.queue = [m for m in self.queue if m.to != i and not (m.type == MsgSnap and m.frm == i)]
        for m in lost:
            self.report_snap(m, ok=False)

    def restart(self, i: str) -> None:
        if self.nodes[i] is None:
            self.start(i)
            self.handle(i)

    def add(self, i: str) -> None:
        """Start node i with an empty disk, to join the group (once a ConfChange adds it)."""
        assert i not in self.ids
        self.ids.append(i)
        self.storage[i] = MemoryStorage()
        self.reads[i] = []
        self.start(i)
        self.handle(i)

    def conf_change(self, i: str, type: str, node: str) -> bool:
        """Propose a ConfChange at node i (forwarded to the leader like any proposal)."""
        try:
            self.nodes[i].propose_conf_change(ConfChange(type, node))
        except ProposalDropped:
            return False
        finally:
            self.handle(i)
        return True

    def alive(self) -> list[str]:
        return [i for i in self.ids if self.nodes[i] is not None]

    # -- faults -------------------------------------------------------------------------------
    def partition(self, *groups) -> None:
        self.group = {i: g for g, members in enumerate(groups) for i in members}

    def isolate(self, i: str) -> None:
        self.partition([i], [j for j in self.ids if j != i])

    def heal(self) -> None:
        self.group = {}

    def connected(self, a: str, b: str) -> bool:
        return not self.group or self.group.get(a, -1) == self.group.get(b, -2)

    # -- driving ----------------------------------------------------------------------------------
    def handle(self, i: str) -> None:
        node = self.nodes[i]
        while node is not None and node.has_ready():
            rd = node.ready()
            self.storage[i].apply_ready(rd)              # 1. persist
            lost = []
            for m in rd.messages:                        # 2. send
                if m.type == MsgSnap:
                    m.snapshot = self.merged_snapshot(i)
                if self.connected(i, m.to) and not (self.loss and self.rng.random() < self.loss):
                    self.queue.append(m)
                elif m.type == MsgSnap:
                    lost.append(m)
            self.reads[i].extend((r.index, r.context) for r in rd.read_states)
            if rd.snapshot is not None:                  # 3. apply: a leader's snapshot first,
                self.install(i, rd.snapshot)
            for e in rd.committed_entries:               #    then the entries after it
                self.apply(i, e)
            if rd.soft_state is not None and rd.soft_state.state == StateLeader:
                self.on_leader(i)
            node.advance(rd)
            for m in lost:
                self.report_snap(m, ok=False)
        if node is not None and self.compact_every is not None:
            if len(self.applied[i]) - self.storage[i].snapshot.index >= self.compact_every:
                self.compact(i, self.compact_keep)
        if self.check_every_step:
            self.check_logs()

    def compact(self, i: str, keep: int = 0) -> None:
        """What etcd's server does every --snapshot-count entries: snapshot the state machine at
        the applied index, then compact the log, keeping `keep` entries behind the snapshot."""
        node = self.nodes[i]
        st = self.storage[i]
        if node is None:
            return
        applied = node.log.applied
        assert applied == len(self.applied[i])
        if applied > st.snapshot.index:
            st.create_snapshot(applied, [list(x) for x in self.applied[i]], conf_state=node.conf_state())
        if st.snapshot.index - keep > st.offset:
            st.compact(st.snapshot.index - keep)

    def merged_snapshot(self, i: str) -> Snapshot:
        """What etcd's server sends for a MsgSnap (createMergedSnapshotMessage): its state as
        applied now, at the applied index and term, with the configuration as applied - not the
        older snapshot in storage, whose configuration may predate the node it goes to (which
        would ignore it: raft.go restore, "not in the ConfState")."""
        node = self.nodes[i]
        applied = node.log.applied
        return Snapshot(applied, node.log.term(applied), [list(x) for x in self.applied[i]], node.conf_state())

    def install(self, i: str, snap) -> None:
        """Load a leader's snapshot into i's state machine (etcd's applySnapshot)."""
        state = [tuple(x) for x in snap.data]
        assert len(state) == snap.index and snap.index > len(self.applied[i]), \
            f"{i} got a snapshot at {snap.index} having applied {len(self.applied[i])}"
        for idx, entry in enumerate(state, 1):
            # State machine safety covers what a snapshot brings too.
            prev = self.committed.setdefault(idx, entry)
            assert prev == entry, f"{i} installed {entry} at {idx} from a snapshot, others applied {prev}"
        self.applied[i] = state
        self.installed.append((i, snap.index))

    def report_snap(self, m: Message, ok: bool) -> None:
        """The transport's word to the sender of a MsgSnap (once per message: the network may
        duplicate it)."""
        if m.type != MsgSnap or id(m) in self.snap_reported:
            return
        self.snap_reported[id(m)] = m  # keeps m alive, so its id is never reused
        sender = self.nodes.get(m.frm)
        if sender is not None:
            sender.report_snapshot(m.to, SnapshotFinish if ok else SnapshotFailure)
            self.handle(m.frm)

    def apply(self, i: str, e) -> None:
        assert e.index == len(self.applied[i]) + 1, f"{i} applied {e.index} out of order"
        if e.type == EntryConfChange:
            self.nodes[i].apply_conf_change(e.data)
        self.applied[i].append((e.term, e.data))
        prev = self.committed.setdefault(e.index, (e.term, e.data))
        # State machine safety (Figure 3): no two servers apply different entries at an index.
        assert prev == (e.term, e.data), f"{i} applied {(e.term, e.data)} at {e.index}, others {prev}"
        if e.data is not None:
            self.acked.setdefault(json.dumps(e.data, sort_keys=True), e.index)

    def on_leader(self, i: str) -> None:
        node = self.nodes[i]
        # Election safety: at most one leader can be elected in a given term.
        other = self.leaders.setdefault(node.term, i)
        assert other == i, f"two leaders in term {node.term}: {other} and {i}"
        # Leader completeness: a leader's log contains every entry committed in earlier terms
        # (compacted ones: its snapshot does).
        log = node.log
        first, snap = log.first_index(), log.snapshot()
        for idx, entry in self.committed.items():
            if idx < first:
                have = tuple(snap.data[idx - 1]) if idx <= snap.index else None
            else:
                have = (log.term(idx), log.slice(idx, idx + 1)[0].data) if idx <= log.last_index() else None
            assert have == entry, f"leader {i} of term {node.term} lacks committed entry {idx} {entry}"

    def check_logs(self) -> None:
        """Log matching (Figure 3): if two logs contain an entry with the same index and term,
        the logs are identical in all entries up through that index - compared over the indexes
        both still hold, and against a snapshot's entries when the other log holds the
        snapshot's last entry."""
        disks = [(i, self.storage[i]) for i in self.ids]
        for a in range(len(disks)):
            for b in range(a + 1, len(disks)):
                (ia, sa), (ib, sb) = disks[a], disks[b]
                lo, hi = max(sa.offset, sb.offset) + 1, min(sa.last_index(), sb.last_index())
                # the highest index with the same term; everything before must be equal
                k = hi
                while k >= lo and sa.entry(k).term != sb.entry(k).term:
                    k -= 1
                for idx in range(lo, k + 1):
                    ea, eb = sa.entry(idx), sb.entry(idx)
                    assert (ea.term, ea.data) == (eb.term, eb.data), \
                        f"log matching violated between {ia} and {ib} at {idx} (below {k})"
                for snap, other, name in ((sa.snapshot, sb, ib), (sb.snapshot, sa, ia)):
                    last = other.entry(snap.index) if snap.index else None
                    if last is not None and last.term == snap.term:
                        for idx in range(other.first_index(), snap.index + 1):
                            e = other.entry(idx)
                            assert (e.term, e.data) == tuple(snap.data[idx - 1]), \
                                f"log matching violated between {name}'s log and a snapshot at {idx}"

    def tick(self, i: str | None = None, n: int = 1) -> None:
        for j in ([i] if i else self.ids):
            for _ in range(n):
                node = self.nodes[j]
                if node is not None:
                    node.tick()
                    self.handle(j)

    def deliver_one(self, pick_random: bool = False) -> bool:
        if not self.queue:
            return False
        m = self.queue.pop(self.rng.randrange(len(self.queue)) if pick_random else 0)
        node = self.nodes.get(m.to)
        if node is None or not self.connected(m.frm, m.to) or (self.drop and self.drop(m)):
            self.report_snap(m, ok=False)
            return True
        if self.record:
            self.delivered.append(m)
        try:
            node.step(m)
        except ProposalDropped:
            pass  # a forwarded proposal the leader cannot take (etcd logs it; the client times out)
        self.handle(m.to)
        self.report_snap(m, ok=True)
        return True

    def deliver_all(self, limit: int = 100_000) -> None:
        while self.queue and limit:
            self.deliver_one()
            limit -= 1

    def run(self, ticks: int) -> None:
        """Tick every live node once per round and deliver everything between rounds."""
        for _ in range(ticks):
            self.deliver_all()
            self.tick()
        self.deliver_all()

    def propose(self, i: str, data) -> bool:
        node = self.nodes[i]
        try:
            node.propose(data)
        except ProposalDropped:
            return False
        finally:
            self.handle(i)
        return True

    # -- queries ----------------------------------------------------------------------------------
    def leader(self) -> str | None:
        """The live leader with the highest term, if any."""
        best = None
        for i in self.alive():
            n = self.nodes[i]
            if n.state == StateLeader and (best is None or n.term > self.nodes[best].term):
                best = i
        return best

    def elect(self, i: str) -> None:
        self.nodes[i].campaign_now()
        self.handle(i)
        self.deliver_all()
        assert self.nodes[i].state == StateLeader, self.nodes[i].status()

    def wait_leader(self, max_ticks: int = 500) -> str:
        for _ in range(max_ticks):
            lead = self.leader()
            # (every node of the leader's configuration: a removed one hears nothing more)
            if lead is not None and all(self.nodes[j].lead == lead for j in self.alive()
                                        if self.connected(j, lead) and j in self.nodes[lead].peers):
                return lead
            self.deliver_all()
            self.tick()
        raise AssertionError(f"no leader after {max_ticks} ticks: "
                             f"{[self.nodes[j].status() for j in self.alive()]}")


def test_net_is_deterministic():
    def trace(seed):
        net = Net(5, seed=seed)
        net.record = True
        net.wait_leader()
        for k in range(5):
            net.propose(net.leader(), f"w{k}")
        net.run(20)
        return [m.to_dict() for m in net.delivered]

    assert trace(4) == trace(4)
    assert trace(4) != trace(5)


def test_the_harness_invariant_checks_can_fail():
    import pytest
    from sim.etcd.raft import Entry

    net = Net(3, seed=1)
    net.elect("n1")
    net.propose("n1", "a")
    net.run(2)
    # Election safety: a second leader in the same term is caught.
    net.nodes["n2"].term = net.nodes["n1"].term
    with pytest.raises(AssertionError, match="two leaders"):
        net.on_leader("n2")
    # Log matching: same (index, term) at 2 but different entries below it.
    net.storage["n3"].entries[0] = Entry(net.storage["n3"].entries[0].term, 1, "forged")
    with pytest.raises(AssertionError, match="log matching"):
        net.check_logs()
    # State machine safety: a different entry applied at an index already applied elsewhere.
    net.applied["n3"] = []
    with pytest.raises(AssertionError, match="applied"):
        net.apply("n3", Entry(9, 1, "other"))
