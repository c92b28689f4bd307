"""NodePorts (plugins/nodeports): a pod's containers' hostPorts must be free on the node
("node(s) didn't have free ports for the requested pod ports", Unschedulable: preemption can
free them).  A host IP of 0.0.0.0 (the default) conflicts with every address."""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.interface import (ADD, DELETE, NODE, POD, QUEUE, QUEUE_SKIP, SKIP_STATUS,
                                               UNSCHEDULABLE, ClusterEvent, ClusterEventWithHint,
                                               EnqueueExtensions, FilterPlugin, NodeStatusVector,
                                               PreFilterPlugin, Status)

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
PRE_FILTER_STATE_KEY = "PreFilterNodePorts"
_REJECTED = Status(UNSCHEDULABLE, (ERR_REASON,))


class NodePorts(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name = "NodePorts"

    def pre_filter(self, state, pod, nodes):
        if not pod.host_ports:
            return None, SKIP_STATUS
        state[PRE_FILTER_STATE_KEY] = pod.host_ports
        return None, None

    def _wanted(self, state, pod):
        w = state.get(PRE_FILTER_STATE_KEY)
        return pod.host_ports if w is None else w

    def filter(self, state, pod, node_info):
        used = node_info.used_ports
        for ip, proto, port in self._wanted(state, pod):
            if used.check_conflict(ip, proto, port):
                return _REJECTED
        return None

    def filter_vec(self, state, pod, table):
        wanted = self._wanted(state, pod)
        if not wanted:
            return None
        conflict = np.zeros(table.high, bool)
        for ip, proto, port in wanted:
            conflict |= table.port_conflicts(ip, proto, port)
        if not conflict.any():
            return None
        return NodeStatusVector(conflict.astype(np.int32), lambda _i: _REJECTED)

    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(POD, DELETE), self._after_pod_deleted),
                ClusterEventWithHint(ClusterEvent(NODE, ADD))]

    @staticmethod
    def _after_pod_deleted(pod, old, new) -> str:
        """isSchedulableAfterPodDeleted: only a deleted pod that held one of our ports helps."""
        if old is None or not (old.get("spec") or {}).get("nodeName"):
            return QUEUE_SKIP
        held = {(p.get("protocol") or "TCP", p.get("hostPort"))
                for c in (old.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []
                if (p.get("hostPort") or 0) > 0}
        return QUEUE if any((proto, port) in held for _ip, proto, port in pod.host_ports) else QUEUE_SKIP
