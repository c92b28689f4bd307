"""The scheduling framework's interface (k8s.io/kube-scheduler/framework/interface.go, types.go,
cycle_state.go, events.go).

Extension points, in the order a pod meets them:

    QueueSort   less(a, b) orders the activeQ (one plugin per profile)
    PreEnqueue  pre_enqueue(pod) gates a pod before it may enter the activeQ
    PreFilter   pre_filter(state, pod, nodes) -> (PreFilterResult | None, Status | None)
    Filter      filter(state, pod, node_info) -> Status | None            (one node)
                filter_vec(state, pod, table) -> NodeStatusVector | None  (every node at once)
    PostFilter  post_filter(state, pod, node_to_status) -> (PostFilterResult | None, Status)
    PreScore    pre_score(state, pod, nodes) -> Status | None
    Score       score(state, pod, node_info) -> int                      (one node)
                score_vec(state, pod, table, rows) -> ndarray[int64]     (the feasible rows)
                normalize_score(state, pod, scores: list) -> list        (NormalizeScore; only
                normalize_score_vec(state, pod, scores: ndarray) -> ndarray  when has_normalize)
    Reserve     reserve / unreserve(state, pod, node_name)
    Permit      permit(state, pod, node_name) -> Status | None
    PreBind     pre_bind(state, pod, node_name) -> Status | None
    Bind        bind(state, pod, node_name, done) -> Status | None   (Skip: next binder; done(Status|None) later)
    PostBind    post_bind(state, pod, node_name)

A status of None means Success, as a nil *Status does upstream.  `pod` is always a PodInfo
(sim.scheduler.framework.podinfo): the API object is `pod.pod`, parsed requests, ports and
tolerations are beside it.  `nodes` is a NodeSet (rows of the NodeTable plus, lazily, their
NodeInfo objects).

Every plugin that filters or scores implements both the scalar method (one NodeInfo: the plain
per-node reference, used by tests as an oracle and by the benchmark's baseline) and the
vectorised one (every row of the columnar NodeTable at once, with numpy).  The base classes give
a vectorised fallback that loops over the scalar method, so a new plugin works before it is fast.

Writing a plugin module (one module per plugin, upstream's name in `name`); NodeName, in full:

    import numpy as np
    from sim.scheduler.framework.interface import (ADD, NODE, UNSCHEDULABLE_AND_UNRESOLVABLE,
        ClusterEvent, ClusterEventWithHint, EnqueueExtensions, FilterPlugin, NodeStatusVector, Status)

    REJECTED = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) didn't match the requested node name",))

    class NodeName(FilterPlugin, EnqueueExtensions):
        name = "NodeName"

        def filter(self, state, pod, node_info):          # one node: None (Success) or a Status
            if not pod.node_name or pod.node_name == node_info.name:
                return None
            return REJECTED

        def filter_vec(self, state, pod, table):          # every row at once: ids, 0 = passes
            if not pod.node_name:
                return None
            ids = np.ones(table.high, np.int32)
            if pod.node_name in table.row_of:
                ids[table.row_of[pod.node_name]] = 0
            return NodeStatusVector(ids, lambda _id: REJECTED)

        def events_to_register(self):                     # what may make a rejected pod fit
            return [ClusterEventWithHint(ClusterEvent(NODE, ADD))]

and one line in sim/scheduler/plugins/__init__.py's REGISTRY: "NodeName":
"sim.scheduler.plugins.node_name:NodeName".  Score plugins add score/score_vec (and
normalize_score/normalize_score_vec with has_normalize = True); tests check that the two paths
agree (tests/sim/test_scheduler_vectorised.py).  A plugin is constructed as
`cls(args, handle)`: `args` is its pluginConfig args (after `default_args`), `handle` the
profile's Framework (sim.scheduler.framework.runtime): `snapshot` (the cache: node_infos(),
get(name), table), `nominator`, `client` (bind, delete_pod, patch_pod_status, event), `now()`,
`rng`, `lister(resource)`, and the run_* methods preemption needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

# -- Status codes (fwk.Code) --------------------------------------------------------------
SUCCESS = "Success"
ERROR = "Error"
UNSCHEDULABLE = "Unschedulable"
UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
WAIT = "Wait"
SKIP = "Skip"
PENDING = "Pending"

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0
MAX_TOTAL_SCORE = 2**63 - 1


class Status:
    """fwk.Status: a code, the reasons (Message() joins them with ", ") and the plugin that
    set it.  Immutable by convention: plugins share module-level statuses."""

    __slots__ = ("code", "reasons", "plugin", "err")

    def __init__(self, code: str = SUCCESS, reasons: Iterable[str] = (), plugin: str = "", err: str | None = None):
        self.code = code
        self.reasons = tuple(reasons)
        self.plugin = plugin
        self.err = err

    def is_success(self) -> bool:
        return self.code == SUCCESS

    def is_skip(self) -> bool:
        return self.code == SKIP

    def is_wait(self) -> bool:
        return self.code == WAIT

    def is_rejected(self) -> bool:
        """Unschedulable, UnschedulableAndUnresolvable or Pending."""
        return self.code in (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, PENDING)

    def message(self) -> str:
        return ", ".join(self.reasons)

    def with_plugin(self, plugin: str) -> "Status":
        return Status(self.code, self.reasons, plugin, self.err)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Status) and (self.code, self.reasons) == (other.code, other.reasons)

    def __hash__(self) -> int:
        return hash((self.code, self.reasons))

    def __repr__(self) -> str:
        return f"Status({self.code!r}, {list(self.reasons)!r}{', plugin=' + repr(self.plugin) if self.plugin else ''})"

    def to_json(self) -> dict:
        return {"plugin": self.plugin, "code": self.code, "reasons": list(self.reasons)}


def new_status(code: str, *reasons: str) -> Status:
    return Status(code, reasons)


def as_status(err: Exception | str) -> Status:
    """fwk.AsStatus: an Error status carrying the error text as its one reason."""
    return Status(ERROR, (str(err),), err=str(err))


def is_success(s: Status | None) -> bool:
    return s is None or s.code == SUCCESS


def code_of(s: Status | None) -> str:
    return SUCCESS if s is None else s.code


SKIP_STATUS = Status(SKIP)


class PluginError(Exception):
    """A plugin returned Error: the scheduling cycle fails with SchedulerError."""


# -- Results ------------------------------------------------------------------------------
@dataclass
class PreFilterResult:
    """fwk.PreFilterResult: `node_names` None means all nodes."""
    node_names: set[str] | None = None

    def all_nodes(self) -> bool:
        return self.node_names is None

    def merge(self, other: "PreFilterResult | None") -> "PreFilterResult | None":
        if other is None or other.all_nodes():
            return self
        if self.all_nodes():
            return PreFilterResult(set(other.node_names))
        return PreFilterResult(self.node_names & other.node_names)


MODE_NOOP, MODE_OVERRIDE = "Noop", "Override"


@dataclass
class NominatingInfo:
    nominated_node_name: str = ""
    mode: str = MODE_NOOP


@dataclass
class PostFilterResult:
    nominating_info: NominatingInfo | None = None


class NodeStatusVector:
    """A vectorised Filter's answer over the NodeTable's rows [0, table.high): `ids[row]` is 0
    where the node passes, otherwise a small id that `decode(id)` turns into the Status (the
    framework decodes each distinct id once, and only for the nodes it reports)."""

    __slots__ = ("ids", "decode", "_rejected")

    def __init__(self, ids: np.ndarray, decode: Callable[[int], Status]):
        self.ids = ids
        self.decode = decode
        self._rejected: np.ndarray | None = None

    @property
    def rejected(self) -> np.ndarray | None:
        """ids != 0, or None when no row is rejected (computed once: a plugin may cache the
        whole vector while the nodes do not change)."""
        if self._rejected is None:
            r = self.ids != 0
            self._rejected = r if r.any() else False
        return self._rejected if self._rejected is not False else None


# -- CycleState (framework.CycleState) ----------------------------------------------------
class CycleState(dict):
    """Data plugins compute once per scheduling cycle and share (a dict: key -> state)."""

    def __init__(self) -> None:
        super().__init__()
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def read(self, key: str) -> Any:
        return self.get(key)

    def write(self, key: str, value: Any) -> None:
        self[key] = value

    def clone(self) -> "CycleState":
        c = CycleState()
        for k, v in self.items():
            c[k] = v.clone() if hasattr(v, "clone") else v
        c.skip_filter_plugins = set(self.skip_filter_plugins)
        c.skip_score_plugins = set(self.skip_score_plugins)
        return c


# -- Cluster events (fwk.ClusterEvent, ActionType; framework/events.go) ----------------------
ADD = 1 << 0
DELETE = 1 << 1
UPDATE_NODE_ALLOCATABLE = 1 << 2
UPDATE_NODE_LABEL = 1 << 3
UPDATE_NODE_TAINT = 1 << 4
UPDATE_NODE_CONDITION = 1 << 5
UPDATE_NODE_ANNOTATION = 1 << 6
UPDATE_POD_LABEL = 1 << 7
UPDATE_POD_SCALE_DOWN = 1 << 8
UPDATE_POD_TOLERATION = 1 << 9
UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1 << 10
UPDATE_POD_OTHER = 1 << 11
UPDATE = (UPDATE_NODE_ALLOCATABLE | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT | UPDATE_NODE_CONDITION
          | UPDATE_NODE_ANNOTATION | UPDATE_POD_LABEL | UPDATE_POD_SCALE_DOWN | UPDATE_POD_TOLERATION
          | UPDATE_POD_SCHEDULING_GATES_ELIMINATED | UPDATE_POD_OTHER)
ALL = ADD | DELETE | UPDATE

# Resources.  A plugin registers "Pod"; the queue reports "AssignedPod" or "UnscheduledPod",
# which "Pod" matches (framework.MatchClusterEvents).
POD, NODE, ASSIGNED_POD, UNSCHEDULED_POD, WILDCARD = "Pod", "Node", "AssignedPod", "UnscheduledPod", "*"
NAMESPACE, PRIORITY_CLASS = "Namespace", "PriorityClass"

_ACTION_LABELS = [(ADD, "Add"), (DELETE, "Delete"), (UPDATE_NODE_ALLOCATABLE, "AllocatableChange"),
                  (UPDATE_NODE_LABEL, "LabelChange"), (UPDATE_NODE_TAINT, "TaintChange"),
                  (UPDATE_NODE_CONDITION, "ConditionChange"), (UPDATE_NODE_ANNOTATION, "AnnotationChange"),
                  (UPDATE_POD_LABEL, "LabelChange"), (UPDATE_POD_SCALE_DOWN, "ScaleDown"),
                  (UPDATE_POD_TOLERATION, "TolerationChange"),
                  (UPDATE_POD_SCHEDULING_GATES_ELIMINATED, "SchedulingGatesEliminated"),
                  (UPDATE_POD_OTHER, "Update")]


@dataclass(frozen=True)
class ClusterEvent:
    resource: str
    action_type: int
    label: str = ""

    def is_wildcard(self) -> bool:
        return self.resource == WILDCARD and self.action_type == ALL

    def name(self) -> str:
        if self.label:
            return self.label
        if self.is_wildcard():
            return "WildCard"
        acts = "".join(lbl for bit, lbl in _ACTION_LABELS if self.action_type & bit)
        return f"{self.resource}{acts or 'Update'}"


def match_cluster_events(registered: ClusterEvent, incoming: ClusterEvent) -> bool:
    """framework.MatchClusterEvents: does a registered event cover an incoming one?"""
    if registered.is_wildcard():
        return True
    if registered.resource == WILDCARD:
        resource_ok = True
    elif registered.resource == POD:
        resource_ok = incoming.resource in (POD, ASSIGNED_POD, UNSCHEDULED_POD)
    else:
        resource_ok = registered.resource == incoming.resource
    return resource_ok and bool(registered.action_type & incoming.action_type)


EVENT_NODE_ADD = ClusterEvent(NODE, ADD, "NodeAdd")
EVENT_NODE_DELETE = ClusterEvent(NODE, DELETE, "NodeDelete")
EVENT_ASSIGNED_POD_ADD = ClusterEvent(ASSIGNED_POD, ADD, "AssignedPodAdd")
EVENT_ASSIGNED_POD_DELETE = ClusterEvent(ASSIGNED_POD, DELETE, "AssignedPodDelete")
EVENT_UNSCHEDULED_POD_ADD = ClusterEvent(UNSCHEDULED_POD, ADD, "UnscheduledPodAdd")
EVENT_UNSCHEDULED_POD_UPDATE = ClusterEvent(UNSCHEDULED_POD, UPDATE, "UnscheduledPodUpdate")
EVENT_UNSCHEDULED_POD_DELETE = ClusterEvent(UNSCHEDULED_POD, DELETE, "UnscheduledPodDelete")
EVENT_UNSCHEDULABLE_TIMEOUT = ClusterEvent(WILDCARD, ALL, "UnschedulableTimeout")
EVENT_FORCE_ACTIVATE = ClusterEvent(WILDCARD, ALL, "ForceActivate")
WILDCARD_EVENT = ClusterEvent(WILDCARD, ALL, "WildCard")

QUEUE, QUEUE_SKIP = "Queue", "QueueSkip"

# (pod: PodInfo, old_obj: dict | None, new_obj: dict | None) -> QUEUE | QUEUE_SKIP
QueueingHintFn = Callable[[Any, Any, Any], str]


@dataclass
class ClusterEventWithHint:
    event: ClusterEvent
    hint: QueueingHintFn | None = None   # None: always Queue (defaultQueueingHintFn)


def unroll_wildcard_resource() -> list[ClusterEventWithHint]:
    """framework.UnrollWildCardResource: every event, for plugins that register none."""
    return [ClusterEventWithHint(ClusterEvent(r, ALL)) for r in (POD, NODE, NAMESPACE, PRIORITY_CLASS)]


# -- Plugin base classes (one per extension point; a plugin inherits those it implements) ---
class Plugin:
    name = ""
    # API resources (plural names: "namespaces", "replicasets", "priorityclasses") whose
    # informer caches the plugin reads through handle.lister(resource); kube-scheduler starts
    # those informers only when an enabled plugin asks for them.
    informers: tuple[str, ...] = ()

    def __init__(self, args: dict | None = None, handle: Any = None):
        # Defaulted and validated here once for every plugin, as the framework does when it
        # decodes pluginConfig (defaulting is idempotent: config.py has applied it already).
        args = self.default_args(args)
        errors = self.validate_args(args, "args")
        if errors:
            raise ValueError("; ".join(errors))
        self.args = args or {}
        self.handle = handle

    @classmethod
    def default_args(cls, args: dict | None) -> dict | None:
        """SetDefaults_<Name>Args: the v1 defaults applied to the pluginConfig args."""
        return args

    @classmethod
    def validate_args(cls, args: dict | None, path: str) -> list[str]:
        """Validate<Name>Args: error strings (field path, reason) for bad args."""
        return []


class EnqueueExtensions:
    """A plugin that says which cluster events may make a pod it rejected schedulable."""

    def events_to_register(self) -> list[ClusterEventWithHint]:  # pragma: no cover - interface
        return unroll_wildcard_resource()


class QueueSortPlugin(Plugin):
    def less(self, a: Any, b: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def sort_key(self, qpi: Any) -> Any:
        """Optional fast path: a key whose `<` agrees with `less` (None: use less)."""
        return None


class PreEnqueuePlugin(Plugin):
    def pre_enqueue(self, pod: Any) -> Status | None:  # pragma: no cover - interface
        return None


class PreFilterExtensions:
    """Incremental updates of a PreFilter plugin's state when the framework adds nominated
    pods or preemption removes victims (fwk.PreFilterExtensions)."""

    def add_pod(self, state: CycleState, pod_to_schedule: Any, pod_to_add: Any, node_info: Any) -> Status | None:
        return None

    def remove_pod(self, state: CycleState, pod_to_schedule: Any, pod_to_remove: Any, node_info: Any) -> Status | None:
        return None


class PreFilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: Any, nodes: Any) -> tuple[PreFilterResult | None, Status | None]:
        return None, None  # pragma: no cover - interface

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return None


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, pod: Any, node_info: Any) -> Status | None:  # pragma: no cover
        raise NotImplementedError

    def filter_vec(self, state: CycleState, pod: Any, table: Any) -> NodeStatusVector | None:
        """Default: the scalar filter over every row (correct, not fast)."""
        interned: dict[Status, int] = {}
        statuses: list[Status] = []
        ids = np.zeros(table.high, dtype=np.int32)
        for row in range(table.high):
            info = table.infos[row]
            if info is None:
                continue
            s = self.filter(state, pod, info)
            if s is not None and not s.is_success():
                i = interned.get(s)
                if i is None:
                    statuses.append(s)
                    i = interned[s] = len(statuses)
                ids[row] = i
        if not statuses:
            return None
        return NodeStatusVector(ids, lambda i: statuses[i - 1])


class PostFilterPlugin(Plugin):
    def post_filter(self, state: CycleState, pod: Any, node_to_status: Any) -> tuple[PostFilterResult | None, Status]:
        raise NotImplementedError  # pragma: no cover - interface


class PreScorePlugin(Plugin):
    def pre_score(self, state: CycleState, pod: Any, nodes: Any) -> Status | None:  # pragma: no cover
        return None


class ScorePlugin(Plugin):
    has_normalize = False   # ScoreExtensions() != nil
    # In-tree plugins whose formulas cannot leave [0, 100] set this; the framework then skips
    # the range check in the vectorised path (the scalar path always checks).
    bounded_scores = False

    def score(self, state: CycleState, pod: Any, node_info: Any) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def score_vec(self, state: CycleState, pod: Any, table: Any, rows: np.ndarray) -> np.ndarray:
        """Default: the scalar score per feasible row."""
        infos = table.infos
        return np.array([self.score(state, pod, infos[r]) for r in rows], dtype=np.int64)

    def normalize_score(self, state: CycleState, pod: Any, scores: list[int]) -> list[int]:
        return scores

    def normalize_score_vec(self, state: CycleState, pod: Any, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.normalize_score(state, pod, [int(s) for s in scores]), dtype=np.int64)


class ReservePlugin(Plugin):
    def reserve(self, state: CycleState, pod: Any, node_name: str) -> Status | None:
        return None

    def unreserve(self, state: CycleState, pod: Any, node_name: str) -> None:
        return None


class PermitPlugin(Plugin):
    def permit(self, state: CycleState, pod: Any, node_name: str) -> Status | None:
        return None


class PreBindPlugin(Plugin):
    def pre_bind(self, state: CycleState, pod: Any, node_name: str) -> Status | None:
        return None


class BindPlugin(Plugin):
    def bind(self, state: CycleState, pod: Any, node_name: str,
             done: Callable[[Status | None], None]) -> Status | None:
        """Return Skip to let the next Bind plugin bind; otherwise call done(status) once the
        binding is written (possibly later) and return None."""
        raise NotImplementedError  # pragma: no cover - interface


class PostBindPlugin(Plugin):
    def post_bind(self, state: CycleState, pod: Any, node_name: str) -> None:
        return None


EXTENSION_POINTS: list[tuple[str, type]] = [
    ("queueSort", QueueSortPlugin), ("preEnqueue", PreEnqueuePlugin), ("preFilter", PreFilterPlugin),
    ("filter", FilterPlugin), ("postFilter", PostFilterPlugin), ("preScore", PreScorePlugin),
    ("score", ScorePlugin), ("reserve", ReservePlugin), ("permit", PermitPlugin),
    ("preBind", PreBindPlugin), ("bind", BindPlugin), ("postBind", PostBindPlugin),
]


@dataclass
class NodeToStatus:
    """framework.NodeToStatus: the status of each node a Filter (or PreFilter) rejected, plus
    one status for the nodes absent from the map (UnschedulableAndUnresolvable by default:
    nodes not evaluated, or all nodes when PreFilter rejected the pod)."""
    statuses: dict[str, Status] = field(default_factory=dict)
    absent: Status = field(default_factory=lambda: Status(UNSCHEDULABLE_AND_UNRESOLVABLE))
    _lazy: Callable[[], dict[str, Status]] | None = None

    def _m(self) -> dict[str, Status]:
        if self._lazy is not None:
            self.statuses.update(self._lazy())
            self._lazy = None
        return self.statuses

    def get(self, node_name: str) -> Status:
        return self._m().get(node_name, self.absent)

    def set(self, node_name: str, status: Status) -> None:
        self._m()[node_name] = status

    def __len__(self) -> int:
        return len(self._m())

    def items(self):
        return self._m().items()

    def nodes_for_status_code(self, all_node_names: Iterable[str], code: str) -> list[str]:
        """NodeToStatus.NodesForStatusCode."""
        m = self._m()
        return [n for n in all_node_names if (m[n].code if n in m else self.absent.code) == code]
