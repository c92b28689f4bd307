"""Explanations: every attempt keeps which filter rejected each node and why, each plugin's raw,
normalized and weighted score, the total and the choice; the Cluster serves them, the queue and
the snapshot's scheduler frame."""
import random

from sim.cluster import Cluster, ClusterConfig, ClusterError, NodeSpec
from sim.scheduler.scheduler import ImmediateClient, Scheduler
from tests.builders import MakeNode, MakePod
from tests.sim.conftest import advance_until, create_pod, get_pod, ok


GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def scheduler():
    return Scheduler(None, ImmediateClient(), clock=lambda: 12.5, rng=random.Random(1))


def test_a_scheduled_pod_explains_every_node_and_score():
    sched = scheduler()
    sched.add_node(MakeNode().name("big").labels({}).taints([]).allocatable({"cpu": "8", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("small").labels({}).taints([]).allocatable({"cpu": "2", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("gpu").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "8", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("tiny").labels({}).taints([]).allocatable({"cpu": "500m", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("web").namespace("default").uid("web").container(name="c", cpu="1", memory="1Gi").obj())
    sched.schedule_one()
    e = sched.explanation("default", "web")
    assert (e["pod"], e["result"], e["node"], e["attempt"], e["profile"], e["time"]) == \
        ("default/web", "Scheduled", "big", 1, "default-scheduler", 12.5)
    assert e["message"] == "Successfully assigned default/web to big"
    assert (e["numAllNodes"], e["numEvaluated"], e["numFeasible"]) == (4, 4, 2)
    rows = {r["name"]: r for r in e["nodes"]}
    assert rows["gpu"]["filter"] == {"plugin": "TaintToleration", "code": "UnschedulableAndUnresolvable",
                                     "reasons": ["node(s) had untolerated taint {dedicated: gpu}"]}
    assert rows["tiny"]["filter"] == {"plugin": "NodeResourcesFit", "code": "Unschedulable",
                                      "reasons": ["Insufficient cpu"]}
    weights = {s["name"]: s["weight"] for s in e["scorePlugins"]}
    for name in ("big", "small"):
        r = rows[name]
        assert r["filter"] is None
        assert all(s["weighted"] == s["normalized"] * weights[p] for p, s in r["scores"].items())
        assert r["total"] == sum(s["weighted"] for s in r["scores"].values())
    # LeastAllocated on big: cpu (8000-1000)*100/8000 = 87, memory (8Gi-1Gi)*100/8Gi = 87.
    assert rows["big"]["scores"]["NodeResourcesFit"] == {"raw": 87, "normalized": 87, "weighted": 87}
    assert rows["small"]["scores"]["NodeResourcesFit"]["raw"] == (50 + 87) // 2
    assert rows["big"]["chosen"] and not rows["small"]["chosen"]
    assert e["nodes"][0]["name"] == "big"     # the chosen node first
    assert e["why"].startswith(f"big had the highest total score ({rows['big']['total']}) of 2 feasible nodes: ")
    assert "NodeResourcesFit 87" in e["why"] and e["truncated"] is False


def test_a_pending_pod_explains_why():
    sched = scheduler()
    sched.add_node(MakeNode().name("gpu").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "8", "memory": "8Gi", "pods": "110"}).obj())
    for i in range(2):
        sched.add_node(MakeNode().name(f"small-{i}").labels({}).taints([]).allocatable({"cpu": "1", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").container(name="c", cpu="2", memory="1Gi").obj())
    sched.schedule_one()
    e = sched.explanation("default", "big")
    assert e["result"] == "Unschedulable" and e["node"] is None and e["numFeasible"] == 0
    preemption = ("preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
                  "2 No preemption victims found for incoming pod.")
    assert e["message"] == ("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
                            "2 Insufficient cpu. " + preemption)
    assert e["why"] == ("no node passed the filters: 2 Insufficient cpu (NodeResourcesFit), "
                        "1 node(s) had untolerated taint {dedicated: gpu} (TaintToleration); " + preemption)
    assert all(r["filter"] and r["scores"] == {} and r["total"] is None for r in e["nodes"])


def test_the_only_feasible_node_is_not_scored():
    sched = scheduler()
    sched.add_node(MakeNode().name("only").labels({}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("gpu").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="1", memory="1Gi").obj())
    sched.schedule_one()
    e = sched.explanation("default", "p")
    assert e["node"] == "only" and e["scorePlugins"] == []
    assert e["why"] == "only was the only node that passed the filters (2 of 2 nodes evaluated)"


def test_big_clusters_are_truncated_to_500_rows_rejected_and_best_first():
    sched = scheduler()
    for i in range(300):
        sched.add_node(MakeNode().name(f"fit-{i:03d}").labels({}).taints([]).allocatable({"cpu": str(2 + i % 5), "memory": "8Gi", "pods": "110"}).obj())
    for i in range(400):
        sched.add_node(MakeNode().name(f"gpu-{i:03d}").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="1", memory="1Gi").obj())
    sched.schedule_one()
    e = sched.explanation("default", "p")
    assert e["truncated"] is True and len(e["nodes"]) == 500
    assert e["nodes"][0]["chosen"]
    feasible = [r for r in e["nodes"] if r["filter"] is None]
    assert [r["total"] for r in feasible[1:]] == sorted((r["total"] for r in feasible[1:]), reverse=True)
    assert sum(1 for r in e["nodes"] if r["filter"]) == 250


def test_explanations_are_bounded():
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(1), explain_keep=5)
    sched.add_node(MakeNode().name("n").labels({}).taints([]).allocatable({"cpu": "64", "memory": "8Gi", "pods": "110"}).obj())
    for i in range(12):
        sched.add_pod(MakePod().name(f"p{i}").namespace("default").uid(f"p{i}").container(name="c", cpu="100m", memory="1Gi").obj())
    while sched.schedule_one():
        pass
    assert len(sched.explanations) == 5
    assert sched.explanation("default", "p0") is None and sched.explanation("default", "p11")["pod"] == "default/p11"


# -- through the Cluster ------------------------------------------------------------------------
def test_cluster_serves_the_queue_the_explanation_and_the_frame(cluster):
    ok(create_pod(cluster, "big", cpu="5"))
    ok(create_pod(cluster, "web", cpu="100m"))
    cluster.advance(2)
    q = cluster.scheduler_queue()
    assert q["leader"] == "kube-scheduler@cp-1" and q["active"] == [] and q["backoff"] == []
    [entry] = q["unschedulable"]
    assert (entry["pod"], entry["priority"], entry["attempts"]) == ("default/big", 0, 1)
    assert entry["message"].startswith("0/4 nodes are available:")
    assert q["profiles"][0]["schedulerName"] == "default-scheduler"
    e = cluster.scheduling_explanation("default", "web")
    assert e["result"] == "Scheduled" and e["node"] == ok(get_pod(cluster, "web"))["spec"]["nodeName"]
    assert cluster.scheduling_explanation("default", "nope") is None
    frame = cluster.snapshot()["scheduler"]
    assert (frame["leader"], frame["active"], frame["backoff"], frame["unschedulable"]) == ("kube-scheduler@cp-1", 0, 0, 1)
    assert frame["pods"] == [dict(entry, queue="unschedulable")]


def test_a_cluster_scheduler_config_bin_packs():
    cfg = ClusterConfig(seed=4, nodes=[NodeSpec("cp-1", "control-plane", "4", "16Gi")] +
                        [NodeSpec(f"worker-{i}") for i in (1, 2, 3)],
                        scheduler_config={"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {
                            "scoringStrategy": {"type": "MostAllocated"}}}]}]})
    c = Cluster("binpack", cfg)
    c.advance(20)
    # Every node Ready and untainted first (the not-ready taint goes once the CNI agent runs),
    # and kube-system's pods placed: the pods below then see the same utilisation each run.
    advance_until(c, lambda: not any(n["spec"].get("taints") for n in ok(c.request(
        {"verb": "list", "resource": "nodes"}))["items"] if n["metadata"]["name"].startswith("worker")) and not [
        p for p in ok(c.request({"verb": "list", "resource": "pods", "namespace": "kube-system"}))["items"]
        if not p["spec"].get("nodeName")], 30)
    for i in range(3):
        ok(create_pod(c, f"p{i}", cpu="500m"))
        c.advance(1)
    assert len({ok(get_pod(c, f"p{i}"))["spec"]["nodeName"] for i in range(3)}) == 1
    assert ClusterConfig.from_json(cfg.to_json()).scheduler_config == cfg.scheduler_config


def test_a_bad_cluster_scheduler_config_is_a_400():
    cfg = ClusterConfig(seed=1, nodes=ClusterConfig.default().nodes,
                        scheduler_config={"profiles": [{"plugins": {"filter": {"enabled": [{"name": "Nope"}]}}}]})
    try:
        Cluster("bad", cfg)
    except ClusterError as e:
        assert e.code == 400 and 'FilterPlugin "Nope" does not exist' in str(e)
    else:
        raise AssertionError("expected a ClusterError")


def test_a_pod_for_an_unknown_scheduler_stays_pending_without_events(cluster):
    ok(create_pod(cluster, "elsewhere", schedulerName="my-scheduler"))
    cluster.advance(3)
    p = ok(get_pod(cluster, "elsewhere"))
    assert not p["spec"].get("nodeName") and not any(c.get("type") == "PodScheduled" for c in p["status"].get("conditions") or [])
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default",
                                 "query": {"fieldSelector": "involvedObject.name=elsewhere"}}))
    assert events["items"] == []
    assert cluster.scheduling_explanation("default", "elsewhere") is None
