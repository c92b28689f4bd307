"""etcd's MVCC keyspace: revisions, history, watch from a revision, compaction."""
import pytest

from sim.etcd.mvcc import CompactedError, MVCCStore


def test_every_write_is_a_new_revision_and_keys_track_versions():
    s = MVCCStore()
    assert s.revision == 1
    assert s.put("/a", "1") == 2
    assert s.put("/a", "2") == 3
    assert s.put("/b", "x") == 4
    kv = s.get("/a")
    assert (kv.value, kv.create_revision, kv.mod_revision, kv.version) == ("2", 2, 3, 2)
    assert s.get("/a", rev=2).value == "1"
    assert s.delete("/a") == 5
    assert s.get("/a") is None and s.get("/a", rev=4).value == "2"


def test_txn_compares_mod_revision():
    s = MVCCStore()
    s.put("/k", "v1")
    ok, rev, cur = s.txn("/k", "mod", 999, "v2")
    assert not ok and cur.value == "v1"
    ok, rev, cur = s.txn("/k", "mod", 2, "v2")
    assert ok and rev == 3 and cur.value == "v2"
    ok, _, _ = s.txn("/k", "create", 0, "again")
    assert not ok


def test_range_by_prefix_now_and_at_an_old_revision():
    s = MVCCStore()
    s.put("/registry/pods/default/a", "1")
    s.put("/registry/pods/default/b", "1")
    s.put("/registry/pods2/x", "1")
    s.delete("/registry/pods/default/a")
    assert [kv.key for kv in s.range("/registry/pods/")] == ["/registry/pods/default/b"]
    assert [kv.key for kv in s.range("/registry/pods/", rev=3)] == ["/registry/pods/default/a", "/registry/pods/default/b"]


def test_watch_from_revision_and_compaction():
    s = MVCCStore()
    for i in range(5):
        s.put(f"/k{i}", str(i))
    assert [e.revision for e in s.events_since(4)] == [4, 5, 6]
    s.compact(4)
    with pytest.raises(CompactedError):
        s.events_since(3)
    with pytest.raises(CompactedError):
        s.get("/k0", rev=2)
    assert [e.revision for e in s.events_since(5)] == [5, 6]
    assert s.get("/k0").value == "0"  # current values survive compaction


def test_replay_rebuilds_the_same_keyspace():
    s = MVCCStore()
    log = []
    for i in range(3):
        rev = s.put(f"/k{i}", str(i))
        log.append((rev, f"/k{i}", str(i)))
    rev = s.delete("/k1")
    log.append((rev, "/k1", None))
    r = MVCCStore()
    for e in log:
        r.replay(*e)
    assert r.revision == s.revision
    assert [(kv.key, kv.value, kv.mod_revision) for kv in r.range("/")] == \
        [(kv.key, kv.value, kv.mod_revision) for kv in s.range("/")]


def test_size_is_kept_as_written():
    """dbSize without a pass over the keyspace: the live keys' and values' bytes, kept by
    every put, delete and restore."""
    s = MVCCStore()
    s.put("/a", "12345")
    s.put("/b", "xy")
    s.put("/a", "1")
    s.delete("/b")
    s.txn("/c", "create", 0, "abc")
    want = sum(len(kv.key) + len(kv.value) for kv in s.current.values())
    assert s.size == want == len("/a1") + len("/cabc")
    assert MVCCStore.from_snapshot(s.to_snapshot()).size == want


def test_a_snapshot_view_is_the_keyspace_when_it_was_taken_whatever_is_written_after():
    from sim.etcd.raft import Entry, MemoryStorage
    s = MVCCStore()
    for i in range(5):
        s.put(f"/registry/leases/n{i}", f"v{i}")
    s.delete("/registry/leases/n0")
    then = s.to_snapshot()
    view = s.snapshot_view()
    for i in range(5):
        s.put(f"/registry/leases/n{i}", f"w{i}")  # appended to the same history lists
    s.compact(s.revision - 2)                     # new lists, a shorter log
    s.put("/registry/pods/new", "x")
    assert view() == then != s.to_snapshot()
    # ... and a follower restored from it has the keyspace of then.
    assert MVCCStore.from_snapshot(view()).to_snapshot() == then
    # A Raft snapshot made from a view reads as one made from the data itself.
    storage = MemoryStorage()
    storage.append([Entry(1, 1, None), Entry(1, 2, None)])
    snap = storage.create_snapshot(2, make_data=MVCCStore.from_snapshot(then).snapshot_view())
    assert (snap.index, snap.term, snap.data) == (2, 1, then)
    assert snap.to_dict() == {"index": 2, "term": 1, "data": then}
