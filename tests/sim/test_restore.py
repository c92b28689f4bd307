"""A cluster rebuilt from its persisted etcd log comes back with its objects, and its running
pods keep running (containerd's state outlives a restart of Pilothouse itself)."""
from sim.cluster import Cluster, ClusterConfig
from tests.builders import MakeNamespace, MakeReplicaSet
from tests.sim.conftest import ok


def _pods(c):
    items = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
    return {p["metadata"]["name"]: p for p in items}


def test_restore_from_the_committed_log():
    c = Cluster("r", ClusterConfig.default(seed=9))
    c.advance(15)
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                  "body": MakeReplicaSet.scenario("web", 3, "nginx:1.27", "100m", "64Mi")}))
    c.advance(15)
    c.kill_node("worker-3")
    before = _pods(c)
    log = c.committed_since(0)
    assert len(before) == 3 and all(p["status"]["phase"] == "Running" for p in before.values())

    r = Cluster.restore("r", c.topology(), log, c.now, c.compacted_revision)
    assert r.now == c.now and r.store.revision == c.store.revision
    r.advance(5)
    after = _pods(r)
    assert set(after) == set(before)
    for name, p in after.items():
        assert p["metadata"]["uid"] == before[name]["metadata"]["uid"]
        if p["spec"]["nodeName"] != "worker-3":
            # Adopted from the runtime: no restart, same IP.
            assert p["status"]["podIP"] == before[name]["status"]["podIP"]
            assert p["status"]["containerStatuses"][0]["restartCount"] == 0
    snap = {n["name"]: n for n in r.snapshot()["nodes"]}
    assert snap["worker-3"]["alive"] is False and snap["worker-1"]["alive"] is True


def test_committed_since_forgets_what_was_stored():
    c = Cluster("r", ClusterConfig.default(seed=9))
    c.advance(5)
    first = c.committed_since(0)
    assert first and [e["revision"] for e in first] == sorted(e["revision"] for e in first)
    last = first[-1]["revision"]
    c.advance(20)
    nxt = c.committed_since(last)
    assert nxt and nxt[0]["revision"] > last


def test_reads_right_after_restore_wait_for_the_cache():
    c = Cluster("r", ClusterConfig.default(seed=9))
    c.advance(10)
    ok(c.request({"verb": "create", "resource": "namespaces", "body": MakeNamespace().name("team").obj()}))
    r = Cluster.restore("r", c.topology(), c.committed_since(0), c.now)
    assert not r.apiserver.synced
    got = ok(r.request({"verb": "get", "resource": "namespaces", "name": "team"}))
    assert got["metadata"]["name"] == "team"
