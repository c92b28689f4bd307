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

Vectorised dry runs: upstream's dry run copies each node and re-runs the Filter plugins per
victim (here `select_victims_on_node`, the per-node reference).  `select_victims_in_bulk`
answers for every candidate node at once instead, with the same results: the nodes without a
lower-priority pod; then, unless a PreFilter plugin with AddPod/RemovePod extensions is active
(InterPodAffinity, PodTopologySpread: they must see each removal), the plugins' vectorised
filters over the NodeTable with the victims' requests taken off their rows (and put back after).
When every active filter is node-local the whole dry run, reprieves included, runs in rounds
over the table; otherwise the node-local filters that come first answer for the nodes they
reject.  Nodes with nominated pods the filters would count, and (when NodePorts is active)
nodes whose victims hold host ports, always get the per-node dry run.  The evaluator asks for
the nodes in batches (offset order), so a dry run that finds its candidates early stops early.
"""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.interface import (ERROR, UNSCHEDULABLE_AND_UNRESOLVABLE, PluginError,
                                               PostFilterPlugin, Status, as_status, is_success)
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.preemption import Evaluator, Victims, importance_key, pod_terminating_by_preemption

NAME = "DefaultPreemption"
DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE = 10
DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE = 100
NO_VICTIMS = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, ("No preemption victims found for incoming pod",))
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."

# Filter plugins whose verdict on a node depends on that node and the pods on it only (so the
# bulk dry run may run them over every candidate node at once).  InterPodAffinity and
# PodTopologySpread look at other nodes' pods and have PreFilter AddPod/RemovePod extensions:
# they only ever run in the per-node dry run.
NODE_LOCAL_FILTERS = frozenset({"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                "NodePorts", "NodeResourcesFit"})


class _DryRunError(Exception):
    pass


class DefaultPreemption(PostFilterPlugin):
    name = NAME

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        args = self.args
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

    # -- the simulator's bulk dry runs ----------------------------------------------------------
    def select_victims_in_bulk(self, state, pod: PodInfo, nodes: list) -> dict[str, tuple]:
        """SelectVictimsOnNode's (victims, PDB violations, status) for the nodes it can answer
        without a copy per node: those with no lower-priority pod, and (vectorised) the rest
        as far as the node-local filters decide.  Nodes left out get the per-node dry run."""
        out: dict[str, tuple] = {}
        items = []
        priority = pod.priority
        for info in nodes:
            # is_preemption_allowed, inlined: this loop visits every pod of every node in the batch.
            victims = [p for p in info.pods.values() if p.priority < priority]
            if victims:
                items.append((info, victims))
            else:
                out[info.name] = ([], 0, NO_VICTIMS)
        if self.vectorised and items:
            out.update(self._select_victims_vec(state, pod, items))
        return out

    def _select_victims_vec(self, state, pod: PodInfo, items: list) -> dict[str, tuple]:
        """SelectVictimsOnNode over the NodeTable: every potential victim taken off its row at
        once, the filters run vectorised; then, if every active filter is node-local, the
        victims are put back round by round (each node's most important first, as the per-node
        reprieve does), the filters run again after each round, and the ones the pod no longer
        fits beside are taken off again: those are the victims.  If a filter that looks beyond
        the node is active, only the nodes the node-local filters before it reject are answered
        (with the status the per-node dry run would give: the first filter that rejects)."""
        fh = self.handle
        # PreFilter AddPod/RemovePod extensions (InterPodAffinity, PodTopologySpread) must see
        # each removal: with one active, every node gets the per-node dry run.
        if any(pl.name not in state.skip_filter_plugins and pl.pre_filter_extensions() is not None
               for pl in fh.pre_filter_plugins):
            return {}
        active = fh.active_filter_plugins(state)
        local = []
        for pl in active:
            if pl.name not in NODE_LOCAL_FILTERS:
                break
            local.append(pl)
        if not local:
            return {}
        whole = len(local) == len(active)
        # Left to the per-node dry run: nodes where the filters would also count nominated pods,
        # and nodes whose victims hold host ports the NodePorts filter looks at (the table's port
        # map is not shifted).
        nominator = fh.nominator
        held = {n for n in getattr(nominator, "nominated_pods", {}) if fh.has_nominated_pods_ge(pod, n)}
        ports_matter = any(pl.name == "NodePorts" for pl in local)
        eligible = [(info, sorted(v, key=importance_key)) for info, v in items
                    if info.row >= 0 and info.name not in held and not (ports_matter and any(p.host_ports for p in v))]
        if not eligible:
            return {}
        table = fh.snapshot.table
        rounds = _Rounds(table, eligible)
        out: dict[str, tuple] = {}
        with _Overlay(table) as overlay:
            for r in rounds.rounds:
                overlay.take_off(r)
            fail, ids, decoders = fh.run_filter_plugins_vec(state, pod, table, local)
            fits = np.zeros(table.high, bool)
            for info, _ in eligible:
                i = int(fail[info.row])
                if i < 0:
                    fits[info.row] = True
                    continue
                s = decoders[i](int(ids[info.row]))
                if s.code != ERROR:
                    out[info.name] = ([], 0, s)
            if not whole:
                return out
            victims: dict[int, list[PodInfo]] = {info.row: [] for info, _ in eligible}
            for r in rounds.rounds:
                r = r.where(fits[r.rows])
                if not len(r.rows):
                    continue
                overlay.put_back(r)
                fail, _, _ = fh.run_filter_plugins_vec(state, pod, table, local)
                r_out = r.where(fail[r.rows] >= 0)
                overlay.take_off(r_out)
                for row, p in zip(r_out.rows.tolist(), r_out.pods):
                    victims[row].append(p)
        for info, _ in eligible:
            if fits[info.row]:
                out[info.name] = (victims[info.row], 0, Status())
        return out


class _Round:
    """The k-th most important potential victim of each node: rows (unique) and, per row, the
    pod, its requests per table resource, its non-zero requests."""

    __slots__ = ("rows", "pods", "requests", "non0_cpu", "non0_mem")

    def __init__(self, rows, pods, requests, non0_cpu, non0_mem):
        self.rows, self.pods, self.requests, self.non0_cpu, self.non0_mem = rows, pods, requests, non0_cpu, non0_mem

    def where(self, mask: np.ndarray) -> "_Round":
        idx = np.flatnonzero(mask)
        return _Round(self.rows[idx], [self.pods[i] for i in idx.tolist()],
                      {k: v[idx] for k, v in self.requests.items()}, self.non0_cpu[idx], self.non0_mem[idx])


class _Rounds:
    def __init__(self, table, eligible: list) -> None:
        depth = max(len(v) for _, v in eligible)
        self.rounds: list[_Round] = []
        for k in range(depth):
            rows, pods = [], []
            for info, v in eligible:
                if len(v) > k:
                    rows.append(info.row)
                    pods.append(v[k])
            names = {name for p in pods for name in p.requests if name in table.requested}
            requests = {name: np.array([p.requests.get(name, 0) for p in pods], np.int64) for name in names}
            self.rounds.append(_Round(np.array(rows, np.int64), pods, requests,
                                      np.array([p.non0_cpu for p in pods], np.int64),
                                      np.array([p.non0_mem for p in pods], np.int64)))


class _Overlay:
    """Pods taken off and put back on NodeTable rows (their requests, non-zero requests and
    the pod counts: the columns the node-local filters read), everything undone on exit.  No
    pod listener is told: the indexes beside the table serve filters that never run here."""

    def __init__(self, table) -> None:
        self.table = table
        self.changes: list[tuple[_Round, int]] = []

    def __enter__(self) -> "_Overlay":
        return self

    def _shift(self, r: _Round, sign: int) -> None:
        t, rows = self.table, r.rows
        for name, vals in r.requests.items():
            t.requested[name][rows] -= sign * vals
            t.free[name][rows] += sign * vals
        t.pod_count[rows] -= sign
        t.pods_free[rows] += sign
        t.non0_cpu[rows] -= sign * r.non0_cpu
        t.non0_mem[rows] -= sign * r.non0_mem

    def take_off(self, r: _Round) -> None:
        if len(r.rows):
            self._shift(r, 1)
            self.changes.append((r, 1))

    def put_back(self, r: _Round) -> None:
        if len(r.rows):
            self._shift(r, -1)
            self.changes.append((r, -1))

    def __exit__(self, *exc) -> None:
        for r, sign in reversed(self.changes):
            self._shift(r, -sign)
        self.changes.clear()
