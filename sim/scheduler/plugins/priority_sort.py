"""PrioritySort (plugins/queuesort): the activeQ's order, highest spec.priority first, then the
pod that entered the queue earliest (corev1helpers.PodPriority; QueuedPodInfo.Timestamp)."""
from __future__ import annotations

from sim.scheduler.framework.interface import QueueSortPlugin


class PrioritySort(QueueSortPlugin):
    name = "PrioritySort"

    def less(self, a, b) -> bool:
        p1, p2 = a.pod_info.priority, b.pod_info.priority
        return p1 > p2 or (p1 == p2 and a.timestamp < b.timestamp)

    def sort_key(self, qpi):
        return (-qpi.pod_info.priority, qpi.timestamp)
