"""etcd as a Raft group inside a cluster (issue 3's first slice): elections, leader loss, quorum
loss, partitions, with the API server on top."""
import pytest

from sim.cluster import Cluster, ClusterConfig, ClusterError
from tests.sim.conftest import create_pod, get_pod, ok


def _cluster(members=3, seed=21):
    cfg = ClusterConfig.default(seed=seed)
    cfg.etcd_members, cfg.etcd_topology = members, "external"
    c = Cluster("e", cfg)
    c.advance(20)
    return c


def _leaders(c):
    return [m for m in c.etcd_status() if m["role"] == "leader"]


def test_three_members_elect_one_leader_and_replicate_writes():
    c = _cluster()
    status = c.etcd_status()
    assert [m["name"] for m in status] == ["etcd-1", "etcd-2", "etcd-3"]
    leader, = _leaders(c)
    assert {m["leader"] for m in status} == {leader["name"]}
    ok(create_pod(c, "web"))
    c.advance(1)
    revs = {m["name"]: c._member(m["name"]).store.revision for m in status}
    assert len(set(revs.values())) == 1  # every member applied the same writes
    assert all(c._member(n).store.get("/registry/pods/default/web") for n in revs)


def test_killing_the_leader_elects_a_new_one_with_a_higher_term():
    """§5.2: followers time out, one wins a majority in a new term."""
    c = _cluster()
    old, = _leaders(c)
    c.kill_etcd_member(old["name"])
    c.advance(5)
    new, = _leaders(c)
    assert new["name"] != old["name"] and new["term"] > old["term"]
    # An apiserver talking to the dead member notices when a request times out (7 s) and moves
    # to the next endpoint; the kubelets' lease renewals trigger that within seconds.
    c.advance(10)
    ok(create_pod(c, "after-failover"))


def test_without_quorum_writes_time_out_and_succeed_once_it_returns():
    c = _cluster()
    followers = [m["name"] for m in c.etcd_status() if m["role"] != "leader"]
    for name in followers:
        c.kill_etcd_member(name)
    resp = create_pod(c, "no-quorum")
    assert resp["code"] == 504 and resp["body"]["reason"] == "Timeout"
    c.advance(5)
    assert not _leaders(c)  # check-quorum: the lone leader steps down
    for name in followers:
        c.restore_etcd_member(name)
    c.advance(5)
    assert len(_leaders(c)) == 1
    body = ok(create_pod(c, "quorum-back"))
    assert body["metadata"]["name"] == "quorum-back"
    # Without quorum kube-scheduler could not renew its Lease within the 10 s renew deadline,
    # so it restarted; it waits out the old 15 s lease before it schedules again.
    c.advance(30)
    assert ok(get_pod(c, "quorum-back"))["status"]["phase"] == "Running"


def test_partitioned_old_leader_steps_down_and_the_majority_elects():
    c = _cluster()
    old, = _leaders(c)
    others = [m["name"] for m in c.etcd_status() if m["name"] != old["name"]]
    c.partition([[old["name"]], others])
    c.advance(5)
    status = {m["name"]: m for m in c.etcd_status()}
    assert status[old["name"]]["role"] != "leader"
    new = [m for m in status.values() if m["role"] == "leader"]
    assert len(new) == 1 and new[0]["name"] in others and new[0]["term"] > old["term"]
    c.heal()
    c.advance(3)
    assert len(_leaders(c)) == 1
    assert len({c._member(n).store.revision for n in status}) == 1


def test_member_state_survives_a_restart():
    c = _cluster()
    follower = next(m for m in c.etcd_status() if m["role"] == "follower")
    c.kill_etcd_member(follower["name"])
    stopped = next(m for m in c.etcd_status() if m["name"] == follower["name"])
    assert stopped["role"] == "stopped" and stopped["term"] == follower["term"]
    c.advance(10)  # an apiserver whose endpoint died moves on after a timed-out request
    ok(create_pod(c, "while-down"))
    c.restore_etcd_member(follower["name"])
    c.advance(3)
    back = next(m for m in c.etcd_status() if m["name"] == follower["name"])
    assert back["role"] == "follower" and back["appliedIndex"] == _leaders(c)[0]["appliedIndex"]
    assert c._member(follower["name"]).store.get("/registry/pods/default/while-down") is not None


def test_topology_rules():
    cfg = ClusterConfig.default()
    cfg.etcd_members = 3  # stacked with one control-plane node
    with pytest.raises(ClusterError, match="one etcd member per control-plane node"):
        Cluster("x", cfg)
    cfg.etcd_members, cfg.etcd_topology = 4, "external"
    with pytest.raises(ClusterError, match="1, 3, 5 or 7"):
        Cluster("x", cfg)


def test_restore_rebuilds_every_member():
    c = _cluster()
    ok(create_pod(c, "keep"))
    c.advance(5)
    r = Cluster.restore("e", c.topology(), c.committed_since(0), c.now, c.compacted_revision)
    r.advance(5)
    assert len(_leaders(r)) == 1
    assert ok(get_pod(r, "keep"))["metadata"]["name"] == "keep"
    assert len({m.store.revision for m in r.etcd_members}) == 1


def test_etcdctl_put_and_timeout_now():
    c = _cluster()
    put = c.etcd_put("/demo/hello", "world")
    assert put["revision"] == max(m.store.revision for m in c.etcd_members)
    follower = next(m for m in c.etcd_status() if m["role"] == "follower")
    old_term = _leaders(c)[0]["term"]
    c.etcd_timeout_now(follower["name"])
    c.advance(3)
    # With pre-vote and a live leader the follower's campaign does not disrupt the term
    # (thesis §9.6): the leader's followers refuse a pre-vote while they hear from it.
    assert _leaders(c)[0]["term"] == old_term
    # Leadership transfer does move it: MsgTimeoutNow skips pre-vote (thesis §3.10).  Like
    # etcdserver's MoveLeader, the call returns once the transferee leads.
    c.etcd_transfer_leadership(follower["name"])
    new, = _leaders(c)
    assert new["name"] == follower["name"] and new["term"] == old_term + 1
    for m in [x["name"] for x in c.etcd_status() if x["role"] != "leader"]:
        c.kill_etcd_member(m)
    with pytest.raises(ClusterError, match="request timed out"):
        c.etcd_put("/demo/x", "y")


def test_move_leader_to_a_pre_candidate_times_out_as_etcd_reports_it():
    """A member whose pre-vote was just refused is a pre-candidate until the leader's next
    heartbeat, and raft's stepCandidate ignores MsgTimeoutNow: the leader aborts the transfer
    after an election timeout, and move-leader answers etcd's ErrTimeoutLeaderTransfer after
    the request timeout.  Once the member is a follower again, the transfer goes through."""
    c = _cluster()
    leader, = _leaders(c)
    follower = next(m["name"] for m in c.etcd_status() if m["role"] == "follower")
    c.etcd_timeout_now(follower)
    with pytest.raises(ClusterError, match="leader transfer took too long") as e:
        c.etcd_transfer_leadership(follower)
    assert e.value.code == 504
    assert _leaders(c)[0]["name"] == leader["name"]
    c.advance(0.5)
    c.etcd_transfer_leadership(follower)
    assert _leaders(c)[0]["name"] == follower


def test_compaction_on_demand_and_a_watch_from_before_it_fails():
    c = _cluster()
    ok(create_pod(c, "a"))
    c.advance(2)
    rev = c.etcd_compact()
    assert all(m.store.compact_revision == rev for m in c.etcd_members)
    with pytest.raises(ClusterError, match="compacted"):
        c.etcd_compact(rev - 1)
    m = c.etcd_members[0]
    from sim.etcd.mvcc import CompactedError
    with pytest.raises(CompactedError, match="required revision has been compacted"):
        m.store.events_since(rev - 1)


def test_snapshot_save_and_restore_brings_back_the_keyspace():
    c = _cluster()
    ok(create_pod(c, "before"))
    c.advance(5)
    snap = c.etcd_snapshot_save()
    assert any(k == "/registry/pods/default/before" for k, _, _ in snap["kvs"])
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "before",
                  "query": {"gracePeriodSeconds": "0"}}))
    ok(create_pod(c, "after"))
    c.advance(2)
    c.etcd_snapshot_restore(snap)
    c.advance(5)
    assert ok(get_pod(c, "before"))["metadata"]["name"] == "before"
    assert get_pod(c, "after")["code"] == 404
    assert len(_leaders(c)) == 1
    assert ok(create_pod(c, "new-era"))["metadata"]["resourceVersion"]
    with pytest.raises(ClusterError, match="not a snapshot"):
        c.etcd_snapshot_restore({"nope": 1})


def test_reads_are_linearizable_and_fail_without_quorum():
    """A read without resourceVersion confirms the leader with a quorum (ReadIndex) before the
    cache answers; a read at resourceVersion=0 may be served from the cache regardless."""
    c = _cluster()
    ok(create_pod(c, "seen"))
    assert ok(get_pod(c, "seen"))["metadata"]["name"] == "seen"
    for name in [m["name"] for m in c.etcd_status() if m["role"] != "leader"]:
        c.kill_etcd_member(name)
    resp = get_pod(c, "seen")
    assert resp["code"] == 504 and "etcdserver: request timed out" in resp["body"]["message"]
    cached = c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "seen",
                        "query": {"resourceVersion": "0"}})
    assert cached["code"] == 200


def test_apiserver_never_fails_over_onto_a_stopped_member():
    """Two of three down, then one back: the next write succeeds at once (a stopped member
    refuses connections, so the etcd client does not wait on it)."""
    c = _cluster()
    names = [m["name"] for m in c.etcd_status()]
    c.kill_etcd_member(names[1])
    c.kill_etcd_member(names[2])
    assert create_pod(c, "no-quorum")["code"] == 504
    c.restore_etcd_member(names[1])
    c.advance(3)
    before = c.now
    assert ok(create_pod(c, "back"))["metadata"]["name"] == "back"
    assert c.now - before < 1.0


def test_a_slow_link_delays_heartbeats_and_a_lossy_one_loses_messages():
    c = _cluster()
    leader, = _leaders(c)
    follower = next(m["name"] for m in c.etcd_status() if m["role"] == "follower")
    c.set_link(leader["name"], follower, latency_ms=400)
    c.drain_events()
    c.advance(1)
    hops = [e for e in c.drain_events() if e["kind"] == "message" and e["type"] == "MsgHeartbeat"
            and e["dst"] == c._member(follower).address]
    assert hops and all(abs(e["arrive"] - e["t"] - 0.4) < 0.001 for e in hops)
    c.set_link(leader["name"], follower, loss=1.0)
    c.advance(2)
    drops = [e for e in c.drain_events() if e["kind"] == "drop" and e["dst"] == c._member(follower).address]
    assert drops
    # Cut off by a fully lossy link, the follower's pre-vote reaches the third member, which
    # still hears the leader and refuses it: the leader keeps its term (thesis §9.6).
    assert _leaders(c)[0]["term"] == leader["term"]
    with pytest.raises(ClusterError, match="loss"):
        c.set_link(leader["name"], follower, loss=1.5)
    c.heal()
    assert c.network_state()["links"] == []


# -- §7 log compaction and snapshots in the member ------------------------------------------------
def _compacting_cluster(snapshot_count=50, catchup=10, seed=21):
    cfg = ClusterConfig.default(seed=seed)
    cfg.etcd_members, cfg.etcd_topology = 3, "external"
    cfg.etcd_snapshot_count, cfg.etcd_snapshot_catchup_entries = snapshot_count, catchup
    c = Cluster("e", cfg)
    c.advance(20)
    return c


def _log_length(m):
    return m.raft_storage.last_index() - m.raft_storage.offset


def test_a_member_that_missed_a_compaction_catches_up_by_snapshot_and_logs_stay_bounded():
    """§7: the leader discards the entries a stopped member missed once they are in a snapshot
    (etcd: every --snapshot-count entries, keeping SnapshotCatchUpEntries); when the member
    returns, the leader sends it the snapshot, its keyspace becomes the leader's, and its log
    starts after the snapshot.  No member's log grows past snapshot-count + catch-up entries."""
    c = _compacting_cluster()
    leader, = _leaders(c)
    follower = next(m["name"] for m in c.etcd_status() if m["role"] == "follower")
    c.kill_etcd_member(follower)
    c.advance(10)  # an apiserver whose endpoint died moves on
    bound = 50 + 10
    for k in range(200):
        c.etcd_put(f"/demo/k{k % 40}", f"v{k}", member=leader["name"])
        for m in c.etcd_members:
            unapplied = m.raft_storage.last_index() - m.applied_index
            assert _log_length(m) - unapplied <= bound, (m.name, _log_length(m), unapplied)
    lead = c._member(leader["name"])
    back = c._member(follower)
    assert lead.raft_storage.first_index() > back.raft_storage.last_index() + 1  # compacted past it
    c.drain_events()
    c.restore_etcd_member(follower)
    c.advance(3)
    events = [e for e in c.drain_events() if e["kind"] == "etcd" and e.get("event", "").startswith("snapshot")]
    sent = [e for e in events if e["event"] == "snapshot-send" and e["to"] == follower]
    restored = [e for e in events if e["event"] == "snapshot-restore" and e["member"] == follower]
    assert sent and restored and restored[0]["index"] == sent[0]["index"]
    assert back.store.to_snapshot() == lead.store.to_snapshot()  # the same keyspace, history and all
    assert back.store.get("/demo/k39").value == "v199"
    st = back.status()
    assert st["role"] == "follower" and st["firstIndex"] > 1 and st["snapshotIndex"] >= restored[0]["index"]
    assert st["appliedIndex"] == lead.status()["appliedIndex"]
    # Its log runs on from the snapshot with the leader's entries.
    c.etcd_put("/demo/after", "x", member=leader["name"])
    c.advance(1)
    assert back.store.get("/demo/after").value == "x"
    assert back.raft_storage.entry(back.raft_storage.last_index()).term == lead.raft.term
    for m in c.etcd_members:
        assert _log_length(m) <= bound


def test_watchers_of_a_member_restored_from_a_snapshot_miss_nothing_and_see_nothing_twice():
    """etcd's watchableStore.Restore: a member's watchers catch up from the restored keyspace,
    from the revision each was to see next."""
    from sim.component import Component

    class Watcher(Component):
        component = "watcher"

        def on_message(self, src, msg):
            self.got = getattr(self, "got", []) + [msg]

    c = _compacting_cluster()
    leader, = _leaders(c)
    follower = next(m["name"] for m in c.etcd_status() if m["role"] == "follower")
    lagging = c._member(follower)
    w = Watcher("watch-host")
    c.kernel.add_component(w)
    w.start()
    start = lagging.store.revision + 1
    w.send(lagging.address, {"type": "etcd.watch", "id": "w", "prefix": "/demo/", "start_revision": start})
    c.etcd_put("/demo/first", "1", member=leader["name"])
    c.advance(1)
    others = [m.name for m in c.etcd_members if m.name != follower]
    c.partition([[follower], others])  # it keeps running (and its watch open), cut off
    for k in range(120):
        c.etcd_put(f"/demo/k{k % 30}", f"v{k}", member=leader["name"])
    c.drain_events()
    c.heal()
    c.advance(3)
    c.etcd_put("/demo/last", "2", member=leader["name"])
    c.advance(1)
    assert [e for e in c.drain_events() if e["kind"] == "etcd" and e.get("event") == "snapshot-restore"
            and e["member"] == follower]
    seen = [tuple(ev) for msg in w.got if msg["type"] == "etcd.watch.events" for ev in msg["events"]]
    want = [(e.revision, e.key, e.value) for e in c._member(leader["name"]).store.events_since(start, "/demo/")]
    assert seen == want and len(want) == 122


def test_restart_from_disk_states_keeps_terms_and_raft_indexes():
    """Figure 2's persistent state survives a restart of the whole simulator: each member comes
    back with its term and vote, and with a Raft log that is a snapshot at the point the saved
    keyspace is at (§7) - the most advanced member's applied index, for a member that was behind
    too, since there is one keyspace - so indexes continue instead of starting again from 1 at
    term 0."""
    import json

    c = _cluster()
    for _ in range(2):  # a couple of leader changes, so terms are past 1
        leader, = _leaders(c)
        c.etcd_transfer_leadership(next(m["name"] for m in c.etcd_status() if m["role"] == "follower"))
        c.advance(1)
    # One member is down when the state is saved: it is behind the others.
    lagging = next(m["name"] for m in c.etcd_status() if m["role"] == "follower")
    c.kill_etcd_member(lagging)
    c.advance(10)
    ok(create_pod(c, "keep"))
    c.advance(2)
    disks = json.loads(json.dumps(c.etcd_disk_states()))
    before = {m["name"]: m for m in c.etcd_status()}
    assert {n: d["hardState"]["term"] for n, d in disks.items()} == {n: m["term"] for n, m in before.items()}
    assert all(d["appliedIndex"] == before[n]["appliedIndex"] > 0 for n, d in disks.items())
    point = max(d["appliedIndex"] for d in disks.values())
    assert disks[lagging]["appliedIndex"] < point
    r = Cluster.restore("e", c.topology(), c.committed_since(0), c.now, c.compacted_revision, etcd_disks=disks)
    for m in r.etcd_status():  # as loaded, before any election
        assert (m["term"], m["vote"]) == (before[m["name"]]["term"], before[m["name"]]["vote"])
        assert (m["commitIndex"], m["appliedIndex"], m["raftIndex"]) == (point, point, point)
        assert (m["snapshotIndex"], m["firstIndex"]) == (point, point + 1)
    r.advance(5)
    leader, = _leaders(r)
    assert leader["term"] > max(m["term"] for m in before.values())
    assert leader["raftIndex"] > point and leader["commitIndex"] > point
    assert ok(get_pod(r, "keep"))["metadata"]["name"] == "keep"
    ok(create_pod(r, "after-restart"))
    r.advance(2)
    assert len({m.store.revision for m in r.etcd_members}) == 1
    # Without disk states the members start over, as before.
    fresh = Cluster.restore("e", c.topology(), c.committed_since(0), c.now, c.compacted_revision)
    assert {m["term"] for m in fresh.etcd_status()} == {0}


def test_a_forwarded_proposal_to_a_member_without_a_leader_is_dropped_not_raised():
    """A follower forwards a client write to the leader it knows (etcd's proposal forwarding);
    if that member has meanwhile lost its leader, raft refuses the proposal (ErrProposalDropped)
    and the member drops it: the client's request times out instead of the member crashing."""
    from sim.etcd.raft import Message, MsgProp, Entry

    c = _cluster()
    leader, = _leaders(c)
    follower = next(m for m in c.etcd_members if m.name != leader["name"])
    sender = next(m for m in c.etcd_members if m.name not in (leader["name"], follower.name))
    follower.raft.lead = None  # as just after its leader was lost, before a new one is known
    prop = Message(type=MsgProp, to=follower.name, frm=sender.name, term=0,
                   entries=[Entry(0, 0, {"op": "txn", "key": "/x", "compare": "none", "target": 0,
                                         "value": "v", "pid": "p"})])
    follower.on_message(sender.address, {"type": "raft", "msg": prop.to_dict()})
    assert follower.running
    assert any(e.get("event") == "proposal-dropped" and e.get("member") == follower.name for e in c.kernel.trace)


@pytest.mark.parametrize("downtime", [0.0, 0.05, 0.5])
def test_a_restart_of_the_apiservers_etcd_endpoint_breaks_its_watch_and_the_cache_resumes(downtime):
    """The cacher's watch is a gRPC stream on one member's connection: when that member's
    process restarts, the stream dies with it (a restarted member knows no watchers), even if
    kube-apiserver sent nothing meanwhile.  The etcd client re-opens the watch from the last
    revision seen, so the watch cache - and everything read from it - carries on."""
    c = _cluster()
    api = c.apiserver
    endpoint = next(m for m in c.etcd_members if m.address == api.etcd)
    c.kill_etcd_member(endpoint.name)
    if downtime:
        c.advance(downtime)
    c.restore_etcd_member(endpoint.name)
    c.advance(5)
    ok(create_pod(c, "after-restart"))
    c.advance(5)
    # The new pod reached the watch cache (a cached read finds it) and was scheduled from it.
    pod = get_pod(c, "after-restart")
    assert pod["code"] == 200 and pod["body"]["spec"].get("nodeName"), pod
    # It follows etcd: what etcd holds now reaches the cache within a moment (writes keep
    # coming meanwhile - the CoreDNS pods' status, leases - so it is a bounded wait).
    target = max(m.store.revision for m in c.etcd_members if m.running)
    from tests.sim.conftest import advance_until
    advance_until(c, lambda: api.cache.rv >= target, 1.0, step=0.05)
