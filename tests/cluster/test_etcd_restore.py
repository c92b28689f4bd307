"""etcd snapshot restore in the worker (issue 3), in process: the snapshot is checked before
anything changes; a restore puts the snapshot's keyspace in place of the persisted etcd log in
the transaction of the frame that follows, writes after the restore are persisted too (the
restored keyspace reuses revisions the old one had), and what a restart loads is the restored
keyspace.  Plus the pure parts: cluster/etcdsnapshot.py and persistence.save_frames."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async

from cluster import etcdsnapshot, persistence, services
from cluster.models import EtcdEntry, SimCluster
from sim.cluster import Cluster
from tests.builders import MakePod
from tests.cluster.conftest import wait_bootstrapped
from tests.cluster.test_worker import pod_request


EXTERNAL = {"members": 3, "topology": "external", "heartbeatInterval": "100ms", "electionTimeout": "1s"}
NODES = [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]


async def new_cluster(name: str) -> None:
    await services.create_cluster(name, seed=7, nodes=NODES, etcd=EXTERNAL)
    await wait_bootstrapped(name)
    await services.set_clock(name, paused=True)


async def pod_names(cluster: str) -> list[str]:
    resp = await services.cluster_api(cluster, pod_request("list"))
    assert resp["code"] == 200, resp
    return sorted(p["metadata"]["name"] for p in resp["body"]["items"])


@database_sync_to_async
def persisted_log(name: str) -> tuple[SimCluster, list[tuple[int, str, str | None]]]:
    row = SimCluster.objects.get(name=name)
    rows = list(EtcdEntry.objects.filter(cluster=row).order_by("revision", "id").values_list("revision", "key", "value"))
    return row, rows


def keyspace(store) -> dict[str, str]:
    return {kv.key: kv.value for kv in store.range("")}


def newest_store(engine: Cluster):
    """The store of the member that applied the most (a follower may be a heartbeat behind)."""
    return max((m.store for m in engine.etcd_members), key=lambda s: s.revision)


async def reloaded(name: str) -> Cluster:
    """The cluster as a restart of Pilothouse would rebuild it from the database."""
    saved = {p.name: p for p in await database_sync_to_async(persistence.load_all)()}
    p = saved[name]
    return Cluster.restore(p.name, p.topology, p.etcd_log, p.time, compacted_revision=p.compacted_revision)


# -- the worker ------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_restore_replaces_the_persisted_log_and_later_writes_follow(worker):
    await new_cluster("snap-1")
    rc = worker.clusters["snap-1"]
    assert (await services.cluster_api("snap-1", pod_request("create", body=MakePod().name("kept").container("nginx:1.27", name="app").manifest())))["code"] == 201
    snap = await services.etcd_snapshot_save("snap-1")
    assert (await services.cluster_api("snap-1", pod_request("create", body=MakePod().name("dropped").container("nginx:1.27", name="app").manifest())))["code"] == 201
    await services.set_clock("snap-1", advance="10s")
    await worker._persist()
    _, before = await persisted_log("snap-1")
    assert any(k == "/registry/pods/default/dropped" for _, k, _ in before)
    revision_before = rc.engine.etcd_members[0].store.revision
    assert revision_before > snap["revision"]

    out = await services.etcd_snapshot_restore("snap-1", snap)
    assert out["revision"] == snap["revision"] and out["keys"] == len(snap["kvs"])
    assert [m["name"] for m in out["members"]] == ["etcd-1", "etcd-2", "etcd-3"]
    assert rc.keyspace_epoch == 1
    assert await pod_names("snap-1") == ["kept"]  # the apiserver relisted from the snapshot

    # Writes after the restore reuse revisions the old keyspace had: they are persisted too.
    assert (await services.cluster_api("snap-1", pod_request("create", body=MakePod().name("after").container("nginx:1.27", name="app").manifest())))["code"] == 201
    after_rv = int((await services.cluster_api("snap-1", pod_request("get", "after")))["body"]["metadata"]["resourceVersion"])
    assert snap["revision"] < after_rv <= revision_before

    await worker._persist()  # (the frame that follows, if the frame loop has not written it yet)
    assert rc.restored_keyspace is None
    row, rows = await persisted_log("snap-1")
    keys = {k for _, k, _ in rows}
    assert "/registry/pods/default/dropped" not in keys
    assert {"/registry/pods/default/kept", "/registry/pods/default/after"} <= keys
    assert row.persisted_revision == max(r for r, _, _ in rows) == rc.persisted_revision
    assert len({(r, k) for r, k, _ in rows}) == len(rows)
    # Every snapshot key is persisted with its mod_revision and value.
    stored = {(r, k): json.loads(v) if v is not None else None for r, k, v in rows}
    for key, value, mod in snap["kvs"]:
        assert stored[(mod, key)] == value

    # A restart of Pilothouse rebuilds the restored keyspace, with the writes that followed.
    engine = await reloaded("snap-1")
    live = newest_store(rc.engine)
    assert keyspace(engine.store) == keyspace(live)
    assert engine.store.revision == live.revision


@pytest.mark.asyncio
async def test_a_bad_snapshot_is_refused_and_changes_nothing(worker):
    await new_cluster("snap-2")
    rc = worker.clusters["snap-2"]
    await worker._persist()
    _, rows_before = await persisted_log("snap-2")
    status_before = (await services.etcd_status("snap-2"))["members"]
    snap = await services.etcd_snapshot_save("snap-2")
    bad = {"revision": snap["revision"], "kvs": [*snap["kvs"], ["/registry/pods/default/x", "not json", 2]]}
    with pytest.raises(services.Invalid) as e:
        await services.etcd_snapshot_restore("snap-2", bad)
    assert e.value.status == 422 and e.value.reason == "Invalid"
    assert e.value.causes[0]["field"] == f"kvs[{len(snap['kvs'])}][1]" and "metadata.name" in e.value.causes[0]["message"]
    # The worker checks on its own too (a command that did not come through services).
    with pytest.raises(services.Invalid):
        await services.sim_command("snap-2", {"op": "etcd.snapshot.restore", "snapshot": {"revision": 0, "kvs": []}})
    assert rc.restored_keyspace is None and rc.keyspace_epoch == 0
    status_after = (await services.etcd_status("snap-2"))["members"]
    # No member restarted: same terms, Raft logs as long as before (a restore empties them).
    assert [(m["term"], m["raftIndex"]) for m in status_after] == [(m["term"], m["raftIndex"]) for m in status_before]
    await worker._persist()
    _, rows_after = await persisted_log("snap-2")
    assert rows_after == rows_before


@pytest.mark.asyncio
async def test_a_restore_while_a_frame_is_being_written_is_persisted_by_the_next(worker, monkeypatch):
    """The restore command can run while the frame loop awaits the database: that frame's
    bookkeeping must not mark the new keyspace's revisions as persisted.  (The creates go to the
    engine directly, as the controllers' writes do: an acknowledged API write would already be
    persisted before its answer.)"""
    await new_cluster("snap-3")
    rc = worker.clusters["snap-3"]
    snap = await services.etcd_snapshot_save("snap-3")
    for name in ("a", "b", "c"):
        assert rc.engine.request(pod_request("create", body=MakePod().name(name)
                                                            .container("nginx:1.27", name="app").manifest()))["code"] == 201
    entered, release = threading.Event(), threading.Event()
    save = persistence.save_frames

    def slow_save(writes, create=False):
        if any(w.name == "snap-3" and w.entries for w in writes):
            entered.set()
            release.wait(10)
        return save(writes, create)

    monkeypatch.setattr(persistence, "save_frames", slow_save)
    writing = asyncio.ensure_future(worker._persist())
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, entered.wait, 10)
    # While the old keyspace is being written: the restore (whose answer then waits for the
    # next persist) and a write to the restored keyspace.
    restoring = asyncio.ensure_future(services.etcd_snapshot_restore("snap-3", snap))
    async with asyncio.timeout(10):
        while rc.keyspace_epoch == 0:
            await asyncio.sleep(0.01)
    assert rc.engine.request(pod_request("create", body=MakePod().name("after")
                                                        .container("nginx:1.27", name="app").manifest()))["code"] == 201
    release.set()
    await writing
    await restoring
    monkeypatch.setattr(persistence, "save_frames", save)
    await worker._persist()
    _, rows = await persisted_log("snap-3")
    keys = {k for _, k, _ in rows}
    assert "/registry/pods/default/after" in keys
    assert not {"/registry/pods/default/a", "/registry/pods/default/b"} & keys
    engine = await reloaded("snap-3")
    assert keyspace(engine.store) == keyspace(newest_store(rc.engine))


# -- cluster/etcdsnapshot.py -----------------------------------------------------------------
OBJ = json.dumps({"metadata": {"name": "web", "namespace": "default"}})


@pytest.mark.parametrize("data, field, kind", [
    ([], "<body>", "FieldValueTypeInvalid"),
    ({"kvs": []}, "revision", "FieldValueRequired"),
    ({"revision": True, "kvs": []}, "revision", "FieldValueInvalid"),
    ({"revision": 0, "kvs": []}, "revision", "FieldValueInvalid"),
    ({"revision": 5}, "kvs", "FieldValueRequired"),
    ({"revision": 5, "kvs": {}}, "kvs", "FieldValueTypeInvalid"),
    ({"revision": 5, "kvs": [["/a", "x"]]}, "kvs[0]", "FieldValueTypeInvalid"),
    ({"revision": 5, "kvs": [["", "x", 2]]}, "kvs[0][0]", "FieldValueInvalid"),
    ({"revision": 5, "kvs": [["/" + "k" * 512, "x", 2]]}, "kvs[0][0]", "FieldValueTooLong"),
    ({"revision": 5, "kvs": [["/a", "x", 2], ["/a", "y", 3]]}, "kvs[1][0]", "FieldValueDuplicate"),
    ({"revision": 5, "kvs": [["/a", 7, 2]]}, "kvs[0][1]", "FieldValueTypeInvalid"),
    ({"revision": 5, "kvs": [["/registry/pods/default/web", "{}", 2]]}, "kvs[0][1]", "FieldValueInvalid"),
    ({"revision": 5, "kvs": [["/a", "x", 6]]}, "kvs[0][2]", "FieldValueInvalid"),
    ({"revision": 5, "kvs": [["/a", "x", 2.0]]}, "kvs[0][2]", "FieldValueInvalid"),
])
def test_parse_refuses_what_is_not_a_snapshot(data, field, kind):
    with pytest.raises(etcdsnapshot.SnapshotInvalid) as e:
        etcdsnapshot.parse(data)
    assert e.value.causes[0]["field"] == field and e.value.causes[0]["type"] == kind
    assert field in e.value.message


def test_parse_caps_the_causes_and_normalises():
    with pytest.raises(etcdsnapshot.SnapshotInvalid) as e:
        etcdsnapshot.parse({"revision": 5, "kvs": [[1, 2, 3]] * 30})
    assert len(e.value.causes) == etcdsnapshot.MAX_CAUSES and "more" in e.value.message
    snap = etcdsnapshot.parse({"member": "etcd-1", "revision": 9, "extra": 1,
                               "kvs": [["/registry/pods/default/web", OBJ, 7], ["/b", "v", 3], ["/a", "v", 3]]})
    assert snap == {"revision": 9, "kvs": [["/a", "v", 3], ["/b", "v", 3], ["/registry/pods/default/web", OBJ, 7]]}


def test_keyspace_entries_keep_the_snapshot_revision():
    snap = etcdsnapshot.parse({"revision": 9, "kvs": [["/a", "v", 3], [etcdsnapshot.RESTORE_MARK, "live", 4]]})
    entries = etcdsnapshot.keyspace_entries(snap)
    assert entries[:2] == [{"revision": 3, "key": "/a", "value": "v"},
                           {"revision": 4, "key": etcdsnapshot.RESTORE_MARK, "value": "live"}]
    # The last writes were deletes: a tombstone of a key that is not live carries revision 9.
    assert entries[2]["revision"] == 9 and entries[2]["value"] is None
    assert entries[2]["key"] not in {"/a", etcdsnapshot.RESTORE_MARK}
    from sim.etcd.mvcc import MVCCStore
    store = MVCCStore()
    for e in entries:
        store.replay(e["revision"], e["key"], e["value"])
    assert store.revision == 9 and keyspace(store) == {"/a": "v", etcdsnapshot.RESTORE_MARK: "live"}
    tidy = etcdsnapshot.keyspace_entries(etcdsnapshot.parse({"revision": 4, "kvs": [["/a", "v", 4]]}))
    assert tidy == [{"revision": 4, "key": "/a", "value": "v"}]


# -- cluster/persistence.py ------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_save_frames_replaces_the_log_in_the_same_transaction():
    def write(**kw):
        base = dict(name="p", time=1.0, speed=1.0, paused=False, compacted_revision=0, entries=[])
        return persistence.FrameWrite(**{**base, **kw})

    old = [{"revision": r, "key": f"/old/{r}", "value": "x"} for r in range(2, 12)]
    persistence.save_frames([write(entries=old, topology={"config": {}})], create=True)
    persistence.save_frames([write(compacted_revision=8, entries=[{"revision": 12, "key": "/old/2", "value": "y"}])])
    new = [{"revision": 3, "key": "/a", "value": "v"}, {"revision": 5, "key": "/m", "value": None}]
    persistence.save_frames([write(time=2.0, entries=[{"revision": 6, "key": "/b", "value": "w"}],
                                   replace_keyspace=new)])
    row = SimCluster.objects.get(name="p")
    rows = list(EtcdEntry.objects.filter(cluster=row).order_by("revision").values_list("revision", "key"))
    assert rows == [(3, "/a"), (5, "/m"), (6, "/b")]
    assert (row.persisted_revision, row.compacted_revision, row.time) == (6, 0, 2.0)
    loaded = next(p for p in persistence.load_all() if p.name == "p")
    assert [e["key"] for e in loaded.etcd_log] == ["/a", "/m", "/b"]

    # A failed write leaves the old log: replace and append happen in one transaction.
    bad = [{"revision": 7, "key": "/dup", "value": "1"}, {"revision": 7, "key": "/dup", "value": "2"}]
    with pytest.raises(Exception):
        persistence.save_frames([write(entries=bad, replace_keyspace=[{"revision": 2, "key": "/z", "value": "z"}])])
    assert list(EtcdEntry.objects.filter(cluster=row).order_by("revision").values_list("revision", "key")) == rows


# -- the engine: what was in flight when the members stopped --------------------------------
def test_a_reply_in_flight_at_the_restore_does_not_bring_back_the_old_keyspace():
    """A restore lands between two simulation steps: a txn reply or a watch event of the old
    keyspace may be on the wire to kube-apiserver.  The members stop first and what they sent
    lands before their data is replaced, so the apiserver's relist of the restored keyspace has
    the last word (cluster.Cluster.etcd_snapshot_restore)."""
    from sim.cluster import ClusterConfig, NodeSpec

    stale = []
    for seed in (1, 5, 6):
        cfg = ClusterConfig(seed=seed, nodes=[NodeSpec("cp-1", "control-plane", "4", "16Gi"),
                                              NodeSpec("worker-1", "worker", "4", "8Gi")],
                            etcd_members=3, etcd_topology="external")
        c = Cluster("inflight", cfg)
        c.advance(5)
        snap = c.etcd_snapshot_save()
        assert c.request(pod_request("create", body=MakePod().name("p")
                                                    .container("nginx:1.27", name="app").manifest()))["code"] == 201
        c.drain_events()
        for _ in range(4000):  # step until a member has a message on the wire to the apiserver
            c.advance(0.0005)
            if any(e["kind"] == "message" and e["src"].startswith("etcd@") and e["dst"].startswith("kube-apiserver@")
                   and e["arrive"] > c.now for e in c.drain_events()):
                break
        else:
            pytest.fail("no etcd reply in flight to catch")
        c.etcd_snapshot_restore(etcdsnapshot.parse(snap))
        first = c.request(pod_request("get", "p"))["code"]
        c.advance(2)
        if (first, c.request(pod_request("get", "p"))["code"]) != (404, 404):
            stale.append(seed)
    assert not stale, f"the pod made after the save came back (seeds {stale})"
