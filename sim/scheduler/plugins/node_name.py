"""NodeName (plugins/nodename): a pod that names a node in spec.nodeName fits only there."""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.interface import (ADD, NODE, QUEUE, QUEUE_SKIP, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               ClusterEvent, ClusterEventWithHint, EnqueueExtensions,
                                               FilterPlugin, NodeStatusVector, Status)

ERR_REASON = "node(s) didn't match the requested node name"
_REJECTED = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON,))


class NodeName(FilterPlugin, EnqueueExtensions):
    name = "NodeName"

    def filter(self, state, pod, node_info):
        if not pod.node_name or pod.node_name == node_info.name:
            return None
        return _REJECTED

    def filter_vec(self, state, pod, table):
        if not pod.node_name:
            return None
        ids = np.ones(table.high, np.int32)
        row = table.row_of.get(pod.node_name)
        if row is not None:
            ids[row] = 0
        return NodeStatusVector(ids, lambda _i: _REJECTED)

    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(NODE, ADD), self._after_node_add)]

    @staticmethod
    def _after_node_add(pod, old, new) -> str:
        if not pod.node_name or (new or {}).get("metadata", {}).get("name") == pod.node_name:
            return QUEUE
        return QUEUE_SKIP
