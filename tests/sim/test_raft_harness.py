"""A deterministic in-test network for the Raft core (test-only code; it does not use the kernel).

`Net` holds N RawNodes and their MemoryStorages, a queue of messages in flight, and the faults:
message loss, partitions, crashes and restarts.  Every node's Ready is handled right after each
step or tick, in etcd's order: persist (entries, HardState), then send, then apply.  A crash loses
everything but the storage; a restart builds a fresh RawNode from it (applied state is rebuilt by
re-applying committed entries from index 1).

`Net` also checks the Raft paper's guarantees (Figure 3) as it runs, raising AssertionError:
election safety, log matching, leader completeness and state machine safety; `acked` records every
client write that was applied somewhere (acknowledged), for "no acknowledged write is ever lost".
"""
from __future__ import annotations

import json
import random

from sim.etcd.raft import (Config, MemoryStorage, Message, ProposalDropped, RawNode, StateLeader)


class Net:
    def __init__(self, n: int = 3, seed: int = 1, pre_vote: bool = True, check_quorum: bool = True,
                 election_tick: int = 10, heartbeat_tick: int = 1, check_every_step: bool = True,
                 max_entries_per_msg: int = 64):
        self.ids = [f"n{i}" for i in range(1, n + 1)]
        self.rng = random.Random(seed)
        self.cfg = dict(pre_vote=pre_vote, check_quorum=check_quorum, election_tick=election_tick,
                        heartbeat_tick=heartbeat_tick, max_entries_per_msg=max_entries_per_msg)
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
        for i in self.ids:
            self.start(i)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, i: str) -> None:
        cfg = Config(id=i, peers=self.ids, rng=random.Random(self.rng.random()), **self.cfg)
        self.nodes[i] = RawNode(cfg, self.storage[i])
        self.applied[i] = []

    def crash(self, i: str) -> None:
        self.nodes[i] = None
        self.queue = [m for m in self.queue if m.to != i]

    def restart(self, i: str) -> None:
        if self.nodes[i] is None:
            self.start(i)
            self.handle(i)

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
            for m in rd.messages:                        # 2. send
                if self.connected(i, m.to) and not (self.loss and self.rng.random() < self.loss):
                    self.queue.append(m)
            self.reads[i].extend((r.index, r.context) for r in rd.read_states)
            for e in rd.committed_entries:               # 3. apply
                self.apply(i, e)
            if rd.soft_state is not None and rd.soft_state.state == StateLeader:
                self.on_leader(i)
            node.advance(rd)
        if self.check_every_step:
            self.check_logs()

    def apply(self, i: str, e) -> None:
        assert e.index == len(self.applied[i]) + 1, f"{i} applied {e.index} out of order"
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
        # Leader completeness: a leader's log contains every entry committed in earlier terms.
        for idx, (term, data) in self.committed.items():
            assert idx <= node.log.last_index() and node.log.entries[idx - 1].term == term \
                and node.log.entries[idx - 1].data == data, \
                f"leader {i} of term {node.term} lacks committed entry {idx} {(term, data)}"

    def check_logs(self) -> None:
        """Log matching (Figure 3): if two logs contain an entry with the same index and term,
        the logs are identical in all entries up through that index."""
        logs = [self.storage[i].entries for i in self.ids]
        for a in range(len(logs)):
            for b in range(a + 1, len(logs)):
                la, lb = logs[a], logs[b]
                n = min(len(la), len(lb))
                # the highest index with the same term; everything before must be equal
                k = n
                while k > 0 and la[k - 1].term != lb[k - 1].term:
                    k -= 1
                assert [(e.term, e.data) for e in la[:k]] == [(e.term, e.data) for e in lb[:k]], \
                    f"log matching violated between {self.ids[a]} and {self.ids[b]} below {k}"

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
            return True
        if self.record:
            self.delivered.append(m)
        try:
            node.step(m)
        except ProposalDropped:
            pass  # a forwarded proposal the leader cannot take (etcd logs it; the client times out)
        self.handle(m.to)
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
            if lead is not None and all(self.nodes[j].lead == lead for j in self.alive()
                                        if self.connected(j, lead)):
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
