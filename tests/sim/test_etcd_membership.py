"""etcd's membership API in the simulated cluster (`etcdctl member list / add / promote /
remove`): a member added at run time catches up from the leader and ends with a keyspace
byte-identical to the others', a learner is promoted only once in sync, etcd's refusals
(--strict-reconfig-check, one learner, quorum), a removed leader, and membership surviving a
restart of Pilothouse and a replay."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cluster import Cluster, ClusterConfig, ClusterError, NodeSpec
from tests.sim.conftest import create_pod, get_pod, ok

ROOT = Path(__file__).resolve().parents[2]


def _cluster(members: int = 3, seed: int = 21, **cfg_fields) -> Cluster:
    cfg = ClusterConfig.default(seed=seed)
    cfg.etcd_members, cfg.etcd_topology = members, "external"
    for k, v in cfg_fields.items():
        setattr(cfg, k, v)
    c = Cluster("m", cfg)
    c.advance(20)
    return c


def _status(c: Cluster) -> dict:
    return {m["name"]: m for m in c.etcd_status()}


def _leader(c: Cluster) -> str:
    lead, = [m["name"] for m in c.etcd_status() if m["role"] == "leader"]
    return lead


def _keyspaces(c: Cluster) -> set[str]:
    """Each member's whole MVCC store (every revision of every key, the event log), as bytes."""
    return {json.dumps(m.store.to_snapshot(), sort_keys=True) for m in c.etcd_members}


def test_member_list_names_etcd_member_ids_and_peer_urls():
    c = _cluster()
    listed = c.etcd_member_list()
    assert sorted(m["name"] for m in listed) == ["etcd-1", "etcd-2", "etcd-3"]
    assert all(len(m["ID"]) <= 16 and int(m["ID"], 16) for m in listed)
    assert [m["ID"] for m in listed] == sorted(m["ID"] for m in listed)  # etcd lists by ID
    one = next(m for m in listed if m["name"] == "etcd-1")
    assert one["peerURLs"] == ["https://etcd-1:2380"] and not one["isLearner"] and one["started"]
    assert {m["id"] for m in c.etcd_status()} == {m["ID"] for m in listed}


def test_a_learner_catches_up_is_promoted_and_every_keyspace_is_identical():
    c = _cluster()
    out = c.etcd_member_add("etcd-4", learner=True)
    assert out["member"]["name"] == "etcd-4" and out["member"]["isLearner"]
    assert out["initialClusterState"] == "existing" and "etcd-4=https://etcd-4:2380" in out["initialCluster"]
    c.advance(2)
    st = _status(c)
    assert st["etcd-4"]["isLearner"] and st["etcd-4"]["role"] == "follower"
    # Raft: every member's configuration has it as a learner, and its log caught up (§4.2.1).
    assert all(m["learners"] == ["etcd-4"] and "etcd-4" not in m["voters"] for m in st.values())
    assert st["etcd-4"]["appliedIndex"] == st[_leader(c)]["appliedIndex"]
    ok(create_pod(c, "web"))
    c.advance(1)
    c.etcd_member_promote("etcd-4")
    c.advance(1)
    st = _status(c)
    assert not st["etcd-4"]["isLearner"] and all(len(m["voters"]) == 4 and not m["learners"] for m in st.values())
    assert len(_keyspaces(c)) == 1
    assert c._member("etcd-4").store.get("/registry/pods/default/web")


def test_etcd_server_is_learner_metric():
    from sim.metrics import render
    c = _cluster()
    c.etcd_member_add("etcd-4", learner=True)
    c.advance(1)
    text = render(c)
    assert 'etcd_server_is_learner{member="etcd-4"} 1' in text
    assert 'etcd_server_is_learner{member="etcd-1"} 0' in text


def test_a_learner_does_not_count_for_the_quorum():
    c = _cluster()
    c.etcd_member_add("etcd-4", learner=True)
    c.advance(2)
    followers = [n for n, m in _status(c).items() if m["role"] == "follower" and n != "etcd-4"]
    c.kill_etcd_member(followers[0])
    c.kill_etcd_member(followers[1])
    # The leader and the learner are two of four running members, but one of three voters.
    with pytest.raises(ClusterError) as e:
        c.etcd_put("/lesson/k", "v")
    assert e.value.code == 504
    # A learner serves no client writes (etcd: "rpc not supported for learner").
    with pytest.raises(ClusterError, match="not supported for learner"):
        c.etcd_put("/lesson/k", "v", member="etcd-4")
    with pytest.raises(ClusterError, match="bad leader transferee"):
        c.etcd_transfer_leadership("etcd-4")


def test_promotion_waits_for_the_learner_to_be_in_sync():
    c = _cluster()
    c.etcd_member_add("etcd-4", learner=True)
    c.kill_etcd_member("etcd-4")  # before it answered the leader: its Match is 0
    c.advance(1)
    with pytest.raises(ClusterError) as e:
        c.etcd_member_promote("etcd-4")
    assert e.value.code == 409 and str(e.value) == \
        "etcdserver: can only promote a learner member which is in sync with leader"
    c.restore_etcd_member("etcd-4")
    c.advance(2)
    c.etcd_member_promote("etcd-4")
    with pytest.raises(ClusterError, match="can only promote a learner member$"):
        c.etcd_member_promote("etcd-4")  # a voter now: refused when applied (ErrMemberNotLearner)


def test_one_learner_at_a_time_and_other_refusals():
    c = _cluster()
    c.etcd_member_add("etcd-4", learner=True)
    with pytest.raises(ClusterError) as e:
        c.etcd_member_add("etcd-5", learner=True)
    assert (e.value.code, str(e.value)) == (409, "etcdserver: too many learner members in cluster")
    assert "etcd-5" not in {m["name"] for m in c.etcd_member_list()}
    with pytest.raises(ClusterError, match="already runs etcd member"):
        c.etcd_member_add("etcd-4")
    with pytest.raises(ClusterError) as e:
        c.etcd_member_remove("etcd-9")
    assert e.value.code == 404
    with pytest.raises(ClusterError):
        c.etcd_member_add("Not A Host")
    with pytest.raises(ClusterError):
        c.etcd_member_add("client")  # the outside client's host


def test_adding_a_voter_raises_the_quorum():
    """One member, then two voters: etcd allows adding a second member to a one-member cluster
    (IsReadyToAddVotingMember), and from then on both are needed for every write."""
    c = Cluster("m", ClusterConfig.default(seed=3))
    c.advance(10)
    c.etcd_member_add("worker-1")
    c.advance(2)
    st = _status(c)
    assert st["etcd-2"]["host"] == "worker-1" and all(m["voters"] == ["etcd-1", "etcd-2"] for m in st.values())
    ok(create_pod(c, "web"))
    c.kill_node("worker-1")  # the member on the worker goes down with it
    c.advance(3)
    assert _status(c)["etcd-2"]["role"] == "stopped"
    with pytest.raises(ClusterError) as e:
        c.etcd_put("/lesson/k", "v")
    assert e.value.code == 504
    c.restore_node("worker-1")
    c.advance(5)
    assert c.etcd_put("/lesson/k", "v")["revision"] > 0
    c.advance(1)
    assert len(_keyspaces(c)) == 1


def test_strict_reconfig_check_refuses_a_removal_that_loses_the_quorum():
    c = _cluster()
    lead = _leader(c)
    a, b = sorted(n for n in _status(c) if n != lead)
    c.kill_etcd_member(b)
    c.advance(2)
    # Removing the other running follower would leave the leader alone of two voters up.
    with pytest.raises(ClusterError) as e:
        c.etcd_member_remove(a)
    assert (e.value.code, str(e.value)) == (503, "etcdserver: unhealthy cluster")
    # Adding any member while a voter is down is refused too (isConnectedFullySince).
    with pytest.raises(ClusterError, match="unhealthy cluster"):
        c.etcd_member_add("etcd-4", learner=True)
    # A member that is down is safe to remove: it is not part of the active quorum.
    c.etcd_member_remove(b)
    c.advance(2)
    assert sorted(_status(c)) == sorted([lead, a]) and c.etcd_put("/k", "v")["revision"] > 0


def test_without_strict_reconfig_check_the_removal_goes_through_and_the_quorum_is_lost():
    c = _cluster(etcd_strict_reconfig_check=False)
    lead = _leader(c)
    a, b = sorted(n for n in _status(c) if n != lead)
    c.kill_etcd_member(b)
    c.advance(2)
    c.etcd_member_remove(a)  # committed by the leader and a, two of the three voters
    c.advance(5)
    st = _status(c)
    assert sorted(st) == sorted([lead, b]) and st[lead]["voters"] == sorted([lead, b])
    assert st[lead]["role"] != "leader"  # one of two voters up: CheckQuorum deposed it
    with pytest.raises(ClusterError):
        c.etcd_put("/k", "v")


def test_removing_the_leader_stops_it_and_the_others_elect_a_new_one():
    c = _cluster()
    lead = _leader(c)
    term = _status(c)[lead]["term"]
    out = c.etcd_member_remove(lead)
    assert lead not in {m["name"] for m in out["members"]}
    assert lead not in _status(c)
    gone = next(m for m in c.etcd_departed if m.name == lead)
    c.advance(3)
    assert not gone.running and gone.removed_self
    st = _status(c)
    new = _leader(c)
    assert new != lead and st[new]["term"] > term and len(st) == 2
    assert all(m["voters"] == sorted(st) for m in st.values())
    assert c.etcd_put("/lesson/after", "x")["member"] != lead
    assert {m["name"] for m in c.etcd_member_list()} == set(st)
    # A removed member's ID and name are never used again.
    c.advance(6)
    added = c.etcd_member_add("etcd-9")["member"]
    assert added["name"] == "etcd-4"


def test_a_change_without_a_quorum_times_out():
    c = _cluster(etcd_strict_reconfig_check=False)
    lead = _leader(c)
    for n in _status(c):
        if n != lead:
            c.kill_etcd_member(n)
    with pytest.raises(ClusterError) as e:
        c.etcd_member_add("etcd-4", learner=True)
    assert (e.value.code, str(e.value)) == (504, "etcdserver: request timed out")
    assert "etcd-4" not in _status(c)


def test_a_new_member_catches_up_by_snapshot_when_the_log_was_compacted():
    c = _cluster(etcd_snapshot_count=40, etcd_snapshot_catchup_entries=10)
    c.advance(10)
    lead = c._member(_leader(c))
    assert lead.raft_storage.first_index() > 1  # compacted: the new member cannot get entry 1
    c.kernel.trace_enabled = True
    c.drain_events()
    c.etcd_member_add("etcd-4", learner=True)
    c.advance(3)
    events = c.drain_events()
    sent = [e for e in events if e.get("event") == "snapshot-send" and e.get("to") == "etcd-4"]
    restored = [e for e in events if e.get("event") == "snapshot-restore" and e.get("member") == "etcd-4"]
    assert sent and restored
    st = _status(c)
    assert st["etcd-4"]["appliedIndex"] == st[lead.name]["appliedIndex"] and st["etcd-4"]["firstIndex"] > 1
    assert c._member("etcd-4").members.keys() == lead.members.keys()  # the membership came with it
    c.etcd_member_promote("etcd-4")
    ok(create_pod(c, "after"))
    c.advance(2)
    assert len(_keyspaces(c)) == 1


def test_a_removed_stacked_member_crash_loops_in_its_static_pod():
    c = Cluster("m", ClusterConfig.default(seed=3))
    c.advance(10)
    c.etcd_member_add("worker-1")
    c.advance(8)
    c.etcd_member_remove("etcd-1")  # cp-1's static pod
    c.advance(30)
    runtime = c.node_components["cp-1"][0]
    etcd, = [x for x in runtime.containers.values() if x.name == "etcd"]
    assert etcd.exit_code == 1 and etcd.attempt >= 2  # the kubelet keeps restarting it
    assert [m["name"] for m in c.etcd_status()] == ["etcd-2"] and _leader(c) == "etcd-2"
    with pytest.raises(ClusterError, match="still runs the removed etcd member"):
        c.etcd_member_add("cp-1")


def _persisted(c: Cluster) -> tuple:
    return (json.loads(json.dumps(c.topology())), c.committed_since(0), c.now, c.compacted_revision,
            json.loads(json.dumps(c.etcd_disk_states())))


def test_membership_survives_a_restart_of_pilothouse():
    c = _cluster()
    c.etcd_member_add("etcd-4", learner=True)
    c.advance(2)
    removed = next(n for n, m in _status(c).items() if m["role"] == "follower" and n != "etcd-4")
    c.etcd_member_remove(removed)
    ok(create_pod(c, "keep"))
    c.advance(3)
    topology, log, now, compacted, disks = _persisted(c)
    assert set(disks) == {m.name for m in c.etcd_members}
    r = Cluster.restore("m", topology, log, now, compacted, etcd_disks=disks)
    st = _status(r)
    assert sorted(st) == sorted(_status(c)) and removed not in st
    assert st["etcd-4"]["isLearner"] and all(m["learners"] == ["etcd-4"] for m in st.values())
    assert (st["etcd-4"]["term"], st["etcd-4"]["vote"]) == (disks["etcd-4"]["hardState"]["term"],
                                                            disks["etcd-4"]["hardState"]["vote"])
    r.advance(5)
    assert ok(get_pod(r, "keep"))
    r.advance(5)
    r.etcd_member_promote("etcd-4")
    with pytest.raises(ClusterError) as e:
        r.etcd_member_remove(removed)
    assert e.value.code == 404
    added = r.etcd_member_add("etcd-7")["member"]["name"]
    r.advance(3)
    assert added == "etcd-5"  # names go on counting after a restart: none is used twice
    assert len(_keyspaces(r)) == 1


def test_an_added_member_that_never_started_stays_unstarted_after_a_restart():
    """A change that timed out may still be committed later (the old leader kept the entry and
    won the next election): etcd then has an "unstarted" member, which nobody runs until it is
    started - and a restart of Pilothouse does not start it either."""
    c = _cluster(seed=13, etcd_strict_reconfig_check=False)
    lead = _leader(c)
    others = [n for n in _status(c) if n != lead]
    for n in others:
        c.kill_etcd_member(n)
    with pytest.raises(ClusterError) as e:
        c.etcd_member_add("etcd-4", learner=True)  # no quorum: times out, nothing started
    assert e.value.code == 504 and "etcd-4" not in _status(c)
    for n in others:
        c.restore_etcd_member(n)
    c.advance(5)
    st = _status(c)
    assert not st["etcd-4"]["started"] and st["etcd-4"]["role"] == "stopped" and st["etcd-4"]["isLearner"]
    listed = {m["name"]: m for m in c.etcd_member_list()}
    assert listed["etcd-4"]["started"] is False
    topology, log, now, compacted, disks = _persisted(c)
    r = Cluster.restore("m", topology, log, now, compacted, etcd_disks=disks)
    assert not _status(r)["etcd-4"]["started"] and not r._member("etcd-4").running
    r.advance(5)
    r.restore_etcd_member("etcd-4")  # someone starts it: it catches up like any new member
    r.advance(5)
    st = _status(r)
    assert st["etcd-4"]["started"] and st["etcd-4"]["appliedIndex"] == st[_leader(r)]["appliedIndex"]


# -- replay determinism (cluster/worker/timeline.py rests on it) --------------------------------
def run_with_member_changes(seed: int) -> tuple[str, str]:
    config = ClusterConfig(seed=seed, nodes=[NodeSpec("cp-1", "control-plane", "4", "8Gi"), NodeSpec("worker-1"),
                                             NodeSpec("worker-2")], etcd_members=3, etcd_topology="external",
                           start_unix_time=1_790_000_000.25)
    c = Cluster("det", config)
    c.run_until(15)
    c.etcd_member_add("etcd-4", learner=True)
    c.run_until(20)
    c.etcd_member_promote("etcd-4")
    c.etcd_put("/lesson/marker", "here")
    c.run_until(25)
    c.etcd_member_remove("etcd-1")
    c.run_until(35)
    c.etcd_member_add("worker-2")
    c.run_until(45)
    stores = sorted(json.dumps(m.store.to_snapshot(), sort_keys=True) for m in c.etcd_members)
    assert len(set(stores)) == 1
    snapshot = dict(c.snapshot(), cluster=None)
    return (hashlib.sha256((stores[0] + json.dumps(c.etcd_member_list())).encode()).hexdigest(),
            hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest())


@functools.cache
def _run_five() -> tuple[str, str]:
    return run_with_member_changes(5)


def test_a_run_with_member_changes_replays_to_the_same_bytes():
    assert _run_five() == run_with_member_changes(5)


def test_and_in_another_process_with_another_hash_seed():
    code = ("import json, sys; sys.path.insert(0, %r); "
            "from tests.sim.test_etcd_membership import run_with_member_changes; "
            "print(json.dumps(run_with_member_changes(5)))" % str(ROOT))
    env = dict(os.environ, PYTHONHASHSEED="4242")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert tuple(json.loads(out.stdout.strip().splitlines()[-1])) == _run_five()
