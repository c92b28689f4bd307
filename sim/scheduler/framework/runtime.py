"""The Framework: one profile's plugins, run extension point by extension point
(pkg/scheduler/framework/runtime/framework.go).

A Framework is also the plugins' Handle: through it a plugin reaches the cache snapshot
(`snapshot`), the nominated pods (`nominator`), the API (`client`), the clock (`now()`) and the
random source (`rng`), and runs the filters with nominated pods (preemption needs that).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from sim.scheduler import plugins as registry
from sim.scheduler.framework import interface as fw
from sim.scheduler.framework.interface import (ERROR, MAX_NODE_SCORE, MAX_TOTAL_SCORE, MIN_NODE_SCORE,
                                               SKIP, SUCCESS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               CycleState, EnqueueExtensions, NodeToStatus, PluginError,
                                               PreFilterResult, Status)

# getExtensionPoints order (used to word "does not exist" errors as upstream does).
_TYPES_IN_ORDER = [("preFilter", fw.PreFilterPlugin, "PreFilterPlugin"), ("filter", fw.FilterPlugin, "FilterPlugin"),
                   ("postFilter", fw.PostFilterPlugin, "PostFilterPlugin"), ("reserve", fw.ReservePlugin, "ReservePlugin"),
                   ("preScore", fw.PreScorePlugin, "PreScorePlugin"), ("score", fw.ScorePlugin, "ScorePlugin"),
                   ("preBind", fw.PreBindPlugin, "PreBindPlugin"), ("bind", fw.BindPlugin, "BindPlugin"),
                   ("postBind", fw.PostBindPlugin, "PostBindPlugin"), ("permit", fw.PermitPlugin, "PermitPlugin"),
                   ("preEnqueue", fw.PreEnqueuePlugin, "PreEnqueuePlugin"), ("queueSort", fw.QueueSortPlugin, "QueueSortPlugin")]


class FrameworkError(ValueError):
    pass


@dataclass
class Services:
    """What the scheduler lends its frameworks (filled in once the queue and cache exist)."""
    snapshot: Any = None                      # sim.scheduler.cache.SchedulerCache
    nominator: Any = None                     # sim.scheduler.queue.SchedulingQueue
    client: Any = None                        # bind / delete_pod / patch_pod_status / event
    clock: Callable[[], float] = lambda: 0.0
    rng: Any = None
    pod_lister: Callable[[str, str], dict | None] = lambda ns, name: None
    listers: dict = field(default_factory=dict)   # resource -> () -> list of objects


class NodeSet:
    """The nodes handed to PreFilter/PreScore: table rows, and lazily their NodeInfos."""

    __slots__ = ("table", "rows", "_infos")

    def __init__(self, table, rows: np.ndarray, infos: list | None = None):
        self.table, self.rows, self._infos = table, rows, infos

    @property
    def infos(self) -> list:
        if self._infos is None:
            ti = self.table.infos
            self._infos = [ti[r] for r in self.rows.tolist()]
        return self._infos

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.infos)


def merge_prefilter(a: PreFilterResult | None, b: PreFilterResult | None) -> PreFilterResult | None:
    """PreFilterResult.Merge (a nil result means all nodes)."""
    a_all, b_all = a is None or a.all_nodes(), b is None or b.all_nodes()
    if a_all and b_all:
        return None
    if a_all:
        return PreFilterResult(set(b.node_names))
    if b_all:
        return PreFilterResult(set(a.node_names))
    return PreFilterResult(a.node_names & b.node_names)


@dataclass
class ScoreTable:
    """One attempt's scores: per plugin (in order) the raw and normalized arrays over the
    scored nodes, the weights, and each node's weighted total."""
    plugins: list[str] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)
    raw: list[np.ndarray] = field(default_factory=list)
    normalized: list[np.ndarray] = field(default_factory=list)
    total: np.ndarray | None = None


class Framework:
    def __init__(self, profile: dict, services: Services, default_percentage: int = 0):
        self.profile = profile
        self.profile_name = profile["schedulerName"]
        pct = profile.get("percentageOfNodesToScore")
        self.percentage_of_nodes_to_score = pct if pct is not None else default_percentage
        self.services = services
        plugins_cfg = profile.get("plugins") or {}
        args = {pc.get("name"): pc.get("args") for pc in profile.get("pluginConfig") or []}
        needed = set()
        for k in ["multiPoint"] + [t[0] for t in _TYPES_IN_ORDER]:
            for p in (plugins_cfg.get(k) or {}).get("enabled") or []:
                needed.add(p.get("name"))
        self.plugins_map: dict[str, fw.Plugin] = {}
        for name in sorted(needed):
            cls = registry.get(name)
            if cls is None:
                continue
            try:
                self.plugins_map[name] = cls(args.get(name), self)
            except ValueError as e:
                raise FrameworkError(f"initializing plugin {name!r}: {e}") from e
        lists: dict[str, list] = {}
        for key, typ, tname in _TYPES_IN_ORDER:
            lst = []
            for p in (plugins_cfg.get(key) or {}).get("enabled") or []:
                pl = self.plugins_map.get(p.get("name"))
                if pl is None:
                    raise FrameworkError(f"{tname} {p.get('name')!r} does not exist".replace("'", '"'))
                if not isinstance(pl, typ):
                    raise FrameworkError(f'plugin "{p.get("name")}" does not extend {tname} plugin')
                if pl in lst:
                    raise FrameworkError(f'plugin "{p.get("name")}" already registered as "{tname}"')
                lst.append(pl)
            lists[key] = lst
        self._expand_multi_point(plugins_cfg, lists)
        (self.pre_filter_plugins, self.filter_plugins, self.post_filter_plugins, self.reserve_plugins,
         self.pre_score_plugins, self.score_plugins, self.pre_bind_plugins, self.bind_plugins,
         self.post_bind_plugins, self.permit_plugins, self.pre_enqueue_plugins, self.queue_sort_plugins) = \
            (lists[k] for k, _, _ in _TYPES_IN_ORDER)
        if len(self.queue_sort_plugins) != 1:
            raise FrameworkError(f"only one queue sort plugin required for profile with scheduler name "
                                 f'"{self.profile_name}", but got {len(self.queue_sort_plugins)}')
        if not self.bind_plugins:
            raise FrameworkError(f'at least one bind plugin is needed for profile with scheduler name "{self.profile_name}"')
        self.score_weights: dict[str, int] = {}
        total = 0
        for p in ((plugins_cfg.get("score") or {}).get("enabled") or []) + ((plugins_cfg.get("multiPoint") or {}).get("enabled") or []):
            pl = self.plugins_map.get(p.get("name"))
            if not isinstance(pl, fw.ScorePlugin) or pl.name in self.score_weights:
                continue
            w = int(p.get("weight") or 0) or 1
            if w * MAX_NODE_SCORE > MAX_TOTAL_SCORE - total:
                raise FrameworkError("total score of Score plugins could overflow")
            total += w * MAX_NODE_SCORE
            self.score_weights[pl.name] = w
        for pl in self.score_plugins:
            self.score_weights.setdefault(pl.name, 1)
        self.queue_sort = self.queue_sort_plugins[0]
        # EnqueueExtensions of PreEnqueue, PreFilter, Filter, Reserve and Permit plugins.
        self.enqueue_extensions: list[tuple[str, list[fw.ClusterEventWithHint]]] = []
        seen = set()
        for pl in self.pre_enqueue_plugins + self.pre_filter_plugins + self.filter_plugins + self.reserve_plugins + self.permit_plugins:
            if pl.name in seen:
                continue
            seen.add(pl.name)
            events = pl.events_to_register() if isinstance(pl, EnqueueExtensions) else fw.unroll_wildcard_resource()
            self.enqueue_extensions.append((pl.name, events))

    def _expand_multi_point(self, plugins_cfg: dict, lists: dict[str, list]) -> None:
        """expandMultiPointPlugins: put each MultiPoint plugin on every extension point it
        implements, unless disabled there; ones also listed explicitly keep that position."""
        mp = (plugins_cfg.get("multiPoint") or {}).get("enabled") or []
        if not mp:
            return
        for key, typ, tname in _TYPES_IN_ORDER:
            enabled = [pl.name for pl in lists[key]]
            disabled = {p.get("name") for p in (plugins_cfg.get(key) or {}).get("disabled") or []}
            if "*" in disabled:
                continue
            override, multi = [], []
            for p in mp:
                name = p.get("name")
                pl = self.plugins_map.get(name)
                if pl is None:
                    raise FrameworkError(f'{tname} "{name}" does not exist')
                if not isinstance(pl, typ) or name in disabled:
                    continue
                if name in enabled:
                    override.append(name)
                    continue
                if name in multi:
                    raise FrameworkError(f'plugin "{name}" already registered as "{tname}"')
                multi.append(name)
            order = [n for n in enabled if n in override] + multi + [n for n in enabled if n not in override]
            lists[key] = [self.plugins_map[n] for n in order]

    # -- Handle ---------------------------------------------------------------------------
    @property
    def snapshot(self):
        return self.services.snapshot

    @property
    def nominator(self):
        return self.services.nominator

    @property
    def client(self):
        return self.services.client

    @property
    def rng(self):
        return self.services.rng

    def now(self) -> float:
        return self.services.clock()

    def pod_lister(self, namespace: str, name: str) -> dict | None:
        return self.services.pod_lister(namespace, name)

    def lister(self, resource: str) -> list[dict]:
        """The objects of `resource` the scheduler's informer holds (see Plugin.informers)."""
        f = self.services.listers.get(resource)
        return f() if f is not None else []

    def has_filter_plugins(self) -> bool:
        return bool(self.filter_plugins)

    def has_post_filter_plugins(self) -> bool:
        return bool(self.post_filter_plugins)

    def has_score_plugins(self) -> bool:
        return bool(self.score_plugins)

    def queue_sort_less(self, a, b) -> bool:
        return self.queue_sort.less(a, b)

    # -- PreEnqueue -----------------------------------------------------------------------
    def run_pre_enqueue_plugins(self, pod) -> Status | None:
        for pl in self.pre_enqueue_plugins:
            s = pl.pre_enqueue(pod)
            if s is not None and not s.is_success():
                return s.with_plugin(pl.name)
        return None

    # -- PreFilter ------------------------------------------------------------------------
    def run_pre_filter_plugins(self, state: CycleState, pod, nodes: NodeSet):
        """(PreFilterResult | None, Status | None, plugins that narrowed the nodes)."""
        skip: set[str] = set()
        result: PreFilterResult | None = None
        with_nodes: set[str] = set()
        returned: Status | None = None
        try:
            for pl in self.pre_filter_plugins:
                r, s = pl.pre_filter(state, pod, nodes)
                if s is not None and s.is_skip():
                    skip.add(pl.name)
                    continue
                if s is not None and not s.is_success():
                    s = s.with_plugin(pl.name)
                    if s.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                        return None, s, set()
                    if s.code == UNSCHEDULABLE:
                        returned = s
                        continue
                    return None, Status(ERROR, (f'running PreFilter plugin "{pl.name}": {s.message()}',), pl.name), set()
                if r is not None and not r.all_nodes():
                    with_nodes.add(pl.name)
                result = merge_prefilter(result, r)
                if result is not None and not result.node_names:
                    names = sorted(with_nodes)
                    msg = (f"node(s) didn't satisfy plugin {names[0]}" if len(names) == 1
                           else f"node(s) didn't satisfy plugin(s) [{' '.join(names)}] simultaneously")
                    return result, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (msg,)), with_nodes
            return result, returned, with_nodes
        finally:
            state.skip_filter_plugins = skip

    def run_pre_filter_extension_add_pod(self, state, pod_to_schedule, pod_to_add, node_info) -> Status | None:
        for pl in self.pre_filter_plugins:
            ext = pl.pre_filter_extensions()
            if ext is None or pl.name in state.skip_filter_plugins:
                continue
            s = ext.add_pod(state, pod_to_schedule, pod_to_add, node_info)
            if s is not None and not s.is_success():
                return Status(ERROR, (f'running AddPod on PreFilter plugin "{pl.name}": {s.message()}',), pl.name)
        return None

    def run_pre_filter_extension_remove_pod(self, state, pod_to_schedule, pod_to_remove, node_info) -> Status | None:
        for pl in self.pre_filter_plugins:
            ext = pl.pre_filter_extensions()
            if ext is None or pl.name in state.skip_filter_plugins:
                continue
            s = ext.remove_pod(state, pod_to_schedule, pod_to_remove, node_info)
            if s is not None and not s.is_success():
                return Status(ERROR, (f'running RemovePod on PreFilter plugin "{pl.name}": {s.message()}',), pl.name)
        return None

    # -- Filter ---------------------------------------------------------------------------
    def run_filter_plugins(self, state: CycleState, pod, node_info) -> Status | None:
        """The first plugin that rejects the node decides (its status, with its name)."""
        for pl in self.filter_plugins:
            if pl.name in state.skip_filter_plugins:
                continue
            s = pl.filter(state, pod, node_info)
            if s is not None and not s.is_success():
                if not s.is_rejected():
                    return Status(ERROR, (f'running "{pl.name}" filter plugin: {s.message()}',), pl.name)
                return s.with_plugin(pl.name)
        return None

    def active_filter_plugins(self, state: CycleState) -> list:
        return [pl for pl in self.filter_plugins if pl.name not in state.skip_filter_plugins]

    def run_filter_plugins_vec(self, state: CycleState, pod, table, plugins: list):
        """Every filter over every row: (index into `plugins` of the first plugin that rejects
        each row, -1 if none; that plugin's status id per row; each plugin's decoder)."""
        n = table.high
        fail = np.full(n, -1, np.int16)
        ids = np.zeros(n, np.int32)
        decoders: list = [None] * len(plugins)
        results = [pl.filter_vec(state, pod, table) for pl in plugins]
        # Last plugin first, so an earlier plugin's rejection overwrites a later one's.
        for i in range(len(plugins) - 1, -1, -1):
            res = results[i]
            if res is None:
                continue
            rejected = res.rejected
            if rejected is None:
                continue
            np.copyto(fail, i, where=rejected)
            np.copyto(ids, res.ids, where=rejected)
            decoders[i] = _checked_decoder(plugins[i].name, res.decode)
        return fail, ids, decoders

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod, node_info) -> Status | None:
        """Filters pass only if the node fits with the nominated pods of equal or higher
        priority on it, and without them (RunFilterPluginsWithNominatedPods)."""
        status = None
        pods_added = False
        for i in range(2):
            state_to_use, info_to_use = state, node_info
            if i == 0:
                pods_added, state_to_use, info_to_use = self._add_ge_nominated_pods(state, pod, node_info)
            elif not pods_added or status is not None:
                break
            status = self.run_filter_plugins(state_to_use, pod, info_to_use)
            if status is not None and not status.is_rejected():
                return status
        return status

    def _add_ge_nominated_pods(self, state, pod, node_info):
        nominator = self.nominator
        nominated = nominator.nominated_pods_for_node(node_info.name) if nominator is not None else []
        if not nominated:
            return False, state, node_info
        info_out, state_out, added = node_info.clone(), state.clone(), False
        for p in nominated:
            if p.priority >= pod.priority and p.uid != pod.uid:
                info_out.add_pod(p)
                s = self.run_pre_filter_extension_add_pod(state_out, pod, p, info_out)
                if s is not None and not s.is_success():
                    raise PluginError(s.message())
                added = True
        return added, state_out, info_out

    def has_nominated_pods_ge(self, pod, node_name: str) -> bool:
        nominator = self.nominator
        if nominator is None:
            return False
        return any(p.priority >= pod.priority and p.uid != pod.uid for p in nominator.nominated_pods_for_node(node_name))

    # -- PostFilter -----------------------------------------------------------------------
    def run_post_filter_plugins(self, state: CycleState, pod, node_to_status: NodeToStatus):
        result = None
        reasons: list[str] = []
        rejector = ""
        for pl in self.post_filter_plugins:
            r, s = pl.post_filter(state, pod, node_to_status)
            if s is None or s.is_success():
                return r, s
            if s.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                return r, s.with_plugin(pl.name)
            if not s.is_rejected():
                return None, Status(ERROR, s.reasons, pl.name)
            if r is not None and r.nominating_info is not None and r.nominating_info.mode != fw.MODE_NOOP:
                result = r
            reasons.extend(s.reasons)
            rejector = rejector or pl.name
        return result, Status(UNSCHEDULABLE, reasons, rejector)

    # -- PreScore / Score -----------------------------------------------------------------
    def run_pre_score_plugins(self, state: CycleState, pod, nodes: NodeSet) -> Status | None:
        skip: set[str] = set()
        try:
            for pl in self.pre_score_plugins:
                s = pl.pre_score(state, pod, nodes)
                if s is not None and s.is_skip():
                    skip.add(pl.name)
                    continue
                if s is not None and not s.is_success():
                    return Status(ERROR, (f'running PreScore plugin "{pl.name}": {s.message()}',), pl.name)
            return None
        finally:
            state.skip_score_plugins = skip

    def active_score_plugins(self, state: CycleState) -> list:
        return [pl for pl in self.score_plugins if pl.name not in state.skip_score_plugins]

    def run_score_plugins(self, state: CycleState, pod, infos: list) -> ScoreTable:
        """The scalar path: Score per node per plugin, NormalizeScore, weights."""
        t = ScoreTable()
        n = len(infos)
        total = [0] * n
        for pl in self.active_score_plugins(state):
            raw = [int(pl.score(state, pod, info)) for info in infos]
            norm = [int(x) for x in pl.normalize_score(state, pod, list(raw))] if pl.has_normalize else list(raw)
            w = self.score_weights[pl.name]
            for i, s in enumerate(norm):
                if s > MAX_NODE_SCORE or s < MIN_NODE_SCORE:
                    raise PluginError(f'plugin "{pl.name}" returns an invalid score {s}, it should in the range of '
                                      f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing")
                total[i] += s * w
            t.plugins.append(pl.name)
            t.weights.append(w)
            t.raw.append(np.array(raw, np.int64))
            t.normalized.append(np.array(norm, np.int64))
        t.total = np.array(total, np.int64)
        return t

    def run_score_plugins_vec(self, state: CycleState, pod, table, rows: np.ndarray) -> ScoreTable:
        t = ScoreTable()
        total = np.zeros(len(rows), np.int64)
        for pl in self.active_score_plugins(state):
            raw = np.asarray(pl.score_vec(state, pod, table, rows), dtype=np.int64)
            norm = np.asarray(pl.normalize_score_vec(state, pod, raw), dtype=np.int64) if pl.has_normalize else raw
            if not pl.bounded_scores and len(norm) and (norm.max() > MAX_NODE_SCORE or norm.min() < MIN_NODE_SCORE):
                bad = int(norm[(norm > MAX_NODE_SCORE) | (norm < MIN_NODE_SCORE)][0])
                raise PluginError(f'plugin "{pl.name}" returns an invalid score {bad}, it should in the range of '
                                  f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing")
            w = self.score_weights[pl.name]
            total += norm * w
            t.plugins.append(pl.name)
            t.weights.append(w)
            t.raw.append(raw)
            t.normalized.append(norm)
        t.total = total
        return t

    # -- Reserve / Permit / PreBind / Bind / PostBind ----------------------------------------
    def run_reserve_plugins_reserve(self, state, pod, node_name: str) -> Status | None:
        for pl in self.reserve_plugins:
            s = pl.reserve(state, pod, node_name)
            if s is not None and not s.is_success():
                if s.is_rejected():
                    return s.with_plugin(pl.name)
                return Status(ERROR, (f'running Reserve plugin "{pl.name}": {s.message()}',), pl.name)
        return None

    def run_reserve_plugins_unreserve(self, state, pod, node_name: str) -> None:
        for pl in reversed(self.reserve_plugins):
            pl.unreserve(state, pod, node_name)

    def run_permit_plugins(self, state, pod, node_name: str) -> Status | None:
        for pl in self.permit_plugins:
            s = pl.permit(state, pod, node_name)
            if s is not None and not s.is_success():
                if s.is_rejected():
                    return s.with_plugin(pl.name)
                return Status(ERROR, (f'running Permit plugin "{pl.name}": {s.message()}',), pl.name)
        return None

    def run_pre_bind_plugins(self, state, pod, node_name: str, done: Callable[[Status | None], None]) -> None:
        """PreBind plugins in order, each after the one before succeeded; `done` gets the
        result.  A plugin whose PreBind waits (VolumeBinding waits for its claims to be bound,
        as its BindPodVolumes blocks the binding goroutine upstream) answers through
        `pre_bind(state, pod, node_name, answer)` later; the others return their Status."""
        plugins = list(self.pre_bind_plugins)

        def step(i: int) -> None:
            if i == len(plugins):
                return done(None)
            pl = plugins[i]

            def answered(s: Status | None) -> None:
                if s is not None and not s.is_success():
                    return done(Status(s.code if s.is_rejected() else ERROR,
                                       (f'running PreBind plugin "{pl.name}": {s.message()}',), pl.name))
                step(i + 1)
            if getattr(pl, "waits_in_pre_bind", False):
                pl.pre_bind(state, pod, node_name, answered)
            else:
                answered(pl.pre_bind(state, pod, node_name))
        step(0)

    def run_bind_plugins(self, state, pod, node_name: str, done: Callable[[Status | None], None]) -> None:
        """Bind plugins in order until one does not Skip; `done` gets its result."""
        for pl in self.bind_plugins:
            s = pl.bind(state, pod, node_name, done)
            if s is not None and s.is_skip():
                continue
            if s is not None and not s.is_success():
                done(Status(ERROR, (f'running Bind plugin "{pl.name}": {s.message()}',), pl.name))
            return
        done(Status(SKIP))

    def run_post_bind_plugins(self, state, pod, node_name: str) -> None:
        for pl in self.post_bind_plugins:
            pl.post_bind(state, pod, node_name)

    def describe(self) -> dict:
        """The profile's resolved plugins per extension point (for the control API)."""
        def names(lst):
            return [pl.name for pl in lst]
        return {"schedulerName": self.profile_name,
                "percentageOfNodesToScore": self.percentage_of_nodes_to_score,
                "queueSort": names(self.queue_sort_plugins), "preEnqueue": names(self.pre_enqueue_plugins),
                "preFilter": names(self.pre_filter_plugins), "filter": names(self.filter_plugins),
                "postFilter": names(self.post_filter_plugins), "preScore": names(self.pre_score_plugins),
                "score": [{"name": pl.name, "weight": self.score_weights[pl.name]} for pl in self.score_plugins],
                "reserve": names(self.reserve_plugins), "permit": names(self.permit_plugins),
                "preBind": names(self.pre_bind_plugins), "bind": names(self.bind_plugins),
                "postBind": names(self.post_bind_plugins)}


def _checked_decoder(plugin: str, decode: Callable[[int], Status]) -> Callable[[int], Status]:
    """Memoised decode that stamps the plugin name and turns non-rejections into errors."""
    memo: dict[int, Status] = {}

    def get(i: int) -> Status:
        s = memo.get(i)
        if s is None:
            s = decode(i)
            if s is None or not s.is_rejected():
                s = Status(ERROR, (f'running "{plugin}" filter plugin: {s.message() if s else "no status"}',), plugin)
            else:
                s = s.with_plugin(plugin)
            memo[i] = s
        return s
    return get
