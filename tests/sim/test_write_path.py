"""The write path's shortcuts give the answers of the long way: the object a kube-apiserver
encoded handed to its own watch cache (KubeAPIServer.decode_event), managedFields remembered
(sim/api/fieldmanager.py), client request timeouts kept in queues (APIClient._expire_later)."""
import json

from sim.api import fieldmanager as fm
from sim.apiserver.server import KubeAPIServer
from sim.client import ClientComponent
from sim.cluster import Cluster, ClusterConfig, NodeSpec
from sim.kernel import Kernel
from tests.sim.conftest import create_pod, ok


def _busy(c: Cluster) -> None:
    for i in range(4):
        ok(create_pod(c, f"w-{i}"))
    c.advance(30)
    ok(c.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "w-0",
                  "body": {"metadata": {"labels": {"x": "y"}}}, "patch_type": "application/merge-patch+json"}))
    ok(c.request({"verb": "patch", "group": "coordination.k8s.io", "resource": "leases",
                  "namespace": "kube-node-lease", "name": "worker-1", "query": {"fieldManager": "me"},
                  "body": {"spec": {"holderIdentity": "me"}}, "patch_type": "application/merge-patch+json"}))
    c.advance(60)


def test_own_writes_handed_to_the_watch_cache_are_what_decoding_gives(monkeypatch):
    # verify_own_writes decodes each handed-over value anyway and asserts the same JSON, key
    # order and types included (an AssertionError fails the test: really_crash).
    monkeypatch.setattr(KubeAPIServer, "verify_own_writes", True)
    monkeypatch.setattr(fm, "VERIFY_REMEMBERED", True)
    c = Cluster("t", ClusterConfig.default(seed=5))
    c.advance(20)
    _busy(c)
    lease = ok(c.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                          "namespace": "kube-node-lease", "name": "worker-1"}))
    # "me" took holderIdentity, and lost it to the kubelet's next renewal (its only field)
    assert [e["manager"] for e in lease["metadata"]["managedFields"]] == ["kubelet"]
    assert lease["spec"]["holderIdentity"] == "worker-1"


def test_a_value_written_by_someone_else_at_the_same_key_is_decoded(cluster):
    """The apiserver's remembered write is only for its very value: another writer's value at
    that key (a corrupt one here) is decoded and reported as before."""
    ok(create_pod(cluster, "hello"))
    cluster.advance(2)
    cluster.etcd_put("/registry/pods/default/hello", "garbage")
    cluster.advance(2)
    resp = cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "hello"})
    assert resp["code"] == 500 and "corrupt object" in resp["body"]["message"]


def test_managed_fields_of_a_renewal_are_those_decoding_gives():
    """A Lease renewed again and again: its kubelet entry keeps its set and only its time moves,
    the same FieldsV1 as encoding it afresh."""
    live = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "n", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "n", "leaseDurationSeconds": 40, "renewTime": "2026-01-01T00:00:00.000000Z"}}
    live = fm.update(None, live, "kubelet", "coordination.k8s.io/v1", "2026-01-01T00:00:00Z")
    for i in range(1, 4):
        new = json.loads(json.dumps(live))
        new["spec"]["renewTime"] = f"2026-01-01T00:00:{i}0.000000Z"
        out = fm.update(live, new, "kubelet", "coordination.k8s.io/v1", f"2026-01-01T00:00:{i}0Z")
        (entry,) = out["metadata"]["managedFields"]
        assert entry["time"] == f"2026-01-01T00:00:{i}0Z"
        assert entry["fieldsV1"] == {"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {},
                                                "f:renewTime": {}}}
        assert fm.decode_stored_managed_fields(out["metadata"]["managedFields"]).keys() == \
            fm.decode_managed_fields(out["metadata"]["managedFields"]).keys()
        live = out


class _Silent(ClientComponent):
    component = "silent"


def _client(k: Kernel) -> _Silent:
    comp = _Silent("h", "kube-apiserver@nowhere")  # nobody answers
    k.add_component(comp)
    comp.start()
    return comp


def test_request_timeouts_fire_in_order_at_their_time():
    k = Kernel(seed=1)
    comp = _client(k)
    seen = []
    k.call_at(1.0, lambda: comp.api.request({"verb": "get", "resource": "a"}, lambda r: seen.append(("a", k.now, r["code"])), timeout=5))
    k.call_at(2.0, lambda: comp.api.request({"verb": "get", "resource": "b"}, lambda r: seen.append(("b", k.now, r["code"])), timeout=5))
    k.call_at(2.0, lambda: comp.api.request({"verb": "get", "resource": "c"}, lambda r: seen.append(("c", k.now, r["code"])), timeout=1))
    # queued after the request at 1.0 but due at the same instant as its timeout: runs after it
    k.call_at(1.0, lambda: k.call_at(6.0, lambda: seen.append(("timer", k.now, None))))
    k.run_until(20)
    assert seen == [("c", 3.0, 504), ("a", 6.0, 504), ("timer", 6.0, None), ("b", 7.0, 504)]
    assert not comp.api.pending


def test_answered_requests_leave_no_timer_behind_and_a_restart_drops_the_old_ones():
    k = Kernel(seed=1)
    comp = _client(k)
    seen = []
    for i in range(50):
        k.call_at(i * 0.1, lambda i=i: comp.api.request({"verb": "get", "resource": "x"}, lambda r, i=i: seen.append(i)))
    k.run_until(5.0)
    for rid in list(comp.api.pending):           # answer every one
        comp.api.handle({"type": "api.reply", "id": rid, "resp": {"code": 200}})
    assert len(seen) == 50 and len(k._queue) <= 1
    k.call_at(6.0, lambda: comp.api.request({"verb": "get", "resource": "y"}, lambda r: seen.append("old")))
    k.run_until(7.0)
    comp.stop()
    comp.start()                                  # a new incarnation: the old request is forgotten
    k.run_until(100.0)
    assert "old" not in seen
