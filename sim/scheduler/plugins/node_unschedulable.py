"""NodeUnschedulable (plugins/nodeunschedulable): a cordoned node (spec.unschedulable) takes only
pods that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint."""
from __future__ import annotations

import numpy as np

from sim.api.podutil import tolerates_taint
from sim.scheduler.framework.interface import (ADD, NODE, POD, QUEUE, QUEUE_SKIP, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               UPDATE_NODE_TAINT, UPDATE_POD_TOLERATION, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, FilterPlugin,
                                               NodeStatusVector, Status)

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
_REJECTED = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_UNSCHEDULABLE,))


def _decode(_i: int) -> Status:
    return _REJECTED


def tolerates_unschedulable(tolerations: list) -> bool:
    return tolerates_taint(tolerations, TAINT_NODE_UNSCHEDULABLE)


class NodeUnschedulable(FilterPlugin, EnqueueExtensions):
    name = "NodeUnschedulable"

    def filter(self, state, pod, node_info):
        if not node_info.unschedulable or tolerates_unschedulable(pod.tolerations):
            return None
        return _REJECTED

    def filter_vec(self, state, pod, table):
        if tolerates_unschedulable(pod.tolerations):
            return None
        return table.derived("NodeUnschedulable", lambda: NodeStatusVector(
            table.unschedulable[:table.high].astype(np.int32), _decode))

    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_TAINT), self._after_node_change),
                ClusterEventWithHint(ClusterEvent(POD, UPDATE_POD_TOLERATION), self._after_pod_toleration_change)]

    @staticmethod
    def _after_node_change(pod, old, new) -> str:
        """isSchedulableAfterNodeChange: the node is (now) schedulable or tolerated."""
        if tolerates_unschedulable(pod.tolerations):
            return QUEUE
        was = old is None or bool((old.get("spec") or {}).get("unschedulable"))
        now = bool((new.get("spec") or {}).get("unschedulable"))
        return QUEUE if was and not now else QUEUE_SKIP

    @staticmethod
    def _after_pod_toleration_change(pod, old, new) -> str:
        if new is None or (new.get("metadata") or {}).get("uid") != pod.uid:
            return QUEUE_SKIP
        return QUEUE if tolerates_unschedulable((new.get("spec") or {}).get("tolerations") or []) else QUEUE_SKIP
