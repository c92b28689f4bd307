"""The scheduling queue as upstream's: activeQ order, backoff timing, event-filtered moves out of
the unschedulable pods, the 5-minute flush, nominated pods."""
import random

import pytest

from sim.scheduler.framework import interface as fw
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.queue import QueuedPodInfo
from sim.scheduler.scheduler import ImmediateClient, Scheduler
from tests.builders import MakeNode, MakePod


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def env():
    clock = Clock()
    sched = Scheduler(None, ImmediateClient(), clock=clock, rng=random.Random(1))
    return sched, clock


def where(sched, name) -> str:
    key = ("default", name)
    q = sched.queue
    if key in q.active_map:
        return "active"
    if key in q.backoff_map:
        return "backoff"
    if key in q.unschedulable:
        return "unschedulable"
    return "bound" if key in sched.client.bound else "nowhere"


def test_active_queue_pops_higher_priority_first_then_oldest(env):
    sched, clock = env
    for name, prio in (("low", 0), ("high", 1000), ("mid", 10)):
        sched.add_pod(MakePod().name(name).namespace("default").uid(name).priority(prio).container(name="c", cpu="1").obj())
        clock.t += 1
    sched.add_pod(MakePod().name("high-later").namespace("default").uid("high-later").priority(1000).container(name="c", cpu="1").obj())
    order = []
    while (qpi := sched.queue.pop()) is not None:
        order.append(qpi.pod_info.name)
    assert order == ["high", "high-later", "mid", "low"]


def test_backoff_doubles_from_one_second_to_ten(env):
    sched, _ = env
    qpi = QueuedPodInfo(PodInfo(MakePod().name("p").namespace("default").uid("p").priority(0).container(name="c", cpu="1").obj()), 0.0)
    durations = []
    for attempts in range(1, 8):
        qpi.attempts = attempts
        durations.append(sched.queue.backoff_duration(qpi))
    assert durations == [1, 2, 4, 8, 10, 10, 10]


def test_unschedulable_pod_moves_through_backoff_when_a_fitting_node_arrives(env):
    sched, clock = env
    sched.add_node(MakeNode().name("small").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").priority(0).container(name="c", cpu="2").obj())
    assert sched.schedule_one()
    assert where(sched, "big") == "unschedulable"
    assert sched.queue.unschedulable[("default", "big")].unschedulable_plugins == {"NodeResourcesFit"}
    clock.t = 0.5
    sched.add_node(MakeNode().name("large").labels({}).taints([]).allocatable({"cpu": "4", "memory": "4Gi", "pods": "110"}).obj())             # NodeAdd: NodeResourcesFit's hint says Queue
    assert where(sched, "big") == "backoff"            # attempt 1: backoff until t=1.0
    clock.t = 0.99
    sched.queue.flush_backoff_q_completed()
    assert where(sched, "big") == "backoff"
    clock.t = 1.01
    sched.queue.flush_backoff_q_completed()
    assert where(sched, "big") == "active"
    assert sched.schedule_one() and sched.client.bound[("default", "big")] == "large"


def test_an_event_after_backoff_expired_goes_straight_to_active(env):
    sched, clock = env
    sched.add_node(MakeNode().name("small").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").priority(0).container(name="c", cpu="2").obj())
    sched.schedule_one()
    clock.t = 5.0
    sched.add_node(MakeNode().name("large").labels({}).taints([]).allocatable({"cpu": "4", "memory": "4Gi", "pods": "110"}).obj())
    assert where(sched, "big") == "active"


def test_a_pod_rejected_by_resources_ignores_label_changes_but_not_allocatable_changes(env):
    sched, clock = env
    old = MakeNode().name("n1").labels({"disk": "hdd"}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj()
    sched.add_node(old)
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").priority(0).container(name="c", cpu="2").obj())
    sched.schedule_one()
    clock.t = 20
    relabelled = MakeNode().name("n1").labels({"disk": "ssd"}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(old, relabelled)                  # NodeLabelChange: not NodeResourcesFit's event
    assert where(sched, "big") == "unschedulable"
    tainted = MakeNode().name("n1").labels({"disk": "ssd"}).taints([{"key": "k", "effect": "NoSchedule"}]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(relabelled, tainted)              # NodeTaintChange: not either
    assert where(sched, "big") == "unschedulable"
    grown = MakeNode().name("n1").labels({"disk": "ssd"}).taints([]).allocatable({"cpu": "4", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(tainted, grown)                   # NodeAllocatableChange (and the taint is gone)
    assert where(sched, "big") == "active"


def test_a_pod_rejected_by_resources_moves_when_an_assigned_pod_is_deleted(env):
    sched, clock = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    bound = MakePod().name("hog").namespace("default").uid("hog").priority(0).container(name="c", cpu="2").obj()
    bound["spec"]["nodeName"] = "n1"
    sched.add_pod(bound)
    sched.add_pod(MakePod().name("waiting").namespace("default").uid("waiting").priority(0).container(name="c", cpu="1").obj())
    sched.schedule_one()
    assert where(sched, "waiting") == "unschedulable"
    clock.t = 30
    sched.delete_pod(bound)                             # AssignedPodDelete frees the room
    assert where(sched, "waiting") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "waiting")] == "n1"


def test_a_pod_rejected_by_node_affinity_moves_only_when_a_label_makes_it_match(env):
    sched, clock = env
    old = MakeNode().name("n1").labels({"disk": "hdd"}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj()
    sched.add_node(old)
    sched.add_pod(MakePod().name("picky").namespace("default").uid("picky").priority(0).container(name="c", cpu="1").node_selector({"disk": "ssd"}).obj())
    sched.schedule_one()
    assert sched.queue.unschedulable[("default", "picky")].unschedulable_plugins == {"NodeAffinity"}
    clock.t = 20
    grown = MakeNode().name("n1").labels({"disk": "hdd"}).taints([]).allocatable({"cpu": "8", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(old, grown)                       # allocatable: not NodeAffinity's event
    assert where(sched, "picky") == "unschedulable"
    other = MakeNode().name("n1").labels({"disk": "hdd", "team": "x"}).taints([]).allocatable({"cpu": "8", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(grown, other)                     # a label, but the selector still fails: hint skips
    assert where(sched, "picky") == "unschedulable"
    ssd = MakeNode().name("n1").labels({"disk": "ssd"}).taints([]).allocatable({"cpu": "8", "memory": "4Gi", "pods": "110"}).obj()
    sched.update_node(other, ssd)
    assert where(sched, "picky") == "active"


def test_a_heartbeat_that_changes_nothing_moves_nothing(env):
    sched, clock = env
    n = MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj()
    sched.add_node(n)
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").priority(0).container(name="c", cpu="2").obj())
    sched.schedule_one()
    clock.t = 20
    beat = dict(n, status=dict(n["status"], conditions=[{"type": "Ready", "status": "True",
                                                          "lastHeartbeatTime": "2026-01-01T00:00:20Z"}]))
    sched.update_node(n, beat)                          # NodeConditionChange: nobody registered it
    assert where(sched, "big") == "unschedulable"


def test_unschedulable_pods_are_flushed_after_five_minutes(env):
    sched, clock = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("big").namespace("default").uid("big").priority(0).container(name="c", cpu="2").obj())
    sched.schedule_one()
    for t in range(30, 301, 30):                       # the 30 s flush, up to exactly 300 s
        clock.t = t
        sched.queue.flush_unschedulable_pods_leftover()
        assert where(sched, "big") == "unschedulable", t
    clock.t = 330
    sched.queue.flush_unschedulable_pods_leftover()
    assert where(sched, "big") == "active"              # backoff (1 s) long over
    sched.schedule_one()
    assert sched.queue.unschedulable[("default", "big")].attempts == 2


def test_pods_for_another_scheduler_are_left_alone(env):
    sched, _ = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_pod(MakePod().name("mine").namespace("default").uid("mine").priority(0).container(name="c", cpu="1").obj())
    sched.add_pod(MakePod().name("theirs").namespace("default").uid("theirs").priority(0).container(name="c", cpu="1").scheduler_name("my-custom-scheduler").obj())
    while sched.schedule_one():
        pass
    assert sched.client.bound == {("default", "mine"): "n1"}
    assert where(sched, "theirs") == "nowhere"


def test_nominated_pods_hold_their_room_against_lower_priority_pods(env):
    sched, _ = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("n2").labels({}).taints([]).allocatable({"cpu": "1", "memory": "4Gi", "pods": "110"}).obj())
    high = PodInfo(MakePod().name("high").namespace("default").uid("high").priority(1000).container(name="c", cpu="2").obj())
    sched.queue.add_nominated_pod(high, fw.NominatingInfo("n1", fw.MODE_OVERRIDE))
    assert [p.name for p in sched.queue.nominated_pods_for_node("n1")] == ["high"]
    for vectorised in (True, False):
        sched.vectorised = vectorised
        sched.add_pod(MakePod().name(f"low-{vectorised}").namespace("default").uid(f"low-{vectorised}").priority(0).container(name="c", cpu="1").obj())
        sched.schedule_one()
        # n1 is kept for the nominated pod, so the low one goes to n2 ...
        assert sched.client.bound[("default", f"low-{vectorised}")] == "n2"
        sched.delete_pod(dict(MakePod().name(f"low-{vectorised}").namespace("default").uid(f"low-{vectorised}").priority(0).container(name="c", cpu="1").obj(), spec=dict(MakePod().name(f"low-{vectorised}").namespace("default").uid(f"low-{vectorised}").priority(0).container(name="c", cpu="1").obj()["spec"], nodeName="n2")))
    # ... while a pod of equal or higher priority may take it.
    sched.add_pod(MakePod().name("peer").namespace("default").uid("peer").priority(1000).container(name="c", cpu="1").obj())
    sched.add_pod(MakePod().name("other-high").namespace("default").uid("other-high").priority(2000).container(name="c", cpu="2").obj())
    sched.schedule_one()
    assert sched.client.bound[("default", "other-high")] == "n1"
    sched.queue.delete_nominated_pod_if_exists(high.key)
    assert sched.queue.nominated_pods_for_node("n1") == []


def test_a_gated_pod_waits_until_its_gates_are_removed(env):
    sched, _ = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    gated = MakePod().name("gated").namespace("default").uid("gated").priority(0).container(name="c", cpu="1").spec(schedulingGates=[{"name": "example.com/ready"}]).obj()
    sched.add_pod(gated)
    assert where(sched, "gated") == "unschedulable" and not sched.schedule_one()
    assert sched.queue.unschedulable[("default", "gated")].message == "waiting for scheduling gates: [example.com/ready]"
    sched.update_pod(gated, MakePod().name("gated").namespace("default").uid("gated").priority(0).container(name="c", cpu="1").obj())
    assert where(sched, "gated") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "gated")] == "n1"


def test_a_pod_rewound_to_unbound_is_scheduled_again(env):
    """An etcd snapshot restore can hand the informer a pod that was bound as unbound again."""
    sched, _ = env
    sched.add_node(MakeNode().name("n1").labels({}).taints([]).allocatable({"cpu": "2", "memory": "4Gi", "pods": "110"}).obj())
    bound = MakePod().name("p").namespace("default").uid("p").priority(0).container(name="c", cpu="2").obj()
    bound["spec"]["nodeName"] = "n1"
    sched.add_pod(bound)
    sched.update_pod(bound, MakePod().name("p").namespace("default").uid("p").priority(0).container(name="c", cpu="2").obj())
    assert where(sched, "p") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "p")] == "n1"
