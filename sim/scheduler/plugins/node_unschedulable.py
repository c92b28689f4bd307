"""NodeUnschedulable (plugins/nodeunschedulable): a cordoned node takes only pods that tolerate
the node.kubernetes.io/unschedulable:NoSchedule taint."""
from sim.api.podutil import tolerates_taint
from sim.scheduler.framework import SUCCESS, NodeInfo, Plugin, unschedulable

ERR_REASON = "node(s) were unschedulable"
TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(Plugin):
    name = "NodeUnschedulable"

    def filter(self, state, pod: dict, node: NodeInfo):
        if not (node.node.get("spec") or {}).get("unschedulable"):
            return SUCCESS
        if tolerates_taint((pod.get("spec") or {}).get("tolerations") or [], TAINT):
            return SUCCESS
        return unschedulable(self.name, ERR_REASON, unresolvable=True)
