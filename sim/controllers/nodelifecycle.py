"""The node lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go).

Every node-monitor-period (5 s) it checks each node's health: the last time its kubelet renewed
the node Lease or posted a new Ready heartbeat ("probe time", on the controller's own clock).
After node-monitor-grace-period (50 s since v1.32; 40 s before) without one, it sets the node's
conditions to Unknown ("Kubelet stopped posting node status."), marks its pods not Ready, and
taints it node.kubernetes.io/unreachable with NoSchedule (TaintNodesByCondition) and NoExecute
(taint-based eviction; the TaintEvictionController then evicts pods whose toleration runs out).
When a whole zone is down (full disruption) NoExecute tainting stops, as upstream does.
"""
from __future__ import annotations

from sim.api.defaults import TAINT_MEMORY_PRESSURE, TAINT_NOT_READY, TAINT_UNREACHABLE
from sim.api.meta import deep_copy
from sim.api.podutil import condition, node_ready_status

NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
NODE_EVICTION_RATE = 0.1  # nodes per second tainted for eviction in a healthy zone


class NodeLifecycleController:
    name = "node-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.health: dict[str, dict] = {}   # node -> {"probe": t, "lease_rv": rv, "heartbeat": ts}
        self.next_taint_time = 0.0
        self.started_at = None

    def start(self) -> None:
        self.started_at = self.cm.now
        self.cm.call_later(self.cm.node_monitor_period, self.monitor)

    def _observe(self, name: str) -> dict:
        node = self.cm.nodes.get(None, name)
        lease = self.cm.leases.get("kube-node-lease", name)
        h = self.health.get(name)
        ready = condition(node, "Ready") if node else None
        heartbeat = (ready or {}).get("lastHeartbeatTime")
        lease_renew = (lease or {}).get("spec", {}).get("renewTime")
        if h is None:
            # A node first seen gets a full grace period from now (or the startup grace period).
            h = self.health[name] = {"probe": self.cm.now, "lease": lease_renew, "heartbeat": heartbeat}
            return h
        if lease_renew != h["lease"] or (heartbeat != h["heartbeat"] and (ready or {}).get("status") != "Unknown"):
            h["probe"] = self.cm.now
        h["lease"], h["heartbeat"] = lease_renew, heartbeat
        return h

    def monitor(self) -> None:
        self.cm.call_later(self.cm.node_monitor_period, self.monitor)
        nodes = self.cm.nodes.list()
        observed: dict[str, str] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            h = self._observe(name)
            ready = node_ready_status(node)
            if ready != "Unknown" and self.cm.now - h["probe"] > self.cm.node_monitor_grace_period:
                self.mark_unknown(node)
                ready = "Unknown"
            observed[name] = ready
        # Taints follow the readiness observed in this same pass (processTaintBaseEviction).
        full_disruption = bool(nodes) and all(r != "True" for r in observed.values())
        for node in nodes:
            self.reconcile_taints(node, observed[node["metadata"]["name"]], full_disruption)
        for name in list(self.health):
            if self.cm.nodes.get(None, name) is None:
                del self.health[name]

    def mark_unknown(self, node: dict) -> None:
        name = node["metadata"]["name"]
        now = self.cm.timestamp()
        conds = []
        for c in node["status"].get("conditions") or []:
            c = dict(c)
            if c["type"] in NODE_CONDITIONS and c.get("status") != "Unknown":
                c.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.",
                         lastTransitionTime=now)
            conds.append(c)
        self.api.patch("nodes", None, name, {"status": {"conditions": conds}}, subresource="status",
                       patch_type="application/strategic-merge-patch+json")
        self.cm.action(f"node-controller: node {name} stopped posting status; Ready=Unknown")
        self.api.event(node, "NodeNotReady", f"Node {name} status is now: NodeNotReady", self.name)
        self.mark_pods_not_ready(name)

    def mark_pods_not_ready(self, node_name: str) -> None:
        """nodeutil.MarkPodsNotReady: the pods of an unresponsive node are not Ready."""
        for pod in self.cm.pods.list():
            if pod["spec"].get("nodeName") != node_name:
                continue
            ready = condition(pod, "Ready")
            if ready is None or ready.get("status") == "False":
                continue
            conds = [dict(c, status="False", lastTransitionTime=self.cm.timestamp()) if c["type"] == "Ready" else c
                     for c in pod["status"].get("conditions") or []]
            self.api.patch("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                           {"status": {"conditions": conds}}, subresource="status",
                           patch_type="application/merge-patch+json")
            self.api.event(pod, "NodeNotReady", "Node is not ready", self.name, type_="Warning")

    def reconcile_taints(self, node: dict, ready: str, full_disruption: bool) -> None:
        taints = list((node.get("spec") or {}).get("taints") or [])
        want: dict[tuple[str, str], dict] = {}
        if ready == "Unknown":
            want[(TAINT_UNREACHABLE, "NoSchedule")] = {"key": TAINT_UNREACHABLE, "effect": "NoSchedule"}
            if not full_disruption:
                want[(TAINT_UNREACHABLE, "NoExecute")] = {"key": TAINT_UNREACHABLE, "effect": "NoExecute"}
        elif ready == "False":
            want[(TAINT_NOT_READY, "NoSchedule")] = {"key": TAINT_NOT_READY, "effect": "NoSchedule"}
            if not full_disruption:
                want[(TAINT_NOT_READY, "NoExecute")] = {"key": TAINT_NOT_READY, "effect": "NoExecute"}
        # doNoScheduleTaintingPass: a node condition under pressure is a NoSchedule taint too
        # (nodeConditionToTaintKeyStatusMap: MemoryPressure True -> node.kubernetes.io/memory-pressure).
        if ready != "Unknown" and (condition(node, "MemoryPressure") or {}).get("status") == "True":
            want[(TAINT_MEMORY_PRESSURE, "NoSchedule")] = {"key": TAINT_MEMORY_PRESSURE, "effect": "NoSchedule"}
        managed = {TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_MEMORY_PRESSURE}
        have = {(t["key"], t["effect"]) for t in taints if t.get("key") in managed}
        if have == set(want):
            return
        adding_noexecute = any(k[1] == "NoExecute" and k not in have for k in want)
        if adding_noexecute:
            # The eviction rate limiter: at most NODE_EVICTION_RATE nodes tainted per second.
            if self.cm.now < self.next_taint_time:
                want = {k: v for k, v in want.items() if k[1] != "NoExecute" or k in have}
                if have == set(want):
                    return
            else:
                self.next_taint_time = self.cm.now + 1.0 / NODE_EVICTION_RATE
        new_taints = [t for t in taints if t.get("key") not in managed or (t["key"], t["effect"]) in want]
        for k, t in want.items():
            if k not in have:
                t = deep_copy(t)
                if t["effect"] == "NoExecute":
                    t["timeAdded"] = self.cm.timestamp()
                new_taints.append(t)
        name = node["metadata"]["name"]
        self.api.patch("nodes", None, name, {"spec": {"taints": new_taints or None}})
        added = sorted(f"{k[0]}:{k[1]}" for k in set(want) - have)
        removed = sorted(f"{k[0]}:{k[1]}" for k in have - set(want))
        if added:
            self.cm.action(f"node-controller tainted {name} with {', '.join(added)}")
        if removed:
            self.cm.action(f"node-controller removed taint {', '.join(removed)} from {name}")
