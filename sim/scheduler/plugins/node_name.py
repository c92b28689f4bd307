"""NodeName (plugins/nodename): a pod naming a node in spec.nodeName fits only there."""
from sim.scheduler.framework import SUCCESS, NodeInfo, Plugin, unschedulable

ERR_REASON = "node(s) didn't match the requested node name"


class NodeName(Plugin):
    name = "NodeName"

    def filter(self, state, pod: dict, node: NodeInfo):
        want = (pod.get("spec") or {}).get("nodeName")
        if not want or want == node.name:
            return SUCCESS
        return unschedulable(self.name, ERR_REASON, unresolvable=True)
