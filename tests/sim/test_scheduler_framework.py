"""The framework as a KubeSchedulerConfiguration sets it up (defaults, overrides, profiles), and
what a failed attempt says: upstream's FitError text, with the PostFilter part only when a
PostFilter plugin ran."""
import random

import pytest

from sim.scheduler import plugins as registry
from sim.scheduler.framework.config import ConfigError, default_configuration
from sim.scheduler.framework.interface import UNSCHEDULABLE, PostFilterPlugin, Status
from sim.scheduler.scheduler import ImmediateClient, Scheduler, load_configuration, num_feasible_nodes_to_find
from tests.builders import MakeNode, MakePod


def scheduler(config=None):
    return Scheduler(config, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(1))


GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def five_nodes(sched):
    """2 small nodes (no room for a 2-CPU pod), 3 GPU nodes the pod does not tolerate."""
    for i in range(2):
        sched.add_node(MakeNode().name(f"small-{i}").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    for i in range(3):
        sched.add_node(MakeNode().name(f"gpu-{i}").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "8", "memory": "4Gi", "pods": "110"}).obj())


# -- configuration ---------------------------------------------------------------------------
def test_default_profile_has_upstreams_plugins_order_and_weights():
    prof = scheduler().profiles["default-scheduler"].describe()
    assert prof["queueSort"] == ["PrioritySort"] and prof["bind"] == ["DefaultBinder"]
    assert prof["filter"][:6] == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                  "NodePorts", "NodeResourcesFit"]
    weights = {s["name"]: s["weight"] for s in prof["score"]}
    expected = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}
    for name, w in (("PodTopologySpread", 2), ("InterPodAffinity", 2)):
        if registry.available(name):
            expected[name] = w
    assert weights == expected
    assert prof["percentageOfNodesToScore"] == 0


def test_configuration_defaults_are_upstreams_v1_defaults():
    cfg = default_configuration(None)
    assert (cfg["apiVersion"], cfg["kind"]) == ("kubescheduler.config.k8s.io/v1", "KubeSchedulerConfiguration")
    assert (cfg["percentageOfNodesToScore"], cfg["podInitialBackoffSeconds"], cfg["podMaxBackoffSeconds"]) == (0, 1, 10)
    [prof] = cfg["profiles"]
    assert prof["schedulerName"] == "default-scheduler"
    args = {pc["name"]: pc["args"] for pc in prof["pluginConfig"]}
    assert args["NodeResourcesFit"]["scoringStrategy"] == {
        "type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]}
    assert args["NodeResourcesBalancedAllocation"] == {"resources": [{"name": "cpu", "weight": 1},
                                                                      {"name": "memory", "weight": 1}]}


def test_a_plugin_disabled_at_one_extension_point_keeps_the_others():
    sched = scheduler({"profiles": [{"plugins": {"score": {"disabled": [{"name": "TaintToleration"}]}}}]})
    prof = sched.profiles["default-scheduler"].describe()
    assert "TaintToleration" in prof["filter"]
    assert "TaintToleration" not in [s["name"] for s in prof["score"]]


def test_an_explicit_score_entry_overrides_the_multipoint_weight_and_goes_first():
    sched = scheduler({"profiles": [{"plugins": {"score": {"enabled": [{"name": "NodeAffinity", "weight": 5}]}}}]})
    score = sched.profiles["default-scheduler"].describe()["score"]
    assert score[0] == {"name": "NodeAffinity", "weight": 5}
    assert [s["name"] for s in score].count("NodeAffinity") == 1


@pytest.mark.parametrize("cfg, error", [
    ({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "NoSuchPlugin"}]}}}]}, 'FilterPlugin "NoSuchPlugin" does not exist'),
    ({"profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "NoSuchPlugin"}]}}}]}, 'PreFilterPlugin "NoSuchPlugin" does not exist'),
    ({"profiles": [{"plugins": {"score": {"enabled": [{"name": "NodeName"}]}}}]}, 'plugin "NodeName" does not extend ScorePlugin plugin'),
    ({"percentageOfNodesToScore": 101}, "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"),
    ({"podInitialBackoffSeconds": 5, "podMaxBackoffSeconds": 2}, "podMaxBackoffSeconds: Invalid value: 2"),
    ({"profiles": [{"schedulerName": "a"}, {"schedulerName": "a"}]}, 'profiles[1].schedulerName: Duplicate value: "a"'),
    ({"profiles": [{"schedulerName": "a"}, {}]}, "profiles[1].schedulerName: Required value"),
    ({"profiles": [{"plugins": {"queueSort": {"disabled": [{"name": "*"}]}, "multiPoint": {"disabled": [{"name": "PrioritySort"}]}}}]},
     'only one queue sort plugin required for profile with scheduler name "default-scheduler", but got 0'),
    ({"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "Fancy"}}}]}]},
     'scoringStrategy.type: Unsupported value: "Fancy"'),
    ({"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {
        "type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 3},
                                                                                   {"utilization": 10, "score": 5}]}}}}]}]},
     "utilization values must be sorted in increasing order"),
    ({"kind": "Pod"}, 'kind: Unsupported value: "Pod"'),
])
def test_bad_configurations_are_refused_with_upstreams_words(cfg, error):
    with pytest.raises(ConfigError) as e:
        load_configuration(cfg)
    assert error in str(e.value)


def test_pods_choose_their_profile_by_scheduler_name():
    cfg = {"profiles": [{"schedulerName": "default-scheduler"},
                        {"schedulerName": "bin-packer", "pluginConfig": [{"name": "NodeResourcesFit", "args": {
                            "scoringStrategy": {"type": "MostAllocated"}}}]}]}
    sched = scheduler(cfg)
    for i in range(3):
        sched.add_node(MakeNode().name(f"n{i}").labels({}).taints([]).allocatable({"cpu": "4", "memory": "4Gi", "pods": "110"}).obj())
    for i in range(3):
        sched.add_pod(MakePod().name(f"packed-{i}").namespace("default").uid(f"packed-{i}").container(name="c", cpu="1", memory="100Mi").scheduler_name("bin-packer").obj())
        sched.schedule_one()
    assert len({sched.client.bound[("default", f"packed-{i}")] for i in range(3)}) == 1
    for i in range(2):
        sched.add_pod(MakePod().name(f"spread-{i}").namespace("default").uid(f"spread-{i}").container(name="c", cpu="1", memory="100Mi").obj())
        sched.schedule_one()
    spread = {sched.client.bound[("default", f"spread-{i}")] for i in range(2)}
    assert len(spread) == 2 and sched.client.bound[("default", "packed-0")] not in spread


def test_adaptive_percentage_of_nodes_to_score():
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(100) == 100      # 49% would be < 100
    assert num_feasible_nodes_to_find(1000) == 420     # 50 - 1000/125 = 42%
    assert num_feasible_nodes_to_find(5000) == 500     # 50 - 40 = 10%
    assert num_feasible_nodes_to_find(6000) == 300     # the floor of 5%
    assert num_feasible_nodes_to_find(1000, 10) == 100
    assert num_feasible_nodes_to_find(1000, 5) == 100  # at least 100 nodes


def test_percentage_of_nodes_to_score_limits_the_nodes_evaluated():
    sched = scheduler({"percentageOfNodesToScore": 20})
    for i in range(1000):
        sched.add_node(MakeNode().name(f"n{i:04d}").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="1", memory="100Mi").obj())
    sched.schedule_one()
    e = sched.explanation("default", "p")
    assert (e["numEvaluated"], e["numFeasible"]) == (200, 200)


# -- FailedScheduling messages -----------------------------------------------------------------
class FakePreemption(PostFilterPlugin):
    name = "FakePreemption"

    def post_filter(self, state, pod, node_to_status):
        n = len(self.handle.snapshot.node_infos())
        return None, Status(UNSCHEDULABLE, (f"preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod.",))


@pytest.fixture
def fake_post_filter(monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, "FakePreemption", "tests.sim.test_scheduler_framework:FakePreemption")
    monkeypatch.setitem(registry._loaded, "FakePreemption", FakePreemption)


NO_PREEMPTION = {"postFilter": {"disabled": [{"name": "DefaultPreemption"}]}}


def test_failed_scheduling_message_without_post_filter():
    sched = scheduler({"profiles": [{"plugins": NO_PREEMPTION}]})
    five_nodes(sched)
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="2", memory="100Mi").obj())
    sched.schedule_one()
    expected = "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {dedicated: gpu}."
    [(key, type_, reason, message)] = sched.client.events
    assert (key, type_, reason, message) == (("default", "p"), "Warning", "FailedScheduling", expected)
    [(_, condition, nominated)] = sched.client.status_patches
    assert condition == {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": expected}
    assert nominated is None


def test_failed_scheduling_message_with_a_post_filter_has_its_part(fake_post_filter):
    sched = scheduler({"profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "FakePreemption"}]}, **NO_PREEMPTION}}]})
    five_nodes(sched)
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="2", memory="100Mi").obj())
    sched.schedule_one()
    assert sched.client.events[0][3] == (
        "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.")


def test_histogram_sorts_counts_as_strings_like_go():
    sched = scheduler()
    for i in range(10):
        sched.add_node(MakeNode().name(f"small-{i}").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    for i in range(2):
        sched.add_node(MakeNode().name(f"gpu-{i}").labels({}).taints([GPU_TAINT]).allocatable({"cpu": "8", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="2", memory="100Mi").obj())
    sched.schedule_one()
    assert sched.client.events[0][3] == (
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/12 nodes are available: 10 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling.")


def test_a_prefilter_rejection_is_the_whole_message():
    sched = scheduler()
    five_nodes(sched)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["small-0"]},
                         {"key": "metadata.name", "operator": "In", "values": ["small-1"]}]}]}}}
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="1", memory="100Mi").affinity(affinity).obj())
    sched.schedule_one()
    assert sched.client.events[0][3] == ("0/5 nodes are available: pod affinity terms conflict. "
                                         "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.")
    e = sched.explanation("default", "p")
    assert e["prefilter"]["plugin"] == "NodeAffinity" and e["numEvaluated"] == 0
    assert e["why"].startswith("the NodeAffinity plugin rejected the pod before any node was considered")


def test_nodes_a_prefilter_result_left_out_are_counted_as_absent():
    sched = scheduler()
    five_nodes(sched)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["small-0"]}]}]}}}
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="2", memory="100Mi").affinity(affinity).obj())
    sched.schedule_one()
    assert sched.client.events[0][3] == (
        "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, "
        "4 Preemption is not helpful for scheduling.")


def test_no_nodes_at_all():
    sched = scheduler()
    sched.add_pod(MakePod().name("p").namespace("default").uid("p").container(name="c", cpu="1", memory="100Mi").obj())
    sched.schedule_one()
    assert sched.client.events[0][3] == "no nodes available to schedule pods"
    assert sched.queue.backoff_map   # an error, not a rejection: retried after backoff


def test_long_messages_are_truncated_to_the_event_note_limit():
    from sim.scheduler.scheduler import truncate_message
    assert truncate_message("x" * 1024) == "x" * 1024
    cut = truncate_message("x" * 2000)
    assert len(cut) == 1024 and cut.endswith(" ...")
