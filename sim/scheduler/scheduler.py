"""kube-scheduler (pkg/scheduler: scheduler.go, schedule_one.go, eventhandlers.go).

`Scheduler` is the algorithm and its state, free of the simulation: the cache, the scheduling
queue, one Framework per profile, and the explanations.  `schedule_one()` pops a pod and runs
a scheduling cycle: PreFilter; Filter over the nodes (round robin from where the last cycle
stopped, until percentageOfNodesToScore's share of feasible nodes is found); PostFilter
(preemption) when none fits; PreScore, Score and NormalizeScore over the feasible nodes; the
highest weighted total wins (ties at random).  The pod is assumed on the node, reserved,
permitted, and the binding cycle (PreBind, Bind, PostBind) runs through the API client.

Filters and scores run vectorised over the NodeTable (`vectorised=True`, the default) or per
node and per plugin over NodeInfos (the plain loop; same results, used as the tests' oracle and
the benchmark's baseline).

`KubeScheduler` is the leader-elected component around it: informers feed the event handlers,
timers flush the backoff (1 s) and unschedulable (30 s) queues, and failures become a
FailedScheduling event plus the PodScheduled=False condition, in upstream's words.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from sim.api.podutil import is_deleting, is_terminal
from sim.flowcontrol import SCHEDULER_BURST, SCHEDULER_QPS
from sim.leaderelection import LeaderElectedComponent
from sim.scheduler.cache import SchedulerCache
from sim.scheduler.explain import (ERROR_RESULT, NOMINATED, SCHEDULED, UNSCHEDULABLE_RESULT, AttemptRecord,
                                   ExplanationStore, fit_error_message)
from sim.scheduler.framework import interface as fw
from sim.scheduler.framework.config import ConfigError, default_configuration
from sim.scheduler.framework.interface import (ERROR, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState,
                                               NodeToStatus, PluginError, Status)
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.framework.runtime import Framework, FrameworkError, NodeSet, Services
from sim.scheduler.queue import (BACKOFF_FLUSH_INTERVAL, UNSCHEDULABLE_FLUSH_INTERVAL, QueuedPodInfo,
                                 SchedulingQueue, node_scheduling_properties_change)

SCHEDULER_NAME = "default-scheduler"
CYCLE_TIME = 0.002          # virtual seconds one scheduling cycle takes
EXPLAIN_TRACE_MAX_NODES = 100
EXPLAIN_KEEP = 1000         # pods whose latest attempt is kept
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NOTE_LENGTH_LIMIT = 1024    # validation.NoteLengthLimit (event and condition messages)
INFORMER_GROUPS = {"replicasets": "apps", "statefulsets": "apps", "priorityclasses": "scheduling.k8s.io",
                   "poddisruptionbudgets": "policy", "storageclasses": "storage.k8s.io"}
# The kinds whose events plugins register for (ClusterEvent resources) beyond pods and nodes.
EVENT_KINDS = {"persistentvolumeclaims": "PersistentVolumeClaim", "persistentvolumes": "PersistentVolume",
               "storageclasses": "StorageClass"}
ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods"


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """numFeasibleNodesToFind: all nodes below 100; else percentageOfNodesToScore of them,
    adaptive when 0 (50% - nodes/125, at least 5%), and at least 100 nodes."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    num = num_all_nodes * percentage // 100
    return max(num, MIN_FEASIBLE_NODES_TO_FIND)


def truncate_message(message: str) -> str:
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    return message[:NOTE_LENGTH_LIMIT - 4] + " ..."


def load_configuration(config: dict | None) -> dict:
    """Default and validate a KubeSchedulerConfiguration, and build its profiles once so that
    plugin errors (an unknown plugin, bad args, no Bind plugin) surface as ConfigError."""
    cfg = default_configuration(config)
    Scheduler(cfg)
    return cfg


class FitError(Exception):
    def __init__(self, record: AttemptRecord, unschedulable_plugins: set[str], node_to_status: NodeToStatus):
        super().__init__("fit error")
        self.record = record
        self.unschedulable_plugins = unschedulable_plugins
        self.node_to_status = node_to_status


class NoNodesAvailable(Exception):
    pass


class ImmediateClient:
    """A client that acknowledges every write at once (the benchmark, unit tests)."""

    def __init__(self) -> None:
        self.bound: dict[tuple[str, str], str] = {}
        self.events: list[tuple] = []
        self.status_patches: list[tuple] = []
        self.condition_patches: list[tuple] = []     # add_pod_condition (preemption's DisruptionTarget)

    def bind(self, pod: PodInfo, binding: dict, done: Callable[[Status | None], None]) -> None:
        self.bound[pod.key] = binding["target"]["name"]
        done(None)

    def event(self, pod: PodInfo, type_: str, reason: str, message: str) -> None:
        self.events.append((pod.key, type_, reason, message))

    def patch_pod_status(self, pod: PodInfo, condition: dict | None, nominated_node: str | None) -> None:
        self.status_patches.append((pod.key, condition, nominated_node))

    def delete_pod(self, pod: PodInfo, done: Callable[[Status | None], None] | None = None) -> None:
        if done:
            done(None)

    def add_pod_condition(self, pod: PodInfo, condition: dict, done: Callable[[Status | None], None] | None = None) -> None:
        self.condition_patches.append((pod.key, condition))
        if done:
            done(None)


class Scheduler:
    def __init__(self, config: dict | None = None, client: Any = None, clock: Callable[[], float] = lambda: 0.0,
                 rng: Any = None, pod_lister: Callable[[str, str], dict | None] | None = None,
                 vectorised: bool = True, explain_keep: int = EXPLAIN_KEEP):
        import random
        self.config = default_configuration(config)
        self.client = client or ImmediateClient()
        self.clock = clock
        self.rng = rng or random.Random(1)
        self.vectorised = vectorised
        self.cache = SchedulerCache()
        self.services = Services(snapshot=self.cache, client=self.client, clock=clock, rng=self.rng,
                                 pod_lister=pod_lister or self.pod_lister)
        try:
            self.profiles: dict[str, Framework] = {
                p["schedulerName"]: Framework(p, self.services, self.config["percentageOfNodesToScore"])
                for p in self.config["profiles"]}
        except FrameworkError as e:
            raise ConfigError([str(e)]) from e
        self.queue = SchedulingQueue(self.profiles, clock, float(self.config["podInitialBackoffSeconds"]),
                                     float(self.config["podMaxBackoffSeconds"]))
        self.services.nominator = self.queue
        self.next_start_node_index = 0
        self.explanations = ExplanationStore(explain_keep)
        self.pods: dict[tuple[str, str], dict] = {}     # the informer's view of unassigned pods
        self.on_attempt: Callable[[AttemptRecord], None] | None = None
        self.on_bound: Callable[[PodInfo, str], None] | None = None

    # -- event handlers (eventhandlers.go) -------------------------------------------------
    def responsible_for(self, pod: dict) -> bool:
        return ((pod.get("spec") or {}).get("schedulerName") or SCHEDULER_NAME) in self.profiles

    def add_node(self, node: dict) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff_queue(fw.EVENT_NODE_ADD, None, node)

    def update_node(self, old: dict, new: dict) -> None:
        self.cache.update_node(new)
        for event in node_scheduling_properties_change(new, old):
            self.queue.move_all_to_active_or_backoff_queue(event, old, new)

    def delete_node(self, node: dict) -> None:
        self.cache.remove_node(node["metadata"]["name"])
        self.queue.move_all_to_active_or_backoff_queue(fw.EVENT_NODE_DELETE, node, None)

    def add_pod(self, pod: dict) -> None:
        if (pod.get("spec") or {}).get("nodeName"):
            if is_terminal(pod):
                return
            key = (pod["metadata"].get("namespace") or "", pod["metadata"]["name"])
            self.pods.pop(key, None)
            self.queue.delete(key)
            p = PodInfo(pod)
            self.cache.add_pod(p)
            self.queue.assigned_pod_added(p)
        elif self.responsible_for(pod):
            p = PodInfo(pod)
            self.pods[p.key] = pod
            if self.cache.is_assumed(p.key):
                return
            self.queue.add(p)

    def update_pod(self, old: dict, new: dict) -> None:
        key = (new["metadata"].get("namespace") or "", new["metadata"]["name"])
        if (new.get("spec") or {}).get("nodeName"):
            self.pods.pop(key, None)
            if is_terminal(new):
                self.delete_pod(new)
                return
            if (old.get("spec") or {}).get("nodeName"):
                prev = self.cache.pods.get(key)
                if (prev is not None and old.get("spec") == new.get("spec")
                        and (old["metadata"].get("labels") or {}) == (new["metadata"].get("labels") or {})
                        # PodTopologySpread stops counting a pod once it is terminating
                        and bool(old["metadata"].get("deletionTimestamp")) == bool(new["metadata"].get("deletionTimestamp"))):
                    prev[0].pod = new          # a status update: nothing the plugins read changed
                    return
                p = PodInfo(new)
                self.cache.update_pod(p)
                if prev is not None and (prev[0].labels != p.labels):
                    self.queue.assigned_pod_updated(old, p, fw.ClusterEvent(fw.ASSIGNED_POD, fw.UPDATE_POD_LABEL,
                                                                              "AssignedPodUpdate"))
            else:
                self.queue.delete(key)
                p = PodInfo(new)
                self.cache.add_pod(p)
                self.queue.assigned_pod_added(p)
            return
        if self.cache.pod_node(key) is not None and not self.cache.is_assumed(key):
            # Bound before, unbound now: only an etcd restore rewinds a pod like this.  Drop the
            # placement the cache remembers so the pod can be scheduled again.
            self.cache.remove_pod(key)
            self.queue.move_all_to_active_or_backoff_queue(fw.EVENT_ASSIGNED_POD_DELETE, old, None)
        if not self.responsible_for(new):
            return
        self.pods[key] = new
        if self.cache.is_assumed(key):
            return
        if is_deleting(new):
            return
        self.queue.update(old, PodInfo(new))

    def delete_pod(self, pod: dict) -> None:
        key = (pod["metadata"].get("namespace") or "", pod["metadata"]["name"])
        self.pods.pop(key, None)
        assigned = (pod.get("spec") or {}).get("nodeName")
        if self.cache.pod_node(key) is not None and (assigned or not self.cache.is_assumed(key)):
            self.cache.remove_pod(key)
            self.queue.move_all_to_active_or_backoff_queue(fw.EVENT_ASSIGNED_POD_DELETE, pod, None)
            return
        self.queue.delete(key)

    def pod_lister(self, namespace: str, name: str) -> dict | None:
        return self.pods.get((namespace, name))

    # -- the scheduling cycle (schedule_one.go) ------------------------------------------------
    def schedule_one(self) -> bool:
        """Schedule the head of activeQ; False if activeQ is empty."""
        qpi = self.queue.pop()
        if qpi is None:
            return False
        pod = qpi.pod_info
        fwk = self.profiles.get(pod.scheduler_name)
        if fwk is None:
            self.queue.done(pod.key)
            return True
        if is_deleting(pod.pod):
            self.client.event(pod, "Warning", "FailedScheduling", f"skip schedule deleting pod: {pod.full_name}")
            self.queue.done(pod.key)
            return True
        if self.cache.is_assumed(pod.key):
            self.queue.done(pod.key)
            return True
        state = CycleState()
        cycle = self.queue.scheduling_cycle
        record = AttemptRecord(pod=pod.full_name, time=self.clock(), attempt=qpi.attempts,
                               profile=fwk.profile_name, num_all_nodes=self.cache.num_nodes())
        try:
            node = self._schedule_pod(fwk, state, pod, record)
        except FitError as fe:
            status = Status(UNSCHEDULABLE)
            nominating = fw.NominatingInfo("", fw.MODE_OVERRIDE)   # clearNominatedNode, unless PostFilter runs
            if fwk.has_post_filter_plugins():
                nominating = None
                try:
                    result, s = fwk.run_post_filter_plugins(state, pod, fe.node_to_status)
                except PluginError as e:
                    result, s = None, Status(ERROR, (str(e),))
                record.post_filter_message = s.message() if s is not None else ""
                if result is not None:
                    nominating = result.nominating_info
            record.message = fit_error_message(record.num_all_nodes, record)
            if nominating is not None and nominating.mode == fw.MODE_OVERRIDE and nominating.nominated_node_name:
                record.result, record.nominated_node = NOMINATED, nominating.nominated_node_name
            self._failure(fwk, qpi, status, record, fe.unschedulable_plugins, nominating, cycle)
            return True
        except NoNodesAvailable:
            record.message = ERR_NO_NODES_AVAILABLE
            self._failure(fwk, qpi, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_NO_NODES_AVAILABLE,)), record,
                          set(), fw.NominatingInfo("", fw.MODE_OVERRIDE), cycle)
            return True
        except PluginError as e:
            record.message, record.result = str(e), ERROR_RESULT
            self._failure(fwk, qpi, Status(ERROR, (str(e),)), record, set(), fw.NominatingInfo("", fw.MODE_OVERRIDE), cycle)
            return True
        # Assume, Reserve, Permit; then the binding cycle.
        try:
            self.cache.assume_pod(pod, node)
        except ValueError as e:
            record.message, record.result, record.node, record.chosen_row = str(e), ERROR_RESULT, None, -1
            self._failure(fwk, qpi, Status(ERROR, (str(e),)), record, set(), fw.NominatingInfo("", fw.MODE_OVERRIDE), cycle)
            return True
        self.queue.delete_nominated_pod_if_exists(pod.key)
        s = fwk.run_reserve_plugins_reserve(state, pod, node) or fwk.run_permit_plugins(state, pod, node)
        if s is not None and not s.is_success():
            fwk.run_reserve_plugins_unreserve(state, pod, node)
            self.cache.forget_pod(pod.key)
            record.result, record.node, record.chosen_row = UNSCHEDULABLE_RESULT, None, -1
            if s.is_rejected():
                record.message = f"0/1 nodes are available: {s.message()}."
                self._failure(fwk, qpi, s, record, {s.plugin}, fw.NominatingInfo("", fw.MODE_OVERRIDE), cycle)
            else:
                record.message, record.result = s.message(), ERROR_RESULT
                self._failure(fwk, qpi, s, record, set(), fw.NominatingInfo("", fw.MODE_OVERRIDE), cycle)
            return True
        record.result, record.node = SCHEDULED, node
        record.message = f"Successfully assigned {pod.full_name} to {node}"
        self._record(record)
        self.queue.done(pod.key)
        self._binding_cycle(fwk, state, qpi, node)
        return True

    def _schedule_pod(self, fwk: Framework, state: CycleState, pod: PodInfo, record: AttemptRecord) -> str:
        """schedulePod: PreFilter, Filter, (PreScore, Score); returns the chosen node."""
        cache = self.cache
        table = cache.table
        n_all = cache.num_nodes()
        if n_all == 0:
            raise NoNodesAvailable()
        order = cache.order()
        record.names = table.names_snapshot()
        all_nodes = NodeSet(table, order)
        pre_res, s, with_nodes = fwk.run_pre_filter_plugins(state, pod, all_nodes)
        unschedulable_plugins = set(with_nodes)
        record.filter_plugins = [pl.name for pl in fwk.active_filter_plugins(state)]
        record.skipped_filter_plugins = [pl.name for pl in fwk.filter_plugins if pl.name in state.skip_filter_plugins]
        if s is not None and not s.is_success():
            if not s.is_rejected():
                raise PluginError(s.message())
            record.prefilter_status = s
            if s.plugin:
                unschedulable_plugins.add(s.plugin)
            raise FitError(record, unschedulable_plugins, NodeToStatus(absent=s))
        # A node that preemption nominated is tried first, alone.
        if pod.nominated_node_name:
            info = cache.get(pod.nominated_node_name)
            if info is not None:
                st = fwk.run_filter_plugins_with_nominated_pods(state, pod, info)
                if st is not None and st.code == ERROR:
                    raise PluginError(st.message())
                if st is None:
                    record.evaluated_nominated_node = info.name
                    record.feasible_rows = np.array([info.row], np.int64)
                    record.chosen_row = info.row
                    return info.name
        rows = order
        if pre_res is not None and not pre_res.all_nodes():
            subset = table.rows_named(pre_res.node_names)
            rows = order[np.isin(order, subset)]
            names = "[" + " ".join(sorted(with_nodes)) + "]"
            record.absent_status = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (f"node(s) didn't satisfy plugin(s) {names}",))
            record.num_absent = n_all - len(rows)
        if self.vectorised:
            self._find_nodes_vec(fwk, state, pod, rows, record)
        else:
            self._find_nodes_scalar(fwk, state, pod, rows, record)
        processed = len(record.feasible_rows) + len(record.rejected_rows)
        self.next_start_node_index = (self.next_start_node_index + processed) % n_all
        if len(record.feasible_rows) == 0:
            statuses_plugins = self._rejecting_plugins(record)
            unschedulable_plugins |= statuses_plugins
            lazy = lambda: {record.names[int(r)]: record.rejected_status(i)  # noqa: E731
                            for i, r in enumerate(record.rejected_rows.tolist())}
            nts = NodeToStatus(absent=record.absent_status or Status(UNSCHEDULABLE_AND_UNRESOLVABLE), _lazy=lazy)
            raise FitError(record, unschedulable_plugins, nts)
        if len(record.feasible_rows) == 1:
            record.chosen_row = int(record.feasible_rows[0])
            return table.names[record.chosen_row]
        return self._prioritize_and_select(fwk, state, pod, record)

    def _rejecting_plugins(self, record: AttemptRecord) -> set[str]:
        out = set()
        if len(record.rejected_rows):
            combo = record.rejected_plugin.astype(np.int64) * (1 << 32) + record.rejected_ids.astype(np.int64)
            _, first = np.unique(combo, return_index=True)
            for i in first.tolist():
                s = record.rejected_status(i)
                if s.code == ERROR:
                    raise PluginError(s.message())
                if s.is_rejected() and s.plugin:
                    out.add(s.plugin)
        return out

    def _num_to_find(self, fwk: Framework, n: int) -> int:
        want = num_feasible_nodes_to_find(n, fwk.percentage_of_nodes_to_score)
        if not fwk.has_score_plugins():
            want = 1
        return want

    def _filter_setup(self, fwk: Framework, state: CycleState, rows: np.ndarray, record: AttemptRecord):
        """What both findNodesThatPassFilters paths start with: how many feasible nodes to
        find, the nodes in search order (from where the last cycle stopped, round robin) and
        the active Filter plugins; with no Filter plugin the first `want` nodes are feasible
        and None is returned."""
        n = len(rows)
        want = self._num_to_find(fwk, n)
        start = self.next_start_node_index % n if n else 0
        rotated = np.concatenate((rows[start:], rows[:start])) if start else rows
        plugins = fwk.active_filter_plugins(state)
        if not plugins:
            record.feasible_rows = rotated[:want]
            return None
        return n, want, start, rotated, plugins

    def _find_nodes_vec(self, fwk: Framework, state: CycleState, pod: PodInfo, rows: np.ndarray, record: AttemptRecord) -> None:
        """findNodesThatPassFilters, every filter over every node at once."""
        table = self.cache.table
        setup = self._filter_setup(fwk, state, rows, record)
        if setup is None:
            return
        n, want, start, rotated, plugins = setup
        fail, ids, decoders = fwk.run_filter_plugins_vec(state, pod, table, plugins)
        self._apply_nominated_pods(fwk, state, pod, plugins, fail, ids, decoders)
        f_rot = fail[rotated]
        feas_pos = np.flatnonzero(f_rot < 0)
        if len(feas_pos) > want:
            # Upstream stops when the (want+1)-th feasible node is found (not kept): the nodes
            # rejected before it count as processed, it does not.
            processed = int(feas_pos[want])
            feas_pos = feas_pos[:want]
        else:
            processed = n
        rej_pos = np.flatnonzero(f_rot[:processed] >= 0)
        record.feasible_rows = rotated[feas_pos]
        rej_rows = rotated[rej_pos]
        record.rejected_rows = rej_rows.astype(np.int32)
        record.rejected_plugin = f_rot[rej_pos]
        record.rejected_ids = ids[rej_rows]
        record.decoders = decoders

    def _apply_nominated_pods(self, fwk, state, pod, plugins, fail, ids, decoders) -> None:
        """Nodes with nominated pods of equal or higher priority are re-checked per node with
        those pods counted (RunFilterPluginsWithNominatedPods)."""
        nominated = self.queue.nominated_pods
        if not nominated:
            return
        index = {pl.name: i for i, pl in enumerate(plugins)}
        base = 1 << 30
        extra: list[Status] = []
        for node_name in list(nominated):
            info = self.cache.get(node_name)
            if info is None or not fwk.has_nominated_pods_ge(pod, node_name):
                continue
            s = fwk.run_filter_plugins_with_nominated_pods(state, pod, info)
            row = info.row
            if s is None:
                fail[row], ids[row] = -1, 0
                continue
            i = index.get(s.plugin, 0)
            extra.append(s)
            fail[row], ids[row] = i, base + len(extra) - 1
            orig = decoders[i]
            decoders[i] = (lambda orig: lambda k: extra[k - base] if k >= base else orig(k))(orig)

    def _find_nodes_scalar(self, fwk: Framework, state: CycleState, pod: PodInfo, rows: np.ndarray, record: AttemptRecord) -> None:
        """findNodesThatPassFilters, the plain loop: per node, per plugin."""
        table = self.cache.table
        setup = self._filter_setup(fwk, state, rows, record)
        if setup is None:
            return
        n, want, start, rotated, plugins = setup
        index = {pl.name: i for i, pl in enumerate(plugins)}
        feasible, rej_rows, rej_plugin, rej_ids = [], [], [], []
        statuses: list[list[Status]] = [[] for _ in plugins]
        interned: list[dict] = [{} for _ in plugins]
        nominated = self.queue.nominated_pods
        infos = table.infos
        for row in rotated.tolist():
            info = infos[row]
            if nominated and info.name in nominated:
                s = fwk.run_filter_plugins_with_nominated_pods(state, pod, info)
            else:
                s = fwk.run_filter_plugins(state, pod, info)
            if s is None:
                if len(feasible) >= want:
                    break      # one more feasible node than needed: the search stops here
                feasible.append(row)
                continue
            i = index.get(s.plugin, 0)
            k = interned[i].get(s)
            if k is None:
                statuses[i].append(s)
                k = interned[i][s] = len(statuses[i])
            rej_rows.append(row)
            rej_plugin.append(i)
            rej_ids.append(k)
        record.feasible_rows = np.array(feasible, np.int64)
        record.rejected_rows = np.array(rej_rows, np.int32)
        record.rejected_plugin = np.array(rej_plugin, np.int16)
        record.rejected_ids = np.array(rej_ids, np.int32)
        record.decoders = [(lambda lst: lambda k: lst[k - 1])(lst) for lst in statuses]

    def _prioritize_and_select(self, fwk: Framework, state: CycleState, pod: PodInfo, record: AttemptRecord) -> str:
        table = self.cache.table
        rows = record.feasible_rows
        if not fwk.has_score_plugins():
            total = np.ones(len(rows), np.int64)
        else:
            if self.vectorised:
                nodes = NodeSet(table, rows)
            else:
                infos = [table.infos[r] for r in rows.tolist()]
                nodes = NodeSet(table, rows, infos)
            s = fwk.run_pre_score_plugins(state, pod, nodes)
            if s is not None and not s.is_success():
                raise PluginError(s.message())
            scores = (fwk.run_score_plugins_vec(state, pod, table, rows) if self.vectorised
                      else fwk.run_score_plugins(state, pod, nodes.infos))
            record.score_plugins, record.score_weights = scores.plugins, scores.weights
            record.raw, record.normalized = scores.raw, scores.normalized
            total = scores.total
        record.total = total
        best = np.flatnonzero(total == total.max())
        record.ties = len(best)
        pick = int(best[0]) if len(best) == 1 else int(best[self.rng.randrange(len(best))])
        record.chosen_row = int(rows[pick])
        return table.names[record.chosen_row]

    # -- failures (handleSchedulingFailure) ------------------------------------------------------
    def _failure(self, fwk: Framework, qpi: QueuedPodInfo, status: Status, record: AttemptRecord,
                 unschedulable_plugins: set[str], nominating: fw.NominatingInfo | None, cycle: int) -> None:
        pod = qpi.pod_info
        reason = "Unschedulable" if status.is_rejected() else "SchedulerError"
        if record.result == SCHEDULED:
            record.result = UNSCHEDULABLE_RESULT
        if status.is_rejected():
            qpi.unschedulable_plugins = set(unschedulable_plugins)
            qpi.pending_plugins = set()
        else:
            qpi.unschedulable_plugins, qpi.pending_plugins = set(), set()
            if record.result != NOMINATED:
                record.result = ERROR_RESULT if status.code == ERROR else record.result
        qpi.message = record.message
        cached = self.pods.get(pod.key)
        if cached is None or (cached.get("spec") or {}).get("nodeName"):
            self.queue.done(pod.key)
        else:
            if cached is not pod.pod:
                qpi.pod_info = PodInfo(cached)
            self.queue.add_unschedulable_if_not_present(qpi, cycle)
        self.queue.add_nominated_pod(qpi.pod_info, nominating)
        self._record(record)
        msg = truncate_message(record.message)
        self.client.event(pod, "Warning", "FailedScheduling", msg)
        condition = {"type": "PodScheduled", "status": "False", "reason": reason, "message": record.message}
        nnn = None
        if nominating is not None and nominating.mode == fw.MODE_OVERRIDE and pod.nominated_node_name != nominating.nominated_node_name:
            nnn = nominating.nominated_node_name
        self.client.patch_pod_status(qpi.pod_info, condition, nnn)

    def _record(self, record: AttemptRecord) -> None:
        key = tuple(record.pod.split("/", 1))
        self.explanations.put(key, record)
        if self.on_attempt is not None:
            self.on_attempt(record)

    # -- the binding cycle -----------------------------------------------------------------------
    def _binding_cycle(self, fwk: Framework, state: CycleState, qpi: QueuedPodInfo, node: str) -> None:
        pod = qpi.pod_info

        def pre_bound(s: Status | None) -> None:
            if s is not None and not s.is_success():
                self._binding_failed(fwk, state, qpi, node, s)
                return
            fwk.run_bind_plugins(state, pod, node, done)

        def done(status: Status | None) -> None:
            if status is not None and not status.is_success():
                self._binding_failed(fwk, state, qpi, node, status)
                return
            self.client.event(pod, "Normal", "Scheduled", f"Successfully assigned {pod.full_name} to {node}")
            fwk.run_post_bind_plugins(state, pod, node)
            if self.on_bound is not None:
                self.on_bound(pod, node)
        fwk.run_pre_bind_plugins(state, pod, node, pre_bound)

    def _binding_failed(self, fwk: Framework, state: CycleState, qpi: QueuedPodInfo, node: str, status: Status) -> None:
        """handleBindingCycleError: unreserve, forget the assumed pod (freeing its room for the
        others) and retry it after backoff."""
        pod = qpi.pod_info
        fwk.run_reserve_plugins_unreserve(state, pod, node)
        self.cache.forget_pod(pod.key)
        self.queue.move_all_to_active_or_backoff_queue(fw.EVENT_ASSIGNED_POD_DELETE, pod.pod, None,
                                                       lambda p: p.uid != pod.uid)
        record = AttemptRecord(pod=pod.full_name, time=self.clock(), attempt=qpi.attempts, profile=fwk.profile_name,
                               num_all_nodes=self.cache.num_nodes(), result=ERROR_RESULT,
                               message=f"binding rejected: {status.message()}")
        self.queue.in_flight[pod.key] = qpi
        self._failure(fwk, qpi, Status(ERROR, status.reasons), record, set(), fw.NominatingInfo("", fw.MODE_OVERRIDE),
                      self.queue.scheduling_cycle)

    # -- views -------------------------------------------------------------------------------------
    def explanation(self, namespace: str, name: str) -> dict | None:
        r = self.explanations.get((namespace, name))
        return r.to_json() if r is not None else None

    @staticmethod
    def _entry(qpi: QueuedPodInfo) -> dict:
        return {"pod": qpi.pod_info.full_name, "priority": qpi.pod_info.priority, "attempts": qpi.attempts}

    def queue_view(self, limit: int | None = None) -> dict:
        """The three queues: activeQ in pop order, backoffQ by expiry ("until", virtual
        seconds), unschedulable pods longest waiting first ("since", the last message)."""
        q = self.queue
        active = [self._entry(x) for x in q.active_list(limit)]
        backoff = [dict(self._entry(x), until=round(q.backoff_time(x), 3)) for x in q.backoff_list(limit)]
        unsched = [dict(self._entry(x), since=round(x.timestamp, 3), message=x.message)
                   for x in q.unschedulable_list(limit)]
        return {"active": active, "backoff": backoff, "unschedulable": unsched}

    def queue_frame(self, limit: int = 50) -> dict:
        """Counts and the first `limit` entries (active, then backoff, then unschedulable),
        each with its "queue", for the dashboard's live frames."""
        q = self.queue
        view = self.queue_view(limit)
        pods = ([dict(e, queue="active") for e in view["active"]] + [dict(e, queue="backoff") for e in view["backoff"]]
                + [dict(e, queue="unschedulable") for e in view["unschedulable"]])[:limit]
        return {"active": len(q.active_map), "backoff": len(q.backoff_map), "unschedulable": len(q.unschedulable),
                "pods": pods}

    def needed_informers(self) -> list[str]:
        """The extra informers the enabled plugins read (Plugin.informers)."""
        return sorted({r for f in self.profiles.values() for pl in f.plugins_map.values() for r in pl.informers})

    def describe_profiles(self) -> list[dict]:
        return [f.describe() for f in self.profiles.values()]


# -- the component ----------------------------------------------------------------------------
class APIClientAdapter:
    """The scheduler's writes through the component's API client."""

    def __init__(self, component: "KubeScheduler"):
        self.c = component

    def bind(self, pod: PodInfo, binding: dict, done) -> None:
        def answered(resp: dict) -> None:
            if resp["code"] >= 400:
                body = resp.get("body") or {}
                done(Status(ERROR, (body.get("message") or f"binding failed ({resp['code']})",)))
            else:
                done(None)
        self.c.api.request({"verb": "create", "resource": "pods", "namespace": pod.namespace, "name": pod.name,
                            "subresource": "binding", "body": binding}, answered, "create pods/binding")

    def update_object(self, resource: str, obj: dict, done: Callable[[Status | None], None] | None = None) -> None:
        """A write a PreBind plugin sends (VolumeBinding's claimRef / selected-node)."""
        def answered(resp: dict) -> None:
            if done is not None:
                done(None if resp["code"] < 400 else
                     Status(ERROR, ((resp.get("body") or {}).get("message") or f"update failed ({resp['code']})",)))
        self.c.api.update(resource, obj, answered)

    def after(self, delay: float, fn: Callable[[], None]) -> None:
        """Run `fn` later (a PreBind plugin polling for what it waits on)."""
        self.c.call_later(delay, fn)

    def event(self, pod: PodInfo, type_: str, reason: str, message: str) -> None:
        self.c.api.event(pod.pod, reason, message, SCHEDULER_NAME, type_=type_)

    def patch_pod_status(self, pod: PodInfo, condition: dict | None, nominated_node: str | None) -> None:
        """updatePod: the PodScheduled condition (only when it changes) and nominatedNodeName."""
        patch: dict = {}
        if condition is not None:
            old = next((c for c in (pod.pod.get("status") or {}).get("conditions") or []
                        if c.get("type") == "PodScheduled"), None)
            if old is None or any(old.get(k) != condition.get(k) for k in ("status", "reason", "message")):
                cond = dict(condition, lastProbeTime=None, lastTransitionTime=self.c.timestamp())
                if old is not None and old.get("status") == condition["status"]:
                    cond["lastTransitionTime"] = old.get("lastTransitionTime")
                patch["conditions"] = [cond]
        if nominated_node is not None:
            patch["nominatedNodeName"] = nominated_node or None
        if not patch:
            return
        self.c.api.patch("pods", pod.namespace, pod.name, {"status": patch}, subresource="status",
                         patch_type="application/strategic-merge-patch+json")

    def add_pod_condition(self, pod: PodInfo, condition: dict, done=None) -> None:
        """util.PatchPodStatus with one condition set (preemption's DisruptionTarget)."""
        cond = dict(condition, lastTransitionTime=condition.get("lastTransitionTime") or self.c.timestamp())

        def answered(resp: dict) -> None:
            if done:
                done(None if resp["code"] < 400 else Status(ERROR, (str((resp.get("body") or {}).get("message")),)))
        self.c.api.patch("pods", pod.namespace, pod.name, {"status": {"conditions": [cond]}}, answered,
                         subresource="status", patch_type="application/strategic-merge-patch+json")

    def delete_pod(self, pod: PodInfo, done=None) -> None:
        def answered(resp: dict) -> None:
            if done:
                done(None if resp["code"] < 400 or resp["code"] == 404 else Status(ERROR, (str(resp.get("body")),)))
        self.c.api.delete("pods", pod.namespace, pod.name, answered, precondition_uid=pod.uid or None)


class KubeScheduler(LeaderElectedComponent):
    component = "kube-scheduler"
    lease_name = "kube-scheduler"
    # KubeSchedulerConfiguration clientConnection.qps / burst (sim/flowcontrol.py)
    kube_api_qps, kube_api_burst = SCHEDULER_QPS, SCHEDULER_BURST

    def __init__(self, host: str, apiserver: str, config: dict | None = None,
                 kube_api_qps: float | None = None, kube_api_burst: int | None = None):
        super().__init__(host, apiserver, kube_api_qps, kube_api_burst)
        self.scheduler_config = default_configuration(config)
        self.core: Scheduler | None = None

    def start_leading(self) -> None:
        self.core = Scheduler(self.scheduler_config, APIClientAdapter(self), clock=lambda: self.now, rng=self.rng)
        self.core.on_attempt = self._attempted
        self.core.on_bound = lambda pod, node: self.action(f"kube-scheduler bound {pod.full_name} to {node}")
        self.cycle_armed = False
        c = self.core
        self.node_informer = self.informer("nodes", on_add=self._wrap(c.add_node), on_update=self._wrap(c.update_node),
                                           on_delete=self._wrap(c.delete_node))
        self.pod_informer = self.informer("pods", on_add=self._wrap(c.add_pod), on_update=self._wrap(c.update_pod),
                                          on_delete=self._wrap(c.delete_pod))
        self.node_informer.start()
        self.pod_informer.start()
        for resource in c.needed_informers():
            kind = EVENT_KINDS.get(resource)
            handlers = {} if kind is None else {
                # eventhandlers.go addAllEventHandlers: a change of a kind some plugin registered
                # for moves the pods it rejected back to the active or backoff queue.
                "on_add": self._wrap(lambda obj, kind=kind: c.queue.move_all_to_active_or_backoff_queue(
                    fw.ClusterEvent(kind, fw.ADD), None, obj)),
                "on_update": self._wrap(lambda old, new, kind=kind: c.queue.move_all_to_active_or_backoff_queue(
                    fw.ClusterEvent(kind, fw.UPDATE), old, new))}
            inf = self.informer(resource, group=INFORMER_GROUPS.get(resource, ""), **handlers)
            c.services.listers[resource] = (lambda inf: lambda: list(inf.store.values()))(inf)
            inf.start()
        self.set_timer(BACKOFF_FLUSH_INTERVAL, "flush-backoff")
        self.set_timer(UNSCHEDULABLE_FLUSH_INTERVAL, "flush-unschedulable")

    def on_stop(self) -> None:
        self.core = None

    def _wrap(self, fn):
        def handler(*args):
            fn(*args)
            self._kick()
        return handler

    def _kick(self) -> None:
        if self.core is not None and self.core.queue.active_map and not self.cycle_armed:
            self.cycle_armed = True
            self.call_later(CYCLE_TIME, self._cycle)

    def _cycle(self) -> None:
        self.cycle_armed = False
        if self.core is None:
            return
        self.core.schedule_one()
        self._kick()

    def on_timer(self, name: str, data: Any) -> None:
        if self.core is None:
            return
        if name == "flush-backoff":
            self.core.queue.flush_backoff_q_completed()
            self.set_timer(BACKOFF_FLUSH_INTERVAL, "flush-backoff")
        elif name == "flush-unschedulable":
            self.core.queue.flush_unschedulable_pods_leftover()
            self.set_timer(UNSCHEDULABLE_FLUSH_INTERVAL, "flush-unschedulable")
        self._kick()

    def _attempted(self, record: AttemptRecord) -> None:
        scores, rejected = record.trace_tables(EXPLAIN_TRACE_MAX_NODES)
        self.emit("schedule", component=self.address, pod=record.pod, node=record.node if record.result == SCHEDULED else None,
                  scores=scores, rejected=rejected, message=record.message, result=record.result,
                  nominatedNode=record.nominated_node)
        if record.result != SCHEDULED:
            self.action(f"kube-scheduler could not place {record.pod}: {record.message}")
