"""DefaultPreemption (pkg/scheduler/framework/plugins/defaultpreemption, v1.32): the PostFilter
plugin that, when no node fits a pod, looks for a node where evicting lower-priority pods makes
room, evicts them and nominates the pod to that node.  The algorithm is the evaluator's
(sim.scheduler.preemption); this module holds the parts upstream's plugin decides:

  PodEligibleToPreemptOthers  preemptionPolicy Never does not preempt ("not eligible due to
                              preemptionPolicy=Never."); a pod whose nominated node still has
                              lower-priority pods terminating because of a preemption waits for
                              them ("not eligible due to a terminating pod on the nominated
                              node."), unless the filters now call that node unresolvable
  SelectVictimsOnNode         remove every lower-priority pod from a copy of the node; if the pod
                              fits, put them back one by one, most important first (priority,
                              then earliest start), keeping out only those it cannot fit beside
  GetOffsetAndNumCandidates   a random offset into the candidate nodes, and how many candidates
                              to find: minCandidateNodesPercentage of them, at least
                              minCandidateNodesAbsolute (args; defaults 10 and 100)
The PostFilter status message is the evaluator's, prefixed "preemption: ".

PodDisruptionBudgets: the simulator's API has no policy/v1, so no victim ever violates one
(filterPodsWithPDBViolation puts every pod among the non-violating ones).

Vectorised dry runs: a node's dry run clones its NodeInfo and re-runs the Filter plugins per
victim.  Before that, `dry_run_rejections` answers, for all candidate nodes at once, the nodes
whose dry run is bound to fail: those without a lower-priority pod, and those that a leading run
of node-local Filter plugins (the plugins before any that looks at other nodes' pods) rejects
even with every lower-priority pod gone.  That check runs the plugins' vectorised filters over
the NodeTable with the victims' requests taken off their rows (and put back after), so it gives
exactly the status the per-node dry run would.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from sim.scheduler.framework.interface import (ERROR, UNSCHEDULABLE_AND_UNRESOLVABLE, PluginError,
                                               PostFilterPlugin, PreFilterPlugin, Status, as_status, is_success)
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.preemption import Evaluator, Victims, importance_key, pod_terminating_by_preemption

NAME = "DefaultPreemption"
DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE = 10
DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE = 100
NO_VICTIMS = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, ("No preemption victims found for incoming pod",))
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."

# Filter plugins whose verdict on a node depends on that node and the pods on it only (so the
# vectorised pre-check may run them over every candidate node at once).  InterPodAffinity and
# PodTopologySpread look at other nodes' pods and have PreFilter AddPod/RemovePod extensions:
# they only ever run in the per-node dry run.
NODE_LOCAL_FILTERS = frozenset({"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                "NodePorts", "NodeResourcesFit"})


class _DryRunError(Exception):
    pass


class DefaultPreemption(PostFilterPlugin):
    name = NAME

    def __init__(self, args=None, handle=None):
        args = self.default_args(args)
        errors = self.validate_args(args, "args")
        if errors:
            raise ValueError("; ".join(errors))
        super().__init__(args, handle)
        self.min_candidate_nodes_percentage = args["minCandidateNodesPercentage"]
        self.min_candidate_nodes_absolute = args["minCandidateNodesAbsolute"]
        self.evaluator = Evaluator(NAME, handle, self)
        # False: every dry run per node (the plain loop the vectorised pre-check must agree with).
        self.vectorised = True

    # -- args (SetDefaults_DefaultPreemptionArgs, ValidateDefaultPreemptionArgs) ------------
    @classmethod
    def default_args(cls, args):
        args = dict(args or {})
        if args.get("minCandidateNodesPercentage") is None:
            args["minCandidateNodesPercentage"] = DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE
        if args.get("minCandidateNodesAbsolute") is None:
            args["minCandidateNodesAbsolute"] = DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE
        return args

    @classmethod
    def validate_args(cls, args, path):
        args = args or {}
        pct, absolute = args.get("minCandidateNodesPercentage", 0), args.get("minCandidateNodesAbsolute", 0)
        pct_path, abs_path = f"{path}.minCandidateNodesPercentage", f"{path}.minCandidateNodesAbsolute"
        errors = []
        for v, p in ((pct, pct_path), (absolute, abs_path)):
            if isinstance(v, bool) or not isinstance(v, int):
                errors.append(f"{p}: Invalid value: {v!r}: must be an integer")
        if errors:
            return errors
        if not 0 <= pct <= 100:
            errors.append(f"{pct_path}: Invalid value: {pct}: not in valid range [0, 100]")
        if absolute < 0:
            errors.append(f"{abs_path}: Invalid value: {absolute}: not in valid range [0, inf)")
        if pct == 0 and absolute == 0:
            errors.append(f"{pct_path}: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute")
            errors.append(f"{abs_path}: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage")
        return errors

    # -- PostFilter ---------------------------------------------------------------------------
    def post_filter(self, state, pod, node_to_status):
        result, status = self.evaluator.preempt(state, pod, node_to_status)
        msg = status.message()
        if msg:
            return result, Status(status.code, ("preemption: " + msg,), err=status.err)
        return result, status

    # -- the evaluator's interface ----------------------------------------------------------
    def calculate_num_candidates(self, num_nodes: int) -> int:
        """calculateNumCandidates: minCandidateNodesPercentage of the nodes, at least
        minCandidateNodesAbsolute, at most all of them."""
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        n = max(n, self.min_candidate_nodes_absolute)
        return min(n, num_nodes)

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        return self.handle.rng.randrange(num_nodes), self.calculate_num_candidates(num_nodes)

    @staticmethod
    def candidates_to_victims_map(candidates) -> dict[str, Victims]:
        return {c.name: c.victims for c in candidates}

    def ordered_score_funcs(self, nodes_to_victims):
        return None       # the evaluator's default criteria

    @staticmethod
    def is_preemption_allowed(node_info, victim: PodInfo, preemptor: PodInfo) -> bool:
        """Only lower-priority pods are victims."""
        return victim.priority < preemptor.priority

    def pod_eligible_to_preempt_others(self, pod: PodInfo, nominated_node_status: Status | None) -> tuple[bool, str]:
        if (pod.pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, NOT_ELIGIBLE_NEVER
        nominated = pod.nominated_node_name
        if nominated:
            # The filters now reject the nominated node outright: preempt elsewhere.
            if nominated_node_status is not None and nominated_node_status.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            info = self.handle.snapshot.get(nominated)
            if info is not None:
                for p in info.pods.values():
                    if self.is_preemption_allowed(info, p, pod) and pod_terminating_by_preemption(p.pod):
                        return False, NOT_ELIGIBLE_TERMINATING
        return True, ""

    def select_victims_on_node(self, state, pod: PodInfo, node_info) -> tuple[list[PodInfo], int, Status | None]:
        """SelectVictimsOnNode on a copy of the node (and of the cycle state)."""
        fh = self.handle

        def remove(p: PodInfo) -> None:
            node_info.remove_pod(p.key)
            s = fh.run_pre_filter_extension_remove_pod(state, pod, p, node_info)
            if not is_success(s):
                raise _DryRunError(s.message())

        def add(p: PodInfo) -> None:
            node_info.add_pod(p)
            s = fh.run_pre_filter_extension_add_pod(state, pod, p, node_info)
            if not is_success(s):
                raise _DryRunError(s.message())

        try:
            # Remove every pod preemption may evict; does the pod fit without them?
            potential = [p for p in node_info.pods.values() if self.is_preemption_allowed(node_info, p, pod)]
            for p in potential:
                remove(p)
            if not potential:
                return [], 0, NO_VICTIMS
            s = fh.run_filter_plugins_with_nominated_pods(state, pod, node_info)
            if not is_success(s):
                return [], 0, s
            # Reprieve as many as possible, most important first (PDB-violating ones first:
            # there are none here, see the module docstring).
            potential.sort(key=importance_key)
            victims: list[PodInfo] = []
            for p in potential:
                add(p)
                if not is_success(fh.run_filter_plugins_with_nominated_pods(state, pod, node_info)):
                    remove(p)
                    victims.append(p)
            return victims, 0, Status()
        except (_DryRunError, PluginError) as e:
            return [], 0, as_status(str(e))

    # -- the simulator's vectorised pre-check -------------------------------------------------
    def dry_run_rejections(self, state, pod: PodInfo, nodes: list) -> dict[str, Status]:
        """The nodes whose dry run must fail, with the status it would give: no lower-priority
        pod on them, or (vectorised) a leading node-local filter rejects the pod even with all
        of them gone."""
        out: dict[str, Status] = {}
        with_victims = []
        for info in nodes:
            victims = [p for p in info.pods.values() if self.is_preemption_allowed(info, p, pod)]
            if victims:
                with_victims.append((info, victims))
            else:
                out[info.name] = NO_VICTIMS
        if self.vectorised and with_victims:
            out.update(self._rejected_without_victims(state, pod, with_victims))
        return out

    def _rejected_without_victims(self, state, pod: PodInfo, items: list) -> dict[str, Status]:
        fh = self.handle
        plugins = []
        for pl in fh.active_filter_plugins(state):
            if pl.name not in NODE_LOCAL_FILTERS or (isinstance(pl, PreFilterPlugin) and pl.pre_filter_extensions()):
                break
            plugins.append(pl)
        if not plugins:
            return {}
        # Nodes with nominated pods the filters would count, or with victims holding host ports
        # (the table's port map is not shifted), are left to the per-node dry run.
        items = [(info, v) for info, v in items
                 if info.row >= 0 and not any(p.host_ports for p in v) and not fh.has_nominated_pods_ge(pod, info.name)]
        if not items:
            return {}
        table = fh.snapshot.table
        out: dict[str, Status] = {}
        with _without_pods(table, [(info.row, v) for info, v in items]):
            fail, ids, decoders = fh.run_filter_plugins_vec(state, pod, table, plugins)
            for info, _ in items:
                i = int(fail[info.row])
                if i >= 0:
                    s = decoders[i](int(ids[info.row]))
                    if s.code != ERROR:
                        out[info.name] = s
        return out


@contextmanager
def _without_pods(table, placed: list[tuple[int, list[PodInfo]]]):
    """The NodeTable as if the given pods (row, pods; none with host ports) were not there:
    their requests, non-zero requests and pod counts taken off their rows in bulk, and put
    back on exit.  Only the capacity columns move (no pod listeners are told: the indexes
    beside the table serve plugins that never run in this pre-check)."""
    rows: list[int] = []
    non0_cpu: list[int] = []
    non0_mem: list[int] = []
    per_resource: dict[str, tuple[list[int], list[int]]] = {}
    for row, pods in placed:
        for p in pods:
            rows.append(row)
            non0_cpu.append(p.non0_cpu)
            non0_mem.append(p.non0_mem)
            for k, v in p.requests.items():
                if k in table.requested and v:
                    r, vals = per_resource.setdefault(k, ([], []))
                    r.append(row)
                    vals.append(v)
    n = table.high
    idx = np.asarray(rows, np.int64)

    def summed(at: np.ndarray, values: list[int]) -> np.ndarray:
        acc = np.zeros(n, np.int64)
        np.add.at(acc, at, np.asarray(values, np.int64))
        return acc

    count = np.bincount(idx, minlength=n).astype(np.int64)[:n]
    n0c, n0m = summed(idx, non0_cpu), summed(idx, non0_mem)
    sums = {k: summed(np.asarray(r, np.int64), vals) for k, (r, vals) in per_resource.items()}

    def shift(sign: int) -> None:
        for k, acc in sums.items():
            table.requested[k][:n] -= sign * acc
            table.free[k][:n] += sign * acc
        table.pod_count[:n] -= sign * count
        table.pods_free[:n] += sign * count
        table.non0_cpu[:n] -= sign * n0c
        table.non0_mem[:n] -= sign * n0m

    shift(1)
    try:
        yield table
    finally:
        shift(-1)
