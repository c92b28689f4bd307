"""NodeResourcesFit (plugins/noderesources/fit.go, least_allocated.go) and
NodeResourcesBalancedAllocation (balanced_allocation.go).

Filter: requested + pod request must not exceed allocatable for cpu, memory and pod count
("Insufficient cpu", "Insufficient memory", "Too many pods").
LeastAllocated score: per resource (allocatable - requested) * 100 / allocatable, averaged with
weight 1 each, using the non-zero requests (100m CPU, 200Mi memory for containers without).
"""
from sim.scheduler.framework import MAX_NODE_SCORE, SUCCESS, NodeInfo, Plugin, unschedulable


class NodeResourcesFit(Plugin):
    name = "NodeResourcesFit"

    def filter(self, state, pod: dict, node: NodeInfo):
        cpu, mem = state["requests"]
        reasons = []
        if len(node.pods) + 1 > node.alloc_pods:
            reasons.append("Too many pods")
        if cpu and node.req_cpu + cpu > node.alloc_cpu:
            reasons.append("Insufficient cpu")
        if mem and node.req_mem + mem > node.alloc_mem:
            reasons.append("Insufficient memory")
        if reasons:
            return unschedulable(self.name, *reasons)
        return SUCCESS

    def score(self, state, pod: dict, node: NodeInfo) -> int:
        cpu, mem = state["nonzero_requests"]
        total = 0
        for requested, alloc in ((node.nz_cpu + cpu, node.alloc_cpu), (node.nz_mem + mem, node.alloc_mem)):
            if alloc == 0 or requested > alloc:
                continue
            total += (alloc - requested) * MAX_NODE_SCORE // alloc
        return total // 2


class NodeResourcesBalancedAllocation(Plugin):
    name = "NodeResourcesBalancedAllocation"

    def score(self, state, pod: dict, node: NodeInfo) -> int:
        cpu, mem = state["nonzero_requests"]
        fractions = []
        for requested, alloc in ((node.nz_cpu + cpu, node.alloc_cpu), (node.nz_mem + mem, node.alloc_mem)):
            fractions.append(min(1.0, requested / alloc) if alloc else 1.0)
        # With two resources the standard deviation is half their difference.
        std = abs(fractions[0] - fractions[1]) / 2
        return int((1 - std) * MAX_NODE_SCORE)
