"""NodeAffinity (plugins/nodeaffinity): spec.nodeSelector and required node affinity terms."""
from sim.scheduler.framework import SUCCESS, NodeInfo, Plugin, unschedulable

ERR_REASON = "node(s) didn't match Pod's node affinity/selector"


def _match_expression(expr: dict, labels: dict) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    has = key in labels
    if op == "In":
        return has and labels[key] in values
    if op == "NotIn":
        return not has or labels[key] not in values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt") and has and values:
        try:
            a, b = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def node_matches_term(term: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    if not all(_match_expression(e, labels) for e in exprs):
        return False
    return all(_match_expression(f, {"metadata.name": node["metadata"]["name"]}) for f in fields)


class NodeAffinity(Plugin):
    name = "NodeAffinity"

    def filter(self, state, pod: dict, node: NodeInfo):
        spec = pod.get("spec") or {}
        labels = node.node["metadata"].get("labels") or {}
        for k, v in (spec.get("nodeSelector") or {}).items():
            if labels.get(k) != v:
                return unschedulable(self.name, ERR_REASON, unresolvable=True)
        required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                    .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
        terms = required.get("nodeSelectorTerms")
        if terms is not None and not any(node_matches_term(t, node.node) for t in terms):
            return unschedulable(self.name, ERR_REASON, unresolvable=True)
        return SUCCESS
