"""The scheduling queue (pkg/scheduler/backend/queue/scheduling_queue.go, backoff_queue.go,
nominator.go), with queueing hints (SchedulerQueueingHints, on by default since v1.32).

  activeQ        pods to try, ordered by the QueueSort plugin (PrioritySort: priority, then
                 the time the pod entered the queue)
  backoffQ       pods waiting out their backoff: podInitialBackoffSeconds (1 s) doubled per
                 attempt up to podMaxBackoffSeconds (10 s); flushed to activeQ every second
  unschedulable  pods no node fits; a cluster event moves one back (to backoffQ while it is
                 still backing off, else to activeQ) only if a plugin that rejected it registered
                 that event and its queueing hint says the event may help; every 30 s pods
                 left there longer than 5 minutes are moved back anyway
  nominator      pods preemption nominated to a node (status.nominatedNodeName): the filters
                 count them on that node for pods of lower or equal priority
The simulator's queue does not pop from backoffQ when activeQ is empty (the
SchedulerPopFromBackoffQ gate, beta in v1.33), so the backoff a class sees is the classic one.
"""
from __future__ import annotations

import heapq
import itertools
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.api.selectors import SelectorError, label_selector_as_selector, selector_matches
from sim.scheduler.framework import interface as fw
from sim.scheduler.framework.interface import ClusterEvent, match_cluster_events
from sim.scheduler.framework.podinfo import PodInfo

ACTIVE_Q, BACKOFF_Q, UNSCHEDULABLE_Q = "Active", "Backoff", "Unschedulable"
QUEUE_SKIP_S, QUEUE_AFTER_BACKOFF, QUEUE_IMMEDIATELY = 0, 1, 2
DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0
BACKOFF_FLUSH_INTERVAL = 1.0
UNSCHEDULABLE_FLUSH_INTERVAL = 30.0


@dataclass(eq=False)
class QueuedPodInfo:
    pod_info: PodInfo
    timestamp: float                      # when it (re-)entered the queue; PrioritySort's tie-break
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    unschedulable_plugins: set = field(default_factory=set)
    pending_plugins: set = field(default_factory=set)
    gating_plugin: str = ""
    gating_plugin_events: list = field(default_factory=list)
    backoff_expiration: float | None = None
    unschedulable_count: int = 0
    consecutive_errors_count: int = 0
    message: str = ""                     # the last FailedScheduling message (for the UI)
    in_flight_mark: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.pod_info.key

    def gated(self) -> bool:
        return bool(self.gating_plugin)


class _HeapSortKey:
    """Wraps a QueueSort plugin's less() for heapq when the plugin offers no sort_key."""
    __slots__ = ("qpi", "less")

    def __init__(self, qpi, less):
        self.qpi, self.less = qpi, less

    def __lt__(self, other) -> bool:
        return self.less(self.qpi, other.qpi)

    def __eq__(self, other) -> bool:
        return not self.less(self.qpi, other.qpi) and not self.less(other.qpi, self.qpi)


class SchedulingQueue:
    def __init__(self, frameworks: dict, clock: Callable[[], float], pod_initial_backoff: float = 1.0,
                 pod_max_backoff: float = 10.0,
                 pod_max_in_unschedulable: float = DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION):
        self.frameworks = frameworks
        self.clock = clock
        self.initial_backoff, self.max_backoff = pod_initial_backoff, pod_max_backoff
        self.max_in_unschedulable = pod_max_in_unschedulable
        first = next(iter(frameworks.values()))
        self.queue_sort = first.queue_sort
        self._seq = itertools.count()
        self.active: list = []                                   # heap of (sort key, seq, qpi)
        self.active_map: dict[tuple[str, str], tuple[int, QueuedPodInfo]] = {}
        self.backoff: list = []                                  # heap of (expiry, seq, qpi)
        self.backoff_map: dict[tuple[str, str], tuple[int, QueuedPodInfo]] = {}
        self.unschedulable: dict[tuple[str, str], QueuedPodInfo] = {}
        self._unschedulable_in_order = True   # see _park_unschedulable
        self._unschedulable_last: tuple | None = None
        self.in_flight: dict[tuple[str, str], QueuedPodInfo] = {}
        self.in_flight_events: list[tuple[int, ClusterEvent, Any, Any]] = []
        self._event_seq = 0
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        # profile -> [(registered event, plugin, hint)]
        self.hints: dict[str, list[tuple[ClusterEvent, str, Any]]] = {}
        self.plugin_events: dict[str, list[ClusterEvent]] = {}
        for name, f in frameworks.items():
            lst = []
            for plugin, events in f.enqueue_extensions:
                for ev in events:
                    lst.append((ev.event, plugin, ev.hint))
                    self.plugin_events.setdefault(plugin, []).append(ev.event)
            self.hints[name] = lst
        # nominator
        self.nominated_pod_to_node: dict[tuple[str, str], str] = {}
        self.nominated_pods: dict[str, dict[tuple[str, str], PodInfo]] = {}

    # -- ordering ------------------------------------------------------------------------
    def _sort_key(self, qpi: QueuedPodInfo):
        k = self.queue_sort.sort_key(qpi)
        return k if k is not None else _HeapSortKey(qpi, self.queue_sort.less)

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        seq = next(self._seq)
        self.active_map[qpi.key] = (seq, qpi)
        heapq.heappush(self.active, (self._sort_key(qpi), seq, qpi))

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        seq = next(self._seq)
        self.backoff_map[qpi.key] = (seq, qpi)
        heapq.heappush(self.backoff, (self.backoff_time(qpi), seq, qpi))

    # -- backoff ---------------------------------------------------------------------------
    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        """calculateBackoffDuration: initial * 2^(attempts-1), at most the maximum."""
        if qpi.attempts == 0:
            return 0.0
        d = self.initial_backoff
        for _ in range(1, qpi.attempts):
            if d > self.max_backoff - d:
                return self.max_backoff
            d += d
        return d

    def backoff_time(self, qpi: QueuedPodInfo) -> float:
        if qpi.attempts == 0:
            return float("-inf")
        if qpi.backoff_expiration is None:
            qpi.backoff_expiration = qpi.timestamp + self.backoff_duration(qpi)
        return qpi.backoff_expiration

    def is_pod_backing_off(self, qpi: QueuedPodInfo) -> bool:
        return not self.backoff_time(qpi) < self.clock()

    # -- moving pods -------------------------------------------------------------------------
    def _framework(self, qpi: QueuedPodInfo):
        return self.frameworks.get(qpi.pod_info.scheduler_name)

    def _run_pre_enqueue(self, qpi: QueuedPodInfo) -> None:
        f = self._framework(qpi)
        s = f.run_pre_enqueue_plugins(qpi.pod_info) if f is not None else None
        if s is None or s.is_success():
            qpi.gating_plugin = ""
            return
        qpi.unschedulable_plugins.add(s.plugin)
        qpi.gating_plugin = s.plugin
        qpi.gating_plugin_events = self.plugin_events.get(s.plugin, [])
        qpi.message = s.message()

    def _park_unschedulable(self, qpi: QueuedPodInfo) -> None:
        """Into unschedulablePods.  Pods arrive there in (timestamp, key) order almost always
        (the timestamp is set as they arrive), so the dict's own order is the view's order and
        the dashboard's first 50 cost 50 steps, not a pass over every pending pod; an arrival
        out of order switches the view back to sorting until the queue empties."""
        mark = (qpi.timestamp, qpi.key)
        if not self.unschedulable:
            self._unschedulable_in_order = True
        elif self._unschedulable_last is not None and mark < self._unschedulable_last:
            self._unschedulable_in_order = False
        self._unschedulable_last = mark
        self.unschedulable[qpi.key] = qpi

    def _remove_everywhere(self, key) -> None:
        self.active_map.pop(key, None)
        self.backoff_map.pop(key, None)
        self.unschedulable.pop(key, None)

    def move_to_active_q(self, qpi: QueuedPodInfo, event: str) -> bool:
        self._run_pre_enqueue(qpi)
        if qpi.gated():
            if qpi.key in self.active_map or qpi.key in self.backoff_map or qpi.key in self.unschedulable:
                return False
            self._park_unschedulable(qpi)
            return False
        if qpi.initial_attempt_timestamp is None:
            qpi.initial_attempt_timestamp = self.clock()
        self.unschedulable.pop(qpi.key, None)
        self.backoff_map.pop(qpi.key, None)
        self._push_active(qpi)
        if event in (fw.EVENT_UNSCHEDULED_POD_ADD.label, fw.EVENT_UNSCHEDULED_POD_UPDATE.label):
            self.add_nominated_pod(qpi.pod_info, None)
        return True

    def move_to_backoff_q(self, qpi: QueuedPodInfo, event: str) -> bool:
        self.unschedulable.pop(qpi.key, None)
        self._push_backoff(qpi)
        return True

    def add(self, pod: PodInfo) -> None:
        qpi = QueuedPodInfo(pod, self.clock())
        self.move_to_active_q(qpi, fw.EVENT_UNSCHEDULED_POD_ADD.label)

    def pop(self) -> QueuedPodInfo | None:
        """The head of activeQ (None when empty); counts an attempt and a scheduling cycle."""
        while self.active:
            _, seq, qpi = heapq.heappop(self.active)
            cur = self.active_map.get(qpi.key)
            if cur is None or cur[0] != seq:
                continue   # stale entry (moved or deleted since)
            del self.active_map[qpi.key]
            self.scheduling_cycle += 1
            qpi.attempts += 1
            qpi.backoff_expiration = None
            qpi.in_flight_mark = self._event_seq
            self.in_flight[qpi.key] = qpi
            return qpi
        return None

    def done(self, key) -> None:
        self.in_flight.pop(key, None)
        if not self.in_flight:
            self.in_flight_events.clear()

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, pod_scheduling_cycle: int) -> str:
        """A pod the cycle could not place comes back: to unschedulable, unless an event seen
        while it was being scheduled (or the lack of a rejecting plugin: an error) says retry."""
        events = [(e, o, n) for seq, e, o, n in self.in_flight_events if seq > qpi.in_flight_mark]
        self.done(qpi.key)
        if qpi.key in self.unschedulable or qpi.key in self.active_map or qpi.key in self.backoff_map:
            return ""
        if not qpi.unschedulable_plugins and not qpi.pending_plugins:
            qpi.consecutive_errors_count += 1
        else:
            qpi.unschedulable_count += 1
            qpi.consecutive_errors_count = 0
        qpi.timestamp = self.clock()
        qpi.backoff_expiration = None
        hint = QUEUE_SKIP_S
        if not qpi.unschedulable_plugins and not qpi.pending_plugins:
            hint = QUEUE_AFTER_BACKOFF
        else:
            for e, o, n in events:
                h = self.is_pod_worth_requeuing(qpi, e, o, n)
                if h == QUEUE_IMMEDIATELY:
                    hint = h
                    break
                if h == QUEUE_AFTER_BACKOFF:
                    hint = h
        return self.requeue_pod_with_queueing_strategy(qpi, hint, "ScheduleAttemptFailure")

    def requeue_pod_with_queueing_strategy(self, qpi: QueuedPodInfo, strategy: int, event: str) -> str:
        if strategy == QUEUE_SKIP_S:
            self._park_unschedulable(qpi)
            return UNSCHEDULABLE_Q
        if strategy == QUEUE_AFTER_BACKOFF and self.is_pod_backing_off(qpi):
            self.move_to_backoff_q(qpi, event)
            return BACKOFF_Q
        if self.move_to_active_q(qpi, event):
            return ACTIVE_Q
        return UNSCHEDULABLE_Q

    def flush_backoff_q_completed(self) -> int:
        """Move every pod whose backoff is over to activeQ (run every second)."""
        moved = 0
        while self.backoff:
            expiry, seq, qpi = self.backoff[0]
            cur = self.backoff_map.get(qpi.key)
            if cur is None or cur[0] != seq:
                heapq.heappop(self.backoff)
                continue
            if self.is_pod_backing_off(qpi):
                break
            heapq.heappop(self.backoff)
            del self.backoff_map[qpi.key]
            if self.move_to_active_q(qpi, "BackoffComplete"):
                moved += 1
        return moved

    def flush_unschedulable_pods_leftover(self) -> None:
        """Pods unschedulable for longer than podMaxInUnschedulablePodsDuration go back."""
        now = self.clock()
        stale = [q for q in self.unschedulable.values() if now - q.timestamp > self.max_in_unschedulable]
        if stale:
            self.move_pods_to_active_or_backoff_queue(stale, fw.EVENT_UNSCHEDULABLE_TIMEOUT, None, None)

    # -- cluster events ----------------------------------------------------------------------
    def is_event_of_interest(self, event: ClusterEvent) -> bool:
        if event.is_wildcard():
            return True
        return any(match_cluster_events(reg, event) for lst in self.hints.values() for reg, _, _ in lst)

    def is_pod_worth_requeuing(self, qpi: QueuedPodInfo, event: ClusterEvent, old, new) -> int:
        rejectors = qpi.unschedulable_plugins | qpi.pending_plugins
        if not rejectors:
            return QUEUE_AFTER_BACKOFF
        if event.is_wildcard():
            if isinstance(new, dict) and (new.get("metadata") or {}).get("uid") not in (None, qpi.pod_info.uid):
                return QUEUE_SKIP_S
            return QUEUE_AFTER_BACKOFF
        strategy = QUEUE_SKIP_S
        for reg, plugin, hint_fn in self.hints.get(qpi.pod_info.scheduler_name, []):
            if plugin not in rejectors or not match_cluster_events(reg, event):
                continue
            if hint_fn is None:
                hint = fw.QUEUE
            else:
                try:
                    hint = hint_fn(qpi.pod_info, old, new)
                except Exception:   # a failing hint must not strand the pod: treat as Queue
                    hint = fw.QUEUE
            if hint == fw.QUEUE_SKIP:
                continue
            if plugin in qpi.pending_plugins:
                return QUEUE_IMMEDIATELY
            if not qpi.pending_plugins:
                return QUEUE_AFTER_BACKOFF
            strategy = QUEUE_AFTER_BACKOFF
        return strategy

    def move_all_to_active_or_backoff_queue(self, event: ClusterEvent, old=None, new=None,
                                            pre_check: Callable[[PodInfo], bool] | None = None) -> None:
        if not self.is_event_of_interest(event):
            return
        pods = [q for q in self.unschedulable.values() if pre_check is None or pre_check(q.pod_info)]
        self.move_pods_to_active_or_backoff_queue(pods, event, old, new)

    def move_pods_to_active_or_backoff_queue(self, pods: list[QueuedPodInfo], event: ClusterEvent, old, new) -> None:
        if not self.is_event_of_interest(event):
            return
        for qpi in pods:
            if qpi.gated() and not any(match_cluster_events(e, event) for e in qpi.gating_plugin_events):
                continue
            hint = self.is_pod_worth_requeuing(qpi, event, old, new)
            if hint == QUEUE_SKIP_S:
                continue
            self.unschedulable.pop(qpi.key, None)
            self.requeue_pod_with_queueing_strategy(qpi, hint, event.name())
        self.move_request_cycle = self.scheduling_cycle
        if self.in_flight:
            self._event_seq += 1
            self.in_flight_events.append((self._event_seq, event, old, new))

    def assigned_pod_added(self, pod: PodInfo) -> None:
        self.move_pods_to_active_or_backoff_queue(self._pods_with_cross_topology_term(pod), fw.EVENT_ASSIGNED_POD_ADD, None, pod.pod)

    def assigned_pod_updated(self, old: dict, new: PodInfo, event: ClusterEvent) -> None:
        if match_cluster_events(ClusterEvent(fw.POD, fw.UPDATE_POD_SCALE_DOWN), event):
            self.move_all_to_active_or_backoff_queue(event, old, new.pod)
        else:
            self.move_pods_to_active_or_backoff_queue(self._pods_with_cross_topology_term(new), event, old, new.pod)

    def _pods_with_cross_topology_term(self, pod: PodInfo) -> list[QueuedPodInfo]:
        """getUnschedulablePodsWithCrossTopologyTerm: pods PodTopologySpread rejected in the same
        namespace, and pods with a required pod (anti-)affinity term the pod matches."""
        out = []
        for q in self.unschedulable.values():
            if "PodTopologySpread" in q.unschedulable_plugins and q.pod_info.namespace == pod.namespace:
                out.append(q)
                continue
            if any(_term_matches(t, q.pod_info, pod) for t in _required_affinity_terms(q.pod_info)):
                out.append(q)
        return out

    def update(self, old: dict | None, new: PodInfo) -> None:
        key = new.key
        if key in self.in_flight:
            for e in pod_scheduling_properties_change(new.pod, old):
                self._event_seq += 1
                self.in_flight_events.append((self._event_seq, e, old, new.pod))
            return
        for m in (self.active_map, self.backoff_map):
            cur = m.get(key)
            if cur is not None:
                cur[1].pod_info = new
                self.update_nominated_pod(old, new)
                return
        q = self.unschedulable.get(key)
        if q is not None:
            q.pod_info = new
            self.update_nominated_pod(old, new)
            for e in pod_scheduling_properties_change(new.pod, old):
                hint = self.is_pod_worth_requeuing(q, e, old, new.pod)
                if hint == QUEUE_SKIP_S:
                    continue
                self.unschedulable.pop(key, None)
                if self.requeue_pod_with_queueing_strategy(q, hint, e.name()) == ACTIVE_Q:
                    break
            return
        self.move_to_active_q(QueuedPodInfo(new, self.clock()), fw.EVENT_UNSCHEDULED_POD_UPDATE.label)

    def delete(self, key: tuple[str, str]) -> None:
        self.delete_nominated_pod_if_exists(key)
        self._remove_everywhere(key)

    def activate(self, keys) -> None:
        """Move the given pods (from unschedulable or backoffQ) to activeQ at once."""
        for key in keys:
            q = self.unschedulable.get(key)
            if q is None:
                cur = self.backoff_map.pop(key, None)
                q = cur[1] if cur else None
            if q is not None:
                self.move_to_active_q(q, "ForceActivate")

    def contains(self, key) -> bool:
        return key in self.active_map or key in self.backoff_map or key in self.unschedulable or key in self.in_flight

    # -- nominator -------------------------------------------------------------------------
    def add_nominated_pod(self, pod: PodInfo, nominating: fw.NominatingInfo | None) -> None:
        self.delete_nominated_pod_if_exists(pod.key)
        if nominating is not None and nominating.mode == fw.MODE_OVERRIDE:
            node = nominating.nominated_node_name
        else:
            node = pod.nominated_node_name
        if not node:
            return
        self.nominated_pod_to_node[pod.key] = node
        self.nominated_pods.setdefault(node, {})[pod.key] = pod

    def delete_nominated_pod_if_exists(self, key) -> None:
        node = self.nominated_pod_to_node.pop(key, None)
        if node is None:
            return
        pods = self.nominated_pods.get(node)
        if pods is not None:
            pods.pop(key, None)
            if not pods:
                del self.nominated_pods[node]

    def update_nominated_pod(self, old: dict | None, new: PodInfo) -> None:
        nominating = None
        old_nnn = ((old or {}).get("status") or {}).get("nominatedNodeName") or ""
        if not old_nnn and not new.nominated_node_name and new.key in self.nominated_pod_to_node:
            nominating = fw.NominatingInfo(self.nominated_pod_to_node[new.key], fw.MODE_OVERRIDE)
        self.delete_nominated_pod_if_exists(new.key)
        self.add_nominated_pod(new, nominating)

    def nominated_pods_for_node(self, node: str) -> list[PodInfo]:
        return list((self.nominated_pods.get(node) or {}).values())

    # -- views (the dashboard's scheduler panel) ------------------------------------------------
    def active_list(self, limit: int | None = None) -> list[QueuedPodInfo]:
        """activeQ in pop order (the first `limit`, found walking the heap: O(limit log limit))."""
        return [q for _, _, q in _heap_smallest(self.active, limit, self.active_map)]

    def backoff_list(self, limit: int | None = None) -> list[QueuedPodInfo]:
        """backoffQ by backoff expiry (the first `limit`, as active_list)."""
        return [q for _, _, q in _heap_smallest(self.backoff, limit, self.backoff_map)]

    def unschedulable_list(self, limit: int | None = None) -> list[QueuedPodInfo]:
        """Unschedulable pods, longest waiting first."""
        vals = self.unschedulable.values()
        if limit is not None and self._unschedulable_in_order:
            return list(itertools.islice(vals, limit))
        key = lambda q: (q.timestamp, q.key)  # noqa: E731
        return heapq.nsmallest(limit, vals, key=key) if limit is not None else sorted(vals, key=key)

    def __len__(self) -> int:
        return len(self.active_map) + len(self.backoff_map) + len(self.unschedulable)


def _heap_smallest(heap: list, limit: int | None, live_map: dict) -> list[tuple]:
    """The `limit` smallest live entries (sort key, seq, qpi) of a heap, in order, visiting only
    the heap's top: a node is looked at once its parent has been taken.  An entry is live when
    live_map still holds its seq for its pod (moved pods leave stale entries behind)."""
    def live(e) -> bool:
        return live_map.get(e[2].key, (None,))[0] == e[1]

    if limit is None:
        return sorted((e for e in heap if live(e)), key=lambda e: (e[0], e[1]))
    out: list[tuple] = []
    frontier = [(heap[0], 0)] if heap else []
    while frontier and len(out) < limit:
        e, i = heapq.heappop(frontier)
        if live(e):
            out.append(e)
        for j in (2 * i + 1, 2 * i + 2):
            if j < len(heap):
                heapq.heappush(frontier, (heap[j], j))
    return out


def _required_affinity_terms(pod: PodInfo) -> list[dict]:
    def build():
        aff = pod.affinity
        return list((aff.get("podAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []) + \
            list((aff.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or [])
    return pod.cached("queue.requiredAffinityTerms", build)


def _term_matches(term: dict, owner: PodInfo, pod: PodInfo) -> bool:
    """AffinityTerm.Matches without namespace labels: the term's namespaces (the owner's own
    when none and no namespaceSelector; an empty namespaceSelector selects every namespace)."""
    namespaces = term.get("namespaces") or []
    ns_sel = term.get("namespaceSelector")
    if not namespaces and ns_sel is None:
        namespaces = [owner.namespace]
    in_ns = pod.namespace in namespaces or (ns_sel is not None and not ns_sel.get("matchLabels") and not ns_sel.get("matchExpressions"))
    if not in_ns:
        return False
    try:
        sel = label_selector_as_selector(term.get("labelSelector"))
    except SelectorError:
        return False
    return selector_matches(sel, pod.labels)


def pod_scheduling_properties_change(new: dict, old: dict | None) -> list[ClusterEvent]:
    """framework.PodSchedulingPropertiesChange for an unscheduled pod's update."""
    if old is None:
        return [fw.EVENT_UNSCHEDULED_POD_UPDATE]
    events = []
    o_md, n_md = old.get("metadata") or {}, new.get("metadata") or {}
    o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
    if (o_md.get("labels") or {}) != (n_md.get("labels") or {}):
        events.append(ClusterEvent(fw.UNSCHEDULED_POD, fw.UPDATE_POD_LABEL, "UnscheduledPodUpdateLabel"))
    if (o_spec.get("tolerations") or []) != (n_spec.get("tolerations") or []):
        events.append(ClusterEvent(fw.UNSCHEDULED_POD, fw.UPDATE_POD_TOLERATION, "UnscheduledPodUpdateToleration"))
    if o_spec.get("schedulingGates") and not n_spec.get("schedulingGates"):
        events.append(ClusterEvent(fw.UNSCHEDULED_POD, fw.UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
                                   "UnscheduledPodUpdateSchedulingGatesEliminated"))
    o_rest = {k: v for k, v in o_spec.items() if k not in ("tolerations", "schedulingGates")}
    n_rest = {k: v for k, v in n_spec.items() if k not in ("tolerations", "schedulingGates")}
    if not events and o_rest != n_rest:
        events.append(ClusterEvent(fw.UNSCHEDULED_POD, fw.UPDATE_POD_OTHER, "UnscheduledPodUpdate"))
    return events


def node_scheduling_properties_change(new: dict, old: dict) -> list[ClusterEvent]:
    """nodeSchedulingPropertiesChange: which node updates can matter to scheduling (a kubelet
    heartbeat that changes nothing but timestamps is none of them)."""
    events = []
    o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
    o_md, n_md = old.get("metadata") or {}, new.get("metadata") or {}
    o_st, n_st = old.get("status") or {}, new.get("status") or {}
    if bool(o_spec.get("unschedulable")) != bool(n_spec.get("unschedulable")):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_TAINT, "NodeSpecUnschedulableChange"))
    if (o_st.get("allocatable") or {}) != (n_st.get("allocatable") or {}):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_ALLOCATABLE, "NodeAllocatableChange"))
    if (o_md.get("labels") or {}) != (n_md.get("labels") or {}):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_LABEL, "NodeLabelChange"))
    if (o_spec.get("taints") or []) != (n_spec.get("taints") or []):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_TAINT, "NodeTaintChange"))
    conds = lambda st: {c.get("type"): c.get("status") for c in st.get("conditions") or []}  # noqa: E731
    if conds(o_st) != conds(n_st):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_CONDITION, "NodeConditionChange"))
    if (o_md.get("annotations") or {}) != (n_md.get("annotations") or {}):
        events.append(ClusterEvent(fw.NODE, fw.UPDATE_NODE_ANNOTATION, "NodeAnnotationChange"))
    return events
