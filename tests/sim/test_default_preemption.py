"""DefaultPreemption (sim/scheduler/plugins/default_preemption.py, sim/scheduler/preemption.py).

The unit cases are translated from upstream's
pkg/scheduler/framework/plugins/defaultpreemption/default_preemption_test.go (v1.32): the same
nodes (veryLargeRes capacity: 500m CPU, 500 bytes of memory, 32 pods), pods, priorities and
expected answers, each named after its upstream test and case.  What the simulator cannot
translate: PodDisruptionBudgets (its API has no policy/v1, so no victim violates one),
extenders, the FakeFilter call counts.  Start times are whole seconds where upstream uses
nanoseconds (only their order matters).

Then: the vectorised pre-check against the per-node dry run on random clusters, and preemption
end to end in a Cluster (nominatedNodeName, DisruptionTarget, graceful deletion, the preemptor
running on the node, preemptionPolicy Never, the nominated node's room held).
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cluster import Cluster, ClusterConfig
from sim.api.meta import timestamp
from sim.scheduler import plugins as registry
from sim.scheduler.framework.interface import (ERROR, MODE_OVERRIDE, SUCCESS, UNSCHEDULABLE,
                                               UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState, NodeToStatus,
                                               PreFilterExtensions, PreFilterPlugin, Status, as_status)
from sim.scheduler.framework.config import ConfigError, default_configuration
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.framework.runtime import NodeSet
from sim.scheduler.preemption import Victims, pick_one_node_for_preemption
from sim.scheduler.scheduler import ImmediateClient, Scheduler
from tests.builders import MakeNode, MakePod, MakePriorityClass
from tests.sim.conftest import advance_until, create_pod, get_pod, ok


NEG, LOW, MID, HIGH, VERY_HIGH = -100, 0, 100, 1000, 10000
SMALL = {"cpu": "100m", "memory": "100"}
MEDIUM = {"cpu": "200m", "memory": "200"}
LARGE = {"cpu": "300m", "memory": "300"}
VERY_LARGE = {"cpu": "500m", "memory": "500"}
ONE_POD = {"pods": "1"}
NODE_RES = {"cpu": "200m", "memory": "400"}
PROFILE = "default-scheduler"


def build(nodes: list[dict], pods: list[dict], preemptor: dict, plugins=("NodeResourcesFit",), args=None):
    """A scheduler whose profile runs the given Filter plugins and DefaultPreemption (as upstream's
    tests register them), the nodes and pods in its cache, the preemptor known to its informer,
    and a cycle state through PreFilter.  Returns (scheduler, plugin, state, preemptor PodInfo)."""
    enabled = [{"name": "PrioritySort"}, {"name": "DefaultBinder"}, {"name": "DefaultPreemption"}] + \
        [{"name": p} for p in plugins]
    cfg = {"profiles": [{"schedulerName": PROFILE,
                         "plugins": {"multiPoint": {"enabled": enabled, "disabled": [{"name": "*"}]}},
                         "pluginConfig": [{"name": "DefaultPreemption", "args": args}] if args else []}]}
    sched = Scheduler(cfg, ImmediateClient(), rng=random.Random(0))
    for n in nodes:
        sched.add_node(n)
    for p in pods:
        sched.add_pod(p)
    sched.add_pod(preemptor)
    fwk = sched.profiles[PROFILE]
    pl = fwk.plugins_map["DefaultPreemption"]
    pi = PodInfo(preemptor)
    state = CycleState()
    _, s, _ = fwk.run_pre_filter_plugins(state, pi, NodeSet(sched.cache.table, sched.cache.order()))
    assert s is None or s.is_success(), s
    return sched, pl, state, pi


def by_name(sched) -> list:
    return sorted(sched.cache.node_infos(), key=lambda i: i.name)


def summary(candidates) -> dict[str, list[str]]:
    """Candidates as upstream's test compares them: by node, victims sorted by name."""
    return {c.name: sorted(p.name for p in c.victims.pods) for c in candidates}


# -- a PreFilter plugin whose AddPod/RemovePod fail on nodes labelled error=true ---------------
class TestPlugin(PreFilterPlugin, PreFilterExtensions):
    """default_preemption_test.go's TestPlugin."""
    name = "test-plugin"
    __test__ = False

    def pre_filter(self, state, pod, nodes):
        return None, None

    def pre_filter_extensions(self):
        return self

    def add_pod(self, state, pod_to_schedule, pod_to_add, node_info):
        if node_info.labels.get("error") == "true":
            return as_status(f"failed to add pod: {pod_to_schedule.name}")
        return None

    def remove_pod(self, state, pod_to_schedule, pod_to_remove, node_info):
        if node_info.labels.get("error") == "true":
            return as_status(f"failed to remove pod: {pod_to_schedule.name}")
        return None


@pytest.fixture
def test_plugin(monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, "test-plugin", "tests.sim.test_default_preemption:TestPlugin")
    monkeypatch.setitem(registry._loaded, "test-plugin", TestPlugin)


# -- TestPostFilter ------------------------------------------------------------------------------
def U(code=UNSCHEDULABLE):
    return Status(code)


UU = UNSCHEDULABLE_AND_UNRESOLVABLE
POST_FILTER_CASES = [
    ("pod with higher priority can be made schedulable",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj()], [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U()}, "node1", (SUCCESS, "")),
    ("pod with tied priority is still unschedulable",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj()], [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U()}, "", (UNSCHEDULABLE, "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")),
    ("preemption should respect filteredNodesStatuses",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj()], [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U(UU)}, "", (UNSCHEDULABLE, "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
    ("preemption should respect absent NodeToStatusReader entry meaning UnschedulableAndUnresolvable",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj()], [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {}, "", (UNSCHEDULABLE, "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
    ("pod can be made schedulable on one node",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(MID).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(HIGH).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req({}, name="c").priority(LOW).node("node2").phase("Running").obj()],
     [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U(), "node2": U()}, "node2", (SUCCESS, "")),
    # Upstream adds PDBs to this case; without them node2 still wins, on its lower highest victim.
    ("pod can be made schedulable on minHighestPriority node",
     MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(VERY_HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(HIGH).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req({}, name="c").priority(LOW).node("node1").phase("Running").obj(),
                           MakePod().name("p3").namespace("default").uid("p3").labels({}).req({}, name="c")
                           .priority(MID).node("node2").phase("Running").obj()],
     [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U(), "node2": U()}, "node2", (SUCCESS, "")),
    ("no candidate nodes found, no enough resource after removing low priority pods",
     MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req({}, name="c").node("node2").phase("Running").obj()],
     [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **NODE_RES}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2"}).spec().allocatable({"pods": "32", **NODE_RES}).obj()],
     {"node1": U(), "node2": U()}, "", (UNSCHEDULABLE, "preemption: 0/2 nodes are available: 2 Insufficient cpu.")),
    ("no candidate nodes found with mixed reasons, no lower priority pod and no enough CPU resource",
     MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(HIGH).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req({}, name="c").node("node2").phase("Running").obj(),
                             MakePod().name("p3").namespace("default").uid("p3").labels({}).req({}, name="c")
                             .priority(HIGH).node("node3").phase("Running").obj()],
     [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **ONE_POD}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2"}).spec().allocatable({"pods": "32", **NODE_RES}).obj(), MakeNode().name("node3").labels({"kubernetes.io/hostname": "node3"}).spec().allocatable({"pods": "32", **ONE_POD}).obj()],
     {"node1": U(), "node2": U(), "node3": U()}, "",
     (UNSCHEDULABLE, "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod.")),
    ("no candidate nodes found with mixed reason, 2 UnschedulableAndUnresolvable nodes and 2 nodes don't have enough CPU resource",
     MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(), [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req({}, name="c").node("node2").phase("Running").obj()],
     [MakeNode().name(f"node{i}").labels({"kubernetes.io/hostname": f"node{i}"}).spec()
      .allocatable({"pods": "32", **NODE_RES}).obj() for i in range(1, 5)],
     {"node1": U(), "node2": U(), "node4": U(UU)}, "",
     (UNSCHEDULABLE, "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not helpful for scheduling.")),
]


@pytest.mark.parametrize("name, preemptor, pods, nodes, statuses, want_node, want_status", POST_FILTER_CASES,
                         ids=[f"TestPostFilter / {c[0]}" for c in POST_FILTER_CASES])
def test_post_filter(name, preemptor, pods, nodes, statuses, want_node, want_status):
    sched, pl, state, pi = build(nodes, pods, preemptor)
    result, status = pl.post_filter(state, pi, NodeToStatus(dict(statuses), Status(UU)))
    assert (status.code, status.message()) == want_status
    # NewPostFilterResultWithNominatedNode(want_node): "" clears a nomination.
    assert result.nominating_info.nominated_node_name == want_node
    assert result.nominating_info.mode == MODE_OVERRIDE


@pytest.mark.parametrize("nodes, want", [
    ([MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1", "error": "true"}).spec()
      .allocatable({"pods": "32", **LARGE}).obj()], (ERROR, None)),
    ([MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1", "error": "true"}).spec().allocatable({"pods": "32", **LARGE}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2"}).spec().allocatable({"pods": "32", **LARGE}).obj()], (SUCCESS, "node2")),
], ids=["TestPostFilter / only one node but failed with TestPlugin",
        "TestPostFilter / one failed with TestPlugin and the other pass"])
def test_post_filter_with_a_failing_prefilter_extension(test_plugin, nodes, want):
    pods = [MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").node("node1").phase("Running").obj()] + ([MakePod().name("p2").namespace("default").uid("p2").labels({}).req(MEDIUM, name="c").node("node2").phase("Running").obj()] if len(nodes) > 1 else [])
    sched, pl, state, pi = build(nodes, pods, MakePod().name("p").namespace("default").uid("p").labels({})
                                              .req(LARGE, name="c").priority(HIGH)
                                              .status().obj(), plugins=("NodeResourcesFit", "test-plugin"))
    result, status = pl.post_filter(state, pi, NodeToStatus({n["metadata"]["name"]: U() for n in nodes}, Status(UU)))
    if want[0] == ERROR:
        assert result is None and status.code == ERROR
        assert status.reasons == ('preemption: running RemovePod on PreFilter plugin "test-plugin": failed to remove pod: p',)
    else:
        assert status.code == SUCCESS and result.nominating_info.nominated_node_name == want[1]


# -- TestDryRunPreemption -------------------------------------------------------------------------
DRY_RUN_CASES = [
    ("a pod that fits on both nodes when lower priority pods are preempted", None, ["node1", "node2"],
     [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj()],
     [MakePod().name("p1").namespace("default").uid("p1").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").obj()],
     [0], [{"node1": ["p1"], "node2": ["p2"]}]),
    ("a pod that would fit on the nodes, but other pods running are higher priority, no preemption would happen",
     None, ["node1", "node2"], [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c")
                                .priority(LOW).status().obj()],
     [MakePod().name("p1").namespace("default").uid("p1").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").obj()],
     [0], [{}]),
    ("medium priority pod is preempted, but lower priority one stays as it is small", None, ["node1", "node2"],
     [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj()],
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").obj()],
     [0], [{"node1": ["p1.2"], "node2": ["p2"]}]),
    ("mixed priority pods are preempted", None, ["node1", "node2"], [MakePod().name("p").namespace("default").uid("p")
                                                                     .labels({}).req(LARGE, name="c").priority(HIGH)
                                                                     .status().obj()],
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").obj(), MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").obj(),
      MakePod().name("p1.4").namespace("default").uid("p1.4").labels({}).req(SMALL, name="c").priority(HIGH).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(HIGH).node("node2").phase("Running").obj()],
     [0], [{"node1": ["p1.2", "p1.3"]}]),
    ("mixed priority pods are preempted, pick later StartTime one when priorities are equal", None,
     ["node1", "node2"], [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c")
                          .priority(HIGH).status().obj()],
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").start_time(timestamp(5)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").start_time(timestamp(4)).obj(),
      MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(3)).obj(), MakePod().name("p1.4").namespace("default").uid("p1.4").labels({}).req(SMALL, name="c").priority(HIGH).node("node1").phase("Running").start_time(timestamp(2)).obj(),
      MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(HIGH).node("node2")
      .phase("Running").start_time(timestamp(1)).obj()],
     [0], [{"node1": ["p1.1", "p1.3"]}]),
    # cycle=0 => offset=4 => node5 (yes), node1 (yes)
    ("all nodes are possible candidates, but DefaultPreemptionArgs limits to 2",
     {"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}, [f"node{i}" for i in range(1, 6)],
     [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj()], [MakePod().name(f"p{i}").namespace("default").uid(f"p{i}").labels({}).req(LARGE, name="c").priority(MID).node(f"node{i}").status().phase("Running" if f"node{i}" else None).obj() for i in range(1, 6)],
     [4], [{"node1": ["p1"], "node5": ["p5"]}]),
    # cycle=0 => offset=4 => node5 (no), node1 (yes), node2 (no), node3 (yes)
    ("some nodes are not possible candidates, DefaultPreemptionArgs limits to 2",
     {"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}, [f"node{i}" for i in range(1, 6)],
     [MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj()],
     [MakePod().name("p1").namespace("default").uid("p1").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(VERY_HIGH).node("node2").phase("Running").obj(), MakePod().name("p3").namespace("default").uid("p3").labels({}).req(LARGE, name="c").priority(MID).node("node3").phase("Running").obj(),
      MakePod().name("p4").namespace("default").uid("p4").labels({}).req(LARGE, name="c").priority(MID).node("node4").phase("Running").obj(), MakePod().name("p5").namespace("default").uid("p5").labels({}).req(LARGE, name="c").priority(VERY_HIGH).node("node5").phase("Running").obj()],
     [4], [{"node1": ["p1"], "node3": ["p3"]}]),
    # offsets 4, 1, 3: node5+node1, node2+node3, node4+node5
    ("preemption offset across multiple scheduling cycles and wrap around",
     {"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}, [f"node{i}" for i in range(1, 6)],
     [MakePod().name("tp1").namespace("default").uid("tp1").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(), MakePod().name("tp2").namespace("default").uid("tp2").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(), MakePod().name("tp3").namespace("default").uid("tp3").labels({}).req(LARGE, name="c").priority(HIGH).status().obj()],
     [MakePod().name(f"p{i}").namespace("default").uid(f"p{i}").labels({}).req(LARGE, name="c").priority(MID)
      .node(f"node{i}").status().phase("Running" if f"node{i}" else None).obj() for i in range(1, 6)],
     [4, 1, 3], [{"node1": ["p1"], "node5": ["p5"]}, {"node2": ["p2"], "node3": ["p3"]},
                 {"node4": ["p4"], "node5": ["p5"]}]),
]


@pytest.mark.parametrize("vectorised", [True, False], ids=["vectorised", "per-node"])
@pytest.mark.parametrize("name, args, node_names, preemptors, pods, offsets, expected", DRY_RUN_CASES,
                         ids=[f"TestDryRunPreemption / {c[0]}" for c in DRY_RUN_CASES])
def test_dry_run_preemption(name, args, node_names, preemptors, pods, offsets, expected, vectorised):
    nodes = [MakeNode().name(n).labels({"kubernetes.io/hostname": n}).spec()
             .allocatable({"pods": "32", **VERY_LARGE}).obj() for n in node_names]
    for preemptor, offset, want in zip(preemptors, offsets, expected):
        sched, pl, state, pi = build(nodes, pods, preemptor, args=args)
        pl.vectorised = vectorised
        infos = by_name(sched)
        num = pl.calculate_num_candidates(len(infos))
        candidates, _, _ = pl.evaluator.dry_run_preemption(state, pi, infos, offset, num)
        assert summary(candidates) == want


def test_dry_run_preemption_pod_with_anti_affinity_is_preempted():
    """TestDryRunPreemption / pod with anti-affinity is preempted."""
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}, "topologyKey": "hostname"}]}}
    nodes = [MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1", "hostname": "node1"}).spec().allocatable({"pods": "32", **VERY_LARGE}).obj(), MakeNode().name("node2").labels({"kubernetes.io/hostname": "node2", "hostname": "node2"}).spec().allocatable({"pods": "32", **VERY_LARGE}).obj()]
    pods = [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({"foo": ""}).req(SMALL, name="c").affinity(anti).priority(LOW).node("node1").phase("Running").obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").obj(),
            MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(SMALL, name="c").priority(HIGH).node("node1").phase("Running").obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(SMALL, name="c").priority(HIGH).node("node2").phase("Running").obj()]
    sched, pl, state, pi = build(nodes, pods, MakePod().name("p").namespace("default").uid("p").labels({"foo": ""})
                                              .req(SMALL, name="c").priority(HIGH).status().obj(),
                                 plugins=("NodeResourcesFit", "InterPodAffinity"))
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, pi, by_name(sched), 0, 2)
    assert summary(candidates) == {"node1": ["p1.1"]}


def _spread_pod(name, priority, node_name=None):
    exists = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
    constraints = [{"maxSkew": 1, "topologyKey": k, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": exists}
                   for k in ("zone", "hostname")]
    return (MakePod().name(name).namespace("default").uid(name).labels({"foo": ""}).req({}, name="c")
            .spec(**{} if node_name else {"topologySpreadConstraints": constraints}).priority(priority).node(node_name)
            .status().phase("Running" if node_name else None).obj())


def _spread_nodes():
    return [MakeNode().name(n).labels({"kubernetes.io/hostname": n, "hostname": n, "zone": z}).spec()
            .allocatable({"pods": "32", **VERY_LARGE}).obj() for n, z in (("node-a", "zone1"), ("node-b", "zone1"),
                                                                     ("node-x", "zone2"))]


def test_dry_run_preemption_to_resolve_pod_topology_spread_filter_failure():
    """TestDryRunPreemption / preemption to resolve pod topology spread filter failure."""
    pods = [_spread_pod("pod-a1", MID, "node-a"), _spread_pod("pod-a2", LOW, "node-a"),
            _spread_pod("pod-b1", LOW, "node-b"), _spread_pod("pod-x1", HIGH, "node-x"),
            _spread_pod("pod-x2", HIGH, "node-x")]
    sched, pl, state, pi = build(_spread_nodes(), pods, _spread_pod("p", HIGH), plugins=("PodTopologySpread",))
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, pi, by_name(sched), 0, 3)
    assert summary(candidates) == {"node-a": ["pod-a2"], "node-b": ["pod-b1"]}


# -- TestSelectBestCandidate ----------------------------------------------------------------------
SELECT_CASES = [
    ("a pod that fits on both nodes when lower priority pods are preempted", 2, MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1").namespace("default").uid("p1").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2").namespace("default").uid("p2").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(0)).obj()], {"node1", "node2"}),
    ("node with min highest priority pod is picked", 3, MakePod().name("p").namespace("default").uid("p").labels({})
                                                        .req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(LOW).node("node2").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(MEDIUM, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj()], {"node3"}),
    ("when highest priorities are the same, minimum sum of priorities is picked", 3, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(LARGE, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(LOW).node("node2").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(0)).obj()], {"node2"}),
    ("when highest priority and sum are the same, minimum number of pods is picked", 3, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(NEG).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.4").namespace("default").uid("p1.4").labels({}).req(SMALL, name="c").priority(NEG).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(NEG).node("node2").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(SMALL, name="c").priority(NEG).node("node3").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.3").namespace("default").uid("p3.3").labels({}).req(SMALL, name="c").priority(LOW)
      .node("node3").phase("Running").start_time(timestamp(0)).obj()], {"node2"}),
    ("sum of adjusted priorities is considered", 3, MakePod().name("p").namespace("default").uid("p").labels({})
                                                    .req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(NEG).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(SMALL, name="c").priority(NEG).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(LARGE, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(NEG).node("node2").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(SMALL, name="c").priority(NEG).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.3").namespace("default").uid("p3.3").labels({}).req(SMALL, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj()], {"node2"}),
    ("non-overlapping lowest high priority, sum priorities, and number of pods", 4, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(VERY_HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p1.3").namespace("default").uid("p1.3").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(LARGE, name="c").priority(HIGH).node("node2").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(SMALL, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p3.3").namespace("default").uid("p3.3").labels({}).req(SMALL, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p3.4").namespace("default").uid("p3.4").labels({}).req(MEDIUM, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p4.1").namespace("default").uid("p4.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node4").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p4.2").namespace("default").uid("p4.2").labels({}).req(SMALL, name="c").priority(MID).node("node4").phase("Running").start_time(timestamp(0)).obj(),
      MakePod().name("p4.3").namespace("default").uid("p4.3").labels({}).req(SMALL, name="c").priority(MID).node("node4").phase("Running").start_time(timestamp(0)).obj(), MakePod().name("p4.4").namespace("default").uid("p4.4").labels({}).req(SMALL, name="c").priority(NEG).node("node4").phase("Running").start_time(timestamp(0)).obj()], {"node1"}),
    ("same priority, same number of victims, different start time for each node's pod", 3, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(2)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(2)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(3)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(3)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(1)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(1)).obj()], {"node2"}),
    ("same priority, same number of victims, different start time for all pods", 3, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(4)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(2)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(5)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(1)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(3)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(6)).obj()], {"node3"}),
    ("different priority, same number of victims, different start time for all pods", 3, MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c").priority(HIGH).status().obj(),
     [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(MEDIUM, name="c").priority(LOW).node("node1").phase("Running").start_time(timestamp(4)).obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node1").phase("Running").start_time(timestamp(2)).obj(),
      MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node2").phase("Running").start_time(timestamp(6)).obj(), MakePod().name("p2.2").namespace("default").uid("p2.2").labels({}).req(MEDIUM, name="c").priority(LOW).node("node2").phase("Running").start_time(timestamp(1)).obj(),
      MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(LOW).node("node3").phase("Running").start_time(timestamp(3)).obj(), MakePod().name("p3.2").namespace("default").uid("p3.2").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").start_time(timestamp(5)).obj()], {"node2"}),
]


@pytest.mark.parametrize("vectorised", [True, False], ids=["vectorised", "per-node"])
@pytest.mark.parametrize("name, n, preemptor, pods, expected", SELECT_CASES,
                         ids=[f"TestSelectBestCandidate / {c[0]}" for c in SELECT_CASES])
def test_select_best_candidate(name, n, preemptor, pods, expected, vectorised):
    sched, pl, state, pi = build([MakeNode().name(f"node{i}").labels({"kubernetes.io/hostname": f"node{i}"}).spec()
                                  .allocatable({"pods": "32", **VERY_LARGE})
                                  .obj() for i in range(1, n + 1)], pods, preemptor)
    pl.vectorised = vectorised
    infos = sched.cache.node_infos()
    offset, num = pl.get_offset_and_num_candidates(len(infos))
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, pi, infos, offset, num)
    best = pl.evaluator.select_candidate(candidates)
    assert best is not None and best.name in expected


def test_pick_one_node_criteria_in_upstreams_order():
    """pickOneNodeForPreemption: fewest PDB violations beats a lower highest priority (which the
    API cannot produce here, so the function is called directly), then the lowest highest
    victim, the smallest priority sum, the fewest victims, the latest start, the first node."""
    def v(*prios, pdb=0, start=0):
        return Victims([PodInfo(MakePod().name(f"v{i}").namespace("default").uid(f"v{i}").labels({}).req({}, name="c")
                                .priority(p).start_time(timestamp(start)).obj()) for i, p in enumerate(prios)], pdb)
    assert pick_one_node_for_preemption({"a": v(LOW, pdb=1), "b": v(HIGH)}) == "b"
    assert pick_one_node_for_preemption({"a": v(HIGH), "b": v(MID, MID, MID)}) == "b"
    assert pick_one_node_for_preemption({"a": v(MID, MID), "b": v(MID, LOW)}) == "b"
    assert pick_one_node_for_preemption({"a": v(MID, LOW, LOW), "b": v(MID, LOW)}) == "b"
    # MaxInt32+1 per victim: two victims at -100 cost more than one at 0.
    assert pick_one_node_for_preemption({"a": v(MID, NEG, NEG), "b": v(MID, LOW)}) == "b"
    assert pick_one_node_for_preemption({"a": v(MID, start=10), "b": v(MID, start=20)}) == "b"
    assert pick_one_node_for_preemption({"a": v(MID), "b": v(MID)}) == "a"
    assert pick_one_node_for_preemption({}) == ""


# -- TestPodEligibleToPreemptOthers ----------------------------------------------------------------
def _terminating(p: dict, by_preemption: bool = False) -> dict:
    p["metadata"]["deletionTimestamp"] = timestamp(100)
    if by_preemption:
        p["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]
    return p


ELIGIBLE_CASES = [
    ("Pod with nominated node", MakePod().name("p_with_nominated_node").namespace("default")
                                .uid("p_with_nominated_node").labels({}).req({}, name="c").priority(HIGH)
                                .status().obj(), "node1",
     [_terminating(MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(LOW)
                   .node("node1").phase("Running").obj())],
     Status(UU, ("node(s) had untolerated taint",)), True),
    ("Pod without nominated node", MakePod().name("p_without_nominated_node").namespace("default")
                                   .uid("p_without_nominated_node").labels({}).req({}, name="c").priority(HIGH)
                                   .status().obj(), "", [], None, True),
    ("Pod with 'PreemptNever' preemption policy", MakePod().name("p_with_preempt_never_policy").namespace("default")
                                                  .uid("p_with_preempt_never_policy").labels({}).req({}, name="c")
                                                  .preemption_policy("Never").priority(HIGH).status().obj(),
     "", [], None, False),
    ("preemption victim pod terminating, as indicated by the dedicated DisruptionTarget condition",
     MakePod().name("p_with_nominated_node").namespace("default").uid("p_with_nominated_node").labels({}).req({}, name="c").priority(HIGH).status().obj(), "node1", [_terminating(MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(LOW).node("node1").phase("Running").obj(), True)], None, False),
    ("non-victim Pods terminating", MakePod().name("p_with_nominated_node").namespace("default")
                                    .uid("p_with_nominated_node").labels({}).req({}, name="c").priority(HIGH)
                                    .status().obj(), "node1",
     [_terminating(MakePod().name("p1").namespace("default").uid("p1").labels({}).req({}, name="c").priority(LOW)
                   .node("node1").phase("Running").obj())], None, True),
]


@pytest.mark.parametrize("name, preemptor, nominated, pods, status, expected", ELIGIBLE_CASES,
                         ids=[f"TestPodEligibleToPreemptOthers / {c[0]}" for c in ELIGIBLE_CASES])
def test_pod_eligible_to_preempt_others(name, preemptor, nominated, pods, status, expected):
    if nominated:
        preemptor["status"]["nominatedNodeName"] = nominated
    sched, pl, state, pi = build([MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec()
                                  .allocatable({"pods": "32", **VERY_LARGE}).obj()], pods, preemptor)
    got, msg = pl.pod_eligible_to_preempt_others(pi, status)
    assert got is expected
    if not expected:
        assert msg in ("not eligible due to preemptionPolicy=Never.",
                       "not eligible due to a terminating pod on the nominated node.")


# -- TestPreempt ------------------------------------------------------------------------------------
PREEMPT_PODS = [MakePod().name("p1.1").namespace("default").uid("p1.1").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").obj(), MakePod().name("p1.2").namespace("default").uid("p1.2").labels({}).req(SMALL, name="c").priority(LOW).node("node1").phase("Running").obj(),
                MakePod().name("p2.1").namespace("default").uid("p2.1").labels({}).req(LARGE, name="c").priority(HIGH).node("node2").phase("Running").obj(), MakePod().name("p3.1").namespace("default").uid("p3.1").labels({}).req(MEDIUM, name="c").priority(MID).node("node3").phase("Running").obj()]
PREEMPT_CASES = [
    ("basic preemption logic", MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c")
                               .preemption_policy("PreemptLowerPriority").priority(HIGH).status().obj(), "node1",
     ["p1.1", "p1.2"]),
    ("no preempting in pod", MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c")
                             .preemption_policy("Never").priority(HIGH).status().obj(), None, []),
    ("PreemptionPolicy is nil", MakePod().name("p").namespace("default").uid("p").labels({}).req(VERY_LARGE, name="c")
                                .priority(HIGH).status().obj(), "node1", ["p1.1", "p1.2"]),
]


@pytest.mark.parametrize("name, preemptor, want_node, victims", PREEMPT_CASES,
                         ids=[f"TestPreempt / {c[0]}" for c in PREEMPT_CASES])
def test_preempt(name, preemptor, want_node, victims):
    sched, pl, state, pi = build([MakeNode().name(f"node{i}").labels({"kubernetes.io/hostname": f"node{i}"}).spec()
                                  .allocatable({"pods": "32", **VERY_LARGE})
                                  .obj() for i in range(1, 4)], PREEMPT_PODS, preemptor)
    m = NodeToStatus({n: U() for n in ("node1", "node2", "node3")}, Status(UU))
    result, status = pl.evaluator.preempt(state, pi, m)
    client = sched.client
    if want_node is None:
        assert result is None and status.code == UNSCHEDULABLE
        assert status.reasons == ("not eligible due to preemptionPolicy=Never.",)
    else:
        assert status.code == SUCCESS and result.nominating_info.nominated_node_name == want_node
    # Every victim is patched with DisruptionTarget, deleted, and told why.
    cond = {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
            "message": "default-scheduler: preempting to accommodate a higher priority pod"}
    assert client.condition_patches == [(("default", v), cond) for v in victims]
    assert [e for e in client.events if e[2] == "Preempted"] == \
        [(("default", v), "Normal", "Preempted", f"Preempted by pod p on node {want_node}") for v in victims]


def test_preempt_for_topology_spread_constraints():
    """TestPreempt / preemption for topology spread constraints."""
    pods = [_spread_pod("p-a1", HIGH, "node-a"), _spread_pod("p-a2", HIGH, "node-a"),
            _spread_pod("p-b1", LOW, "node-b"), _spread_pod("p-x1", HIGH, "node-x"),
            _spread_pod("p-x2", HIGH, "node-x")]
    sched, pl, state, pi = build(_spread_nodes(), pods, _spread_pod("p", HIGH), plugins=("PodTopologySpread",))
    m = NodeToStatus({n: U() for n in ("node-a", "node-b", "node-x")}, Status(UU))
    result, status = pl.evaluator.preempt(state, pi, m)
    assert status.code == SUCCESS and result.nominating_info.nominated_node_name == "node-b"
    assert [k for k, _ in sched.client.condition_patches] == [("default", "p-b1")]


def test_lower_priority_pods_nominated_to_the_node_lose_the_nomination():
    """prepareCandidate clears the nominatedNodeName of lower-priority pods nominated there."""
    sched, pl, state, pi = build([MakeNode().name("node1").labels({"kubernetes.io/hostname": "node1"}).spec().allocatable({"pods": "32", **VERY_LARGE}).obj()], [MakePod().name("v").namespace("default").uid("v").labels({}).req(LARGE, name="c").priority(LOW).node("node1").phase("Running").obj()], MakePod().name("p").namespace("default").uid("p").labels({}).req(LARGE, name="c").priority(HIGH).status().obj())
    lower = (MakePod().name("lower").namespace("default").uid("lower").labels({}).req(SMALL, name="c").priority(MID)
             .status().obj())
    lower["status"]["nominatedNodeName"] = "node1"
    higher = (MakePod().name("higher").namespace("default").uid("higher").labels({}).req(SMALL, name="c")
              .priority(VERY_HIGH).status().obj())
    higher["status"]["nominatedNodeName"] = "node1"
    for p in (lower, higher):
        sched.queue.add_nominated_pod(PodInfo(p), None)
    result, status = pl.post_filter(state, pi, NodeToStatus({"node1": U()}, Status(UU)))
    assert status.code == SUCCESS and result.nominating_info.nominated_node_name == "node1"
    assert sched.client.status_patches == [(("default", "lower"), None, "")]


# -- args -----------------------------------------------------------------------------------------
def test_args_defaults_and_validation():
    cfg = default_configuration(None)
    [pc] = [pc for pc in cfg["profiles"][0]["pluginConfig"] if pc["name"] == "DefaultPreemption"]
    assert pc["args"] == {"minCandidateNodesPercentage": 10, "minCandidateNodesAbsolute": 100}
    bad = lambda args: {"profiles": [{"pluginConfig": [{"name": "DefaultPreemption", "args": args}]}]}  # noqa: E731
    with pytest.raises(ConfigError) as e:
        default_configuration(bad({"minCandidateNodesPercentage": 101, "minCandidateNodesAbsolute": -1}))
    assert e.value.errors == [
        "profiles[0].pluginConfig[0].args.minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]",
        "profiles[0].pluginConfig[0].args.minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"]
    with pytest.raises(ConfigError) as e:
        default_configuration(bad({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0}))
    assert "cannot be zero at the same time as minCandidateNodesAbsolute" in e.value.errors[0]


@pytest.mark.parametrize("pct, absolute, nodes, want", [(10, 100, 50, 50), (10, 100, 5000, 500), (10, 100, 500, 100),
                                                        (40, 1, 5, 2), (0, 3, 10, 3)])
def test_calculate_num_candidates(pct, absolute, nodes, want):
    _, pl, _, _ = build([MakeNode().name("n").labels({"kubernetes.io/hostname": "n"}).spec().allocatable({"pods": "32", **VERY_LARGE}).obj()], [], MakePod().name("p").namespace("default").uid("p").labels({}).req({}, name="c").priority(HIGH).status().obj(),
                        args={"minCandidateNodesPercentage": pct, "minCandidateNodesAbsolute": absolute})
    assert pl.calculate_num_candidates(nodes) == want


# -- the vectorised pre-check gives what the per-node dry run gives ---------------------------------
_resources = st.sampled_from([SMALL, MEDIUM, LARGE, {"cpu": "100m"}, {}])


@st.composite
def clusters(draw):
    n_nodes = draw(st.integers(1, 40))
    nodes = []
    for i in range(n_nodes):
        cap = draw(st.sampled_from([VERY_LARGE, NODE_RES, {"cpu": "1", "memory": "1000", "pods": "3"}, ONE_POD]))
        nd = (MakeNode().name(f"node{i}").labels({"kubernetes.io/hostname": f"node{i}"}).spec()
              .allocatable({"pods": "32", **cap}))
        if draw(st.booleans()) and draw(st.booleans()):
            nd.taints([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}])
        nodes.append(nd.obj())
    pods = []
    for j in range(draw(st.integers(0, 60))):
        extra = {}
        if draw(st.integers(0, 6)) == 0:
            extra["containers"] = [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}],
                                    "resources": {"requests": dict(draw(_resources))}}]
        priority, requests = draw(st.sampled_from([NEG, LOW, MID, HIGH])), draw(_resources)
        node_name, start = f"node{draw(st.integers(0, n_nodes - 1))}", draw(st.integers(0, 5))
        pods.append(MakePod().name(f"p{j}").namespace("default").uid(f"p{j}").labels({}).req(requests, name="c")
                    .spec(**extra).priority(priority).node(node_name).phase("Running").start_time(timestamp(start)).obj())
    spec = {}
    if draw(st.booleans()):
        spec["containers"] = [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}],
                               "resources": {"requests": dict(draw(_resources))}}]
    if draw(st.booleans()):
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    priority, requests = draw(st.sampled_from([LOW, MID, HIGH, VERY_HIGH])), draw(_resources)
    preemptor = (MakePod().name("incoming").namespace("default").uid("incoming").labels({}).req(requests, name="c")
                 .spec(**spec).priority(priority).status().obj())
    nominated = []
    if draw(st.booleans()):
        priority, requests = draw(st.sampled_from([LOW, VERY_HIGH])), draw(_resources)
        nominated.append((MakePod().name("nominee").namespace("default").uid("nominee").labels({}).req(requests, name="c")
                          .priority(priority).status().obj(), f"node{draw(st.integers(0, n_nodes - 1))}"))
    return nodes, pods, preemptor, nominated, draw(st.integers(0, 39)), draw(st.integers(1, 5))


def _table_columns(table) -> dict:
    cols = {f"requested.{k}": v[:table.high].copy() for k, v in table.requested.items()}
    cols.update({f"free.{k}": v[:table.high].copy() for k, v in table.free.items()})
    for k in ("pod_count", "pods_free", "non0_cpu", "non0_mem"):
        cols[k] = getattr(table, k)[:table.high].copy()
    return cols


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_bulk_dry_run_agrees_with_the_per_node_dry_run(cluster):
    """select_victims_in_bulk (vectorised) and select_victims_on_node give the same candidates,
    victims and statuses, batch after batch, and the NodeTable is left as it was."""
    nodes, pods, preemptor, nominated, offset, num = cluster
    answers = []
    for vectorised in (True, False):
        sched, pl, state, pi = build(nodes, pods, preemptor,
                                     plugins=("NodeUnschedulable", "TaintToleration", "NodePorts", "NodeResourcesFit"))
        for p, n in nominated:
            sched.queue.add_nominated_pod(PodInfo(p), type("NI", (), {"mode": MODE_OVERRIDE, "nominated_node_name": n})())
        pl.vectorised = vectorised
        infos = sched.cache.node_infos()
        before = _table_columns(sched.cache.table)
        candidates, statuses, err = pl.evaluator.dry_run_preemption(state, pi, infos, offset % len(infos), num)
        after = _table_columns(sched.cache.table)
        assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)
        answers.append(([(c.name, [p.name for p in c.victims.pods]) for c in candidates],
                        {n: (s.code, s.reasons) for n, s in statuses.items()}, err))
    assert answers[0] == answers[1]


# -- end to end in a Cluster ------------------------------------------------------------------------
PC = {"group": "scheduling.k8s.io", "version": "v1", "resource": "priorityclasses"}


def create_pc(c, name, value, **fields):
    return ok(c.request({**PC, "verb": "create",
                         "body": MakePriorityClass().name(name).value(value).fields(**fields).manifest()}))


def events(c, reason, name=None):
    sel = f"reason={reason}" + (f",involvedObject.name={name}" if name else "")
    return ok(c.request({"verb": "list", "resource": "events", "namespace": "default",
                         "query": {"fieldSelector": sel}}))["items"]


def history(c, name: str, since: str) -> list[tuple[str, dict]]:
    """Every change to pod `name` after resourceVersion `since` (a watch from there)."""
    resp = c.request({"verb": "watch", "resource": "pods", "namespace": "default",
                      "query": {"resourceVersion": since, "fieldSelector": f"metadata.name={name}"}})
    assert resp["code"] == 200, resp
    return [(e["type"], e["object"]) for e in resp["events"]]


def list_rv(c) -> str:
    return ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["metadata"]["resourceVersion"]


@pytest.fixture
def full_cluster():
    """The 3 workers (4 CPU each) too full for a 2-CPU pod: worker-1 and worker-2 hold two
    2-CPU mid-priority pods each, worker-3 a 2-CPU mid- and a 1-CPU low-priority pod.  Without
    the CoreDNS addon (kubeadm --skip-phases=addon/coredns), whose 100m requests would take a
    worker's last room, and with the bridge CNI plugin (no DaemonSet: flannel's pod asks 100m of
    every node)."""
    config = ClusterConfig.default(seed=3)
    config.skip_phases = ["addon/coredns"]
    config.cni = "bridge"
    cluster = Cluster("t", config)
    cluster.advance(20)
    create_pc(cluster, "low", 100)
    create_pc(cluster, "mid", 1000)
    create_pc(cluster, "high", 100000)
    create_pc(cluster, "high-no-preemption", 100000, preemptionPolicy="Never")
    layout = [("mid-1", "mid", "worker-1"), ("mid-2", "mid", "worker-1"), ("mid-3", "mid", "worker-2"),
              ("mid-4", "mid", "worker-2"), ("mid-5", "mid", "worker-3"), ("low-1", "low", "worker-3")]
    for name, pc, where in layout:
        ok(create_pod(cluster, name, cpu="1" if pc == "low" else "2", priorityClassName=pc,
                      nodeSelector={"kubernetes.io/hostname": where}))
    advance_until(cluster, lambda: all(ok(get_pod(cluster, n))["status"].get("phase") == "Running"
                                       for n, _, _ in layout), 30)
    return cluster


def test_a_high_priority_pod_evicts_the_lowest_priority_pod_and_runs_in_its_place(full_cluster):
    c = full_cluster
    since = list_rv(c)
    urgent = ok(create_pod(c, "urgent", cpu="2", priorityClassName="high"))
    advance_until(c, lambda: ok(get_pod(c, "urgent"))["status"].get("nominatedNodeName"), 10, step=0.01)
    p = ok(get_pod(c, "urgent"))
    assert p["status"]["nominatedNodeName"] == "worker-3" and not p["spec"].get("nodeName")
    # The attempt: no preemption part in the message (preemption succeeded); the explanation
    # says Nominated.
    assert events(c, "FailedScheduling", "urgent")[0]["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 Insufficient cpu.")
    e = c.scheduling_explanation("default", "urgent")
    assert e["result"] == "Nominated" and e["nominatedNode"] == "worker-3" and e["node"] is None
    assert "preemption nominated worker-3" in e["why"]
    # worker-1 and worker-2 would need a mid-priority victim; worker-3 only low-1, which gets
    # the DisruptionTarget condition, is deleted gracefully, and is gone once its kubelet
    # stopped it.
    advance_until(c, lambda: get_pod(c, "low-1")["code"] == 404, 35)
    changes = history(c, "low-1", since)
    cond_at = next(i for i, (_, o) in enumerate(changes)
                   if any(x["type"] == "DisruptionTarget" for x in o["status"].get("conditions") or []))
    delete_at = next(i for i, (_, o) in enumerate(changes) if o["metadata"].get("deletionTimestamp"))
    assert cond_at < delete_at and changes[-1][0] == "DELETED"
    # The kubelet's status updates while the victim terminates keep the condition: it owns
    # the other conditions only (kubelet_pods.go generateAPIPodStatus) and patches strategically.
    assert len(changes) - cond_at > 3, changes
    assert all(any(x["type"] == "DisruptionTarget" for x in o["status"].get("conditions") or [])
               for _, o in changes[cond_at:]), [[x["type"] for x in o["status"]["conditions"]] for _, o in changes]
    # In the kubelet's order ($setElementOrder), the condition it does not own after its own.
    assert [x["type"] for x in changes[-1][1]["status"]["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled", "DisruptionTarget"]
    victim = changes[delete_at][1]
    cond = next(x for x in victim["status"]["conditions"] if x["type"] == "DisruptionTarget")
    assert (cond["status"], cond["reason"], cond["message"]) == \
        ("True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    assert victim["metadata"]["deletionGracePeriodSeconds"] == 30
    [ev] = events(c, "Preempted", "low-1")
    assert ev["message"] == f"Preempted by pod {urgent['metadata']['uid']} on node worker-3" and ev["type"] == "Normal"
    # Then the preemptor runs on the node; nothing else was evicted.
    advance_until(c, lambda: ok(get_pod(c, "urgent"))["status"].get("phase") == "Running", 10)
    assert ok(get_pod(c, "urgent"))["spec"]["nodeName"] == "worker-3"
    assert all(ok(get_pod(c, f"mid-{i}"))["status"]["phase"] == "Running" for i in range(1, 6))
    assert len(events(c, "Preempted")) == 1
    e = c.scheduling_explanation("default", "urgent")
    assert e["result"] == "Scheduled" and e["node"] == "worker-3"
    assert e["why"] == "worker-3 is the node preemption nominated for the pod, and it passes every filter now"


def test_preemption_policy_never_does_not_preempt(full_cluster):
    c = full_cluster
    ok(create_pod(c, "polite", cpu="2", priorityClassName="high-no-preemption"))
    advance_until(c, lambda: events(c, "FailedScheduling", "polite"), 10)
    c.advance(5)
    p = ok(get_pod(c, "polite"))
    assert p["spec"]["preemptionPolicy"] == "Never" and p["spec"]["priority"] == 100000
    assert p["status"]["phase"] == "Pending" and not p["status"].get("nominatedNodeName")
    assert events(c, "FailedScheduling", "polite")[0]["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    assert not events(c, "Preempted")
    assert not ok(get_pod(c, "low-1"))["metadata"].get("deletionTimestamp")
    assert c.scheduling_explanation("default", "polite")["result"] == "Unschedulable"


def test_a_pod_of_the_lowest_priority_finds_no_victims(full_cluster):
    c = full_cluster
    ok(create_pod(c, "peer", cpu="2", priorityClassName="low"))
    advance_until(c, lambda: events(c, "FailedScheduling", "peer"), 10)
    assert events(c, "FailedScheduling", "peer")[0]["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, "
        "3 No preemption victims found for incoming pod.")
    assert not events(c, "Preempted")


def test_the_nominated_nodes_room_is_held_for_the_preemptor(full_cluster):
    """worker-3 has 1 CPU free while its victim terminates.  A 1-CPU pod of lower priority than
    the preemptor would fit there, but the filters count the nominated preemptor on the node
    (addNominatedPods), so it stays Pending and the preemptor gets the room.  (worker-3 is
    powered off first so that the victim stays Terminating: victims of a live kubelet are gone
    within a second.)"""
    c = full_cluster
    c.kill_node("worker-3")
    ok(create_pod(c, "urgent", cpu="2", priorityClassName="high"))
    advance_until(c, lambda: ok(get_pod(c, "urgent"))["status"].get("nominatedNodeName") == "worker-3", 10)
    advance_until(c, lambda: ok(get_pod(c, "low-1"))["metadata"].get("deletionTimestamp"), 5)
    ok(create_pod(c, "sneaky", cpu="1"))
    advance_until(c, lambda: events(c, "FailedScheduling", "sneaky"), 5)
    assert events(c, "FailedScheduling", "sneaky")[0]["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, "
        "3 No preemption victims found for incoming pod.")
    c.restore_node("worker-3")
    advance_until(c, lambda: ok(get_pod(c, "urgent"))["status"].get("phase") == "Running", 60)
    c.advance(5)
    assert ok(get_pod(c, "urgent"))["spec"]["nodeName"] == "worker-3"
    sneaky = ok(get_pod(c, "sneaky"))
    assert not sneaky["spec"].get("nodeName") and sneaky["status"]["phase"] == "Pending"
