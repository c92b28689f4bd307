"""The scheduling queue as upstream's: activeQ order, backoff timing, event-filtered moves out of
the unschedulable pods, the 5-minute flush, nominated pods."""
import random

import pytest

from sim.scheduler.framework import interface as fw
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.queue import QueuedPodInfo
from sim.scheduler.scheduler import ImmediateClient, Scheduler


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def node(name, cpu="2", labels=None, taints=None, pods="110"):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": pods}}}


def pod(name, cpu="1", priority=0, **spec):
    return {"metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": {"priority": priority, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}], **spec}}


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
        sched.add_pod(pod(name, priority=prio))
        clock.t += 1
    sched.add_pod(pod("high-later", priority=1000))
    order = []
    while (qpi := sched.queue.pop()) is not None:
        order.append(qpi.pod_info.name)
    assert order == ["high", "high-later", "mid", "low"]


def test_backoff_doubles_from_one_second_to_ten(env):
    sched, _ = env
    qpi = QueuedPodInfo(PodInfo(pod("p")), 0.0)
    durations = []
    for attempts in range(1, 8):
        qpi.attempts = attempts
        durations.append(sched.queue.backoff_duration(qpi))
    assert durations == [1, 2, 4, 8, 10, 10, 10]


def test_unschedulable_pod_moves_through_backoff_when_a_fitting_node_arrives(env):
    sched, clock = env
    sched.add_node(node("small", cpu="1"))
    sched.add_pod(pod("big", cpu="2"))
    assert sched.schedule_one()
    assert where(sched, "big") == "unschedulable"
    assert sched.queue.unschedulable[("default", "big")].unschedulable_plugins == {"NodeResourcesFit"}
    clock.t = 0.5
    sched.add_node(node("large", cpu="4"))             # NodeAdd: NodeResourcesFit's hint says Queue
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
    sched.add_node(node("small", cpu="1"))
    sched.add_pod(pod("big", cpu="2"))
    sched.schedule_one()
    clock.t = 5.0
    sched.add_node(node("large", cpu="4"))
    assert where(sched, "big") == "active"


def test_a_pod_rejected_by_resources_ignores_label_changes_but_not_allocatable_changes(env):
    sched, clock = env
    old = node("n1", cpu="1", labels={"disk": "hdd"})
    sched.add_node(old)
    sched.add_pod(pod("big", cpu="2"))
    sched.schedule_one()
    clock.t = 20
    relabelled = node("n1", cpu="1", labels={"disk": "ssd"})
    sched.update_node(old, relabelled)                  # NodeLabelChange: not NodeResourcesFit's event
    assert where(sched, "big") == "unschedulable"
    tainted = node("n1", cpu="1", labels={"disk": "ssd"}, taints=[{"key": "k", "effect": "NoSchedule"}])
    sched.update_node(relabelled, tainted)              # NodeTaintChange: not either
    assert where(sched, "big") == "unschedulable"
    grown = node("n1", cpu="4", labels={"disk": "ssd"})
    sched.update_node(tainted, grown)                   # NodeAllocatableChange (and the taint is gone)
    assert where(sched, "big") == "active"


def test_a_pod_rejected_by_resources_moves_when_an_assigned_pod_is_deleted(env):
    sched, clock = env
    sched.add_node(node("n1", cpu="2"))
    bound = pod("hog", cpu="2")
    bound["spec"]["nodeName"] = "n1"
    sched.add_pod(bound)
    sched.add_pod(pod("waiting", cpu="1"))
    sched.schedule_one()
    assert where(sched, "waiting") == "unschedulable"
    clock.t = 30
    sched.delete_pod(bound)                             # AssignedPodDelete frees the room
    assert where(sched, "waiting") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "waiting")] == "n1"


def test_a_pod_rejected_by_node_affinity_moves_only_when_a_label_makes_it_match(env):
    sched, clock = env
    old = node("n1", labels={"disk": "hdd"})
    sched.add_node(old)
    sched.add_pod(pod("picky", nodeSelector={"disk": "ssd"}))
    sched.schedule_one()
    assert sched.queue.unschedulable[("default", "picky")].unschedulable_plugins == {"NodeAffinity"}
    clock.t = 20
    grown = node("n1", cpu="8", labels={"disk": "hdd"})
    sched.update_node(old, grown)                       # allocatable: not NodeAffinity's event
    assert where(sched, "picky") == "unschedulable"
    other = node("n1", cpu="8", labels={"disk": "hdd", "team": "x"})
    sched.update_node(grown, other)                     # a label, but the selector still fails: hint skips
    assert where(sched, "picky") == "unschedulable"
    ssd = node("n1", cpu="8", labels={"disk": "ssd"})
    sched.update_node(other, ssd)
    assert where(sched, "picky") == "active"


def test_a_heartbeat_that_changes_nothing_moves_nothing(env):
    sched, clock = env
    n = node("n1", cpu="1")
    sched.add_node(n)
    sched.add_pod(pod("big", cpu="2"))
    sched.schedule_one()
    clock.t = 20
    beat = dict(n, status=dict(n["status"], conditions=[{"type": "Ready", "status": "True",
                                                          "lastHeartbeatTime": "2026-01-01T00:00:20Z"}]))
    sched.update_node(n, beat)                          # NodeConditionChange: nobody registered it
    assert where(sched, "big") == "unschedulable"


def test_unschedulable_pods_are_flushed_after_five_minutes(env):
    sched, clock = env
    sched.add_node(node("n1", cpu="1"))
    sched.add_pod(pod("big", cpu="2"))
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
    sched.add_node(node("n1"))
    sched.add_pod(pod("mine"))
    sched.add_pod(pod("theirs", schedulerName="my-custom-scheduler"))
    while sched.schedule_one():
        pass
    assert sched.client.bound == {("default", "mine"): "n1"}
    assert where(sched, "theirs") == "nowhere"


def test_nominated_pods_hold_their_room_against_lower_priority_pods(env):
    sched, _ = env
    sched.add_node(node("n1", cpu="2"))
    sched.add_node(node("n2", cpu="1"))
    high = PodInfo(pod("high", cpu="2", priority=1000))
    sched.queue.add_nominated_pod(high, fw.NominatingInfo("n1", fw.MODE_OVERRIDE))
    assert [p.name for p in sched.queue.nominated_pods_for_node("n1")] == ["high"]
    for vectorised in (True, False):
        sched.vectorised = vectorised
        sched.add_pod(pod(f"low-{vectorised}", cpu="1", priority=0))
        sched.schedule_one()
        # n1 is kept for the nominated pod, so the low one goes to n2 ...
        assert sched.client.bound[("default", f"low-{vectorised}")] == "n2"
        sched.delete_pod(dict(pod(f"low-{vectorised}"), spec=dict(pod(f"low-{vectorised}")["spec"], nodeName="n2")))
    # ... while a pod of equal or higher priority may take it.
    sched.add_pod(pod("peer", cpu="1", priority=1000))
    sched.add_pod(pod("other-high", cpu="2", priority=2000))
    sched.schedule_one()
    assert sched.client.bound[("default", "other-high")] == "n1"
    sched.queue.delete_nominated_pod_if_exists(high.key)
    assert sched.queue.nominated_pods_for_node("n1") == []


def test_a_gated_pod_waits_until_its_gates_are_removed(env):
    sched, _ = env
    sched.add_node(node("n1"))
    gated = pod("gated", schedulingGates=[{"name": "example.com/ready"}])
    sched.add_pod(gated)
    assert where(sched, "gated") == "unschedulable" and not sched.schedule_one()
    assert sched.queue.unschedulable[("default", "gated")].message == "waiting for scheduling gates: [example.com/ready]"
    sched.update_pod(gated, pod("gated"))
    assert where(sched, "gated") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "gated")] == "n1"


def test_a_pod_rewound_to_unbound_is_scheduled_again(env):
    """An etcd snapshot restore can hand the informer a pod that was bound as unbound again."""
    sched, _ = env
    sched.add_node(node("n1", cpu="2"))
    bound = pod("p", cpu="2")
    bound["spec"]["nodeName"] = "n1"
    sched.add_pod(bound)
    sched.update_pod(bound, pod("p", cpu="2"))
    assert where(sched, "p") == "active"
    sched.schedule_one()
    assert sched.client.bound[("default", "p")] == "n1"
