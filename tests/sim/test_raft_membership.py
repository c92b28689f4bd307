"""Membership changes in the Raft core, one server at a time: Ongaro's thesis §4.1 ("Safety")
and §4.2 (new servers catching up, removing the leader) as etcd's raft library does them
(go.etcd.io/raft raft.go stepLeader / applyConfChange / switchToConfig / restore,
confchange/confchange.go Simple), on the deterministic test network."""
from __future__ import annotations

import random

import pytest

from sim.etcd.raft import (Config, ConfChange, ConfChangeAddLearnerNode, ConfChangeAddNode,
                           ConfChangeError, ConfChangeRemoveNode, ConfState, Entry, EntryConfChange,
                           EntryNormal, MemoryStorage, Message, MsgApp, MsgHeartbeat, MsgPreVote,
                           MsgSnap, MsgVote, RawNode, Snapshot, StateFollower, StateLeader)
from tests.sim.test_raft_harness import Net


def committed_everywhere(net: Net, index: int) -> bool:
    return all(net.nodes[i].log.committed >= index for i in net.alive())


def change(net: Net, lead: str, type: str, node: str, ticks: int = 5) -> int:
    """Propose a change at the leader and run until it is applied there; its log index."""
    assert net.conf_change(lead, type, node)
    index = net.nodes[lead].log.last_index()
    net.run(ticks)
    assert net.nodes[lead].log.applied >= index
    return index


# -- the entries ---------------------------------------------------------------------------------
def test_a_conf_change_is_an_entry_of_its_own_type_and_round_trips():
    net = Net(3, seed=1)
    net.elect("n1")
    net.record = True
    index = change(net, "n1", ConfChangeAddLearnerNode, "n4")
    e = net.storage["n2"].entry(index)
    assert e.type == EntryConfChange and ConfChange.from_dict(e.data) == ConfChange(ConfChangeAddLearnerNode, "n4")
    apps = [m for m in net.delivered if m.type == MsgApp and any(x.type == EntryConfChange for x in m.entries)]
    assert apps and all(Message.from_dict(m.to_dict()) == m for m in apps)
    assert Entry(1, 1, "x").to_dict() == {"term": 1, "index": 1, "data": "x"}  # normal entries unchanged
    assert Entry(1, 1, None).type == EntryNormal


def test_the_configuration_changes_when_the_entry_is_applied_on_every_node():
    # etcd (and so this port) switches to the new configuration when the entry is applied, not
    # when it is appended as the thesis §4.1 has it; with one change at a time both are safe.
    net = Net(3, seed=2)
    net.elect("n1")
    assert net.conf_change("n1", ConfChangeAddNode, "n4")
    assert net.nodes["n1"].voters == {"n1", "n2", "n3"}  # in the log, not applied yet
    net.run(3)
    for i in ("n1", "n2", "n3"):
        assert net.nodes[i].conf_state() == ConfState(("n1", "n2", "n3", "n4"), ())
        assert net.nodes[i].quorum == 3


# -- §4.1: one change at a time (pendingConfIndex) -----------------------------------------------
def test_the_leader_refuses_a_second_change_while_one_is_unapplied():
    net = Net(3, seed=3)
    net.elect("n1")
    n1 = net.nodes["n1"]
    assert net.conf_change("n1", ConfChangeAddLearnerNode, "n4")
    first = n1.log.last_index()
    assert n1.pending_conf_index == first > n1.log.applied
    # raft.go stepLeader: "possible unapplied conf change at index ..." - the second becomes an
    # empty normal entry (no error: the proposer waits for it in vain, as etcd's server does).
    assert net.conf_change("n1", ConfChangeAddLearnerNode, "n5")
    second = n1.log.last_index()
    e = n1.log.slice(second, second + 1)[0]
    assert (e.type, e.data) == (EntryNormal, None)
    net.run(3)
    assert n1.learners == {"n4"}
    # Once the first is applied, the next change is accepted.
    change(net, "n1", ConfChangeRemoveNode, "n4")
    assert n1.learners == set()


def test_a_new_leader_takes_no_change_until_it_applied_its_whole_log():
    net = Net(3, seed=4)
    net.elect("n1")
    net.nodes["n1"].transfer_leader("n2")
    net.handle("n1")
    net.deliver_all()
    n2 = net.nodes["n2"]
    assert n2.state == StateLeader
    # raft.go becomeLeader: pendingConfIndex = the last index (its empty entry comes after).
    assert n2.pending_conf_index == n2.log.last_index() - 1


def test_removing_the_last_voter_is_refused():
    n = RawNode(Config(id="n1", peers=["n1"], rng=random.Random(1)), MemoryStorage())
    with pytest.raises(ConfChangeError, match="removed all voters"):
        n.apply_conf_change(ConfChange(ConfChangeRemoveNode, "n1"))
    # node_id None: etcd's "apply nothing" for a change its server refused after the commit.
    assert n.apply_conf_change(ConfChange(ConfChangeRemoveNode, None)) == ConfState(("n1",), ())


# -- quorum after a change -----------------------------------------------------------------------
def test_an_added_voter_joins_the_majority():
    net = Net(3, seed=5)
    net.elect("n1")
    net.add("n4")
    change(net, "n1", ConfChangeAddNode, "n4", ticks=10)
    assert net.nodes["n4"].conf_state() == ConfState(("n1", "n2", "n3", "n4"), ())
    assert net.storage["n4"].last_index() == net.storage["n1"].last_index()  # caught up by MsgApp
    # Four voters: a majority is three.  With n3 and n4 down, n1 and n2 cannot commit.
    net.crash("n3")
    net.crash("n4")
    net.propose("n1", "w1")
    net.run(3)
    last = net.nodes["n1"].log.last_index()
    assert net.nodes["n1"].log.committed < last
    net.restart("n4")
    net.run(10)
    assert net.nodes["n1"].log.committed >= last and net.nodes["n4"].promotable()


def test_removing_a_voter_shrinks_the_majority():
    net = Net(5, seed=6)
    net.elect("n1")
    change(net, "n1", ConfChangeRemoveNode, "n5")
    change(net, "n1", ConfChangeRemoveNode, "n4")
    assert net.nodes["n1"].quorum == 2 and net.nodes["n1"].peers == ["n1", "n2", "n3"]
    # Three of the five original servers down, yet the three voters left have a majority.
    for i in ("n3", "n4", "n5"):
        net.crash(i)
    net.propose("n1", "after")
    net.run(3)
    assert net.nodes["n1"].log.committed == net.nodes["n1"].log.last_index()
    # The leader sends nothing more to the removed nodes.
    net.record = True
    net.propose("n1", "more")
    net.run(3)
    assert not [m for m in net.delivered if m.to in ("n4", "n5")]


# -- learners (thesis §4.2.1: non-voting members) ----------------------------------------------
def test_a_learner_gets_the_log_but_does_not_count_for_commit_or_vote():
    net = Net(3, seed=7, learners=1)  # n4 is a learner from the start
    net.elect("n1")
    assert net.nodes["n1"].learners == {"n4"} and net.nodes["n4"].is_learner
    net.propose("n1", "w1")
    net.run(3)
    assert net.storage["n4"].last_index() == net.nodes["n1"].log.last_index()  # replicated to
    # Two voters down: the leader and the learner are two of four nodes but one of three voters.
    net.crash("n2")
    net.crash("n3")
    net.propose("n1", "w2")
    net.run(5)
    assert net.nodes["n1"].log.committed < net.nodes["n1"].log.last_index()
    assert net.storage["n4"].last_index() == net.nodes["n1"].log.last_index()


def test_a_learner_never_campaigns_and_is_not_asked_for_votes():
    net = Net(3, seed=8, learners=1)
    net.elect("n1")
    net.record = True
    net.crash("n1")
    n4 = net.nodes["n4"]
    term = n4.term
    net.run(60)  # many election timeouts
    assert n4.state == StateFollower and not n4.promotable()
    assert not [m for m in net.delivered if m.frm == "n4" and m.type in (MsgVote, MsgPreVote)]
    assert not [m for m in net.delivered if m.to == "n4" and m.type in (MsgVote, MsgPreVote)]
    lead = net.wait_leader()
    assert lead in ("n2", "n3") and n4.lead == lead and n4.term > term


def test_leadership_is_not_transferred_to_a_learner():
    net = Net(3, seed=9, learners=1)
    net.elect("n1")
    net.nodes["n1"].transfer_leader("n4")
    net.handle("n1")
    net.run(3)
    assert net.nodes["n1"].state == StateLeader and net.nodes["n1"].lead_transferee is None


def test_promoting_a_learner_makes_it_count():
    net = Net(3, seed=10)
    net.elect("n1")
    net.add("n4")
    change(net, "n1", ConfChangeAddLearnerNode, "n4", ticks=10)
    assert not net.nodes["n4"].promotable()
    # etcd promotes with ConfChangeAddNode on the learner (its context says IsPromote).
    change(net, "n1", ConfChangeAddNode, "n4", ticks=5)
    assert net.nodes["n4"].promotable() and net.nodes["n1"].prs["n4"].is_learner is False
    net.crash("n2")
    net.crash("n3")  # 2 of 4 voters: no majority
    net.propose("n1", "x")
    net.run(3)
    assert net.nodes["n1"].log.committed < net.nodes["n1"].log.last_index()


# -- §4.2.2: removing the leader --------------------------------------------------------------
def test_a_removed_leader_steps_down_with_step_down_on_removal():
    net = Net(3, seed=11, step_down_on_removal=True)
    net.elect("n1")
    assert net.conf_change("n1", ConfChangeRemoveNode, "n1")
    net.run(2)
    n1 = net.nodes["n1"]
    assert n1.state == StateFollower and not n1.promotable()
    lead = net.wait_leader()
    assert lead in ("n2", "n3")
    assert net.nodes[lead].voters == {"n2", "n3"}
    net.propose(lead, "after")
    net.run(3)
    assert net.nodes[lead].log.committed == net.nodes[lead].log.last_index()


def test_a_removed_leader_without_step_down_leads_without_counting_itself():
    # etcd's server does not set StepDownOnRemoval: the removed leader keeps leading until its
    # process stops; a commit then needs a majority of the others.
    net = Net(3, seed=12)
    net.elect("n1")
    change(net, "n1", ConfChangeRemoveNode, "n1")
    n1 = net.nodes["n1"]
    assert n1.state == StateLeader and "n1" not in n1.prs and n1.quorum == 2
    net.crash("n3")
    net.propose("n1", "needs n2 and n3")
    net.run(3)
    assert n1.log.committed < n1.log.last_index()  # n2 alone is not a majority of {n2, n3}
    net.restart("n3")
    net.run(5)
    assert n1.log.committed == n1.log.last_index()


# -- catching up a new node (thesis §4.2.1) -------------------------------------------------------
def test_a_new_node_catches_up_by_snapshot_when_the_leader_compacted():
    net = Net(3, seed=13)
    net.elect("n1")
    for k in range(20):
        net.propose("n1", f"w{k}")
    net.run(3)
    net.add("n4")
    net.isolate("n4")  # until the others compacted their logs
    net.record = True
    change(net, "n1", ConfChangeAddLearnerNode, "n4", ticks=1)
    for i in ("n1", "n2", "n3"):
        net.compact(i, keep=0)  # after the change: the snapshot's ConfState has n4
    net.heal()
    net.run(10)
    snaps = [m for m in net.delivered if m.type == MsgSnap and m.to == "n4"]
    assert snaps and snaps[0].snapshot.conf_state == ConfState(("n1", "n2", "n3"), ("n4",))
    assert ("n4", snaps[0].snapshot.index) in net.installed
    n4 = net.nodes["n4"]
    assert n4.is_learner and n4.conf_state() == net.nodes["n1"].conf_state()
    assert net.applied["n4"] == net.applied["n1"]
    assert net.nodes["n1"].prs["n4"].match == net.nodes["n1"].log.last_index()


def test_a_snapshot_whose_configuration_lacks_the_node_is_ignored():
    # raft.go restore: "attempted to restore snapshot but it is not in the ConfState".
    n = RawNode(Config(id="n4", peers=["n1", "n2", "n3"], rng=random.Random(1)), MemoryStorage())
    n.step(Message(MsgSnap, frm="n1", to="n4", term=1,
                   snapshot=Snapshot(5, 1, [], ConfState(("n1", "n2", "n3"), ()))))
    rd = n.ready()
    assert rd.snapshot is None and n.log.last_index() == 0
    n.step(Message(MsgSnap, frm="n1", to="n4", term=1,
                   snapshot=Snapshot(5, 1, [], ConfState(("n1", "n2", "n3"), ("n4",)))))
    rd = n.ready()
    assert rd.snapshot.index == 5 and n.is_learner and n.voters == {"n1", "n2", "n3"}


def test_a_joining_node_outside_the_configuration_only_follows():
    n = RawNode(Config(id="n4", peers=["n1", "n2", "n3"], rng=random.Random(1)), MemoryStorage())
    assert not n.promotable()
    n.tick(500)
    assert n.state == StateFollower and n.term == 0 and not n.ready().messages
    n.step(Message(MsgHeartbeat, frm="n1", to="n4", term=2))
    assert n.lead == "n1" and n.term == 2


# -- the configuration on disk ----------------------------------------------------------------------
def test_the_configuration_survives_restarts_from_the_log_and_from_a_snapshot():
    net = Net(3, seed=14)
    net.elect("n1")
    net.add("n4")
    change(net, "n1", ConfChangeAddLearnerNode, "n4", ticks=10)
    change(net, "n1", ConfChangeRemoveNode, "n3")
    want = ConfState(("n1", "n2"), ("n4",))
    # From the log: the restarted node applies the changes again from index 1.
    net.crash("n2")
    net.restart("n2")
    assert net.nodes["n2"].conf_state() == want
    # From a snapshot: its ConfState, then the log after it.
    net.compact("n4", keep=0)
    assert net.storage["n4"].snapshot.conf_state == want
    net.crash("n4")
    net.restart("n4")
    assert net.nodes["n4"].conf_state() == want and net.nodes["n4"].is_learner
    net.run(5)
    assert net.leader() == "n1"


def test_membership_changes_under_faults_keep_raft_safe():
    """Random single-server changes (add a learner, promote it, remove a voter) while nodes
    crash and messages are lost: the harness checks election safety, log matching, leader
    completeness and state machine safety at every step."""
    rng = random.Random(42)
    net = Net(3, seed=15, compact_every=15, compact_keep=3)
    net.loss = 0.05
    next_id = 4
    for step in range(60):
        lead = net.leader()
        if lead is not None:
            n = net.nodes[lead]
            if rng.random() < 0.5:
                net.propose(lead, f"s{step}")
            elif n.pending_conf_index <= n.log.applied:
                learners = sorted(n.learners)
                if learners and rng.random() < 0.6:
                    net.conf_change(lead, ConfChangeAddNode, learners[0])
                elif len(n.voters) > 3 and rng.random() < 0.5:
                    victim = rng.choice(sorted(n.voters - {lead}))
                    net.conf_change(lead, ConfChangeRemoveNode, victim)
                elif not learners and len(n.voters) < 5:
                    i = f"n{next_id}"
                    next_id += 1
                    net.add(i)
                    net.conf_change(lead, ConfChangeAddLearnerNode, i)
        if rng.random() < 0.1:
            victim = rng.choice(net.alive())
            net.crash(victim)
        for i in net.ids:
            if net.nodes[i] is None and rng.random() < 0.3:
                net.restart(i)
        net.run(3)
    net.loss = 0.0
    for i in net.ids:
        net.restart(i)
    lead = net.wait_leader()
    net.propose(lead, "final")
    net.run(30)
    members = net.nodes[lead].peers
    assert len(members) >= 3
    for i in members:
        assert net.nodes[i].conf_state() == net.nodes[lead].conf_state()
        assert net.applied[i] == net.applied[lead]
