"""The Raft core's specific behaviours, each citing the section of the Raft paper (Ongaro &
Ousterhout, extended version) or Ongaro's thesis it checks, on the deterministic test network."""
from __future__ import annotations

import ast
import json
import random
from pathlib import Path

import pytest

from sim.etcd.raft import (Config, Entry, HardState, LogCompacted, MemoryStorage, Message, MsgApp,
                           MsgAppResp, MsgHeartbeat, MsgPreVote, MsgProp, MsgTimeoutNow, MsgVote,
                           MsgVoteResp, ProposalDropped, RawNode, Snapshot, SnapshotOutOfDate,
                           StateCandidate, StateFollower, StateLeader, StatePreCandidate, StepLocalMsg,
                           MsgHup)
from tests.sim.test_raft_harness import Net


def load(net: Net, i: str, terms: list[int], term: int, vote: str | None = None, commit: int = 0):
    """Give node i a log with the given entry terms (data names the (term, index) pair, so two
    logs agree exactly where their terms agree) and a HardState; then restart it from disk."""
    st = MemoryStorage()
    st.entries = [Entry(t, k + 1, f"t{t}i{k + 1}") for k, t in enumerate(terms)]
    st.hard_state = HardState(term, vote, commit)
    net.storage[i] = st
    net.crash(i)
    net.restart(i)


def node(id="n1", peers=("n1", "n2", "n3"), seed=1, **kw) -> RawNode:
    return RawNode(Config(id=id, peers=list(peers), rng=random.Random(seed), **kw), MemoryStorage())


# -- the core is pure -------------------------------------------------------------------------------
def test_core_is_pure_no_io_no_clock_no_kernel():
    src = Path(__file__).resolve().parents[2] / "sim" / "etcd" / "raft.py"
    imported = set()
    for n in ast.walk(ast.parse(src.read_text())):
        if isinstance(n, ast.Import):
            imported |= {a.name.split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            imported.add((n.module or "").split(".")[0])
    assert imported <= {"__future__", "random", "dataclasses", "typing"}, imported


def test_messages_are_json_serialisable_and_round_trip():
    net = Net(3, seed=2)
    net.record = True
    net.wait_leader()
    net.propose(net.leader(), {"key": "/registry/pods/a", "value": "x"})
    net.run(3)
    assert {m.type for m in net.delivered} >= {MsgPreVote, MsgVote, MsgApp, MsgAppResp, MsgHeartbeat}
    for m in net.delivered:
        d = json.loads(json.dumps(m.to_dict()))
        assert Message.from_dict(d) == m


# -- §5.2 leader election -------------------------------------------------------------------------
def test_randomized_election_timeout_is_uniform_over_et_to_2et():
    seen = set()
    for seed in range(300):
        n = node(seed=seed, election_tick=10)
        assert 10 <= n.randomized_election_timeout < 20
        seen.add(n.randomized_election_timeout)
    assert seen == set(range(10, 20))  # etcd: electionTimeout + rand.Intn(electionTimeout)


def test_follower_campaigns_exactly_when_its_randomized_timeout_elapses():
    n = node(pre_vote=False)
    due = n.randomized_election_timeout
    for _ in range(due - 1):
        n.tick()
    assert n.state == StateFollower and n.term == 0
    n.tick()
    # §5.2: "a follower increments its current term and transitions to candidate state. It then
    # votes for itself and issues RequestVote RPCs in parallel to each of the other servers".
    assert (n.state, n.term, n.vote) == (StateCandidate, 1, "n1")
    rd = n.ready()
    assert sorted((m.type, m.to, m.term) for m in rd.messages) == [(MsgVote, "n2", 1), (MsgVote, "n3", 1)]
    assert rd.hard_state == HardState(1, "n1", 0)  # term and vote are persisted before sending


def test_tick_n_equals_n_single_ticks():
    a, b = node(seed=5, pre_vote=False), node(seed=5, pre_vote=False)
    for _ in range(57):
        a.tick()
    b.tick(57)
    assert a.status() == b.status()


def test_candidate_with_majority_becomes_leader():
    net = Net(5, seed=1, pre_vote=False)
    net.elect("n3")
    assert net.nodes["n3"].term == 1
    assert all(net.nodes[i].vote == "n3" and net.nodes[i].lead == "n3" for i in net.ids)


def test_at_most_one_vote_per_term_first_come_first_served():
    n = node("n1", pre_vote=False, check_quorum=False)
    n.step(Message(MsgVote, frm="n2", to="n1", term=1, index=0, log_term=0))
    n.step(Message(MsgVote, frm="n3", to="n1", term=1, index=0, log_term=0))
    resp = [m for m in n.ready().messages if m.type == MsgVoteResp]
    assert [(m.to, m.reject) for m in resp] == [("n2", False), ("n3", True)]
    assert n.vote == "n2"


def test_vote_denied_to_a_candidate_with_a_less_up_to_date_log():
    # §5.4.1: "If the logs have last entries with different terms, then the log with the later
    # term is more up-to-date. If the logs end with the same term, then whichever log is longer
    # is more up-to-date."
    net = Net(3, seed=1, pre_vote=False)
    load(net, "n1", [1, 1], 1)
    load(net, "n2", [1, 2], 2)
    load(net, "n3", [1, 1, 1], 2)
    net.record = True
    net.nodes["n1"].campaign_now()
    net.handle("n1")
    net.deliver_all()
    assert net.nodes["n1"].state != StateLeader  # both have more up-to-date logs
    net.nodes["n3"].campaign_now()
    net.handle("n3")
    net.deliver_all()
    votes = {(m.frm, m.to): m.reject for m in net.delivered if m.type == MsgVoteResp}
    assert votes[("n2", "n1")] and votes[("n3", "n1")]
    assert votes[("n2", "n3")]           # n2's last term 2 beats n3's 1, whatever the length
    assert not votes[("n1", "n3")]       # same last term, n3's log is longer
    assert net.nodes["n3"].state == StateLeader


def test_a_higher_term_turns_a_leader_into_a_follower():
    # §5.1: "If a candidate or leader discovers that its term is out of date, it immediately
    # reverts to follower state."
    net = Net(3, seed=1, pre_vote=False, check_quorum=False)
    net.elect("n1")
    n1 = net.nodes["n1"]
    n1.step(Message(MsgAppResp, frm="n2", to="n1", term=7, index=0))
    assert (n1.state, n1.term, n1.lead) == (StateFollower, 7, None)


def test_candidate_recognises_a_leader_of_its_term():
    n = node("n1", pre_vote=False)
    n.campaign_now()
    assert n.state == StateCandidate
    n.step(Message(MsgApp, frm="n2", to="n1", term=1, index=0, log_term=0, entries=[Entry(1, 1)]))
    assert (n.state, n.lead, n.log.last_index()) == (StateFollower, "n2", 1)


def test_split_vote_is_resolved_by_a_later_election_with_a_higher_term():
    net = Net(4, seed=3, pre_vote=False)
    # n1 and n2 both campaign in term 1; n3 votes n1, n4 votes n2: nobody has 3 of 4.
    for c in ("n1", "n2"):
        net.nodes[c].campaign_now()
        net.handle(c)
    net.drop = lambda m: m.type == MsgVote and (m.frm, m.to) in {("n1", "n4"), ("n2", "n3")}
    net.deliver_all()
    net.drop = None
    assert net.leader() is None
    lead = net.wait_leader()
    assert net.nodes[lead].term >= 2


def test_granting_a_vote_resets_the_election_timer():
    # Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from
    # current leader or granting vote to candidate: convert to candidate".
    st = MemoryStorage()
    st.entries = [Entry(1, 1)]
    n = RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1), pre_vote=False), st)
    n.step(Message(MsgVote, frm="n2", to="n1", term=1, index=0, log_term=0))  # stale log: denied
    assert (n.term, n.vote) == (1, None)
    n.tick(n.randomized_election_timeout - 1)
    n.step(Message(MsgVote, frm="n3", to="n1", term=1, index=1, log_term=1))  # granted, same term
    assert n.vote == "n3"
    n.tick(n.randomized_election_timeout - 1)
    assert n.state == StateFollower


def test_a_pre_vote_neither_changes_the_voters_term_nor_records_a_vote():
    n = node("n1")
    n.step(Message(MsgPreVote, frm="n2", to="n1", term=5, index=0, log_term=0))
    assert (n.term, n.vote, n.state) == (0, None, StateFollower)
    resp = n.ready().messages
    assert [(m.type, m.term, m.reject) for m in resp] == [("MsgPreVoteResp", 5, False)]


# -- §5.3 log replication ---------------------------------------------------------------------------
def test_entries_commit_on_a_majority_and_not_without_one():
    net = Net(3, seed=1)
    lead = net.wait_leader()
    followers = [i for i in net.ids if i != lead]
    net.crash(followers[0])
    assert net.propose(lead, "a")
    net.run(2)
    assert [d for _, d in net.applied[lead]][-1] == "a"      # 2 of 3: committed and applied
    net.crash(followers[1])
    assert net.propose(lead, "b")
    net.run(2)
    assert "b" not in [d for _, d in net.applied[lead]]      # 1 of 3: appended, never committed
    assert net.nodes[lead].log.all_entries()[-1].data == "b"


def test_figure_7_followers_converge_to_the_leaders_log_with_fast_backtracking():
    # Figure 7: the leader of term 8 and followers (a)-(f) with missing and extraneous entries.
    logs = {"n1": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],          # the leader-to-be
            "n2": [1, 1, 1, 4, 4, 5, 5, 6, 6],             # (a)
            "n3": [1, 1, 1, 4],                            # (b)
            "n4": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],       # (c)
            "n5": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],    # (d)
            "n6": [1, 1, 1, 4, 4, 4, 4],                   # (e)
            "n7": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]}       # (f)
    net = Net(7, seed=1, pre_vote=False)
    for i, terms in logs.items():
        load(net, i, terms, 7, commit=3)
    net.record = True
    net.elect("n1")  # votes from (a), (b), (e), (f): 5 of 7; (c) and (d) have newer logs
    assert net.nodes["n1"].term == 8
    net.run(3)
    want = [(e.term, e.data) for e in net.nodes["n1"].log.all_entries()]
    assert len(want) == 11  # its log and its term-8 no-op
    for i in net.ids:
        assert [(e.term, e.data) for e in net.storage[i].entries] == want, i
    rejections = {}
    for m in net.delivered:
        if m.type == MsgAppResp and m.reject:
            rejections[m.frm] = rejections.get(m.frm, 0) + 1
    # §5.3 optimisation: one rejection per conflicting term rather than one per entry; (f) would
    # need 7 round trips by decrementing nextIndex, the conflict hint needs one.
    assert rejections.get("n7", 0) == 1 and rejections.get("n6", 0) == 1, rejections
    assert all(net.nodes[i].log.committed == 11 for i in net.ids)


def test_follower_catches_up_after_a_restart():
    net = Net(3, seed=4)
    lead = net.wait_leader()
    f = next(i for i in net.ids if i != lead)
    net.crash(f)
    for k in range(200):
        assert net.propose(lead, f"w{k}")
    net.run(2)
    net.restart(f)
    net.run(30)
    assert net.applied[f] == net.applied[lead] and len(net.applied[f]) == 201


# -- §5.4 safety --------------------------------------------------------------------------------------
def _figure_8(allow_term4_to: set[str]) -> Net:
    """Figure 8 (c): S1 leads term 4 and replicates index 2 (from term 2) to a majority."""
    net = Net(5, seed=1, pre_vote=False, check_quorum=False)
    net.cfg["election_tick"] = 1000  # no spontaneous elections: this test drives them
    load(net, "n1", [1, 2], 3, commit=1)
    for i in ("n2", "n3", "n4"):
        load(net, i, [1], 3, commit=1)
    load(net, "n5", [1, 3], 3, vote="n5", commit=1)
    for i in net.ids:
        net.nodes[i].cfg.max_entries_per_msg = 1
    # S5 is down in (c); term-4 entries reach only `allow_term4_to` (a MsgApp whose consistency
    # check fails anyway is let through: its rejection is how S1 finds where the logs diverge).
    net.drop = lambda m: m.to == "n5" or (
        m.type == MsgApp and any(e.term == 4 for e in m.entries) and m.to not in allow_term4_to
        and net.nodes[m.to].log.match_term(m.index, m.log_term))
    net.elect("n1")
    assert net.nodes["n1"].term == 4
    net.run(5)
    return net


def test_figure_8_an_old_term_entry_on_a_majority_is_not_committed():
    # §5.4.2: "Raft never commits log entries from previous terms by counting replicas".
    net = _figure_8(allow_term4_to=set())
    assert all(net.storage[i].entries[1].term == 2 for i in ("n1", "n2", "n3", "n4"))  # 4 of 5
    assert net.nodes["n1"].log.committed == 1
    net.crash("n1")
    net.drop = None
    net.nodes["n5"].campaign_now()  # term 4: S2-S4 already voted for S1 in term 4
    net.handle("n5")
    net.deliver_all()
    net.elect("n5")  # Figure 8 (d): S5 wins with votes from S2, S3, S4 and overwrites index 2
    net.run(5)
    assert all(net.storage[i].entries[1].term == 3 for i in net.alive())
    assert net.committed[2][0] == 3


def test_figure_8_once_a_current_term_entry_commits_the_old_one_is_safe():
    net = _figure_8(allow_term4_to={"n2", "n3"})
    assert net.nodes["n1"].log.committed == 3  # the no-op of term 4 commits index 2 with it
    net.crash("n1")
    net.drop = None
    for _ in range(2):  # terms 4 and 5
        net.nodes["n5"].campaign_now()
        net.handle("n5")
        net.deliver_all()
        assert net.nodes["n5"].state != StateLeader  # Figure 8 (e): S5 can no longer win
    net.elect("n2")
    net.run(5)
    assert net.committed[2][0] == 2 and all(net.storage[i].entries[1].term == 2 for i in net.alive())


# -- restarts: Figure 2's persistent state -------------------------------------------------------
def test_term_vote_and_log_survive_a_restart():
    net = Net(3, seed=1, pre_vote=False, check_quorum=False)
    net.elect("n1")
    net.propose("n1", "x")
    net.run(2)
    net.crash("n2")
    net.restart("n2")
    n2 = net.nodes["n2"]
    assert (n2.term, n2.vote, n2.log.last_index(), n2.log.committed) == (1, "n1", 2, 2)
    assert net.applied["n2"] == [(1, None), (1, "x")]  # re-applied from the committed log
    # It voted for n1 in term 1 before the crash: it must not vote for n3 in term 1 after it.
    n2.step(Message(MsgVote, frm="n3", to="n2", term=1, index=5, log_term=1))
    assert [m.reject for m in n2.ready().messages if m.type == MsgVoteResp] == [True]


def test_a_restarted_node_without_applied_state_replays_only_committed_entries():
    st = MemoryStorage()
    st.entries = [Entry(1, 1), Entry(1, 2, "a"), Entry(1, 3, "b")]
    st.hard_state = HardState(1, "n1", 2)
    n = RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1)), st)
    assert [e.data for e in n.ready().committed_entries] == [None, "a"]
    n2 = RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1), applied=2), st)
    assert not n2.has_ready()


# -- thesis §9.6 pre-vote, §6.2 check-quorum --------------------------------------------------------
@pytest.mark.parametrize("pre_vote", [True, False])
def test_an_isolated_follower_disrupts_on_return_only_without_pre_vote(pre_vote):
    net = Net(3, seed=1, pre_vote=pre_vote, check_quorum=pre_vote)
    lead = net.wait_leader()
    term = net.nodes[lead].term
    f = next(i for i in net.ids if i != lead)
    net.isolate(f)
    net.run(100)  # about five election timeouts alone
    net.heal()
    net.run(50)
    if pre_vote:
        # Its pre-votes failed, so its term never moved; on return it simply follows.
        assert net.leader() == lead and net.nodes[lead].term == term
        assert net.nodes[f].term == term and net.nodes[f].lead == lead
    else:
        # Its term ran ahead; its first message on return deposes the working leader.
        assert net.nodes[net.wait_leader()].term > term + 1


def test_a_leader_that_loses_quorum_steps_down_and_its_uncommitted_entries_are_discarded():
    net = Net(5, seed=2)
    old = net.wait_leader()
    term = net.nodes[old].term
    rest = [i for i in net.ids if i != old]
    net.partition([old, rest[0]], rest[1:])
    net.propose(old, "lost")   # appended by the minority leader, never committed
    for _ in range(2 * 10 + 1):  # check-quorum fires every election timeout
        net.run(1)
        if net.nodes[old].state != StateLeader:
            break
    assert net.nodes[old].state == StateFollower
    new = net.wait_leader()
    assert new in rest[1:] and net.nodes[new].term > term
    net.propose(new, "kept")
    net.run(3)
    net.heal()
    net.run(30)
    for i in net.ids:
        data = [d for _, d in net.applied[i]]
        assert "kept" in data and "lost" not in data, (i, data)
        assert all(e.data != "lost" for e in net.storage[i].entries)


def test_check_quorum_lease_ignores_votes_while_a_leader_is_heard():
    n = node("n1", pre_vote=False)
    n.step(Message(MsgHeartbeat, frm="n2", to="n1", term=1))
    n.ready()
    n.step(Message(MsgVote, frm="n3", to="n1", term=5, index=9, log_term=4))
    assert n.term == 1 and not [m for m in n.ready().messages if m.type == MsgVoteResp]


def test_pre_candidate_does_not_bump_its_term():
    n = node("n1")
    n.tick(n.randomized_election_timeout)
    assert (n.state, n.term) == (StatePreCandidate, 0)
    msgs = n.ready().messages
    assert {(m.type, m.term) for m in msgs} == {(MsgPreVote, 1)}


# -- thesis §3.10 leadership transfer ----------------------------------------------------------------
def test_leader_transfer_to_an_up_to_date_follower_happens_without_waiting():
    net = Net(3, seed=1)
    net.elect("n1")
    term = net.nodes["n1"].term
    net.nodes["n1"].transfer_leader("n3")
    net.handle("n1")
    net.deliver_all()  # no ticks: MsgTimeoutNow starts n3's election at once
    assert net.leader() == "n3" and net.nodes["n3"].term == term + 1
    assert net.nodes["n1"].lead == "n3"


def test_leader_transfer_to_a_lagging_follower_catches_it_up_first():
    net = Net(3, seed=1)
    net.elect("n1")
    net.crash("n3")
    for k in range(20):
        net.propose("n1", k)
    net.run(2)
    net.restart("n3")
    net.record = True
    net.nodes["n1"].transfer_leader("n3")
    net.handle("n1")
    net.deliver_all()
    kinds = [m.type for m in net.delivered]
    assert kinds.index(MsgTimeoutNow) > kinds.index(MsgApp)
    assert net.leader() == "n3" and len(net.applied["n3"]) >= 21


def test_proposals_are_dropped_during_a_transfer_and_it_aborts_after_an_election_timeout():
    net = Net(3, seed=1)
    net.elect("n1")
    net.crash("n3")
    net.nodes["n1"].transfer_leader("n3")
    with pytest.raises(ProposalDropped):
        net.nodes["n1"].propose("x")
    net.run(10)  # one election timeout
    assert net.nodes["n1"].lead_transferee is None and net.propose("n1", "y")


def test_a_follower_forwards_transfer_requests_to_the_leader():
    net = Net(3, seed=1)
    net.elect("n1")
    net.nodes["n2"].transfer_leader("n2")
    net.handle("n2")
    net.deliver_all()
    assert net.leader() == "n2"


# -- proposals --------------------------------------------------------------------------------------
def test_followers_forward_proposals_and_candidates_drop_them():
    net = Net(3, seed=1)
    net.elect("n1")
    assert net.propose("n2", "via-follower")
    net.run(2)
    assert "via-follower" in [d for _, d in net.applied["n1"]]
    lonely = node("n1", pre_vote=False)
    with pytest.raises(ProposalDropped):
        lonely.propose("no leader yet")
    lonely.campaign_now()
    with pytest.raises(ProposalDropped):
        lonely.propose("candidate")


def test_local_messages_from_the_network_are_refused():
    n = node("n1")
    with pytest.raises(StepLocalMsg):
        n.step(Message(MsgHup, frm="n2", to="n1"))


def test_single_member_commits_at_once():
    n = node("n1", peers=("n1",))
    n.tick(n.randomized_election_timeout)
    assert n.state == StateLeader
    n.propose("x")
    rd = n.ready()
    assert [e.data for e in rd.committed_entries] == [None, "x"]


# -- thesis §6.4 ReadIndex ---------------------------------------------------------------------------
def test_read_index_confirms_leadership_with_a_quorum_before_answering():
    net = Net(3, seed=1)
    net.elect("n1")
    net.propose("n1", "a")
    net.run(1)
    net.nodes["n1"].read_index("r1")
    net.handle("n1")
    assert net.reads["n1"] == []  # not before a heartbeat round trip
    net.deliver_all()
    assert net.reads["n1"] == [(2, "r1")]
    net.nodes["n2"].read_index("r2")  # a follower asks the leader
    net.handle("n2")
    net.deliver_all()
    assert net.reads["n2"] == [(2, "r2")]
    net.isolate("n1")
    net.nodes["n1"].read_index("r3")
    net.handle("n1")
    net.run(5)
    assert net.reads["n1"] == [(2, "r1")]  # a leader cut off cannot confirm: no answer


def test_read_index_answers_with_the_commit_index():
    n = node("n1", pre_vote=False)
    n.campaign_now()
    n.step(Message(MsgVoteResp, frm="n2", to="n1", term=1))
    assert n.state == StateLeader
    n.step(Message(MsgAppResp, frm="n2", to="n1", term=1, index=1))
    assert n.log.committed == 1
    n.ready()
    n.read_index("ctx")
    hb = [m for m in n.ready().messages if m.type == MsgHeartbeat]
    assert {m.context for m in hb} == {"ctx"}
    n.step(Message("MsgHeartbeatResp", frm="n3", to="n1", term=1, context="ctx"))
    assert [(r.index, r.context) for r in n.ready().read_states] == [(1, "ctx")]


def test_timer_rule_on_step_down_etcd_resets_paper_keeps():
    # etcd resets a follower's election timer when it merely sees a higher term; the paper's
    # Figure 2 (and LogCabin) only on hearing from the leader or granting a vote.
    for reset, expect_elapsed in ((True, 0), (False, 7)):
        st = MemoryStorage()
        st.entries = [Entry(1, 1)]
        n = RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1), pre_vote=False,
                           check_quorum=False, reset_timer_on_step_down=reset), st)
        n.tick(7)
        n.step(Message(MsgVote, frm="n2", to="n1", term=3, index=0, log_term=0))  # denied
        assert (n.term, n.vote, n.election_elapsed) == (3, None, expect_elapsed)


# -- §7 log compaction and snapshots --------------------------------------------------------------
def _lagging_follower_behind_compaction(seed: int = 1) -> Net:
    """n1 leads; n3 is down while 20 writes commit and n1 and n2 compact their logs past them."""
    net = Net(3, seed=seed)
    net.elect("n1")
    net.crash("n3")
    for k in range(20):
        assert net.propose("n1", f"w{k}")
    net.run(2)
    for i in ("n1", "n2"):
        net.compact(i)
    assert net.storage["n1"].first_index() == 22  # 20 writes and the no-op compacted
    return net


def test_leader_sends_its_snapshot_to_a_follower_behind_its_compaction():
    # §7: "the leader must occasionally send snapshots to followers that lag behind. This happens
    # when the leader has already discarded the next log entry that it needs to send".
    net = _lagging_follower_behind_compaction()
    net.record = True
    net.restart("n3")
    net.run(5)
    snaps = [m for m in net.delivered if m.type == "MsgSnap"]
    assert [(m.to, m.snapshot.index, m.snapshot.term) for m in snaps] == [("n3", 21, 1)]
    assert not [m for m in net.delivered if m.type == MsgApp and m.to == "n3" and m.entries
                and m.entries[0].index <= 21]  # the compacted entries were never sent
    assert net.applied["n3"] == net.applied["n1"] and ("n3", 21) in net.installed
    st = net.storage["n3"]
    assert (st.snapshot.index, st.first_index(), st.last_index()) == (21, 22, 21)
    assert net.nodes["n3"].status()["firstIndex"] == 22 == net.nodes["n3"].status()["snapshotIndex"] + 1
    pr = net.nodes["n1"].prs["n3"]
    assert (pr.state, pr.match, pr.pending_snapshot) == ("replicate", 21, 0)
    # Replication goes on from the log after the snapshot.
    net.record = False
    assert net.propose("n1", "after")
    net.run(2)
    assert net.applied["n3"][-1] == (1, "after") and net.storage["n3"].entry(22).data == "after"


def test_a_follower_whose_log_has_the_snapshots_last_entry_keeps_what_follows_it():
    # §7: "If instead the follower receives a snapshot that describes a prefix of its log ...
    # then log entries covered by the snapshot are deleted but entries following the snapshot
    # are still valid and must be retained" - etcd only fast-forwards the commit index.
    st = MemoryStorage()
    st.entries = [Entry(1, k, f"e{k}") for k in range(1, 6)]
    st.hard_state = HardState(1, "n1", 1)
    n = RawNode(Config("n2", ["n1", "n2", "n3"], rng=random.Random(1), applied=1), st)
    n.step(Message("MsgSnap", frm="n1", to="n2", term=1, snapshot=Snapshot(3, 1, ["state"])))
    rd = n.ready()
    assert rd.snapshot is None                               # nothing to install
    assert [e.index for e in rd.committed_entries] == [2, 3]  # applied from its own log
    assert [(m.type, m.index, m.reject) for m in rd.messages] == [(MsgAppResp, 3, False)]
    assert (n.log.committed, n.log.first_index(), n.log.last_index()) == (3, 1, 5)
    # A snapshot no newer than the commit index is stale: ignored, answered with the commit.
    n.advance(rd)
    n.step(Message("MsgSnap", frm="n1", to="n2", term=1, snapshot=Snapshot(2, 1, ["old"])))
    rd = n.ready()
    assert rd.snapshot is None and [(m.index, m.reject) for m in rd.messages] == [(3, False)]


def test_a_follower_with_a_conflicting_log_discards_it_for_the_snapshot():
    # §7: "Usually the snapshot will contain new information not already in the recipient's log.
    # In this case, the follower discards its entire log; it is all superseded by the snapshot
    # and may possibly have uncommitted entries that conflict with the snapshot."
    st = MemoryStorage()
    st.entries = [Entry(1, 1, "a"), Entry(1, 2, "b"), Entry(2, 3, "stale"), Entry(2, 4, "stale")]
    st.hard_state = HardState(2, None, 1)
    n = RawNode(Config("n2", ["n1", "n2", "n3"], rng=random.Random(1), applied=1), st)
    # One more entry from the old leader, not yet persisted when the snapshot arrives.
    n.step(Message(MsgApp, frm="n3", to="n2", term=2, index=4, log_term=2, entries=[Entry(2, 5, "stale")], commit=1))
    n.step(Message("MsgSnap", frm="n1", to="n2", term=3, snapshot=Snapshot(3, 3, ["a", "b", "c"])))
    assert (n.term, n.lead, n.state) == (3, "n1", StateFollower)
    rd = n.ready()
    assert (rd.snapshot.index, rd.snapshot.term, rd.snapshot.data) == (3, 3, ["a", "b", "c"])
    assert rd.entries == [] and rd.committed_entries == []  # the snapshot stands for 1..3
    assert [(m.type, m.to, m.index) for m in rd.messages] == [(MsgAppResp, "n3", 5), (MsgAppResp, "n1", 3)]
    assert (n.log.committed, n.log.first_index(), n.log.last_index(), n.log.term(3)) == (3, 4, 3, 3)
    assert n.log.term(2) is None and n.log.term(4) is None
    assert not n.promotable()  # not until the snapshot is applied (raft.go promotable)
    st.apply_ready(rd)
    n.advance(rd)
    assert n.log.applied == 3 and n.promotable()
    assert (st.offset, st.offset_term, st.entries, st.hard_state) == (3, 3, [], HardState(3, None, 3))
    assert st.entry(4) is None and st.entry(3) is None and st.term(3) == 3
    # The next MsgApp is checked against the snapshot's last entry (§7: "the last included
    # index and term ... support the AppendEntries consistency check").
    n.step(Message(MsgApp, frm="n1", to="n2", term=3, index=3, log_term=3, entries=[Entry(3, 4, "d")], commit=4))
    rd = n.ready()
    assert [e.data for e in rd.committed_entries] == ["d"] and [m.index for m in rd.messages] == [4]


def test_a_node_restarted_from_a_snapshot_keeps_term_vote_and_commit():
    # Figure 2's persistent state (currentTerm, votedFor, log[]) with the log's prefix held by
    # a snapshot (§7): a restart reads back the term, the vote and the commit index, the
    # snapshot's last index and term stand in for the compacted entries.
    st = MemoryStorage()
    st.apply_snapshot(Snapshot(10, 2, ["state at 10"]))
    st.append([Entry(3, 11, "x"), Entry(3, 12, "y")])
    st.hard_state = HardState(3, "n3", 11)
    n = RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1), applied=10), st)
    assert (n.term, n.vote, n.log.committed, n.log.applied) == (3, "n3", 11, 10)
    assert (n.log.first_index(), n.log.last_index(), n.log.term(10), n.log.term(9)) == (11, 12, 2, None)
    assert [e.data for e in n.ready().committed_entries] == ["x"]
    n.step(Message(MsgVote, frm="n2", to="n1", term=3, index=12, log_term=3))  # voted n3 in term 3
    assert [m.reject for m in n.ready().messages if m.type == MsgVoteResp] == [True]
    with pytest.raises(AssertionError, match="compaction point"):
        st.hard_state = HardState(3, "n3", 9)  # a commit index below the snapshot is corrupt
        RawNode(Config("n1", ["n1", "n2", "n3"], rng=random.Random(1)), st)
    # In a group: a member that compacted its log crashes and comes back with its term, vote,
    # commit index and state machine (from the snapshot) intact.
    net = Net(3, seed=1, pre_vote=False, check_quorum=False)
    net.elect("n1")
    for k in range(5):
        net.propose("n1", k)
    net.run(2)
    net.compact("n2", keep=2)
    before = net.nodes["n2"]
    state = (before.term, before.vote, before.log.committed, list(net.applied["n2"]))
    net.crash("n2")
    net.restart("n2")
    n2 = net.nodes["n2"]
    assert (n2.term, n2.vote, n2.log.committed, net.applied["n2"]) == state
    assert n2.log.first_index() == net.storage["n2"].snapshot.index - 1 == 5


def test_a_failed_snapshot_returns_the_follower_to_probe_and_is_retried():
    # etcd: ReportSnapshot(SnapshotFailure) moves the Progress out of StateSnapshot, to probe
    # from its match (not from the snapshot it never got), after a heartbeat interval.
    net = _lagging_follower_behind_compaction()
    dropped = []
    net.drop = lambda m: m.type == "MsgSnap" and not dropped.append(m)  # the snapshot stream fails
    net.restart("n3")
    pr = net.nodes["n1"].prs["n3"]
    for _ in range(300):
        if pr.state == "snapshot":
            assert pr.pending_snapshot == 21 and pr.is_paused()
        if not net.deliver_one():
            net.tick()
        if dropped:
            break  # the harness reported the failure as it dropped it
    assert [m.snapshot.index for m in dropped] == [21]
    assert (pr.state, pr.pending_snapshot, pr.next, pr.msg_app_flow_paused) == ("probe", 0, pr.match + 1, True)
    assert len(net.applied["n3"]) < 21
    net.drop = None
    net.run(5)
    assert net.applied["n3"] == net.applied["n1"]
    # Delivered: probe from just after the snapshot until the follower's answer arrives.
    pr.become_snapshot(40)
    pr.match = 21
    net.nodes["n1"].report_snapshot("n3")
    assert (pr.state, pr.next, pr.msg_app_flow_paused) == ("probe", 41, True)
    # An answer the log cannot continue from (behind the compaction point) keeps it waiting for
    # the snapshot; one at or after the snapshot resumes replication.
    n1 = net.nodes["n1"]
    pr.match = 0
    pr.become_snapshot(21)
    sent = len(n1.msgs)
    n1.step(Message(MsgAppResp, frm="n3", to="n1", term=n1.term, index=5))
    assert (pr.state, pr.match) == ("snapshot", 5) and len(n1.msgs) == sent  # no second MsgSnap
    n1.step(Message(MsgAppResp, frm="n3", to="n1", term=n1.term, index=21))
    assert (pr.state, pr.match, pr.next) == ("replicate", 21, 22)
    # MsgSnapStatus is local: it never comes from the network.
    with pytest.raises(StepLocalMsg):
        net.nodes["n1"].step(Message("MsgSnapStatus", frm="n3", to="n1"))


def test_snapshot_messages_round_trip_through_json():
    m = Message("MsgSnap", to="n2", frm="n1", term=4,
                snapshot=Snapshot(7, 3, {"revision": 9, "kvs": [["/a", "x", 2, 2, 1]]}))
    assert Message.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_storage_compaction_and_snapshots_follow_etcds_memory_storage():
    st = MemoryStorage()
    st.append([Entry(1, k) for k in range(1, 11)])
    with pytest.raises(AssertionError, match="out of bound"):
        st.create_snapshot(11, None)
    snap = st.create_snapshot(8, "s8")
    assert (snap.index, snap.term) == (8, 1) and st.first_index() == 1  # the log is left alone
    with pytest.raises(SnapshotOutOfDate):
        st.create_snapshot(8, "again")
    st.compact(5)
    assert (st.first_index(), st.last_index(), st.term(5), st.term(4), st.entry(5)) == (6, 10, 1, None, None)
    with pytest.raises(LogCompacted):
        st.compact(5)
    with pytest.raises(LogCompacted):
        st.slice(5, 7)
    assert [e.index for e in st.slice(6, 8)] == [6, 7]
    st.append([Entry(2, 9), Entry(2, 10), Entry(2, 11)])  # a conflicting suffix is replaced
    st.append([Entry(1, 3), Entry(1, 4)])                 # all compacted: ignored
    assert [(e.index, e.term) for e in st.entries] == [(6, 1), (7, 1), (8, 1), (9, 2), (10, 2), (11, 2)]
    with pytest.raises(SnapshotOutOfDate):
        st.apply_snapshot(Snapshot(8, 1))
    st.apply_snapshot(Snapshot(20, 3, "s20"))
    assert (st.first_index(), st.last_index(), st.term(20), st.entries) == (21, 20, 3, [])
