"""Run one plugin's Filter or Score the way upstream's plugin unit tests do (the fixture adapter
of the scheduler contract): nodes and existing pods go into a fresh cache, the plugin runs with
its args (defaulted as KubeSchedulerConfiguration would), PreFilter/PreScore first.

    run_filter("TaintToleration", pod, nodes) -> {"node-1": {"code": "Success", "reasons": []}, ...}
    run_score("NodeResourcesFit", pod, nodes, existing_pods, args={...}) -> {"node-1": 37, ...}

run_score returns {} when the plugin's PreScore says Skip; pre_score=False calls Score without
PreScore, as some upstream cases do ("calculate the priorities correctly even if PreScore is not
called"), so the plugin falls back to computing its state itself.  `objects`, e.g.
{"namespaces": [...], "replicasets": [...]}, is what the plugin's handle.lister() returns.
Both take vectorised=True (the NodeTable methods) or False (the per-node methods).  A plugin
that does not exist (yet), or has no such extension point, raises KeyError(plugin).

loaded_scheduler(nodes, pods) is the whole default scheduler instead, with an ImmediateClient
(binds at once), a fixed clock and seed, the nodes and pods already in its informers.
"""
from __future__ import annotations

import random

from sim.scheduler import plugins as registry
from sim.scheduler.framework.interface import CycleState, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.framework.runtime import NodeSet
from sim.scheduler.scheduler import ImmediateClient, Scheduler

PROFILE = "testing-scheduler"


def build_scheduler(plugin: str, nodes: list[dict], existing_pods=(), args: dict | None = None,
                    vectorised: bool = True, objects: dict | None = None) -> Scheduler:
    if registry.get(plugin) is None:
        raise KeyError(plugin)
    enabled = [{"name": plugin}]
    cfg = {"profiles": [{"schedulerName": PROFILE,
                         "plugins": {"multiPoint": {"enabled": enabled, "disabled": [{"name": "*"}]},
                                     "queueSort": {"enabled": [] if plugin == "PrioritySort" else [{"name": "PrioritySort"}]},
                                     "bind": {"enabled": [] if plugin == "DefaultBinder" else [{"name": "DefaultBinder"}]}},
                         "pluginConfig": [{"name": plugin, "args": args}] if args is not None else []}]}
    sched = Scheduler(cfg, clock=lambda: 0.0, rng=random.Random(0), vectorised=vectorised)
    for resource, items in (objects or {}).items():
        sched.services.listers[resource] = (lambda items: lambda: list(items))(items)
    for n in nodes:
        sched.cache.add_node(n)
    for p in existing_pods:
        if (p.get("spec") or {}).get("nodeName"):
            sched.cache.add_pod(PodInfo(p))
    return sched


def loaded_scheduler(nodes: list[dict], pods=(), *, seed: int = 0, vectorised: bool = True) -> Scheduler:
    """The default profile over `nodes`, `pods` (bound or pending) added in order; drive it
    with schedule_one()."""
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(seed), vectorised=vectorised)
    for n in nodes:
        sched.add_node(n)
    for p in pods:
        sched.add_pod(p)
    return sched


def _plugin(sched: Scheduler, plugin: str, kind: type):
    pl = sched.profiles[PROFILE].plugins_map.get(plugin)
    if not isinstance(pl, kind):
        raise KeyError(plugin)
    return pl


def run_filter(plugin: str, pod: dict, nodes: list[dict], existing_pods=(), args: dict | None = None,
               vectorised: bool = True, objects: dict | None = None) -> dict[str, dict]:
    sched = build_scheduler(plugin, nodes, existing_pods, args, vectorised, objects)
    pl = _plugin(sched, plugin, FilterPlugin)
    cache, table = sched.cache, sched.cache.table
    p = PodInfo(pod)
    state = CycleState()
    names = [n["metadata"]["name"] for n in nodes]
    if isinstance(pl, PreFilterPlugin):
        _, s = pl.pre_filter(state, p, NodeSet(table, cache.order()))
        if s is not None and s.is_skip():
            return {n: {"code": "Success", "reasons": []} for n in names}
        if s is not None and not s.is_success():
            return {n: {"code": s.code, "reasons": list(s.reasons)} for n in names}
    out = {}
    if vectorised:
        res = pl.filter_vec(state, p, table)
        for n in names:
            row = table.row_of[n]
            if res is None or res.ids[row] == 0:
                out[n] = {"code": "Success", "reasons": []}
            else:
                s = res.decode(int(res.ids[row]))
                out[n] = {"code": s.code, "reasons": list(s.reasons)}
        return out
    for n in names:
        s = pl.filter(state, p, cache.get(n))
        out[n] = {"code": "Success", "reasons": []} if s is None or s.is_success() else {"code": s.code, "reasons": list(s.reasons)}
    return out


def run_score(plugin: str, pod: dict, nodes: list[dict], existing_pods=(), args: dict | None = None,
              vectorised: bool = True, pre_score: bool = True, objects: dict | None = None) -> dict[str, int]:
    sched = build_scheduler(plugin, nodes, existing_pods, args, vectorised, objects)
    pl = _plugin(sched, plugin, ScorePlugin)
    cache, table = sched.cache, sched.cache.table
    p = PodInfo(pod)
    state = CycleState()
    names = [n["metadata"]["name"] for n in nodes]
    rows = table.rows_named(names)
    infos = [cache.get(n) for n in names]
    nodeset = NodeSet(table, rows, infos)
    if pre_score and isinstance(pl, PreScorePlugin):
        s = pl.pre_score(state, p, nodeset)
        if s is not None and s.is_skip():
            return {}     # the framework would not run this Score plugin
    if vectorised:
        raw = pl.score_vec(state, p, table, rows)
        norm = pl.normalize_score_vec(state, p, raw) if pl.has_normalize else raw
        return {n: int(v) for n, v in zip(names, norm)}
    raw = [int(pl.score(state, p, info)) for info in infos]
    norm = pl.normalize_score(state, p, raw) if pl.has_normalize else raw
    return {n: int(v) for n, v in zip(names, norm)}
