"""InterPodAffinity: the vectorised plugin (pod index + numpy counts per topology domain) against
its per-node methods and against a plain transcription of upstream's loops (filtering.go,
scoring.go: every pod of every node, maps keyed by topology pair) on random clusters; then the
behaviours a class sees: replicas spread by anti-affinity, the first pod of a self-affine group,
namespaces and namespaceSelector, nominated pods and preemption victims (AddPod/RemovePod),
queueing hints, arguments, and the index following pods as they come, change and go."""
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scheduler.framework.affinity_terms import AffinityTerm, parse_pod_affinity_terms, selector_matches
from sim.scheduler.framework.config import ConfigError
from sim.scheduler.framework.interface import (ADD, DELETE, NODE, POD, QUEUE, QUEUE_SKIP, UPDATE_NODE_LABEL,
                                               UPDATE_NODE_TAINT, UPDATE_POD_LABEL, CycleState)
from sim.scheduler.framework import podindex
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.framework.runtime import NodeSet
from sim.scheduler.plugins.inter_pod_affinity import PRE_FILTER_STATE_KEY
from sim.scheduler.scheduler import Scheduler
from sim.scheduler.testing import PROFILE, build_scheduler, loaded_scheduler
from tests.builders import MakeNamespace, MakeNode, MakePod


HOST = "kubernetes.io/hostname"
KEYS = ["zone", "region", HOST, "rack", "nope"]
NAMESPACES = [MakeNamespace().name("default").labels({"team": "t1"}).obj(),
              MakeNamespace().name("other").labels({"team": "t2", "env": "prod"}).obj()]


# -- running the plugin the way upstream's unit tests do (with Namespace objects) -------------
def _plugin(nodes, existing, args=None, namespaces=None, vectorised=True):
    objects = {"namespaces": namespaces} if namespaces is not None else None
    sched = build_scheduler("InterPodAffinity", nodes, existing, args, vectorised, objects)
    return sched, sched.profiles[PROFILE].plugins_map["InterPodAffinity"]


def run_filter(pod, nodes, existing=(), args=None, namespaces=None, vectorised=True):
    sched, pl = _plugin(nodes, existing, args, namespaces, vectorised)
    table, p, state = sched.cache.table, PodInfo(pod), CycleState()
    names = [n["metadata"]["name"] for n in nodes]
    _, s = pl.pre_filter(state, p, NodeSet(table, sched.cache.order()))
    if s is not None and s.is_skip():
        return {n: ("Success", []) for n in names}
    if s is not None:
        return {n: (s.code, list(s.reasons)) for n in names}
    out = {}
    res = pl.filter_vec(state, p, table) if vectorised else None
    for n in names:
        if vectorised:
            st_ = None if res is None or res.ids[table.row_of[n]] == 0 else res.decode(int(res.ids[table.row_of[n]]))
        else:
            st_ = pl.filter(state, p, sched.cache.get(n))
        out[n] = ("Success", []) if st_ is None else (st_.code, list(st_.reasons))
    return out


def run_score(pod, nodes, existing=(), args=None, namespaces=None, vectorised=True):
    sched, pl = _plugin(nodes, existing, args, namespaces, vectorised)
    table, p, state = sched.cache.table, PodInfo(pod), CycleState()
    names = [n["metadata"]["name"] for n in nodes]
    rows = table.rows_named(names)
    infos = [sched.cache.get(n) for n in names]
    s = pl.pre_score(state, p, NodeSet(table, rows, infos))
    if s is not None and s.is_skip():
        return {}
    if vectorised:
        return dict(zip(names, pl.normalize_score_vec(state, p, pl.score_vec(state, p, table, rows)).tolist()))
    return dict(zip(names, pl.normalize_score(state, p, [pl.score(state, p, i) for i in infos])))


# -- upstream's loops, transcribed (the reference) -----------------------------------------------
def _ns_labels(namespaces, name):
    return next((dict(ns["metadata"].get("labels") or {}) for ns in namespaces or () if ns["metadata"]["name"] == name), {})


def _merge(term: AffinityTerm, namespaces) -> AffinityTerm:
    """mergeAffinityTermNamespacesIfNotEmpty."""
    if term.namespace_selector == ():
        return term
    names = set(term.namespaces)
    if term.namespace_selector is not None:
        names |= {ns["metadata"]["name"] for ns in namespaces or ()
                  if selector_matches(term.namespace_selector, ns["metadata"].get("labels"))}
    return AffinityTerm(frozenset(names), term.selector, term.topology_key, None)


def _terms(pod):
    md = pod["metadata"]
    return parse_pod_affinity_terms(md.get("namespace") or "", (pod.get("spec") or {}).get("affinity"))


def _pods_by_node(nodes, existing):
    names = {n["metadata"]["name"] for n in nodes}
    by = {n: [] for n in names}
    for p in existing:
        if p["spec"].get("nodeName") in names:
            by[p["spec"]["nodeName"]].append(p)
    return [(n["metadata"].get("labels") or {}, by[n["metadata"]["name"]]) for n in nodes]


def _ns(p):
    return p["metadata"].get("namespace") or ""


def _labels(p):
    return p["metadata"].get("labels") or {}


def reference_filter(pod, nodes, existing=(), namespaces=None):
    terms = _terms(pod)
    names = [n["metadata"]["name"] for n in nodes]
    if terms.errors:
        return {n: ("UnschedulableAndUnresolvable", [f"parsing pod: {terms.error}"]) for n in names}
    aff = [_merge(t, namespaces) for t in terms.required_affinity]
    anti = [_merge(t, namespaces) for t in terms.required_anti_affinity]
    ns_labels = _ns_labels(namespaces, _ns(pod))
    existing_counts, aff_counts, anti_counts = Counter(), Counter(), Counter()
    for node_labels, pods in _pods_by_node(nodes, existing):
        for p in pods:
            for t in _terms(p).required_anti_affinity:
                if t.matches(_ns(pod), _labels(pod), ns_labels) and t.topology_key in node_labels:
                    existing_counts[(t.topology_key, node_labels[t.topology_key])] += 1
            if aff and all(t.matches(_ns(p), _labels(p), None) for t in aff):
                for t in aff:
                    if t.topology_key in node_labels:
                        aff_counts[(t.topology_key, node_labels[t.topology_key])] += 1
            for t in anti:
                if t.matches(_ns(p), _labels(p), None) and t.topology_key in node_labels:
                    anti_counts[(t.topology_key, node_labels[t.topology_key])] += 1
    if not existing_counts and not aff and not anti:
        return {n: ("Success", []) for n in names}
    self_match = bool(aff) and all(t.matches(_ns(pod), _labels(pod), None) for t in aff)
    out = {}
    for n in nodes:
        labels = n["metadata"].get("labels") or {}
        ok, exist = True, True
        for t in aff:
            if t.topology_key not in labels:
                ok = False
                break
            if aff_counts[(t.topology_key, labels[t.topology_key])] <= 0:
                exist = False
        if ok and not exist:
            ok = not aff_counts and self_match
        if not ok:
            out[n["metadata"]["name"]] = ("UnschedulableAndUnresolvable", ["node(s) didn't match pod affinity rules"])
        elif any(t.topology_key in labels and anti_counts[(t.topology_key, labels[t.topology_key])] > 0 for t in anti):
            out[n["metadata"]["name"]] = ("Unschedulable", ["node(s) didn't match pod anti-affinity rules"])
        elif any(existing_counts[(k, v)] > 0 for k, v in labels.items()):
            out[n["metadata"]["name"]] = ("Unschedulable", ["node(s) didn't satisfy existing pods anti-affinity rules"])
        else:
            out[n["metadata"]["name"]] = ("Success", [])
    return out


def reference_score(pod, nodes, existing=(), hard_weight=1, ignore_existing=False, namespaces=None):
    aff = (pod["spec"].get("affinity") or {})
    has_constraints = bool(((aff.get("podAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"))
                           or ((aff.get("podAntiAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution")))
    if ignore_existing and not has_constraints:
        return {}
    terms = _terms(pod)
    pref = [(_merge(w.term, namespaces), w.weight) for w in terms.preferred_affinity]
    pref_anti = [(_merge(w.term, namespaces), w.weight) for w in terms.preferred_anti_affinity]
    ns_labels = _ns_labels(namespaces, _ns(pod))
    topology_score: dict = {}

    def process(term, weight, target_ns, target_labels, target_ns_labels, node_labels, multiplier):
        if term.matches(target_ns, target_labels, target_ns_labels) and term.topology_key in node_labels:
            m = topology_score.setdefault(term.topology_key, Counter())
            m[node_labels[term.topology_key]] += weight * multiplier

    for node_labels, pods in _pods_by_node(nodes, existing):
        for p in pods:
            if not node_labels:
                continue
            for t, w in pref:
                process(t, w, _ns(p), _labels(p), None, node_labels, 1)
            for t, w in pref_anti:
                process(t, w, _ns(p), _labels(p), None, node_labels, -1)
            pt = _terms(p)
            if hard_weight > 0:
                for t in pt.required_affinity:
                    process(t, hard_weight, _ns(pod), _labels(pod), ns_labels, node_labels, 1)
            for w in pt.preferred_affinity:
                process(w.term, w.weight, _ns(pod), _labels(pod), ns_labels, node_labels, 1)
            for w in pt.preferred_anti_affinity:
                process(w.term, w.weight, _ns(pod), _labels(pod), ns_labels, node_labels, -1)
    if not topology_score:
        return {}
    raw = []
    for n in nodes:
        labels = n["metadata"].get("labels") or {}
        raw.append(sum(vals[labels[k]] for k, vals in topology_score.items() if k in labels))
    if not raw:
        return {}
    lo, hi = min(raw), max(raw)
    return {n["metadata"]["name"]: int(100 * ((s - lo) / (hi - lo))) if hi > lo else 0 for n, s in zip(nodes, raw)}


# -- random clusters ----------------------------------------------------------------------------
def label_selector(draw):
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return None
    if kind == 1:
        return {}
    if kind == 2:
        return {"matchLabels": {draw(st.sampled_from(["app", "tier"])): draw(st.sampled_from(["a", "b", "x"]))}}
    exprs = []
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        e = {"key": draw(st.sampled_from(["app", "tier"])), "operator": op}
        if op in ("In", "NotIn"):
            e["values"] = draw(st.lists(st.sampled_from(["a", "b", "c", "x", "y"]), min_size=1, max_size=2))
        exprs.append(e)
    return {"matchExpressions": exprs}


def affinity_term(draw):
    t = {"topologyKey": draw(st.sampled_from(KEYS))}
    sel = label_selector(draw)
    if sel is not None or draw(st.booleans()):
        t["labelSelector"] = sel
    if draw(st.integers(0, 3)) == 0:
        t["namespaces"] = draw(st.lists(st.sampled_from(["default", "other"]), min_size=1, max_size=2, unique=True))
    ns_sel = draw(st.integers(0, 5))
    if ns_sel == 0:
        t["namespaceSelector"] = {}
    elif ns_sel == 1:
        t["namespaceSelector"] = {"matchLabels": {"team": draw(st.sampled_from(["t1", "t2"]))}}
    return t


def affinity(draw):
    aff = {}
    for kind in ("podAffinity", "podAntiAffinity"):
        if draw(st.integers(0, 2)) == 0:
            continue
        spec = {}
        if draw(st.booleans()):
            spec["requiredDuringSchedulingIgnoredDuringExecution"] = [affinity_term(draw) for _ in range(draw(st.integers(1, 2)))]
        if draw(st.booleans()):
            spec["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": draw(st.integers(1, 100)), "podAffinityTerm": affinity_term(draw)}
                for _ in range(draw(st.integers(1, 2)))]
        aff[kind] = spec
    return aff


def pod_labels(draw):
    labels = {}
    if draw(st.integers(0, 3)):
        labels["app"] = draw(st.sampled_from(["a", "b", "c"]))
    if draw(st.booleans()):
        labels["tier"] = draw(st.sampled_from(["x", "y"]))
    return labels


def a_pod(draw, name, node=None):
    aff = affinity(draw) or None if draw(st.integers(0, 2)) else None
    return (MakePod().name(name).namespace(draw(st.sampled_from(["default", "default", "other"]))).uid(name)
            .labels(pod_labels(draw)).container("nginx", name="c").node(node).affinity(aff).obj())


@st.composite
def clusters(draw):
    n = draw(st.integers(1, 7))
    nodes = []
    for i in range(n):
        labels = {HOST: f"n{i}"} if draw(st.integers(0, 5)) else {}
        for key, values in (("zone", ["z1", "z2"]), ("region", ["r1", "r2"]), ("rack", ["k1", "k2", "k3"])):
            if draw(st.integers(0, 3)):
                labels[key] = draw(st.sampled_from(values))
        nodes.append(MakeNode().name(f"n{i}").labels(labels)
                     .allocatable({"cpu": "8", "memory": "16Gi", "pods": "110"}).obj())
    existing = [a_pod(draw, f"e{j}", f"n{draw(st.integers(0, n))}")   # n{n}: a node that does not exist
                for j in range(draw(st.integers(0, 12)))]
    return nodes, existing, a_pod(draw, "incoming"), draw(st.booleans())


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(clusters())
def test_filter_vectorised_per_node_and_upstreams_loops_agree(case):
    nodes, existing, incoming, with_namespaces = case
    namespaces = NAMESPACES if with_namespaces else None
    ref = reference_filter(incoming, nodes, existing, namespaces)
    assert run_filter(incoming, nodes, existing, namespaces=namespaces, vectorised=True) == ref
    assert run_filter(incoming, nodes, existing, namespaces=namespaces, vectorised=False) == ref


@SETTINGS
@given(clusters(), st.sampled_from([0, 1, 7]), st.booleans())
def test_score_vectorised_per_node_and_upstreams_loops_agree(case, hard, ignore):
    nodes, existing, incoming, with_namespaces = case
    namespaces = NAMESPACES if with_namespaces else None
    args = {"hardPodAffinityWeight": hard, "ignorePreferredTermsOfExistingPods": ignore}
    if _terms(incoming).errors:
        return     # PreScore fails (PreFilter would have rejected the pod)
    ref = reference_score(incoming, nodes, existing, hard, ignore, namespaces)
    assert run_score(incoming, nodes, existing, args, namespaces, vectorised=True) == ref
    assert run_score(incoming, nodes, existing, args, namespaces, vectorised=False) == ref


def _schedule_all(nodes, pods, vectorised):
    sched = loaded_scheduler(nodes, pods, seed=7, vectorised=vectorised)
    messages = []
    while sched.schedule_one():
        pass
    for key, _, reason, message in sched.client.events:
        if reason == "FailedScheduling":
            messages.append((key, message))
    return sched.client.bound, messages


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_whole_scheduling_runs_decide_the_same_either_way(case, seeds):
    """Pods bound one after the other (assumed, counted by the index at once) land where the
    per-node loop puts them, and fail with the same messages."""
    nodes, _, _, _ = case
    pods = []
    for i, seed in enumerate(seeds):
        rng = random.Random(seed)
        term = {"labelSelector": {"matchLabels": {"app": rng.choice("ab")}}, "topologyKey": rng.choice(KEYS[:4])}
        aff = {}
        kind = rng.choice(["podAffinity", "podAntiAffinity"])
        if rng.random() < 0.5:
            aff[kind] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        else:
            aff[kind] = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": rng.randint(1, 100),
                                                                              "podAffinityTerm": term}]}
        pods.append(MakePod().name(f"p{i}").namespace("default").uid(f"p{i}").labels({"app": rng.choice("ab")})
                    .container("nginx", name="c").affinity(aff).obj())
    assert _schedule_all(nodes, pods, True) == _schedule_all(nodes, pods, False)


# -- behaviours ----------------------------------------------------------------------------------
def anti(topology_key=HOST, **match):
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": match}, "topologyKey": topology_key}]}}


def together(topology_key="zone", **match):
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": match}, "topologyKey": topology_key}]}}


def scheduler(vectorised=True):
    return loaded_scheduler([], seed=3, vectorised=vectorised)


@pytest.mark.parametrize("vectorised", [True, False])
def test_required_anti_affinity_spreads_replicas_one_per_node_and_the_extra_one_stays_pending(vectorised):
    sched = scheduler(vectorised)
    for i in range(1, 4):
        sched.add_node(MakeNode().name(f"worker-{i}").labels({HOST: f"worker-{i}"})
                       .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    for i in range(4):
        sched.add_pod(MakePod().name(f"web-{i}").namespace("default").uid(f"web-{i}").labels({"app": "web"})
                      .container("nginx", name="c", cpu="100m").affinity({**anti(app="web")}).obj())
    while sched.schedule_one():
        pass
    bound = sched.client.bound
    assert len(bound) == 3 and sorted(bound.values()) == ["worker-1", "worker-2", "worker-3"]
    [(key, _, reason, message)] = [e for e in sched.client.events if e[2] == "FailedScheduling"]
    assert key not in bound
    assert message.startswith("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.")
    explanation = sched.explanation(*key)
    assert {n["filter"]["plugin"] for n in explanation["nodes"]} == {"InterPodAffinity"}
    assert {n["filter"]["code"] for n in explanation["nodes"]} == {"Unschedulable"}


def test_the_first_pod_of_a_self_affine_group_goes_anywhere_with_the_topology_key():
    nodes = [MakeNode().name("a1").labels({HOST: "a1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("a2").labels({HOST: "a2", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("b1").labels({HOST: "b1", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("nozone").labels({HOST: "nozone"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    first = (MakePod().name("db-0").namespace("default").uid("db-0").labels({"app": "db"})
             .container("nginx", name="c", cpu="100m").affinity({**together(app="db")}).obj())
    got = run_filter(first, nodes)
    assert got["a1"] == got["a2"] == got["b1"] == ("Success", [])
    assert got["nozone"] == ("UnschedulableAndUnresolvable", ["node(s) didn't match pod affinity rules"])
    # Once one runs in zone b, the next must join it there.
    second = (MakePod().name("db-1").namespace("default").uid("db-1").labels({"app": "db"})
              .container("nginx", name="c", cpu="100m").affinity({**together(app="db")}).obj())
    got = run_filter(second, nodes, [MakePod().name("db-0").namespace("default").uid("db-0").labels({"app": "db"})
                                     .container("nginx", name="c", cpu="100m").node("b1").obj()])
    assert [n for n, (code, _) in got.items() if code == "Success"] == ["b1"]
    # A pod that does not match its own terms has no such exemption.
    other = (MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
             .container("nginx", name="c", cpu="100m").affinity({**together(app="db")}).obj())
    assert {code for code, _ in run_filter(other, nodes).values()} == {"UnschedulableAndUnresolvable"}


def test_an_existing_pods_anti_affinity_repels_the_incoming_pod():
    nodes = [MakeNode().name("a1").labels({HOST: "a1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("a2").labels({HOST: "a2", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("b1").labels({HOST: "b1", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    loner = (MakePod().name("loner").namespace("default").uid("loner").labels({"app": "loner"})
             .container("nginx", name="c", cpu="100m").node("a1").affinity({**anti("zone", app="web")}).obj())
    got = run_filter(MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
                     .container("nginx", name="c", cpu="100m").obj(), nodes, [loner])
    assert got == {"a1": ("Unschedulable", ["node(s) didn't satisfy existing pods anti-affinity rules"]),
                   "a2": ("Unschedulable", ["node(s) didn't satisfy existing pods anti-affinity rules"]),
                   "b1": ("Success", [])}
    # A pod it does not match, or one in another namespace (the term covers the owner's), passes.
    assert run_filter(MakePod().name("db").namespace("default").uid("db").labels({"app": "db"})
                      .container("nginx", name="c", cpu="100m").obj(), nodes, [loner])["a1"] == ("Success", [])
    assert run_filter(MakePod().name("web").namespace("other").uid("web").labels({"app": "web"})
                      .container("nginx", name="c", cpu="100m").obj(), nodes, [loner])["a1"] == ("Success", [])


def test_an_unparsable_selector_rejects_the_pod_in_prefilter_with_upstreams_words():
    bad = MakePod().name("bad").namespace("default").uid("bad").labels({}).container("nginx", name="c", cpu="100m").affinity({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}, "topologyKey": HOST}]}}).obj()
    got = run_filter(bad, [MakeNode().name("n1").labels({HOST: "n1"})
                           .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()])
    assert got["n1"] == ("UnschedulableAndUnresolvable", [
        "parsing pod: requiredAntiAffinityTerms: values: Invalid value: []string{}: "
        "for 'in', 'notin' operators, values set can't be empty"])
    worse = MakePod().name("worse").namespace("default").uid("worse").labels({}).container("nginx", name="c", cpu="100m").affinity({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Has"}]},
                                          "topologyKey": HOST}}]}}).obj()
    assert run_filter(worse, [MakeNode().name("n1").labels({HOST: "n1"})
                              .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"})
                              .obj()])["n1"] == ("UnschedulableAndUnresolvable", [
        'parsing pod: preferredAffinityTerms: "Has" is not a valid label selector operator'])


def test_namespace_selector_reaches_pods_in_the_namespaces_it_selects():
    nodes = [MakeNode().name("n1").labels({HOST: "n1"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("n2").labels({HOST: "n2"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    existing = [MakePod().name("prod-db").namespace("other").uid("prod-db").labels({"app": "db"}).container("nginx", name="c", cpu="100m").node("n1").obj(), MakePod().name("dev-db").namespace("default").uid("dev-db").labels({"app": "db"}).container("nginx", name="c", cpu="100m").node("n2").obj()]
    term = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": HOST,
            "namespaceSelector": {"matchLabels": {"env": "prod"}}}
    incoming = (MakePod().name("cache").namespace("default").uid("cache").labels({})
                .container("nginx", name="c", cpu="100m")
                .affinity({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}).obj())
    got = run_filter(incoming, nodes, existing, namespaces=NAMESPACES)
    assert got == {"n1": ("Success", []), "n2": ("UnschedulableAndUnresolvable", ["node(s) didn't match pod affinity rules"])}
    assert got == run_filter(incoming, nodes, existing, namespaces=NAMESPACES, vectorised=False)
    # An empty namespaceSelector selects every namespace, with or without the Namespace objects.
    every = dict(term, namespaceSelector={})
    incoming = (MakePod().name("cache").namespace("default").uid("cache").labels({})
                .container("nginx", name="c", cpu="100m")
                .affinity({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [every]}}).obj())
    assert run_filter(incoming, nodes, existing) == {"n1": ("Success", []), "n2": ("Success", [])}
    # An existing pod's term with a namespaceSelector is matched against the incoming pod's
    # namespace labels.
    guard = MakePod().name("guard").namespace("default").uid("guard").labels({}).container("nginx", name="c", cpu="100m").node("n1").affinity({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {}, "topologyKey": HOST, "namespaceSelector": {"matchLabels": {"team": "t2"}}}]}}).obj()
    assert run_filter(MakePod().name("x").namespace("other").uid("x").labels({})
                      .container("nginx", name="c", cpu="100m")
                      .obj(), nodes, [guard], namespaces=NAMESPACES)["n1"][0] == "Unschedulable"
    assert run_filter(MakePod().name("x").namespace("default").uid("x").labels({})
                      .container("nginx", name="c", cpu="100m")
                      .obj(), nodes, [guard], namespaces=NAMESPACES)["n1"][0] == "Success"


@pytest.mark.parametrize("vectorised", [True, False])
def test_add_pod_and_remove_pod_update_the_prefilter_state(vectorised):
    """PreFilterExtensions: what a nominated pod adds and a preemption victim takes away."""
    nodes = [MakeNode().name("n1").labels({HOST: "n1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("n2").labels({HOST: "n2", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    incoming = (MakePod().name("web-2").namespace("default").uid("web-2").labels({"app": "web"})
                .container("nginx", name="c", cpu="100m").affinity({**anti("zone", app="web")}).obj())
    sched, pl = _plugin(nodes, [MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "web"})
                                .container("nginx", name="c", cpu="100m").node("n1").obj()], vectorised=vectorised)
    p, state = PodInfo(incoming), CycleState()
    assert pl.pre_filter(state, p, NodeSet(sched.cache.table, sched.cache.order())) == (None, None)

    def passes(st_, name):
        return pl.filter(st_, p, sched.cache.get(name)) is None

    assert (passes(state, "n1"), passes(state, "n2")) == (False, True)
    with_nominated = state.clone()
    assert pl.add_pod(with_nominated, p, PodInfo(MakePod().name("web-1").namespace("default").uid("web-1")
                                                 .labels({"app": "web"})
                                                 .container("nginx", name="c", cpu="100m").obj()), sched.cache.get("n2")) is None
    assert (passes(with_nominated, "n1"), passes(with_nominated, "n2")) == (False, False)
    assert passes(state, "n2"), "the clone is independent"
    without_victim = state.clone()
    assert pl.remove_pod(without_victim, p, PodInfo(MakePod().name("web-0").namespace("default").uid("web-0")
                                                    .labels({"app": "web"}).container("nginx", name="c", cpu="100m")
                                                    .node("n1").obj()), sched.cache.get("n1")) is None
    assert passes(without_victim, "n1")
    assert state[PRE_FILTER_STATE_KEY].anti_affinity_counts.pairs() == {("zone", "a"): 1}
    # A victim whose own anti-affinity repelled the pod no longer does once removed.
    guard = (MakePod().name("guard").namespace("default").uid("guard").labels({})
             .container("nginx", name="c", cpu="100m").node("n2").affinity({**anti("zone", app="web")}).obj())
    sched, pl = _plugin(nodes, [guard], vectorised=vectorised)
    state = CycleState()
    pl.pre_filter(state, p, NodeSet(sched.cache.table, sched.cache.order()))
    assert not passes(state, "n2")
    pl.remove_pod(state, p, PodInfo(guard), sched.cache.get("n2"))
    assert passes(state, "n2")


def test_preferred_terms_score_both_ways_and_normalize_between_min_and_max():
    nodes = [MakeNode().name("a1").labels({HOST: "a1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("b1").labels({HOST: "b1", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("c1").labels({HOST: "c1", "zone": "c"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("none").labels({HOST: "none"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    existing = [MakePod().name("db").namespace("default").uid("db").labels({"app": "db"}).container("nginx", name="c", cpu="100m").node("a1").obj(), MakePod().name("noisy").namespace("default").uid("noisy").labels({"app": "noisy"}).container("nginx", name="c", cpu="100m").node("b1").obj(),
                MakePod().name("fan").namespace("default").uid("fan").labels({}).container("nginx", name="c", cpu="100m").node("c1").affinity({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 10, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                                       "topologyKey": "zone"}}]}}).obj()]
    incoming = MakePod().name("web").namespace("default").uid("web").labels({"app": "web"}).container("nginx", name="c", cpu="100m").affinity({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 30, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "noisy"}}, "topologyKey": "zone"}}]}}).obj()
    # raw: a1 30, b1 -20, c1 10 (the existing pod's preferred term), none 0 -> (x + 20) / 50.
    expected = {"a1": 100, "b1": 0, "c1": 60, "none": 40}
    assert run_score(incoming, nodes, existing) == expected == run_score(incoming, nodes, existing, vectorised=False)
    assert reference_score(incoming, nodes, existing) == expected


def test_hard_pod_affinity_weight_counts_existing_pods_required_affinity():
    nodes = [MakeNode().name("a1").labels({HOST: "a1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("b1").labels({HOST: "b1", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    existing = [MakePod().name("fan").namespace("default").uid("fan").labels({})
                .container("nginx", name="c", cpu="100m").node("a1").affinity({**together("zone", app="web")}).obj(),
                MakePod().name("hater").namespace("default").uid("hater").labels({}).container("nginx", name="c", cpu="100m").node("b1").affinity({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 3, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                                      "topologyKey": "zone"}}]}}).obj()]
    web = (MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
           .container("nginx", name="c", cpu="100m").obj())
    assert run_score(web, nodes, existing) == {"a1": 100, "b1": 0}          # 1 vs -3
    assert run_score(web, nodes, existing, {"hardPodAffinityWeight": 0}) == {"a1": 100, "b1": 0}   # 0 vs -3
    assert run_score(web, nodes, existing[:1], {"hardPodAffinityWeight": 0}) == {}   # nothing matched: Skip
    assert run_score(web, nodes, existing, {"ignorePreferredTermsOfExistingPods": True}) == {}


def test_args_are_defaulted_and_validated_as_upstream():
    sched = scheduler()
    pl = sched.profiles["default-scheduler"].plugins_map["InterPodAffinity"]
    assert pl.hard_pod_affinity_weight == 1 and not pl.ignore_preferred_terms_of_existing_pods
    prof = sched.profiles["default-scheduler"].describe()
    assert {"name": "InterPodAffinity", "weight": 2} in prof["score"]
    assert "InterPodAffinity" in prof["preFilter"] and "InterPodAffinity" in prof["filter"]
    assert "namespaces" in sched.needed_informers()      # kube-scheduler starts the namespace informer
    cfg = {"profiles": [{"pluginConfig": [{"name": "InterPodAffinity", "args": {"hardPodAffinityWeight": 101}}]}]}
    with pytest.raises(ConfigError, match=r"hardPodAffinityWeight: Invalid value: 101: not in valid range \[0-100\]"):
        Scheduler(cfg)


def test_events_to_register_and_queueing_hints():
    sched = scheduler()
    pl = sched.profiles["default-scheduler"].plugins_map["InterPodAffinity"]
    events = [(e.event.resource, e.event.action_type) for e in pl.events_to_register()]
    assert events == [(POD, ADD | UPDATE_POD_LABEL | DELETE), (NODE, ADD | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT)]
    wants_db = PodInfo(MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
                       .container("nginx", name="c", cpu="100m")
                       .affinity({**together("zone", app="db"), **anti(HOST, app="web")}).obj())
    on_pod = pl.is_schedulable_after_pod_change
    db, web = MakePod().name("db").namespace("default").uid("db").labels({"app": "db"}).container("nginx", name="c", cpu="100m").node("n1").obj(), MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "web"}).container("nginx", name="c", cpu="100m").node("n1").obj()
    assert on_pod(wants_db, None, db) == QUEUE                       # a pod its affinity wants
    assert on_pod(wants_db, None, web) == QUEUE_SKIP
    assert on_pod(wants_db, None, MakePod().name("db").namespace("default").uid("db").labels({"app": "db"})
                                  .container("nginx", name="c", cpu="100m")
                                  .obj()) == QUEUE_SKIP  # not scheduled: no room made
    assert on_pod(wants_db, web, MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "old"})
                                 .container("nginx", name="c", cpu="100m")
                                 .node("n1").obj()) == QUEUE   # stops repelling
    assert on_pod(wants_db, web, db) == QUEUE                        # starts matching affinity
    assert on_pod(wants_db, db, MakePod().name("db").namespace("default").uid("db").labels({"app": "db", "v": "2"})
                                .container("nginx", name="c", cpu="100m").node("n1").obj()) == QUEUE_SKIP
    assert on_pod(wants_db, web, None) == QUEUE                      # a pod it repels goes
    assert on_pod(wants_db, db, None) == QUEUE_SKIP
    guard = (MakePod().name("guard").namespace("default").uid("guard").labels({})
             .container("nginx", name="c", cpu="100m").node("n2").affinity({**anti(HOST, app="web")}).obj())
    assert on_pod(wants_db, guard, None) == QUEUE                     # a pod that repelled it goes
    on_node = pl.is_schedulable_after_node_change
    assert on_node(wants_db, None, MakeNode().name("n9").labels({HOST: "n9"})
                                   .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"})
                                   .obj()) == QUEUE               # has kubernetes.io/hostname
    bare = {"metadata": {"name": "bare", "labels": {"disk": "ssd"}}}
    assert on_node(wants_db, None, bare) == QUEUE_SKIP
    assert on_node(wants_db, bare, {"metadata": {"name": "bare", "labels": {"zone": "a"}}}) == QUEUE


def test_a_pod_rejected_by_affinity_is_retried_when_its_peer_is_bound():
    sched = scheduler()
    sched.add_node(MakeNode().name("n1").labels({HOST: "n1", "zone": "a"})
                   .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    sched.add_node(MakeNode().name("n2").labels({HOST: "n2"})
                   .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())                    # no zone label
    sched.add_pod(MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
                  .container("nginx", name="c", cpu="100m").affinity({**together("zone", app="db")}).obj())
    sched.schedule_one()
    assert not sched.client.bound and ("default", "web") in sched.queue.unschedulable
    sched.add_pod(MakePod().name("db").namespace("default").uid("db").labels({"app": "db"})
                  .container("nginx", name="c", cpu="100m").node("n1").obj())     # an assigned pod the affinity matches
    assert ("default", "web") not in sched.queue.unschedulable


def test_the_index_follows_pods_added_relabelled_and_deleted():
    """Incremental counts equal a fresh build after assigned pods come, change labels and go."""
    nodes = [MakeNode().name("a1").labels({HOST: "a1", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("a2").labels({HOST: "a2", "zone": "a"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj(), MakeNode().name("b1").labels({HOST: "b1", "zone": "b"}).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()]
    incoming = MakePod().name("web").namespace("default").uid("web").labels({"app": "web"}).container("nginx", name="c", cpu="100m").affinity({**anti("zone", app="web"), "podAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "podAffinityTerm": {"labelSelector": {"matchLabels": {"tier": "cache"}}, "topologyKey": HOST}}]}}).obj()
    sched = scheduler()
    for n in nodes:
        sched.add_node(n)

    def check():
        pods = [pi.pod for pi, _ in sched.cache.pods.values()]
        assert run_filter(incoming, nodes, pods) == reference_filter(incoming, nodes, pods)
        pl = sched.profiles["default-scheduler"].plugins_map["InterPodAffinity"]
        state, p = CycleState(), PodInfo(incoming)
        pl.pre_filter(state, p, NodeSet(sched.cache.table, sched.cache.order()))
        fresh_state = CycleState()
        _, fresh = _plugin(nodes, pods)
        fresh.pre_filter(fresh_state, p, None)
        assert (state[PRE_FILTER_STATE_KEY].anti_affinity_counts.pairs()
                == fresh_state[PRE_FILTER_STATE_KEY].anti_affinity_counts.pairs())

    web0 = (MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "web"})
            .container("nginx", name="c", cpu="100m").node("a1").obj())
    sched.add_pod(web0)
    check()
    relabelled = (MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "old", "tier": "cache"})
                  .container("nginx", name="c", cpu="100m").node("a1").obj())
    sched.update_pod(web0, relabelled)
    check()
    sched.add_pod(MakePod().name("web-1").namespace("default").uid("web-1").labels({"app": "web"})
                  .container("nginx", name="c", cpu="100m").node("b1").affinity({**anti(HOST, app="web")}).obj())
    check()
    sched.delete_pod(relabelled)
    check()
    sched.delete_node(MakeNode().name("b1").labels({HOST: "b1", "zone": "b"})
                      .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"})
                      .obj())          # its pods no longer count
    assert run_filter(incoming, nodes[:2], [])["a1"] == ("Success", [])
    pl = sched.profiles["default-scheduler"].plugins_map["InterPodAffinity"]
    state = CycleState()
    pl.pre_filter(state, PodInfo(incoming), None)
    assert state[PRE_FILTER_STATE_KEY].anti_affinity_counts.pairs() == {}


def test_a_cycle_looks_only_at_pods_that_can_match(monkeypatch):
    """Binding pods without the queried label never tests them against the standing query, and
    an incoming pod is checked once per distinct term that wants one of its labels, not per pod."""
    sched = scheduler()
    for i in range(20):
        sched.add_node(MakeNode().name(f"n{i}").labels({HOST: f"n{i}", "zone": f"z{i % 3}"})
                       .allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj())
    for i in range(60):       # 60 replicas sharing one anti-affinity term
        sched.add_pod(MakePod().name(f"guard-{i}").namespace("default").uid(f"guard-{i}").labels({"role": "guard"})
                      .container("nginx", name="c", cpu="100m").node(f"n{i % 20}")
                      .affinity({**anti("zone", app="intruder")}).obj())
    calls = Counter()
    real_query_matches = podindex.Query.matches
    real_term_matches = AffinityTerm.matches

    def query_matches(self, namespace, labels):
        calls["query"] += 1
        return real_query_matches(self, namespace, labels)

    def term_matches(self, namespace, labels, ns_labels):
        calls["term"] += 1
        return real_term_matches(self, namespace, labels, ns_labels)

    monkeypatch.setattr(podindex.Query, "matches", query_matches)
    monkeypatch.setattr(AffinityTerm, "matches", term_matches)
    pl = sched.profiles["default-scheduler"].plugins_map["InterPodAffinity"]
    state = CycleState()
    pl.pre_filter(state, PodInfo(MakePod().name("intruder").namespace("default").uid("intruder")
                                 .labels({"app": "intruder"}).container("nginx", name="c", cpu="100m").obj()), None)
    assert calls["term"] == 1      # one distinct term, not 60 pods
    # 3 per node; zones z0 and z1 have 7 nodes, z2 has 6.
    assert state[PRE_FILTER_STATE_KEY].existing_anti_affinity_counts.pairs() == {("zone", "z0"): 21, ("zone", "z1"): 21,
                                                                                ("zone", "z2"): 18}
    calls.clear()
    state = CycleState()
    pl.pre_filter(state, PodInfo(MakePod().name("web").namespace("default").uid("web").labels({"app": "web"})
                                 .container("nginx", name="c", cpu="100m")
                                 .affinity({**anti(HOST, app="web")}).obj()), None)
    assert calls["term"] == 0      # the guards' term wants app=intruder: never looked at for app=web
    calls.clear()
    for i in range(50):
        sched.add_pod(MakePod().name(f"batch-{i}").namespace("default").uid(f"batch-{i}").labels({"job": "batch"})
                      .container("nginx", name="c", cpu="100m").node(f"n{i % 20}").obj())
    assert calls["query"] == 0
    sched.add_pod(MakePod().name("web-0").namespace("default").uid("web-0").labels({"app": "web"})
                  .container("nginx", name="c", cpu="100m").node("n3").obj())
    assert calls["query"] == 1
