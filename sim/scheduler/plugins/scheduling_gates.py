"""SchedulingGates (plugins/schedulinggates): a pod with spec.schedulingGates waits outside the
activeQ until every gate is removed (PreEnqueue)."""
from __future__ import annotations

from sim.scheduler.framework.interface import (POD, QUEUE, QUEUE_SKIP, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               UPDATE_POD_SCHEDULING_GATES_ELIMINATED, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, PreEnqueuePlugin, Status)


class SchedulingGates(PreEnqueuePlugin, EnqueueExtensions):
    name = "SchedulingGates"

    def pre_enqueue(self, pod) -> Status | None:
        gates = (pod.pod.get("spec") or {}).get("schedulingGates") or []
        if not gates:
            return None
        names = " ".join(g.get("name", "") for g in gates)
        return Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (f"waiting for scheduling gates: [{names}]",))

    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(POD, UPDATE_POD_SCHEDULING_GATES_ELIMINATED), self._gates_eliminated)]

    @staticmethod
    def _gates_eliminated(pod, old, new) -> str:
        if new is None or (new.get("metadata") or {}).get("uid") != pod.uid:
            return QUEUE_SKIP
        return QUEUE
