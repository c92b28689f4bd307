"""No input may hang, crash or corrupt a cluster (issue 8), the engine's part: bounded work at
upstream's rates, failures that stay where they belong, corrupt stored values, one line per
Event, and runs in bounded slices."""
import heapq
import json
import random

import pytest

from sim.apiserver.server import KubeAPIServer
from sim.cluster import Cluster, ClusterConfig, NodeSpec
from sim.controllers.replicaset import BURST_REPLICAS
from sim.flowcontrol import TokenBucketRateLimiter
from sim.kernel import Kernel
from sim.kubelet.kubelet import Kubelet
from sim.scheduler.queue import _heap_smallest

from tests.builders import MakeEvent, MakePod, MakeReplicaSet
from .conftest import create_pod, get_pod, ok


def create_rs(c, name, replicas, **template_spec):
    return ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                         "body": MakeReplicaSet().name(name).namespace("default").replicas(replicas).selector({"app": name}).template(MakePod().labels({"app": name}).container("nginx", name="app", cpu="1m", memory="1Mi").spec(**template_spec)).manifest()}), 201)


def batches(events, name="default/web"):
    return [e["batch"] for e in events if e["kind"] == "slow-start" and e["replicaset"] == name]


def kcm_creates(events):
    return [e["t"] for e in events if e["kind"] == "message" and e["type"] == "create pods"
            and e["src"].startswith("kube-controller-manager@")]


@pytest.fixture
def recovering(monkeypatch):
    """Production behaviour: the kernel recovers from exceptions instead of re-raising."""
    monkeypatch.setattr(Kernel, "really_crash", False)


# -- bounded work: slow start, burst, client rate limits -------------------------------------

def test_replicaset_creates_in_slow_start_batches(cluster):
    cluster.drain_events()
    create_rs(cluster, "web", 100)
    cluster.advance(30)
    events = cluster.drain_events()
    assert batches(events) == [1, 2, 4, 8, 16, 32, 37]  # 1+2+...+32 = 63, then the 37 left
    pods = cluster.request({"verb": "list", "resource": "pods", "namespace": "default"})["body"]["items"]
    assert len(pods) == 100


def test_a_sync_creates_at_most_the_burst_and_waits_for_its_expectations(cluster):
    cluster.drain_events()
    create_rs(cluster, "web", 1200)
    cluster.advance(2)
    rsc = next(c for c in cluster.controller_manager.controllers if c.name == "replicaset-controller")
    exp = rsc.expectations.counts(("default", "web"))
    assert exp[0] > 0 and exp[0] <= BURST_REPLICAS  # creates asked for and not yet seen
    cluster.advance(120)
    sizes = batches(cluster.drain_events())
    syncs, cur = [], []
    for b in sizes:
        if b == 1 and cur:
            syncs.append(cur)
            cur = []
        cur.append(b)
    syncs.append(cur)
    assert [sum(s) for s in syncs] == [500, 500, 200]
    assert syncs[0] == [1, 2, 4, 8, 16, 32, 64, 128, 245]


def test_slow_start_stops_at_the_first_error_and_backs_off(cluster):
    """Every create is refused (no such PriorityClass): one request per sync, not 500, and the
    syncs back off exponentially instead of spinning."""
    cluster.drain_events()
    create_rs(cluster, "web", 500, priorityClassName="no-such-class")
    cluster.advance(10)
    events = cluster.drain_events()
    assert set(batches(events)) == {1}
    creates = kcm_creates(events)
    assert 5 <= len(creates) <= 15  # 5 ms x 2^n backoff: about a dozen tries in 10 s
    gaps = [b - a for a, b in zip(creates, creates[1:])]
    assert gaps[-1] > 1.0 and gaps[-1] > gaps[0]
    rsc = next(c for c in cluster.controller_manager.controllers if c.name == "replicaset-controller")
    assert rsc.expectations.counts(("default", "web"))[0] == 0  # the skipped creates were taken off
    warnings = [e for e in events if e["kind"] == "k8s-event" and e["reason"] == "FailedCreate"]
    assert warnings and len(warnings) <= 25  # the recorder's spam filter: 25 per object


def test_token_bucket_gives_the_burst_then_qps():
    tb = TokenBucketRateLimiter(qps=20, burst=30)
    delays = [tb.reserve(0.0) for _ in range(60)]
    assert delays[:30] == [0.0] * 30
    assert delays[30] == pytest.approx(0.05) and delays[59] == pytest.approx(1.5)
    # Refilled over time, never above the burst.
    tb = TokenBucketRateLimiter(qps=20, burst=30)
    assert [tb.reserve(100.0) for _ in range(31)][-1] == pytest.approx(0.05)


def test_controller_manager_creates_are_spread_at_its_kube_api_qps(cluster):
    """kube-controller-manager --kube-api-qps=20 --kube-api-burst=30, in virtual time."""
    cluster.drain_events()
    create_rs(cluster, "web", 300)
    cluster.advance(40)
    creates = sorted(kcm_creates(cluster.drain_events()))
    assert len(creates) == 300
    t0 = creates[0]
    for i, t in enumerate(creates):
        # The i-th create goes out no earlier than the bucket allows: 30 at once, then 20/s.
        assert t - t0 >= (i + 1 - 30) / 20.0 - 1e-6
    span = creates[-1] - t0
    assert 13.5 <= span <= 20  # (300 - 30) / 20 = 13.5 s, plus the slow start's round trips


def test_rate_limits_are_settable_per_cluster():
    cfg = ClusterConfig.default(seed=3)
    cfg.controller_manager_kube_api_qps, cfg.controller_manager_kube_api_burst = 100.0, 100
    c = Cluster("fast", cfg)
    c.advance(20)
    c.drain_events()
    create_rs(c, "web", 300)
    c.advance(10)
    creates = sorted(kcm_creates(c.drain_events()))
    assert len(creates) == 300 and creates[-1] - creates[0] < 5


def test_scheduler_queue_views_take_the_top_of_the_heap():
    rng = random.Random(7)
    for _ in range(50):
        entries = [(rng.randint(0, 20), seq, type("Q", (), {"key": ("ns", f"p{seq}")})()) for seq in range(200)]
        heap = list(entries)
        heapq.heapify(heap)
        live = {e[2].key: (e[1],) for e in entries if rng.random() < 0.7}
        want = sorted((e for e in entries if e[2].key in live), key=lambda e: (e[0], e[1]))
        for limit in (0, 1, 5, 50, 500):
            assert _heap_smallest(heap, limit, live) == want[:limit]
        assert _heap_smallest(heap, None, live) == want


# -- failures stay where they belong ---------------------------------------------------------

def test_kernel_recovers_an_exception_in_one_event(recovering):
    k = Kernel()
    seen = []
    k.call_at(1.0, lambda: seen.append(1))
    k.call_at(2.0, lambda: 1 / 0)
    k.call_at(3.0, lambda: seen.append(3))
    assert k.run_until(5.0) is True
    assert seen == [1, 3] and k.now == 5.0
    assert [e["message"] for e in k.errors] == ["ZeroDivisionError: division by zero"]
    assert [e for e in k.trace if e["kind"] == "error"] == [
        {"t": 2.0, "kind": "error", "component": None, "message": "ZeroDivisionError: division by zero"}]


def test_really_crash_reraises_for_tests():
    k = Kernel()
    k.call_at(1.0, lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        k.run_until(2.0)


@pytest.fixture
def kubelet_fails_on_bad(monkeypatch):
    """Every kubelet raises on the pod named "bad" (and handles the others)."""
    real = Kubelet.sync_pod

    def sync_pod(self, p):
        if p["metadata"]["name"] == "bad":
            raise RuntimeError("kubelet cannot handle bad")
        return real(self, p)

    monkeypatch.setattr(Kubelet, "sync_pod", sync_pod)


def test_a_valid_request_is_answered_while_another_objects_handler_raises(cluster, recovering, kubelet_fails_on_bad):
    ok(create_pod(cluster, "bad"), 201)
    ok(create_pod(cluster, "good"), 201)  # runs the kernel while the kubelet fails on "bad"
    cluster.advance(10)
    assert ok(get_pod(cluster, "good"))["status"]["phase"] == "Running"
    errors = [e for e in cluster.drain_events() if e["kind"] == "error"]
    assert errors and all(e["component"].startswith("kubelet@") for e in errors)
    assert "RuntimeError: kubelet cannot handle bad" in errors[0]["message"]


def test_an_informer_goes_on_after_one_objects_handler_raises(cluster, recovering, kubelet_fails_on_bad):
    """A relist that meets an object its handler cannot take still watches and serves the rest."""
    on_worker_1 = {"nodeSelector": {"kubernetes.io/hostname": "worker-1"}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default",
                        "body": MakePod().name("bad").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").spec(**on_worker_1).manifest()}), 201)
    cluster.advance(5)
    kubelet = cluster.node_components["worker-1"][1]
    kubelet.stop()
    kubelet.start()  # its pod informer relists, "bad" first
    cluster.advance(10)
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default",
                        "body": MakePod().name("good").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").spec(**on_worker_1).manifest()}), 201)
    cluster.advance(10)
    assert ok(get_pod(cluster, "good"))["status"]["phase"] == "Running"


def test_apiserver_answers_500_to_the_request_that_raised(cluster, recovering, monkeypatch):
    real = KubeAPIServer.do_get

    def do_get(self, res, req, reply):
        if req.get("name") == "boom":
            raise KeyError("spec")
        return real(self, res, req, reply)

    monkeypatch.setattr(KubeAPIServer, "do_get", do_get)
    ok(create_pod(cluster, "web"), 201)
    resp = get_pod(cluster, "boom")
    assert resp["code"] == 500 and resp["body"]["kind"] == "Status"
    assert resp["body"]["reason"] == "InternalError"
    assert resp["body"]["message"] == "Internal error occurred: KeyError: 'spec'"
    assert ok(get_pod(cluster, "web"))["metadata"]["name"] == "web"
    errors = [e for e in cluster.drain_events() if e["kind"] == "error"]
    assert [e["component"] for e in errors] == ["kube-apiserver@cp-1"]


def test_an_exception_in_a_requests_etcd_callback_answers_that_request(cluster, recovering, monkeypatch):
    def fail(self, ev):
        raise ValueError("cannot trace")

    monkeypatch.setattr(KubeAPIServer, "trace_k8s_event", fail)
    event = (MakeEvent().name("e1").namespace("default").regarding("Pod", "web", namespace="default")
             .reason("Test").message("m").type("Normal").manifest())
    resp = cluster.request({"verb": "create", "resource": "events", "namespace": "default", "body": event})
    assert resp["code"] == 500 and resp["body"]["message"] == "Internal error occurred: ValueError: cannot trace"
    ok(create_pod(cluster, "web"), 201)  # the apiserver goes on serving


def test_a_reconcile_that_raises_is_requeued_with_backoff(cluster, recovering):
    rsc = next(c for c in cluster.controller_manager.controllers if c.name == "replicaset-controller")
    real, calls = rsc.queue.reconcile, []

    def reconcile(key):
        calls.append(cluster.now)
        if len(calls) <= 3:
            raise RuntimeError("transient")
        return real(key)

    rsc.queue.reconcile = reconcile
    create_rs(cluster, "web", 2)
    cluster.advance(20)
    assert [e["message"] for e in cluster.kernel.errors] == ["RuntimeError: transient"] * 3
    gaps = [round(b - a, 4) for a, b in zip(calls, calls[1:4])]
    assert gaps[0] >= 0.005 and gaps[1] >= 0.01 and gaps[2] >= 0.02  # 5 ms, doubling
    pods = cluster.request({"verb": "list", "resource": "pods", "namespace": "default"})["body"]["items"]
    assert len(pods) == 2  # the controller went on after its failures


# -- corrupt stored values -------------------------------------------------------------------

def test_a_corrupt_value_in_etcd_is_reported_and_can_be_deleted(cluster):
    ok(create_pod(cluster, "web"), 201)
    cluster.advance(5)
    cluster.etcd_put("/registry/pods/default/hello", "garbage")
    cluster.advance(1)
    key = "/registry/pods/default/hello"
    lst = cluster.request({"verb": "list", "resource": "pods", "namespace": "default"})
    assert lst["code"] == 200 and [p["metadata"]["name"] for p in lst["body"]["items"]] == ["web"]
    assert len(lst["warnings"]) == 1 and key in lst["warnings"][0]
    got = get_pod(cluster, "hello")
    assert got["code"] == 500 and got["body"]["reason"] == "InternalError"
    assert got["body"]["message"].startswith(
        f"Internal error occurred: StorageError: corrupt object, Code: 7, Key: {key}, ResourceVersion: 0, "
        "AdditionalErrorMsg: couldn't get version/kind; json parse error: Expecting value")
    assert ok(get_pod(cluster, "web"))["metadata"]["name"] == "web"
    snap = cluster.snapshot()
    assert [c["key"] for c in snap["corrupt"]] == [key]
    assert json.dumps(snap)
    # The rest of the cluster works: controllers and scheduler place a new ReplicaSet.
    create_rs(cluster, "rs", 2)
    cluster.advance(15)
    running = [p for p in cluster.request({"verb": "list", "resource": "pods", "namespace": "default",
                                           "query": {"labelSelector": "app=rs"}})["body"]["items"]
               if p["status"].get("phase") == "Running"]
    assert len(running) == 2
    # A delete must say how (the ordinary flow has to read the object) ...
    delete = {"verb": "delete", "resource": "pods", "namespace": "default", "name": "hello"}
    assert cluster.request(delete)["code"] == 500
    # ... and with ignoreStoreReadErrorWithClusterBreakingPotential it goes.
    gone = cluster.request(dict(delete, query={"ignoreStoreReadErrorWithClusterBreakingPotential": "true"}))
    assert gone["code"] == 200 and gone["body"]["status"] == "Success"
    assert get_pod(cluster, "hello")["code"] == 404
    assert "warnings" not in cluster.request({"verb": "list", "resource": "pods", "namespace": "default"})
    assert cluster.snapshot()["corrupt"] == []


@pytest.mark.parametrize("value", [
    "5", "[]", '"text"', "null",
    json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello", "namespace": "default"}, "spec": 5}),
    json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": 5}),
    json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": "default"},
                "spec": {"containers": [{"name": "a", "image": "nginx"}]}}),
])
def test_a_stored_value_of_the_wrong_shape_crashes_nothing(cluster, value):
    """really_crash is on: any exception in a component fails the test."""
    ok(create_pod(cluster, "web"), 201)
    create_rs(cluster, "rs", 2)
    cluster.advance(5)
    cluster.etcd_put("/registry/pods/default/hello", value)
    cluster.advance(30)
    assert get_pod(cluster, "hello")["code"] == 500
    assert [c["key"] for c in cluster.snapshot()["corrupt"]] == ["/registry/pods/default/hello"]
    assert not cluster.kernel.errors
    assert ok(get_pod(cluster, "web"))["status"]["phase"] == "Running"


def test_an_object_overwritten_by_garbage_is_gone_for_watchers(cluster):
    ok(create_pod(cluster, "web"), 201)
    cluster.advance(5)
    cluster.etcd_put("/registry/pods/default/web", "garbage")
    cluster.advance(5)
    for api in cluster.apiservers:
        assert ("default", "web") not in api.cache.resources["pods"].objects
    sched = cluster.schedulers[0]
    assert ("default", "web") not in sched.pod_informer.store


def test_restore_comes_back_from_a_corrupt_log(cluster):
    ok(create_pod(cluster, "web"), 201)
    cluster.advance(10)
    log = cluster.committed_since(0)
    rev = log[-1]["revision"]
    wrong_shape = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shape", "namespace": "default"},
                   "spec": {"containers": "nginx"}, "status": {"phase": "Running"}}
    log += [{"revision": rev + 1, "key": "/registry/pods/default/garbage", "value": "garbage"},
            {"revision": rev + 2, "key": "/registry/pods/default/num", "value": "5"},
            {"revision": rev + 3, "key": "/registry/pods/default/shape", "value": json.dumps(wrong_shape)},
            {"revision": rev + 4, "key": "/not/a/registry/key", "value": "x"},
            {"revision": rev + 5, "key": "/registry/pods/no-namespace", "value": "{}"},
            {"revision": "six", "key": "/registry/pods/default/x", "value": "{}"},
            {"revision": rev + 7, "key": 7, "value": "{}"},
            {"revision": rev + 8, "key": "/registry/pods/default/y", "value": {"not": "a string"}},
            None, "entry", [1, 2, 3]]
    c = Cluster.restore("t", cluster.topology(), log, cluster.now,
                        etcd_disks={"etcd-1": {"snapshot": "no"}, 5: None})
    assert len(c.restore_warnings) == 3  # bad entries, and the two bad disks
    c.advance(30)
    lst = c.request({"verb": "list", "resource": "pods", "namespace": "default"})
    assert lst["code"] == 200 and [p["metadata"]["name"] for p in lst["body"]["items"]] == ["web"]
    assert sorted(w.split('"')[1] for w in lst["warnings"]) == [
        "/registry/pods/default/garbage", "/registry/pods/default/num", "/registry/pods/default/shape"]
    ok(create_pod(c, "after"), 201)
    c.advance(10)
    assert ok(get_pod(c, "after"))["status"]["phase"] == "Running"
    assert len(c.snapshot()["corrupt"]) == 3


def test_restore_of_a_log_that_is_not_a_list_comes_back_empty():
    c = Cluster("t", ClusterConfig.default(seed=3))
    c2 = Cluster.restore("t", c.topology(), "not a log", 0.0, compacted_revision="x")
    c2.advance(20)
    assert c2.request({"verb": "list", "resource": "namespaces"})["code"] == 200


# -- one event, one line ---------------------------------------------------------------------

def ha_cluster(seed=5):
    nodes = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + \
        [NodeSpec(f"worker-{i}") for i in (1, 2, 3)]
    c = Cluster("ha", ClusterConfig(seed=seed, nodes=nodes, etcd_members=3))
    c.advance(30)
    return c


def test_each_event_is_one_trace_line_in_an_ha_control_plane():
    c = ha_cluster()
    c.drain_events()
    ok(create_pod(c, "web"), 201)
    c.advance(10)
    lines = [e for e in c.drain_events() if e["kind"] == "k8s-event" and e["object"] == "Pod/web"]
    reasons = [e["reason"] for e in lines]
    assert "Scheduled" in reasons and "Started" in reasons
    assert len(reasons) == len(set(reasons))  # each Event once, not once per apiserver
    stored = [e for e in c.apiserver.cache.resources["events"].objects.values()
              if e["involvedObject"]["name"] == "web"]
    assert len(stored) == len(lines)


def test_an_event_written_while_an_apiserver_is_down_is_shown_once():
    c = ha_cluster()
    c.apiservers[1].stop()
    c.drain_events()
    ok(create_pod(c, "web"), 201)
    c.advance(10)
    c.apiservers[1].start()
    c.advance(10)
    lines = [e for e in c.drain_events() if e["kind"] == "k8s-event" and e["object"] == "Pod/web"]
    reasons = [e["reason"] for e in lines]
    assert "Scheduled" in reasons and len(reasons) == len(set(reasons))


# -- bounded slices ----------------------------------------------------------------------------

def _lesson(c):
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                  "body": MakeReplicaSet().name("web").namespace("default").replicas(6).selector({"app": "web"}).template(MakePod().labels({"app": "web"}).container("nginx", name="app", cpu="1m", memory="1Mi")).manifest()}), 201)


def test_run_until_in_slices_gives_the_same_trace_as_one_run():
    a, b = Cluster("a", ClusterConfig.default(seed=9)), Cluster("b", ClusterConfig.default(seed=9))
    a.advance(20)
    b.advance(20)
    _lesson(a)
    _lesson(b)
    target = a.now + 60
    a.run_until(target)
    slices = 0
    while not b.run_until(target, max_events=100):
        slices += 1
        assert b.now <= target
    assert slices > 10 and b.now == target
    assert a.kernel.trace_bytes(a.drain_events()) == b.kernel.trace_bytes(b.drain_events())


def test_a_request_in_slices_gets_the_answer_of_one_run():
    a, b = Cluster("a", ClusterConfig.default(seed=9)), Cluster("b", ClusterConfig.default(seed=9))
    a.advance(20)
    b.advance(20)
    want = a.request({"verb": "create", "resource": "pods", "namespace": "default", "body": MakePod().name("web").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()})
    pending = b.begin_request({"verb": "create", "resource": "pods", "namespace": "default", "body": MakePod().name("web").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()})
    assert b.request_reply(pending) is None  # sent, not answered: nothing ran
    polls = 0
    while (got := b.run_request(pending, max_events=3)) is None:
        polls += 1
    assert polls > 0 and got == want and a.now == b.now
    assert a.kernel.trace_bytes(a.drain_events()) == b.kernel.trace_bytes(b.drain_events())


def test_a_request_nobody_answers_times_out_at_its_virtual_deadline(cluster):
    cluster.kill_node("cp-1")
    pending = cluster.begin_request({"verb": "get", "resource": "pods", "namespace": "default", "name": "x"})
    assert pending.response["code"] == 503  # no apiserver reachable: answered at once
    cluster.restore_node("cp-1")
    cluster.advance(30)
    for m in cluster.etcd_members:
        cluster.kill_etcd_member(m.name)
    pending = cluster.begin_request({"verb": "create", "resource": "pods", "namespace": "default",
                                     "body": MakePod().name("web").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()})
    start = cluster.now
    while (resp := cluster.run_request(pending, max_events=50)) is None:
        pass
    assert resp["code"] == 504 and cluster.now - start <= 60.0 + 1e-6


# -- frames whose cost does not grow with the cluster -----------------------------------------

def test_a_summarised_snapshot_counts_what_the_full_one_lists(cluster):
    create_rs(cluster, "web", 400)  # 3 workers x 110 pods: some stay pending
    cluster.advance(25)
    ok(create_pod(cluster, "gone"), 201)
    cluster.advance(5)
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "gone"}))
    for _ in range(3):
        cluster.advance(2)
        full, small = cluster.snapshot(), cluster.snapshot(pod_limit=100, pending_shown=5, replicasets_shown=0)
        total = len(full["pending"]) + sum(len(n["pods"]) for n in full["nodes"])
        assert small["summarised"] and small["podTotal"] == total
        assert small["pendingTotal"] == len(full["pending"]) > 0
        assert small["pending"] == full["pending"][:5]
        for fn, sn in zip(full["nodes"], small["nodes"]):
            counts = {}
            for p in fn["pods"]:
                phase = "Terminating" if p["terminating"] else p["phase"]
                counts[phase] = counts.get(phase, 0) + 1
            assert sn["pods"] == [] and sn["podCounts"] == counts and sn["podTotal"] == len(fn["pods"])
        # the test's ReplicaSet and kubeadm's CoreDNS one
        assert small["replicasets"] == [] and small["replicasetsTotal"] == 2
    assert "summarised" not in cluster.snapshot(pod_limit=10_000)
