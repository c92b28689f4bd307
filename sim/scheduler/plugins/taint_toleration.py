"""TaintToleration (plugins/tainttoleration): filter on NoSchedule/NoExecute taints the pod does
not tolerate; the message names the first such taint as upstream does."""
from sim.api.podutil import tolerates_taint
from sim.scheduler.framework import SUCCESS, NodeInfo, Plugin, unschedulable


class TaintToleration(Plugin):
    name = "TaintToleration"

    def filter(self, state, pod: dict, node: NodeInfo):
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        for taint in (node.node.get("spec") or {}).get("taints") or []:
            if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not tolerates_taint(tolerations, taint):
                return unschedulable(self.name,
                                     f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value') or ''}}}",
                                     unresolvable=True)
        return SUCCESS

    def score(self, state, pod: dict, node: NodeInfo) -> int:
        """Count of intolerable PreferNoSchedule taints (normalized and reversed by the caller)."""
        tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or []
                       if not t.get("effect") or t.get("effect") == "PreferNoSchedule"]
        return sum(1 for taint in (node.node.get("spec") or {}).get("taints") or []
                   if taint.get("effect") == "PreferNoSchedule" and not tolerates_taint(tolerations, taint))
