"""The vectorised plugins (NodeTable, numpy) against the per-node reference methods (NodeInfo)
on random clusters: the same feasible nodes, the same reasons, the same scores; and the whole
scheduler making the same decisions and explanations either way."""
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scheduler.testing import loaded_scheduler, run_filter, run_score
from tests.builders import MakeNode, MakePod, make_container

ZONES = ["a", "b", "c"]
KEYS = ["zone", "disk", "gen", "team"]
TAINTS = [("dedicated", "gpu", "NoSchedule"), ("dedicated", "db", "NoExecute"), ("spot", "", "PreferNoSchedule"),
          ("maint", "soon", "PreferNoSchedule"), ("dedicated", "gpu", "PreferNoSchedule")]
IMAGES = ["nginx:1.27", "redis", "docker.io/library/python:3.12", "busybox:latest"]


@st.composite
def nodes_and_pods(draw):
    n = draw(st.integers(1, 12))
    nodes = []
    for i in range(n):
        labels = {}
        for k in KEYS:
            if draw(st.booleans()):
                labels[k] = draw(st.sampled_from(["a", "b", "c", "1", "7", "12", "x"]))
        taints = [dict(zip(("key", "value", "effect"), t)) for t in TAINTS if draw(st.integers(0, 4)) == 0]
        alloc = {"cpu": draw(st.sampled_from(["0", "1", "2", "4", "3500m"])),
                 "memory": draw(st.sampled_from(["0", "1Gi", "2Gi", "8Gi"])),
                 "pods": str(draw(st.integers(0, 4)))}
        if draw(st.booleans()):
            alloc["ephemeral-storage"] = draw(st.sampled_from(["1Gi", "10Gi"]))
        if draw(st.booleans()):
            alloc["example.com/gpu"] = str(draw(st.integers(0, 3)))
        images = [{"names": [img if ":" in img.rsplit("/", 1)[-1] else img + ":latest"],
                   "sizeBytes": draw(st.sampled_from([10, 100, 500, 2000])) * 2**20}
                  for img in IMAGES if draw(st.booleans())]
        nodes.append(MakeNode().name(f"n{i}").labels(labels).taints(taints).unschedulable(draw(st.integers(0, 5)) == 0)
                     .allocatable(alloc).images(images).obj())
    existing = []
    for j in range(draw(st.integers(0, 10))):
        existing.append(MakePod().name(f"e{j}").namespace("default").uid(f"e{j}")
                        .node(f"n{draw(st.integers(0, n - 1))}").containers([container(draw)]).obj())
    return nodes, existing, pod(draw, "incoming")


def container(draw) -> dict:
    req = {}
    for r, choices in (("cpu", ["0", "100m", "500m", "1", "2"]), ("memory", ["0", "64Mi", "512Mi", "1Gi", "3Gi"]),
                       ("ephemeral-storage", ["0", "1Gi", "5Gi"]), ("example.com/gpu", ["0", "1", "2"])):
        if draw(st.booleans()):
            req[r] = draw(st.sampled_from(choices))
    c = make_container(draw(st.sampled_from(IMAGES)), name="c", requests=req)
    if draw(st.integers(0, 3)) == 0:
        c["ports"] = [{"containerPort": 80, "hostPort": draw(st.sampled_from([80, 443])),
                       "hostIP": draw(st.sampled_from(["", "0.0.0.0", "10.0.0.1", "10.0.0.2"])),
                       "protocol": draw(st.sampled_from(["TCP", "UDP"]))}]
    return c


def requirement(draw) -> dict:
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]))
    key = draw(st.sampled_from(KEYS))
    if op in ("In", "NotIn"):
        values = draw(st.lists(st.sampled_from(["a", "b", "c", "1", "7"]), min_size=1, max_size=3))
    elif op in ("Gt", "Lt"):
        values = [draw(st.sampled_from(["1", "5", "10"]))]
    else:
        values = []
    return {"key": key, "operator": op, "values": values}


def pod(draw, name: str) -> dict:
    p = MakePod().name(name).namespace("default").uid(name)
    p.containers([container(draw) for _ in range(draw(st.integers(1, 2)))])
    tols = []
    for key, value, effect in TAINTS:
        if draw(st.integers(0, 3)) == 0:
            tols.append(draw(st.sampled_from([{"key": key, "operator": "Exists"},
                                              {"key": key, "operator": "Equal", "value": value, "effect": effect},
                                              {"operator": "Exists"}, {"key": key, "value": "other"}])))
    if draw(st.integers(0, 6)) == 0:
        tols.append({"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"})
    if tols:
        p.tolerations(tols)
    if draw(st.booleans()):
        p.node_selector({draw(st.sampled_from(KEYS)): draw(st.sampled_from(["a", "b", "1"]))})
    aff = {}
    if draw(st.booleans()):
        terms = []
        for _ in range(draw(st.integers(1, 2))):
            term = {"matchExpressions": [requirement(draw) for _ in range(draw(st.integers(1, 2)))]}
            if draw(st.integers(0, 3)) == 0:
                term["matchFields"] = [{"key": "metadata.name", "operator": draw(st.sampled_from(["In", "NotIn"])),
                                        "values": [f"n{draw(st.integers(0, 3))}"]}]
            terms.append(term)
        aff["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}
    if draw(st.booleans()):
        aff["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"weight": draw(st.integers(1, 100)), "preference": {"matchExpressions": [requirement(draw)]}}
            for _ in range(draw(st.integers(1, 3)))]
    if aff:
        p.node_affinity(aff)
    return p.obj()


FILTERS = ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit"]
SCORES = [("TaintToleration", None), ("NodeAffinity", None), ("ImageLocality", None),
          ("NodeResourcesBalancedAllocation", None),
          ("NodeResourcesBalancedAllocation", {"resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1},
                                                             {"name": "ephemeral-storage", "weight": 1}]}),
          ("NodeResourcesFit", None),
          ("NodeResourcesFit", {"scoringStrategy": {"type": "MostAllocated",
                                                    "resources": [{"name": "cpu", "weight": 3},
                                                                  {"name": "memory", "weight": 1},
                                                                  {"name": "example.com/gpu", "weight": 2}]}}),
          ("NodeResourcesFit", {"scoringStrategy": {"type": "RequestedToCapacityRatio",
                                                    "resources": [{"name": "cpu", "weight": 1},
                                                                  {"name": "memory", "weight": 2}],
                                                    "requestedToCapacityRatio": {"shape": [
                                                        {"utilization": 0, "score": 10},
                                                        {"utilization": 40, "score": 3},
                                                        {"utilization": 100, "score": 0}]}}}),
          ("NodeResourcesFit", {"scoringStrategy": {"type": "RequestedToCapacityRatio",
                                                    "resources": [{"name": "cpu", "weight": 1}],
                                                    "requestedToCapacityRatio": {"shape": [
                                                        {"utilization": 10, "score": 1},
                                                        {"utilization": 70, "score": 9}]}}})]

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(nodes_and_pods())
def test_every_filter_agrees_with_its_per_node_reference(case):
    nodes, existing, incoming = case
    for plugin in FILTERS:
        vec = run_filter(plugin, incoming, nodes, existing, vectorised=True)
        ref = run_filter(plugin, incoming, nodes, existing, vectorised=False)
        assert vec == ref, plugin


@SETTINGS
@given(nodes_and_pods())
def test_every_score_agrees_with_its_per_node_reference(case):
    nodes, existing, incoming = case
    for plugin, args in SCORES:
        vec = run_score(plugin, incoming, nodes, existing, args=args, vectorised=True)
        ref = run_score(plugin, incoming, nodes, existing, args=args, vectorised=False)
        assert vec == ref, (plugin, args)


def _run_scheduler(nodes, pods, vectorised: bool, existing=()):
    sched = loaded_scheduler(nodes, [*existing, *pods], seed=5, vectorised=vectorised)
    explanations = []
    while sched.schedule_one():
        key = list(sched.explanations.records)[-1]
        explanations.append(sched.explanations.get(key).to_json())
    return sched.client.bound, explanations


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes_and_pods(), st.lists(st.integers(0, 1000), min_size=1, max_size=6))
def test_the_scheduler_decides_and_explains_the_same_either_way(case, seeds):
    nodes, existing, _ = case
    pods = []
    for i, seed in enumerate(seeds):
        rng = random.Random(seed)
        p = (MakePod().name(f"p{i}").namespace("default").uid(f"p{i}").priority(rng.choice([0, 10]))
             .container(rng.choice(IMAGES), name="c", cpu=rng.choice(["100m", "1", "2"]), memory=rng.choice(["64Mi", "1Gi"])))
        if rng.random() < 0.3:
            p.tolerations([{"operator": "Exists"}])
        if rng.random() < 0.3:
            p.node_selector({"zone": rng.choice(["a", "b"])})
        pods.append(p.obj())
    vec = _run_scheduler(nodes, pods, True, existing)
    ref = _run_scheduler(nodes, pods, False, existing)
    assert vec[0] == ref[0]
    strip = [{k: v for k, v in e.items() if k != "time"} for e in vec[1]]
    assert strip == [{k: v for k, v in e.items() if k != "time"} for e in ref[1]]


def test_the_scheduler_agrees_on_a_large_cluster_where_it_samples_nodes():
    """500 nodes: percentageOfNodesToScore's adaptive 46% means the search stops early, so the
    round-robin start and the stopping point must match too."""
    rng = random.Random(3)
    nodes = [MakeNode().name(f"n{i:03d}").labels({"zone": ZONES[i % 3]})
             .taints([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}] if i % 9 == 0 else [])
             .allocatable({"cpu": str(rng.choice([2, 4, 8])), "memory": "8Gi", "pods": "20"}).obj()
             for i in range(500)]
    pods = [MakePod().name(f"p{i}").namespace("default").uid(f"p{i}")
            .container(name="c", cpu=rng.choice(["500m", "1", "3"]), memory="256Mi")
            .node_selector({"zone": "b"} if i % 4 == 0 else None).obj() for i in range(150)]
    vec_bound, vec_expl = _run_scheduler(nodes, pods, True)
    ref_bound, ref_expl = _run_scheduler(nodes, pods, False)
    assert vec_bound == ref_bound and len(vec_bound) == 150
    assert [e["numEvaluated"] for e in vec_expl] == [e["numEvaluated"] for e in ref_expl]
