"""kube-scheduler: filters with upstream's reasons, LeastAllocated spreading, FailedScheduling."""
from sim.scheduler.testing import run_filter, run_score
from tests.builders import MakeNode
from tests.sim.conftest import create_pod, get_pod, ok


def test_least_allocated_score_matches_upstream_formula():
    # least_allocated_test.go "nothing scheduled, resources requested, differently sized nodes":
    # pod 3000m/5000 on node 4000m/10000 -> cpu (4000-3000)*100/4000=25, mem (10000-5000)*100/10000=50 -> 37.
    pod = {"metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"resources": {"requests": {"cpu": "1000m", "memory": "2000"}}},
                                   {"resources": {"requests": {"cpu": "2000m", "memory": "3000"}}}]}}
    for vectorised in (True, False):
        assert run_score("NodeResourcesFit", pod, [MakeNode().name("n").allocatable({"cpu": "4", "memory": "10000", "pods": "110"}).obj()], vectorised=vectorised) == {"n": 37}
        # Balanced: fractions 0.75 and 0.5 -> std 0.125 -> 87.
        assert run_score("NodeResourcesBalancedAllocation", pod, [MakeNode().name("n").allocatable({"cpu": "4", "memory": "10000", "pods": "110"}).obj()], vectorised=vectorised) == {"n": 87}


def test_fit_filter_reasons():
    pod = {"metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"resources": {"requests": {"cpu": "2", "memory": "2Gi"}}}]}}
    for vectorised in (True, False):
        got = run_filter("NodeResourcesFit", pod, [MakeNode().name("n").allocatable({"cpu": "1", "memory": "1Gi", "pods": "110"}).obj()], vectorised=vectorised)
        assert got == {"n": {"code": "Unschedulable", "reasons": ["Insufficient cpu", "Insufficient memory"]}}


def test_pod_that_fits_nowhere_stays_pending_with_condition_and_event(cluster):
    ok(create_pod(cluster, "big", cpu="5"))
    cluster.advance(3)
    p = ok(get_pod(cluster, "big"))
    assert p["status"]["phase"] == "Pending" and not p["spec"].get("nodeName")
    cond = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
    expected = ("0/4 nodes are available: 1 node(s) had untolerated taint "
                "{node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/4 nodes are "
                "available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", expected)
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default",
                                 "query": {"fieldSelector": "involvedObject.name=big,reason=FailedScheduling"}}))
    assert events["items"] and events["items"][0]["message"] == expected and events["items"][0]["type"] == "Warning"


def test_pending_pod_is_scheduled_when_a_node_that_fits_is_added(cluster):
    ok(create_pod(cluster, "big", cpu="6"))
    cluster.advance(3)
    assert not ok(get_pod(cluster, "big"))["spec"].get("nodeName")
    cluster.add_node("worker-4", cpu="8", memory="16Gi")
    cluster.advance(20)
    p = ok(get_pod(cluster, "big"))
    assert p["spec"]["nodeName"] == "worker-4" and p["status"]["phase"] == "Running"


def test_least_allocated_spreads_pods_and_node_selector_pins(cluster):
    for i in range(3):
        ok(create_pod(cluster, f"p{i}", cpu="1"))
    cluster.advance(5)
    nodes = {ok(get_pod(cluster, f"p{i}"))["spec"]["nodeName"] for i in range(3)}
    assert nodes == {"worker-1", "worker-2", "worker-3"}
    ok(create_pod(cluster, "pinned", nodeSelector={"kubernetes.io/hostname": "worker-2"}))
    ok(create_pod(cluster, "nowhere", nodeSelector={"disk": "ssd"}))
    cluster.advance(5)
    assert ok(get_pod(cluster, "pinned"))["spec"]["nodeName"] == "worker-2"
    cond = next(c for c in ok(get_pod(cluster, "nowhere"))["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["message"] == ("0/4 nodes are available: 1 node(s) had untolerated taint "
                               "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node affinity/selector. "
                               "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")


def test_cordoned_node_gets_no_new_pods(cluster):
    for n in ("worker-1", "worker-2"):
        ok(cluster.request({"verb": "patch", "resource": "nodes", "name": n, "body": {"spec": {"unschedulable": True}},
                            "patch_type": "application/merge-patch+json"}))
    cluster.advance(1)
    for i in range(2):
        ok(create_pod(cluster, f"p{i}"))
    cluster.advance(3)
    assert {ok(get_pod(cluster, f"p{i}"))["spec"]["nodeName"] for i in range(2)} == {"worker-3"}


def test_scheduling_decision_is_explained_in_the_trace(cluster):
    cluster.drain_events()
    ok(create_pod(cluster, "web"))
    cluster.advance(1)
    decision = next(e for e in cluster.drain_events() if e["kind"] == "schedule")
    assert decision["pod"] == "default/web" and decision["node"] in decision["scores"]
    assert set(decision["scores"]) == {"worker-1", "worker-2", "worker-3"}
    assert decision["rejected"] == {"cp-1": ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"]}
