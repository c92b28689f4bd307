"""PodTopologySpread (pkg/scheduler/framework/plugins/podtopologyspread, v1.32: plugin.go,
common.go, filtering.go, scoring.go).

Hard constraints (whenUnsatisfiable: DoNotSchedule), PreFilter/Filter: per constraint, the pods
the constraint's selector matches in the pod's namespace are counted per topology domain over the
nodes that carry every constraint's topologyKey and pass the constraint's node inclusion policies
(nodeAffinityPolicy, default Honor: the pod's nodeSelector/required node affinity; nodeTaintsPolicy,
default Ignore: untolerated NoSchedule/NoExecute taints).  A node passes when, for every
constraint, `matching pods in its domain + (1 if the pod matches itself) - global minimum <=
maxSkew`; the global minimum is 0 while fewer domains than minDomains exist.  A node without a
topologyKey: "node(s) didn't match pod topology spread constraints (missing required label)"
(UnschedulableAndUnresolvable); too much skew: "node(s) didn't match pod topology spread
constraints" (Unschedulable).

Soft constraints (ScheduleAnyway), PreScore/Score/NormalizeScore: a node scores, per constraint
whose key it has, `pods in its domain * log(domains + 2) + maxSkew - 1` (hostname constraints
count the node's own pods, and their domain number is the number of scored nodes), rounded; then
NormalizeScore reverses it: `100 * (max + min - score) / max`, so the emptiest domains score
highest, and nodes missing a topologyKey score 0.

A pod without constraints gets the profile's default constraints (PodTopologySpreadArgs):
defaultingType System is kubernetes.io/hostname maxSkew 3 and topology.kubernetes.io/zone maxSkew
5, both ScheduleAnyway, with the selector helper.DefaultSelector builds from what owns and serves
the pod.  The simulator has ReplicaSets (read through the scheduler's ReplicaSet informer,
handle.lister); it has no Services, ReplicationControllers or StatefulSets, so those add nothing
to the selector.

Counting is vectorised: the pods per node row come from sim.scheduler.framework.podindex (kept current on
every bind and delete) and domains are summed with np.bincount over the NodeTable's label codes.
`count_with_index = False` counts upstream's way instead, node by node over NodeInfo.pods, the
scalar reference the tests compare against.
"""
from __future__ import annotations

import math

import numpy as np

from sim.api.podutil import controller_ref, tolerates_taint
from sim.api.selectors import (EVERYTHING, SelectorError, label_selector_as_selector, selector_add,
                               selector_from_set, selector_matches)
from sim.api.validation import is_qualified_name
from sim.scheduler.framework.helper import find_matching_untolerated_taint, taint_dict
from sim.scheduler.framework.interface import (ADD, DELETE, MAX_NODE_SCORE, NODE, POD, QUEUE, QUEUE_SKIP,
                                               SKIP_STATUS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               UPDATE_NODE_LABEL, UPDATE_NODE_TAINT, UPDATE_POD_LABEL,
                                               UPDATE_POD_TOLERATION, ClusterEvent, ClusterEventWithHint,
                                               EnqueueExtensions, FilterPlugin, NodeStatusVector, PluginError,
                                               PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin,
                                               Status, as_status)
from sim.scheduler.framework.podindex import PlacedPodIndex, count_pods_match_selector
from sim.scheduler.plugins.node_affinity import _affinity_key, _required_affinity
from sim.scheduler.plugins.taint_toleration import _first_untolerated

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
DO_NOT_SCHEDULE, SCHEDULE_ANYWAY = "DoNotSchedule", "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"
SYSTEM_DEFAULTING, LIST_DEFAULTING = "System", "List"
MAX_INT32 = 2**31 - 1

SYSTEM_DEFAULT_CONSTRAINTS = [
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_TOPOLOGY_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
]

_LABEL_NOT_MATCH = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_NODE_LABEL_NOT_MATCH,))
_CONSTRAINTS_NOT_MATCH = Status(UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))


# -- constraints (common.go) ----------------------------------------------------------------------
class Constraint:
    """topologySpreadConstraint: a v1.TopologySpreadConstraint with its selector parsed."""

    __slots__ = ("max_skew", "topology_key", "selector", "min_domains", "node_affinity_policy", "node_taints_policy")

    def __init__(self, max_skew: int, topology_key: str, selector: tuple | None, min_domains: int = 1,
                 node_affinity_policy: str = HONOR, node_taints_policy: str = IGNORE):
        self.max_skew, self.topology_key, self.selector = max_skew, topology_key, selector
        self.min_domains = min_domains
        self.node_affinity_policy, self.node_taints_policy = node_affinity_policy, node_taints_policy

    def __repr__(self) -> str:
        return (f"Constraint({self.topology_key}, maxSkew={self.max_skew}, {self.selector!r}, "
                f"minDomains={self.min_domains}, {self.node_affinity_policy}/{self.node_taints_policy})")


def filter_topology_spread_constraints(constraints: list[dict], pod_labels: dict, action: str) -> list[Constraint]:
    """filterTopologySpreadConstraints: the constraints with `action`, selectors parsed, the
    pod's values of matchLabelKeys ANDed in (MatchLabelKeysInPodTopologySpread, on by default),
    minDomains defaulting to 1, the inclusion policies to Honor (affinity) and Ignore (taints)."""
    out = []
    for c in constraints:
        if c.get("whenUnsatisfiable") != action:
            continue
        selector = label_selector_as_selector(c.get("labelSelector"))
        keys = c.get("matchLabelKeys") or []
        if keys:
            match_labels = {k: pod_labels[k] for k in keys if k in pod_labels}
            if match_labels:
                # mergeLabelSetWithSelector: a nil selector has no requirements to keep.
                selector = selector_add(selector_from_set(match_labels), selector)
        min_domains = c.get("minDomains")
        out.append(Constraint(int(c.get("maxSkew") or 0), c.get("topologyKey") or "", selector,
                              1 if min_domains is None else int(min_domains),
                              c.get("nodeAffinityPolicy") or HONOR, c.get("nodeTaintsPolicy") or IGNORE))
    return out


def node_labels_match_spread_constraints(labels: dict, constraints: list[Constraint]) -> bool:
    """nodeLabelsMatchSpreadConstraints: the node has every constraint's topologyKey."""
    return all(c.topology_key in labels for c in constraints)


def pod_labels_match_spread_constraints(constraints: list[Constraint], labels: dict) -> bool:
    return any(selector_matches(c.selector, labels) for c in constraints)


def match_node_inclusion_policies(c: Constraint, pod, node_info, required) -> bool:
    """topologySpreadConstraint.matchNodeInclusionPolicies, for one node."""
    if c.node_affinity_policy == HONOR and not required.match(node_info.labels, node_info.name):
        return False
    if c.node_taints_policy == HONOR and find_matching_untolerated_taint(node_info.taints, pod.tolerations) is not None:
        return False
    return True


def _spread_constraints(pod) -> list[dict]:
    return (pod.pod.get("spec") or {}).get("topologySpreadConstraints") or []


def _slots(table, key: str) -> tuple[object, int, int]:
    """(label column, number of domain slots, the slot of the value "").  Domains are the
    column's value codes; one more slot stands for "" when no node has that value, which is
    the domain upstream files a node without the key under (Labels[key] of a missing key)."""
    col = table.labels.get(key)
    n = len(col.values) if col is not None else 0
    empty = col.index.get("") if col is not None else None
    return col, n + 1, (n if empty is None else empty)


def _code(table, key: str, value: str) -> int:
    col, nslots, empty = _slots(table, key)
    if value == "":
        return empty
    code = col.index.get(value) if col is not None else None
    return -1 if code is None else code


def _fit(a: np.ndarray, n: int) -> np.ndarray:
    if len(a) >= n:
        return a
    b = np.zeros(n, a.dtype)
    b[:len(a)] = a
    return b


def _present(dom: np.ndarray, mask: np.ndarray | None, nslots: int) -> np.ndarray:
    """bool per domain slot: some (masked) row is in it."""
    out = np.zeros(nslots, bool)
    out[dom if mask is None else dom[mask]] = True
    return out


def go_round(x: float) -> int:
    """math.Round: half away from zero (the scores are never negative)."""
    return int(math.floor(x + 0.5))


# -- cycle state ----------------------------------------------------------------------------------
class PreFilterState:
    """preFilterState: per constraint, the matching pods per domain (indexed by the topology
    key's label code) and which domains exist; the global minimum is recomputed from them
    (upstream keeps the two smallest as criticalPaths; the minimum is the same)."""

    __slots__ = ("table", "constraints", "counts", "present", "mins", "self_match")

    def __init__(self, table, constraints: list[Constraint], counts, present, self_match):
        self.table, self.constraints = table, constraints
        self.counts, self.present, self.self_match = counts, present, self_match
        self.mins = [0] * len(constraints)
        for i in range(len(constraints)):
            self._refresh(i)

    def _refresh(self, i: int) -> None:
        p = self.present[i]
        self.mins[i] = int(self.counts[i][p].min()) if p.any() else MAX_INT32

    def min_match_num(self, i: int) -> int:
        """minMatchNum: 0 while there are fewer domains than minDomains."""
        if int(self.present[i].sum()) < self.constraints[i].min_domains:
            return 0
        return self.mins[i]

    def match_num(self, i: int, value: str) -> int:
        code = _code(self.table, self.constraints[i].topology_key, value)
        return int(self.counts[i][code]) if 0 <= code < len(self.counts[i]) else 0

    def update(self, i: int, value: str, delta: int) -> None:
        code = _code(self.table, self.constraints[i].topology_key, value)
        if code < 0:
            return
        self.counts[i] = _fit(self.counts[i], code + 1)
        self.present[i] = _fit(self.present[i], code + 1)
        self.counts[i][code] += delta
        self.present[i][code] = True
        self._refresh(i)

    def clone(self) -> "PreFilterState":
        c = PreFilterState.__new__(PreFilterState)
        c.table, c.constraints, c.self_match = self.table, self.constraints, self.self_match
        c.counts = [a.copy() for a in self.counts]
        c.present = [a.copy() for a in self.present]
        c.mins = list(self.mins)
        return c


class PreScoreState:
    """preScoreState: the soft constraints, the scored nodes missing a topologyKey (ignored,
    by row), per non-hostname constraint the pods per domain slot (`tracked`: the domains of the
    scored nodes) and each constraint's topology normalizing weight."""

    __slots__ = ("table", "namespace", "constraints", "ignored", "tp_counts", "tracked", "weights",
                 "scored_rows", "scored_list")

    def __init__(self, table, namespace: str, constraints: list[Constraint]):
        self.table, self.namespace, self.constraints = table, namespace, constraints
        self.ignored = np.zeros(table.high, bool)
        self.tp_counts: list[np.ndarray | None] = [None] * len(constraints)
        self.tracked: list[np.ndarray | None] = [None] * len(constraints)
        self.weights = [0.0] * len(constraints)
        self.scored_rows: np.ndarray | None = None   # the rows score_vec scored last
        self.scored_list: list[int] = []             # the rows score() scored, in order

    def clone(self) -> "PreScoreState":
        return self     # as upstream: Score does not change it


def topology_normalizing_weight(size: int) -> float:
    """topologyNormalizingWeight: log(size + 2)."""
    return math.log(size + 2)


def score_for_count(cnt, max_skew: int, tp_weight: float):
    """scoreForCount: cnt * weight + (maxSkew - 1)."""
    return cnt * tp_weight + float(max_skew - 1)


# -- the plugin -------------------------------------------------------------------------------------
class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions,
                        PreFilterExtensions):
    name = NAME
    # The default selector reads ReplicaSets (upstream also Services, ReplicationControllers and
    # StatefulSets, which the simulator does not have).
    informers = ("replicasets",)
    has_normalize = True
    bounded_scores = True

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        args = self.default_args(args)
        errors = self.validate_args(args, "")
        if errors:
            raise ValueError("; ".join(e.lstrip(".") for e in errors))
        self.system_defaulted = args.get("defaultingType") == SYSTEM_DEFAULTING
        self.default_constraints = (SYSTEM_DEFAULT_CONSTRAINTS if self.system_defaulted
                                    else list(args.get("defaultConstraints") or []))
        self.count_with_index = True
        self._rs_selectors: dict[tuple, tuple | None] = {}

    # -- args (SetDefaults_PodTopologySpreadArgs, ValidatePodTopologySpreadArgs) ---------------
    @classmethod
    def default_args(cls, args):
        args = dict(args or {})
        if not args.get("defaultingType"):
            args["defaultingType"] = SYSTEM_DEFAULTING
        return args

    @classmethod
    def validate_args(cls, args, path):
        errors: list[str] = []
        args = args or {}
        dt = args.get("defaultingType")
        constraints = args.get("defaultConstraints") or []
        if not isinstance(constraints, list):
            return [f"{path}.defaultConstraints: Invalid value: must be a list of constraints"]
        if dt not in (SYSTEM_DEFAULTING, LIST_DEFAULTING):
            errors.append(f'{path}.defaultingType: Unsupported value: "{dt}": supported values: "System", "List"')
        elif dt == SYSTEM_DEFAULTING and constraints:
            errors.append(f'{path}.defaultingType: Invalid value: "System": when .defaultConstraints are not empty')
        for i, c in enumerate(constraints):
            p = f"{path}.defaultConstraints[{i}]"
            if not isinstance(c, dict):
                errors.append(f"{p}: Invalid value: must be an object")
                continue
            skew = c.get("maxSkew")
            if not isinstance(skew, int) or isinstance(skew, bool) or skew <= 0:
                errors.append(f"{p}.maxSkew: Invalid value: {skew!r}: not in valid range (0, inf)")
            key = c.get("topologyKey")
            if not key:
                errors.append(f"{p}.topologyKey: Required value: can not be empty")
            elif not is_qualified_name(key):
                errors.append(f'{p}.topologyKey: Invalid value: "{key}": name part must consist of alphanumeric '
                              "characters, '-', '_' or '.', and must start and end with an alphanumeric character")
            action = c.get("whenUnsatisfiable")
            if not action:
                errors.append(f"{p}.whenUnsatisfiable: Required value: can not be empty")
            elif action not in (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY):
                errors.append(f'{p}.whenUnsatisfiable: Unsupported value: "{action}": supported values: '
                              '"DoNotSchedule", "ScheduleAnyway"')
            if c.get("labelSelector") is not None:
                errors.append(f"{p}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod")
            for other in constraints[:i]:
                if isinstance(other, dict) and (other.get("topologyKey"), other.get("whenUnsatisfiable")) == (key, action):
                    errors.append(f"{path}.defaultConstraints[{i}]: Duplicate value: \"{{{key}, {action}}}\"")
                    break
        return errors

    # -- constraints ------------------------------------------------------------------------------
    def _replica_set(self, namespace: str, name: str) -> dict | None:
        """The ReplicaSet from the scheduler's informer cache (rsl.ReplicaSets(ns).Get(name))."""
        if self.handle is None:
            return None
        for rs in self.handle.lister("replicasets"):
            md = rs.get("metadata") or {}
            if md.get("name") == name and (md.get("namespace") or "") == namespace:
                return rs
        return None

    def default_selector(self, pod) -> tuple | None:
        """helper.DefaultSelector: the selectors of the Services selecting the pod (none: the
        simulator has no Services) merged with the selector of its controlling ReplicaSet
        (ReplicationControllers and StatefulSets do not exist here either)."""
        selector = EVERYTHING
        owner = controller_ref(pod.pod) if pod.pod.get("metadata") else None
        if owner is None or owner.get("apiVersion") != "apps/v1" or owner.get("kind") != "ReplicaSet":
            return selector
        rs = self._replica_set(pod.namespace, owner.get("name") or "")
        if rs is None:
            return selector
        # A ReplicaSet's selector is immutable: parse it once per ReplicaSet.
        key = (pod.namespace, owner.get("name"), (rs.get("metadata") or {}).get("uid"))
        other = self._rs_selectors.get(key)
        if other is None:
            try:
                other = label_selector_as_selector((rs.get("spec") or {}).get("selector"))
            except SelectorError:
                return selector
            if len(self._rs_selectors) >= 1024:
                self._rs_selectors.clear()
            self._rs_selectors[key] = other
        return selector_add(selector, other)

    def build_default_constraints(self, pod, action: str) -> list[Constraint]:
        """buildDefaultConstraints: the profile's default constraints with `action`, all with the
        pod's default selector; none when that selector is empty."""
        constraints = filter_topology_spread_constraints(self.default_constraints, pod.labels, action)
        if not constraints:
            return []
        selector = self.default_selector(pod)
        if selector == EVERYTHING:      # Selector.Empty()
            return []
        for c in constraints:
            c.selector = selector
        return constraints

    def get_constraints(self, pod) -> list[Constraint]:
        """getConstraints: the pod's hard constraints, or the default ones (SelectorError on a
        selector that does not parse)."""
        return self._constraints(pod, DO_NOT_SCHEDULE, "hard")

    def get_soft_constraints(self, pod) -> list[Constraint]:
        return self._constraints(pod, SCHEDULE_ANYWAY, "soft")

    def _constraints(self, pod, action: str, kind: str) -> list[Constraint]:
        """The pod's own constraints with whenUnsatisfiable `action` (cached on the pod), or the
        default ones; a selector error names which, in upstream's words."""
        if _spread_constraints(pod):
            try:
                return pod.cached(f"podtopologyspread.{kind}", lambda: filter_topology_spread_constraints(
                    _spread_constraints(pod), pod.labels, action))
            except SelectorError as e:
                raise SelectorError(f"obtaining pod's {kind} topology spread constraints: {e}") from e
        try:
            return self.build_default_constraints(pod, action)
        except SelectorError as e:
            raise SelectorError(f"setting default {kind} topology spread constraints: {e}") from e

    # -- node masks (vectorised) --------------------------------------------------------------------
    # What decides whether a node counts (its labels, taints, the pod's node affinity and
    # tolerations) changes far less often than the pods do, so these masks are NodeTable-derived
    # values: computed once, shared by every pod with the same keys, affinity and tolerations
    # until a node changes.
    @staticmethod
    def _untolerated(table, pod) -> tuple:
        """The NoSchedule/NoExecute taint columns the pod does not tolerate."""
        return tuple(t for t, k in enumerate(table.taint_keys)
                     if k[2] in ("NoSchedule", "NoExecute") and not tolerates_taint(pod.tolerations, taint_dict(k)))

    def _eligible(self, table, pod, c: Constraint, keys: tuple) -> tuple[np.ndarray, tuple]:
        """(bool over rows [0, high), its cache key): live nodes that have every topology key in
        `keys` and pass the constraint's node inclusion policies (matchNodeInclusionPolicies)."""
        aff = _affinity_key(pod) if c.node_affinity_policy == HONOR and _has_required_affinity(pod) else None
        untolerated = self._untolerated(table, pod) if c.node_taints_policy == HONOR else ()

        def compute():
            m = table.name_codes.codes[:table.high] >= 0
            for k in keys:
                m = m & (table.label_codes(k) >= 0)
            if aff is not None:
                m = m & _required_affinity(pod).match_vec(table)
            if untolerated:
                m = m & (_first_untolerated(table, list(untolerated)) == 0)
            return m
        sig = ("PodTopologySpread.eligible", keys, aff, untolerated)
        return table.derived(sig, compute), sig

    @staticmethod
    def _domains(table, key: str) -> tuple[np.ndarray, int]:
        """(domain slot per row over [0, high), number of slots): the key's label code, or the
        slot of "" where the node has no such label."""
        _, nslots, empty = _slots(table, key)
        codes = table.label_codes(key)
        return table.derived(("PodTopologySpread.domains", key, nslots),
                             lambda: np.where(codes >= 0, codes, empty)), nslots

    def _domain_counts(self, table, namespace: str, selector: tuple | None, dom: np.ndarray, nslots: int,
                       eligible: np.ndarray) -> np.ndarray:
        """The matching pods summed per domain over the eligible rows: only rows that hold a
        matching pod are touched (the index says which)."""
        cnt = self._pod_counts(table, namespace, selector)
        rows = np.flatnonzero(cnt)
        rows = rows[eligible[rows]]
        if not len(rows):
            return np.zeros(nslots, np.int64)
        return np.bincount(dom[rows], weights=cnt[rows], minlength=nslots).astype(np.int64)

    def _pod_counts(self, table, namespace: str, selector: tuple | None) -> np.ndarray:
        return PlacedPodIndex.of(table).pod_counts(namespace, selector)

    # -- PreFilter / Filter (filtering.go) ------------------------------------------------------
    def pre_filter(self, state, pod, nodes):
        try:
            constraints = self.get_constraints(pod)
        except SelectorError as e:
            return None, as_status(f"get constraints from pod: {e}")
        if not constraints:
            return None, SKIP_STATUS
        if self.count_with_index:
            s = self._pre_filter_state_vec(pod, nodes, constraints)
        else:
            s = self._pre_filter_state_scalar(pod, nodes, constraints)
        state[PRE_FILTER_STATE_KEY] = s
        return None, None

    def _pre_filter_state_vec(self, pod, nodes, constraints: list[Constraint]) -> PreFilterState:
        """calPreFilterState over every node at once: the domains present among the eligible
        rows, and np.bincount of the matching pods per row over their domain codes."""
        table = nodes.table
        keys = tuple(sorted({c.topology_key for c in constraints}))
        subset = None
        if len(nodes.rows) != len(table):          # not every node (PreFilter normally gets all)
            subset = np.zeros(table.high, bool)
            subset[nodes.rows] = True
        counts, present = [], []
        for c in constraints:
            dom, nslots = self._domains(table, c.topology_key)
            eligible, sig = self._eligible(table, pod, c, keys)
            if subset is None:
                pres = table.derived(("PodTopologySpread.present", sig, c.topology_key, nslots),
                                     lambda: _present(dom, eligible, nslots))
            else:
                eligible = eligible & subset
                pres = _present(dom, eligible, nslots)
            present.append(pres.copy())
            counts.append(self._domain_counts(table, pod.namespace, c.selector, dom, nslots, eligible))
        return PreFilterState(table, constraints, counts, present,
                              [1 if selector_matches(c.selector, pod.labels) else 0 for c in constraints])

    def _pre_filter_state_scalar(self, pod, nodes, constraints: list[Constraint]) -> PreFilterState:
        """calPreFilterState as upstream loops: node by node, pod by pod."""
        table = nodes.table
        required = _required_affinity(pod)
        slots = [_slots(table, c.topology_key) for c in constraints]
        counts = [np.zeros(n, np.int64) for _, n, _ in slots]
        present = [np.zeros(n, bool) for _, n, _ in slots]
        for info in nodes.infos:
            if not node_labels_match_spread_constraints(info.labels, constraints):
                continue
            for i, c in enumerate(constraints):
                if not match_node_inclusion_policies(c, pod, info, required):
                    continue
                code = _code(table, c.topology_key, info.labels[c.topology_key])
                counts[i][code] += count_pods_match_selector(info.pods.values(), c.selector, pod.namespace)
                present[i][code] = True
        return PreFilterState(table, constraints, counts, present,
                              [1 if selector_matches(c.selector, pod.labels) else 0 for c in constraints])

    def pre_filter_extensions(self):
        return self

    def add_pod(self, state, pod_to_schedule, pod_to_add, node_info):
        return self._update_with_pod(state, pod_to_add, pod_to_schedule, node_info, 1)

    def remove_pod(self, state, pod_to_schedule, pod_to_remove, node_info):
        return self._update_with_pod(state, pod_to_remove, pod_to_schedule, node_info, -1)

    def _update_with_pod(self, state, updated, preemptor, node_info, delta: int):
        """updateWithPod: a nominated pod added to, or a victim removed from, one node."""
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return as_status(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
        if updated.namespace != preemptor.namespace or node_info.node is None:
            return None
        if not node_labels_match_spread_constraints(node_info.labels, s.constraints):
            return None
        required = _required_affinity(preemptor)
        for i, c in enumerate(s.constraints):
            if not selector_matches(c.selector, updated.labels):
                continue
            if not match_node_inclusion_policies(c, preemptor, node_info, required):
                continue
            s.update(i, node_info.labels[c.topology_key], delta)
        return None

    def filter(self, state, pod, node_info):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return as_status(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
        for i, c in enumerate(s.constraints):
            labels = node_info.labels
            if c.topology_key not in labels:
                return _LABEL_NOT_MATCH
            skew = s.match_num(i, labels[c.topology_key]) + s.self_match[i] - s.min_match_num(i)
            if skew > c.max_skew:
                return _CONSTRAINTS_NOT_MATCH
        return None

    def filter_vec(self, state, pod, table):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            err = as_status(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
            return NodeStatusVector(np.ones(table.high, np.int32), lambda _i: err)
        if not s.constraints:
            return None
        ids = None
        # The first constraint a node fails decides its status: apply them last to first.
        for i in range(len(s.constraints) - 1, -1, -1):
            c = s.constraints[i]
            col = table.labels.get(c.topology_key)
            ncodes = len(col.values) if col is not None else 0
            # Per domain: 2 where the skew would exceed maxSkew, else 0; the last slot, which
            # label code -1 (no such label) indexes, is 1.
            counts = _fit(s.counts[i], ncodes)[:ncodes]
            lut = np.zeros(ncodes + 1, np.int32)
            lut[:ncodes][counts + s.self_match[i] - s.min_match_num(i) > c.max_skew] = 2
            lut[ncodes] = 1
            ids_i = lut[table.label_codes(c.topology_key)]
            ids = ids_i if ids is None else np.where(ids_i != 0, ids_i, ids)
        if not ids.any():
            return None
        return NodeStatusVector(ids, lambda i: _LABEL_NOT_MATCH if i == 1 else _CONSTRAINTS_NOT_MATCH)

    # -- PreScore / Score / NormalizeScore (scoring.go) ----------------------------------------
    def pre_score(self, state, pod, nodes):
        table = nodes.table
        if len(table) == 0:
            return SKIP_STATUS
        try:
            constraints = self.get_soft_constraints(pod)
        except SelectorError as e:
            return as_status(f"calculating preScoreState: {e}")
        if not constraints:
            return SKIP_STATUS
        # Only non-system-default rules require every topology label, so nodes without a zone
        # still get hostname spreading.
        require_all = bool(_spread_constraints(pod)) or not self.system_defaulted
        s = PreScoreState(table, pod.namespace, constraints)
        if self.count_with_index:
            self._pre_score_vec(s, pod, nodes, require_all)
        else:
            self._pre_score_scalar(s, pod, nodes, require_all)
        state[PRE_SCORE_STATE_KEY] = s
        return None

    def _pre_score_vec(self, s: PreScoreState, pod, nodes, require_all: bool) -> None:
        table, filtered = nodes.table, nodes.rows
        constraints = s.constraints
        keys = tuple(sorted({c.topology_key for c in constraints})) if require_all else ()
        # initPreScoreState: the scored nodes missing a key are ignored; the others' domains.
        ignored_f = np.zeros(len(filtered), bool)
        for k in keys:
            ignored_f |= table.label_codes(k)[filtered] < 0
        s.ignored[filtered[ignored_f]] = True
        kept = filtered[~ignored_f]
        for i, c in enumerate(constraints):
            if c.topology_key == LABEL_HOSTNAME:
                size = len(kept)
            else:
                dom, nslots = self._domains(table, c.topology_key)
                tracked = _present(dom[kept], None, nslots)
                size = int(tracked.sum())
                # processAllNode: every node's matching pods, into the tracked domains only.
                eligible, _ = self._eligible(table, pod, c, keys)
                s.tp_counts[i] = self._domain_counts(table, pod.namespace, c.selector, dom, nslots,
                                                     eligible & tracked[dom])
                s.tracked[i] = tracked
            s.weights[i] = topology_normalizing_weight(size)

    def _pre_score_scalar(self, s: PreScoreState, pod, nodes, require_all: bool) -> None:
        table = nodes.table
        constraints = s.constraints
        slots = [_slots(table, c.topology_key) for c in constraints]
        for i, c in enumerate(constraints):
            if c.topology_key != LABEL_HOSTNAME:
                s.tp_counts[i] = np.zeros(slots[i][1], np.int64)
                s.tracked[i] = np.zeros(slots[i][1], bool)
        topo_size = [0] * len(constraints)
        num_ignored = 0
        for info in nodes.infos:
            if require_all and not node_labels_match_spread_constraints(info.labels, constraints):
                s.ignored[info.row] = True
                num_ignored += 1
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == LABEL_HOSTNAME:
                    continue
                code = _code(table, c.topology_key, info.labels.get(c.topology_key, ""))
                if not s.tracked[i][code]:
                    s.tracked[i][code] = True
                    topo_size[i] += 1
        for i, c in enumerate(constraints):
            size = len(nodes.infos) - num_ignored if c.topology_key == LABEL_HOSTNAME else topo_size[i]
            s.weights[i] = topology_normalizing_weight(size)
        required = _required_affinity(pod)
        for info in table.infos:
            if info is None:
                continue
            if require_all and not node_labels_match_spread_constraints(info.labels, constraints):
                continue
            for i, c in enumerate(constraints):
                if not match_node_inclusion_policies(c, pod, info, required):
                    continue
                if c.topology_key == LABEL_HOSTNAME:
                    continue      # per-node counts are taken in Score
                code = _code(table, c.topology_key, info.labels.get(c.topology_key, ""))
                if not s.tracked[i][code]:
                    continue
                s.tp_counts[i][code] += count_pods_match_selector(info.pods.values(), c.selector, pod.namespace)

    def _state(self, state) -> PreScoreState:
        s = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            raise PluginError(f'error reading "{PRE_SCORE_STATE_KEY}" from cycleState: not found')
        return s

    def score(self, state, pod, node_info) -> int:
        s = self._state(state)
        s.scored_list.append(node_info.row)
        if s.ignored[node_info.row]:
            return 0
        score = 0.0
        for i, c in enumerate(s.constraints):
            if c.topology_key not in node_info.labels:
                continue
            value = node_info.labels[c.topology_key]
            if c.topology_key == LABEL_HOSTNAME:
                cnt = count_pods_match_selector(node_info.pods.values(), c.selector, pod.namespace)
            else:
                code = _code(s.table, c.topology_key, value)
                cnt = int(s.tp_counts[i][code]) if 0 <= code < len(s.tp_counts[i]) else 0
            score += score_for_count(float(cnt), c.max_skew, s.weights[i])
        return go_round(score)

    def score_vec(self, state, pod, table, rows):
        s = self._state(state)
        s.scored_rows = rows
        score = np.zeros(len(rows), np.float64)
        for i, c in enumerate(s.constraints):
            codes = table.label_codes(c.topology_key)[rows]
            has = codes >= 0
            if c.topology_key == LABEL_HOSTNAME:
                if self.count_with_index:
                    cnt = self._pod_counts(table, pod.namespace, c.selector)[rows]
                else:
                    infos = table.infos
                    cnt = np.array([count_pods_match_selector(infos[r].pods.values(), c.selector, pod.namespace)
                                    for r in rows.tolist()], np.int64)
            else:
                tp = _fit(s.tp_counts[i], (int(codes.max()) + 1) if len(codes) else 0)
                cnt = tp[np.maximum(codes, 0)] if len(tp) else np.zeros(len(rows), np.int64)
            # Adding 0.0 where the node lacks the key keeps upstream's float sums exactly.
            score += np.where(has, score_for_count(cnt.astype(np.float64), c.max_skew, s.weights[i]), 0.0)
        out = np.floor(score + 0.5).astype(np.int64)
        out[s.ignored[rows]] = 0
        return out

    def normalize_score(self, state, pod, scores):
        s = self._state(state)
        rows = s.scored_list[-len(scores):] if scores else []
        s.scored_list = []
        ignored = [bool(s.ignored[r]) for r in rows]
        min_score, max_score = 2**63 - 1, 0
        for sc, ign in zip(scores, ignored):
            if ign:
                continue
            min_score = min(min_score, sc)
            max_score = max(max_score, sc)
        out = []
        for sc, ign in zip(scores, ignored):
            if ign:
                out.append(0)
            elif max_score == 0:
                out.append(MAX_NODE_SCORE)
            else:
                out.append(MAX_NODE_SCORE * (max_score + min_score - sc) // max_score)
        return out

    def normalize_score_vec(self, state, pod, scores):
        s = self._state(state)
        rows = s.scored_rows
        if rows is None or len(rows) != len(scores):
            raise PluginError("PodTopologySpread: NormalizeScore without the Score of the same nodes")
        valid = ~s.ignored[rows]
        if not valid.any():
            return np.zeros(len(scores), np.int64)
        max_score = max(int(scores[valid].max()), 0)
        min_score = int(scores[valid].min())
        if max_score == 0:
            return np.where(valid, MAX_NODE_SCORE, 0).astype(np.int64)
        return np.where(valid, MAX_NODE_SCORE * (max_score + min_score - scores) // max_score, 0).astype(np.int64)

    # -- EventsToRegister and queueing hints (plugin.go) -----------------------------------------
    def events_to_register(self):
        # SchedulerQueueingHints is on: a new toleration may help a constraint with
        # nodeTaintsPolicy Honor, so UpdatePodToleration is registered too.
        return [ClusterEventWithHint(ClusterEvent(POD, ADD | UPDATE_POD_LABEL | UPDATE_POD_TOLERATION | DELETE),
                                     self.is_schedulable_after_pod_change),
                ClusterEventWithHint(ClusterEvent(NODE, ADD | DELETE | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT),
                                     self.is_schedulable_after_node_change)]

    def is_schedulable_after_pod_change(self, pod, old: dict | None, new: dict | None) -> str:
        """isSchedulableAfterPodChange."""
        for other in (new, old):
            if other is not None and not _involved_in_topology_spreading(other, pod):
                return QUEUE_SKIP
        try:
            constraints = self.get_constraints(pod)
        except SelectorError:
            return QUEUE
        if new is not None and old is not None:
            if ((new.get("metadata") or {}).get("uid") == pod.uid
                    and (new.get("spec") or {}).get("tolerations") != (old.get("spec") or {}).get("tolerations")
                    and any(c.node_taints_policy == HONOR for c in constraints)):
                return QUEUE
            old_labels = (old.get("metadata") or {}).get("labels") or {}
            new_labels = (new.get("metadata") or {}).get("labels") or {}
            if old_labels == new_labels:
                return QUEUE_SKIP
            for c in constraints:
                if selector_matches(c.selector, old_labels) != selector_matches(c.selector, new_labels):
                    return QUEUE
            return QUEUE_SKIP
        if new is not None:
            labels = (new.get("metadata") or {}).get("labels") or {}
        else:
            labels = (old.get("metadata") or {}).get("labels") or {}
        return QUEUE if pod_labels_match_spread_constraints(constraints, labels) else QUEUE_SKIP

    def is_schedulable_after_node_change(self, pod, old: dict | None, new: dict | None) -> str:
        """isSchedulableAfterNodeChange."""
        try:
            constraints = self.get_constraints(pod)
        except SelectorError:
            return QUEUE

        def labels_of(node):
            return (node.get("metadata") or {}).get("labels") or {}

        old_match = old is not None and node_labels_match_spread_constraints(labels_of(old), constraints)
        new_match = new is not None and node_labels_match_spread_constraints(labels_of(new), constraints)
        if old is not None and new is not None:
            if old_match != new_match:
                return QUEUE
            if new_match and (any(labels_of(old).get(c.topology_key) != labels_of(new).get(c.topology_key)
                                  for c in constraints)
                              or ((old.get("spec") or {}).get("taints") or []) != ((new.get("spec") or {}).get("taints") or [])):
                return QUEUE
            return QUEUE_SKIP
        if new is not None:
            return QUEUE if new_match else QUEUE_SKIP
        return QUEUE if old_match else QUEUE_SKIP


def _involved_in_topology_spreading(incoming: dict, pod) -> bool:
    """involvedInTopologySpreading: the pod itself, or an assigned pod of its namespace."""
    md = incoming.get("metadata") or {}
    return (md.get("uid") == pod.uid
            or (bool((incoming.get("spec") or {}).get("nodeName")) and (md.get("namespace") or "") == pod.namespace))


def _has_required_affinity(pod) -> bool:
    """Whether GetRequiredNodeAffinity can reject any node (an empty nodeSelector cannot; a
    required node affinity without terms rejects every node)."""
    spec = pod.pod.get("spec") or {}
    return bool(spec.get("nodeSelector")) or (
        (pod.affinity.get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") is not None)


__all__ = ["PodTopologySpread", "Constraint", "filter_topology_spread_constraints", "ERR_REASON_CONSTRAINTS_NOT_MATCH",
           "ERR_REASON_NODE_LABEL_NOT_MATCH", "SYSTEM_DEFAULT_CONSTRAINTS"]
