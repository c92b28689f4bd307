"""The Raft core's specific behaviours, each citing the section of the Raft paper (Ongaro &
Ousterhout, extended version) or Ongaro's thesis it checks, on the deterministic test network."""
from __future__ import annotations

import ast
import json
import random
from pathlib import Path

import pytest

from sim.etcd.raft import (Config, Entry, HardState, MemoryStorage, Message, MsgApp, MsgAppResp,
                           MsgHeartbeat, MsgPreVote, MsgProp, MsgTimeoutNow, MsgVote, MsgVoteResp,
                           ProposalDropped, RawNode, StateCandidate, StateFollower, StateLeader,
                           StatePreCandidate, StepLocalMsg, MsgHup)
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
    assert net.nodes[lead].log.entries[-1].data == "b"


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
    want = [(e.term, e.data) for e in net.nodes["n1"].log.entries]
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
