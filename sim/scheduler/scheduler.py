"""The kube-scheduler component: watches pods and nodes, schedules one pod per cycle, binds.

Mirrors pkg/scheduler/schedule_one.go: a scheduling cycle runs the Filter plugins over every
node, the Score plugins over the feasible ones, picks the highest weighted sum (ties broken at
random), assumes the pod in its cache, and binds through pods/binding.  A pod that fits nowhere
gets PodScheduled=False and a FailedScheduling event, and waits in the unschedulable queue
until a cluster event (a node added or changed, a pod deleted) may make it fit.
"""
from __future__ import annotations

from collections import Counter, deque
from typing import Any

from sim.api.podutil import is_deleting, is_terminal
from sim.leaderelection import LeaderElectedComponent
from sim.scheduler.framework import CycleState, NodeInfo
from sim.scheduler.plugins.node_affinity import NodeAffinity
from sim.scheduler.plugins.node_name import NodeName
from sim.scheduler.plugins.node_resources_fit import NodeResourcesBalancedAllocation, NodeResourcesFit
from sim.scheduler.plugins.node_unschedulable import NodeUnschedulable
from sim.scheduler.plugins.taint_toleration import TaintToleration

SCHEDULER_NAME = "default-scheduler"
CYCLE_TIME = 0.002          # virtual seconds one scheduling cycle takes
INITIAL_BACKOFF = 1.0       # podInitialBackoffSeconds
MAX_BACKOFF = 10.0          # podMaxBackoffSeconds
UNSCHEDULABLE_FLUSH = 300.0  # podMaxInUnschedulablePodsDuration
EXPLAIN_MAX_NODES = 100     # keep per-node explanations in the trace up to this many nodes
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """schedule_one.go numFeasibleNodesToFind with percentageOfNodesToScore unset (0): the
    adaptive default 50% - nodes/125, at least 5% and at least 100 nodes."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    if percentage >= 100:
        return num_all_nodes
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def failed_scheduling_message(total: int, reasons: Counter) -> str:
    """`0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.`
    (framework.FitError.Error: counts per reason, sorted by reason text)."""
    parts = sorted(f"{n} {r}" for r, n in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


class KubeScheduler(LeaderElectedComponent):
    component = "kube-scheduler"
    lease_name = "kube-scheduler"

    def __init__(self, host: str, apiserver: str):
        super().__init__(host, apiserver)
        self.filters = [NodeUnschedulable(), NodeName(), TaintToleration(), NodeAffinity(), NodeResourcesFit()]
        self.scorers = [(NodeResourcesFit(), 1), (NodeResourcesBalancedAllocation(), 1)]

    def start_leading(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.pod_node: dict[tuple[str, str], str] = {}   # assigned or assumed pods -> node
        self.active: deque = deque()
        self.in_active: set = set()
        self.unschedulable: dict[tuple[str, str], float] = {}
        self.attempts: dict[tuple[str, str], int] = {}
        self.binding: set = set()
        self.cycle_armed = False
        self.next_start_node_index = 0
        self.node_informer = self.informer("nodes", on_add=self._node_add, on_update=lambda o, n: self._node_add(n),
                                           on_delete=self._node_delete)
        self.pod_informer = self.informer("pods", on_add=self._pod_add, on_update=lambda o, n: self._pod_add(n),
                                          on_delete=self._pod_delete)
        self.node_informer.start()
        self.pod_informer.start()
        self.set_timer(UNSCHEDULABLE_FLUSH / 10, "flush")

    # -- cache ------------------------------------------------------------------------
    def _node_add(self, node: dict) -> None:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo(node)
            for key, n in self.pod_node.items():
                if n == name:
                    pod = self.pod_informer.store.get(key)
                    if pod is not None:
                        info.add_pod(key, pod)
        info.set_node(node)
        self._move_all_to_active("NodeAdd/Update")

    def _node_delete(self, node: dict) -> None:
        self.nodes.pop(node["metadata"]["name"], None)

    def _pod_add(self, pod: dict) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            self.unschedulable.pop(key, None)
            if is_terminal(pod):
                self._pod_delete(pod)
                return
            prev = self.pod_node.get(key)
            if prev and prev != node and prev in self.nodes:
                self.nodes[prev].remove_pod(key)
            self.pod_node[key] = node
            if node in self.nodes:
                self.nodes[node].add_pod(key, pod)
            return
        if pod["spec"].get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME or is_deleting(pod):
            return
        if key not in self.unschedulable and key not in self.binding:
            self._enqueue(key)

    def _pod_delete(self, pod: dict) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        node = self.pod_node.pop(key, None)
        self.unschedulable.pop(key, None)
        self.attempts.pop(key, None)
        if node and node in self.nodes:
            self.nodes[node].remove_pod(key)
            self._move_all_to_active("AssignedPodDelete")

    # -- queue ------------------------------------------------------------------------
    def _enqueue(self, key) -> None:
        if key in self.in_active:
            return
        self.in_active.add(key)
        self.active.append(key)
        if not self.cycle_armed:
            self.cycle_armed = True
            self.call_later(CYCLE_TIME, self.schedule_one)

    def _move_all_to_active(self, event: str) -> None:
        for key in list(self.unschedulable):
            # Backoff: a pod that just failed waits 1 s, doubling to 10 s, before retrying.
            backoff = min(MAX_BACKOFF, INITIAL_BACKOFF * 2 ** max(0, self.attempts.get(key, 1) - 1))
            wait = self.unschedulable[key] + backoff - self.now
            del self.unschedulable[key]
            if wait > 0:
                self.call_later(wait, lambda key=key: self._requeue(key))
            else:
                self._enqueue(key)

    def _requeue(self, key) -> None:
        pod = self.pod_informer.store.get(key)
        if pod is not None and not pod["spec"].get("nodeName") and not is_deleting(pod):
            self._enqueue(key)

    def on_timer(self, name: str, data: Any) -> None:
        if name == "flush":
            for key, since in list(self.unschedulable.items()):
                if self.now - since >= UNSCHEDULABLE_FLUSH:
                    del self.unschedulable[key]
                    self._enqueue(key)
            self.set_timer(UNSCHEDULABLE_FLUSH / 10, "flush")

    # -- the scheduling cycle ---------------------------------------------------------
    def schedule_one(self) -> None:
        self.cycle_armed = False
        while self.active:
            key = self.active.popleft()
            self.in_active.discard(key)
            pod = self.pod_informer.store.get(key)
            if pod is None or pod["spec"].get("nodeName") or is_deleting(pod) or key in self.pod_node:
                continue
            self.schedule_pod(key, pod)
            break
        if self.active and not self.cycle_armed:
            self.cycle_armed = True
            self.call_later(CYCLE_TIME, self.schedule_one)

    def find_nodes(self, state: CycleState, pod: dict) -> tuple[list[NodeInfo], dict[str, tuple[str, tuple[str, ...]]]]:
        """Run the Filter plugins, starting where the last cycle stopped (round robin) and
        stopping once enough feasible nodes are found, as findNodesThatPassFilters does."""
        feasible, rejected = [], {}
        nodes = list(self.nodes.values())
        n = len(nodes)
        want = num_feasible_nodes_to_find(n)
        start = self.next_start_node_index % n if n else 0
        processed = 0
        for i in range(n):
            info = nodes[(start + i) % n]
            processed += 1
            for plugin in self.filters:
                s = plugin.filter(state, pod, info)
                if not s.ok:
                    rejected[info.name] = (plugin.name, s.reasons)
                    break
            else:
                feasible.append(info)
                if len(feasible) >= want:
                    break
        self.next_start_node_index = (start + processed) % n if n else 0
        return feasible, rejected

    def score(self, state: CycleState, pod: dict, feasible: list[NodeInfo]) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for info in feasible:
            row = {}
            for plugin, weight in self.scorers:
                row[plugin.name] = plugin.score(state, pod, info) * weight
            row["total"] = sum(row.values())
            table[info.name] = row
        return table

    def schedule_pod(self, key, pod: dict) -> None:
        state = CycleState.for_pod(pod)
        feasible, rejected = self.find_nodes(state, pod)
        explain = len(self.nodes) <= EXPLAIN_MAX_NODES
        if not feasible:
            reasons: Counter = Counter()
            for _plugin, rs in rejected.values():
                reasons.update(rs)
            message = failed_scheduling_message(len(self.nodes), reasons)
            self.emit("schedule", component=self.address, pod=f"{key[0]}/{key[1]}", node=None,
                      message=message, rejected={n: list(r[1]) for n, r in rejected.items()} if explain else {})
            self.attempts[key] = self.attempts.get(key, 0) + 1
            self.unschedulable[key] = self.now
            self.action(f"kube-scheduler could not place {key[0]}/{key[1]}: {message}")
            self._mark_unschedulable(pod, message)
            return
        table = self.score(state, pod, feasible)
        best, best_score, ties = None, -1, 0
        for info in feasible:
            s = table[info.name]["total"]
            if s > best_score:
                best, best_score, ties = info, s, 1
            elif s == best_score:
                ties += 1
                if self.rng.random() < 1.0 / ties:  # reservoir sampling, as selectHost does
                    best = info
        node = best.name
        self.emit("schedule", component=self.address, pod=f"{key[0]}/{key[1]}", node=node,
                  scores=table if explain else {},
                  rejected={n: list(r[1]) for n, r in rejected.items()} if explain else {})
        # Assume: count the pod on the node now, so the next cycle sees it (cache.AssumePod).
        self.pod_node[key] = node
        best.add_pod(key, pod)
        self.binding.add(key)
        self.attempts.pop(key, None)
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": key[1], "namespace": key[0], "uid": pod["metadata"].get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        self.api.request({"verb": "create", "resource": "pods", "namespace": key[0], "name": key[1],
                          "subresource": "binding", "body": binding},
                         lambda resp: self._bound(key, pod, node, resp), "create pods/binding")

    def _bound(self, key, pod: dict, node: str, resp: dict) -> None:
        self.binding.discard(key)
        if resp["code"] >= 400:
            # ForgetPod: undo the assumption and retry later.
            if self.pod_node.get(key) == node:
                del self.pod_node[key]
                if node in self.nodes:
                    self.nodes[node].remove_pod(key)
            self.unschedulable[key] = self.now
            self.attempts[key] = self.attempts.get(key, 0) + 1
            self.call_later(INITIAL_BACKOFF, lambda: self._move_all_to_active("BindFailed"))
            return
        self.action(f"kube-scheduler bound {key[0]}/{key[1]} to {node}")
        self.api.event(pod, "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {node}", SCHEDULER_NAME)

    def _mark_unschedulable(self, pod: dict, message: str) -> None:
        cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                "lastProbeTime": None, "lastTransitionTime": self.timestamp()}
        old = next((c for c in pod["status"].get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if old is None or old.get("message") != message:
            if old is not None and old.get("status") == "False":
                cond["lastTransitionTime"] = old.get("lastTransitionTime")
            self.api.patch("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                           {"status": {"conditions": [cond]}}, subresource="status",
                           patch_type="application/strategic-merge-patch+json")
        self.api.event(pod, "FailedScheduling", message, SCHEDULER_NAME, type_="Warning")
