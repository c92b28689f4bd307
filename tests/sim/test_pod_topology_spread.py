"""PodTopologySpread: the vectorised plugin (pod counts from sim.scheduler.framework.podindex, domains summed
with np.bincount over NodeTable rows) against its per-node reference (upstream's loops over
NodeInfo.pods); upstream's scoring cases that need nodes which failed filtering or a ReplicaSet
(which sim.scheduler.testing.run_score cannot express); default constraints; args; queueing hints;
whole scheduling runs."""
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api.selectors import EVERYTHING, label_selector_as_selector, selector_add, selector_from_set, selector_matches
from sim.scheduler.framework.config import ConfigError, default_configuration
from sim.scheduler.framework.interface import (QUEUE, QUEUE_SKIP, SKIP, SUCCESS, UNSCHEDULABLE,
                                               UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState, PluginError)
from sim.scheduler.framework.podinfo import PodInfo
from sim.scheduler.framework.podindex import PlacedPodIndex, count_pods_match_selector
from sim.scheduler.framework.runtime import NodeSet
from sim.scheduler.plugins.pod_topology_spread import (ERR_REASON_CONSTRAINTS_NOT_MATCH,
                                                       ERR_REASON_NODE_LABEL_NOT_MATCH, PRE_FILTER_STATE_KEY,
                                                       PRE_SCORE_STATE_KEY, PodTopologySpread,
                                                       topology_normalizing_weight)
from sim.scheduler.scheduler import ImmediateClient, Scheduler
from sim.scheduler.testing import PROFILE, build_scheduler
from tests.builders import MakeNode, MakePod, MakeReplicaSet


HOSTNAME, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
FOO = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
BAR = {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}


# -- builders (upstream's st.MakeNode()/st.MakePod(), as JSON) ---------------------------------
def spread(max_skew, key, when, selector, **extra):
    c = {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when}
    if selector is not None:
        c["labelSelector"] = selector
    c.update(extra)
    return c


def setup(nodes, existing=(), args=None, replica_sets=None, count_with_index=True):
    sched = build_scheduler("PodTopologySpread", nodes, existing, args,
                            objects={"replicasets": list(replica_sets or [])})
    pl = sched.profiles[PROFILE].plugins_map["PodTopologySpread"]
    pl.count_with_index = count_with_index
    return sched, pl


def filter_both(incoming, nodes, existing=(), args=None):
    """{node: (code, reasons)} from the vectorised path and from the per-node one."""
    out = []
    for vectorised in (True, False):
        sched, pl = setup(nodes, existing, args, count_with_index=vectorised)
        table = sched.cache.table
        p = PodInfo(incoming)
        state = CycleState()
        _, s = pl.pre_filter(state, p, NodeSet(table, sched.cache.order()))
        if s is not None and s.code == SKIP:
            out.append({n["metadata"]["name"]: (SUCCESS, ()) for n in nodes})
            continue
        assert s is None, s
        res = {}
        if vectorised:
            vec = pl.filter_vec(state, p, table)
            for n in nodes:
                row = table.row_of[n["metadata"]["name"]]
                st_ = None if vec is None or vec.ids[row] == 0 else vec.decode(int(vec.ids[row]))
                res[n["metadata"]["name"]] = (SUCCESS, ()) if st_ is None else (st_.code, st_.reasons)
        else:
            for n in nodes:
                st_ = pl.filter(state, p, sched.cache.get(n["metadata"]["name"]))
                res[n["metadata"]["name"]] = (SUCCESS, ()) if st_ is None else (st_.code, st_.reasons)
        out.append(res)
    return out


def score_both(incoming, nodes, failed_nodes=(), existing=(), args=None, replica_sets=None):
    """Upstream's TestPodTopologySpreadScore harness: every node is in the snapshot (their pods
    count), only `nodes` passed filtering and are scored.  Both paths; {} on PreScore Skip."""
    out = []
    for vectorised in (True, False):
        sched, pl = setup(list(nodes) + list(failed_nodes), existing, args, replica_sets, count_with_index=vectorised)
        table = sched.cache.table
        names = [n["metadata"]["name"] for n in nodes]
        rows = table.rows_named(names)
        p = PodInfo(incoming)
        state = CycleState()
        s = pl.pre_score(state, p, NodeSet(table, rows, [sched.cache.get(n) for n in names]))
        if s is not None and s.code == SKIP:
            out.append({})
            continue
        assert s is None, s
        if vectorised:
            scores = pl.normalize_score_vec(state, p, pl.score_vec(state, p, table, rows))
        else:
            scores = pl.normalize_score(state, p, [pl.score(state, p, sched.cache.get(n)) for n in names])
        out.append({n: int(v) for n, v in zip(names, scores)})
    return out


def assert_scores(incoming, want, **kw):
    vec, ref = score_both(incoming, **kw)
    assert vec == want
    assert ref == want


# -- upstream cases run_score cannot express (scoring_test.go, commit 38f68d59) ---------------
def _hostnames(*names, key=HOSTNAME):
    return [MakeNode().name(n).labels({key: n}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj() for n in names]


def _pods_on(spec):
    """'node-a': 2 -> two pods labelled foo on node-a."""
    return [MakePod().name(f"p-{n[-1]}{i}").namespace("").uid(f"uid--p-{n[-1]}{i}").labels({"foo": ""}).node(n).obj() for n, k in spec.items() for i in range(1, k + 1)]


def test_upstream_one_constraint_on_node_only_one_node_is_candidate():
    # TestPodTopologySpreadScore / one constraint on node, only one node is candidate
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, HOSTNAME, "ScheduleAnyway", FOO)]).obj()
    assert_scores(incoming, {"node-a": 100}, nodes=_hostnames("node-a"), failed_nodes=_hostnames("node-b"),
                  existing=_pods_on({"node-a": 2, "node-b": 1}))


def test_upstream_one_constraint_on_node_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / one constraint on node, 3 out of 4 nodes are candidates
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, HOSTNAME, "ScheduleAnyway", FOO)]).obj()
    assert_scores(incoming, {"node-a": 33, "node-b": 83, "node-x": 100},
                  nodes=_hostnames("node-a", "node-b", "node-x"), failed_nodes=_hostnames("node-y"),
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_one_node_of_the_candidates_does_not_match_topology_key():
    # TestPodTopologySpreadScore / one constraint on node, 3 out of 4 nodes are candidates, one
    # node doesn't match topology key
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, HOSTNAME, "ScheduleAnyway", FOO)]).obj()
    nodes = [MakeNode().name("node-a").labels({HOSTNAME: "node-a"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-b").labels({"n": "node-b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-x").labels({HOSTNAME: "node-x"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    assert_scores(incoming, {"node-a": 16, "node-b": 0, "node-x": 100}, nodes=nodes,
                  failed_nodes=_hostnames("node-y"),
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_one_constraint_on_zone_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / one constraint on zone, 3 out of 4 nodes are candidates
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "ScheduleAnyway", FOO)]).obj()
    nodes = [MakeNode().name("node-a").labels({"zone": "zone1", HOSTNAME: "node-a"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-b").labels({"zone": "zone1", HOSTNAME: "node-b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
             MakeNode().name("node-x").labels({"zone": "zone2", HOSTNAME: "node-x"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    assert_scores(incoming, {"node-a": 75, "node-b": 75, "node-x": 100}, nodes=nodes,
                  failed_nodes=[MakeNode().name("node-y").labels({"zone": "zone2", HOSTNAME: "node-y"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()],
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_two_constraints_on_zone_and_node_2_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / two Constraints on zone and node, 2 out of 4 nodes are candidates
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "ScheduleAnyway", FOO),
                                                 spread(1, HOSTNAME, "ScheduleAnyway", FOO)]).obj()
    assert_scores(incoming, {"node-a": 100, "node-x": 63},
                  nodes=[MakeNode().name("node-a").labels({"zone": "zone1", HOSTNAME: "node-a"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
                         MakeNode().name("node-x").labels({"zone": "zone2", HOSTNAME: "node-x"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()],
                  failed_nodes=[MakeNode().name("node-b").labels({"zone": "zone1", HOSTNAME: "node-b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
                                MakeNode().name("node-y").labels({"zone": "zone2", HOSTNAME: "node-y"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()],
                  existing=_pods_on({"node-a": 2, "node-b": 1, "node-x": 2, "node-y": 4}))


def test_upstream_two_constraints_with_different_selectors_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / two Constraints on zone and node, with different labelSelectors,
    # 3 out of 4 nodes are candidates
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": "", "bar": ""}).spread_constraints([spread(1, "zone", "ScheduleAnyway", FOO),
                                                            spread(1, HOSTNAME, "ScheduleAnyway", BAR)]).obj()
    existing = [MakePod().name("p-a1").namespace("").uid("uid--p-a1").labels({"foo": ""}).node("node-a").obj(), MakePod().name("p-b1").namespace("").uid("uid--p-b1").labels({"foo": "", "bar": ""}).node("node-b").obj(),
                MakePod().name("p-y1").namespace("").uid("uid--p-y1").labels({"foo": ""}).node("node-y").obj(), MakePod().name("p-y2").namespace("").uid("uid--p-y2").labels({"bar": ""}).node("node-y").obj()]
    assert_scores(incoming, {"node-a": 50, "node-b": 25, "node-x": 100},
                  nodes=[MakeNode().name("node-a").labels({"zone": "zone1", HOSTNAME: "node-a"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
                         MakeNode().name("node-b").labels({"zone": "zone1", HOSTNAME: "node-b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
                         MakeNode().name("node-x").labels({"zone": "zone2", HOSTNAME: "node-x"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()],
                  failed_nodes=[MakeNode().name("node-y").labels({"zone": "zone2", HOSTNAME: "node-y"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()], existing=existing)


def test_upstream_system_defaulting_with_a_replicaset_instead_of_a_service():
    # Adapted from TestPodTopologySpreadScore / system defaulting, nodes don't have zone, pods
    # match service: the simulator has no Services, so the same selector {foo} comes from the
    # pod's controlling ReplicaSet; upstream expects the scores of one hostname constraint.
    existing = [MakePod().name(f"p-{n[-1]}{i}").namespace("default").uid(f"uid-default-p-{n[-1]}{i}").labels({"foo": ""}).node(n).obj()
                for n, k in {"node-a": 4, "node-b": 3, "node-c": 2, "node-d": 1}.items() for i in range(1, k + 1)]
    incoming = MakePod().name("p").namespace("default").uid("uid-default-p").labels({"foo": ""}).owner_reference("rs1", uid="uid-rs1").obj()
    assert_scores(incoming, {"node-a": 44, "node-b": 66, "node-c": 77, "node-d": 100},
                  nodes=_hostnames("node-a", "node-b", "node-c", "node-d"), existing=existing,
                  replica_sets=[MakeReplicaSet().name("rs1").namespace("default").uid("uid-rs1").spec(selector={"matchLabels": {"foo": ""}}).manifest()])


def test_upstream_default_constraints_and_a_replicaset_that_does_not_match_skip_prescore():
    # TestPreScoreSkip / default constraints and a replicaset that doesn't match: the pod's
    # owner rs2 does not exist, so the default selector is empty and there is nothing to score.
    incoming = MakePod().name("p").namespace("default").uid("uid-default-p").labels({"foo": "bar", "baz": "sup"}).owner_reference("rs2", uid="uid-rs2").obj()
    args = {"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": "ScheduleAnyway"}]}
    assert score_both(incoming, nodes=[MakeNode().name("node-a").labels({"planet": "mars"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()], args=args,
                      replica_sets=[MakeReplicaSet().name("rs1").namespace("default").uid("uid-rs1").spec(selector={"matchExpressions": [{"key": "tar", "operator": "Exists"}]}).manifest()]) == [{}, {}]


@pytest.mark.parametrize("vectorised", [True, False])
def test_upstream_pre_score_state_system_default_constraints_and_a_replicaset(vectorised):
    # TestPreScoreStateEmptyNodes / system default constraints and a replicaset: nodes without a
    # zone are not ignored (system defaults need not every key); they form the zone "".
    nodes = [MakeNode().name("node-a").labels({HOSTNAME: "node-a", ZONE: "mars"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-b").labels({HOSTNAME: "node-b", ZONE: "mars"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
             MakeNode().name("node-c").labels({HOSTNAME: "node-c"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-d").labels({HOSTNAME: "node-d"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    sched, pl = setup(nodes, replica_sets=[MakeReplicaSet().name("rs1").namespace("default").uid("uid-rs1").spec(selector=FOO).manifest()], count_with_index=vectorised)
    incoming = PodInfo(MakePod().name("p").namespace("default").uid("uid-default-p").labels({"foo": "tar", "baz": "sup"}).owner_reference("rs1", uid="uid-rs1").obj())
    state = CycleState()
    table = sched.cache.table
    assert pl.pre_score(state, incoming, NodeSet(table, sched.cache.order(), sched.cache.node_infos())) is None
    s = state[PRE_SCORE_STATE_KEY]
    assert [(c.topology_key, c.max_skew, c.selector) for c in s.constraints] == [
        (HOSTNAME, 3, label_selector_as_selector(FOO)), (ZONE, 5, label_selector_as_selector(FOO))]
    assert not s.ignored.any()
    assert s.weights == [topology_normalizing_weight(4), topology_normalizing_weight(2)]
    assert int(s.tracked[1].sum()) == 2   # "mars" and ""


# -- filter behaviours ----------------------------------------------------------------------
def _zone_nodes():
    return [MakeNode().name("node-a").labels({"zone": "zone1", "node": "node-a"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-b").labels({"zone": "zone1", "node": "node-b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
            MakeNode().name("node-x").labels({"zone": "zone2", "node": "node-x"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-y").labels({"node": "node-y"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]


def test_filter_reasons_and_codes_are_upstreams():
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO)]).obj()
    existing = [MakePod().name("e1").namespace("").uid("uid--e1").labels({"foo": ""}).node("node-a").obj(), MakePod().name("e2").namespace("").uid("uid--e2").labels({"foo": ""}).node("node-b").obj()]
    for got in filter_both(incoming, _zone_nodes(), existing, {"defaultingType": "List"}):
        assert got == {"node-a": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "node-b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "node-x": (SUCCESS, ()),
                       "node-y": (UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_NODE_LABEL_NOT_MATCH,))}
    assert ERR_REASON_NODE_LABEL_NOT_MATCH == "node(s) didn't match pod topology spread constraints (missing required label)"


def test_the_first_failing_constraint_decides_the_status():
    # node-y fails the zone constraint's skew before it is found to miss the rack label.
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO),
                                                 spread(1, "rack", "DoNotSchedule", FOO)]).obj()
    nodes = [MakeNode().name("node-a").labels({"zone": "z1", "rack": "r1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("node-b").labels({"zone": "z2", "rack": "r2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(),
             MakeNode().name("node-y").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name("e1").namespace("").uid("uid--e1").labels({"foo": ""}).node("node-a").obj(), MakePod().name("e2").namespace("").uid("uid--e2").labels({"foo": ""}).node("node-a").obj()]
    for got in filter_both(incoming, nodes, existing):
        assert got["node-y"] == (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))
        assert got["node-b"] == (SUCCESS, ())


def test_min_domains_makes_the_global_minimum_zero():
    # Two zones with 1 pod each, minDomains 3: the global minimum counts as 0, so a zone with a
    # pod is a skew of 2 > maxSkew 1 for a pod that matches itself.
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO, minDomains=3)]).obj()
    nodes = [MakeNode().name("a").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("b").labels({"zone": "z2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name("e1").namespace("").uid("uid--e1").labels({"foo": ""}).node("a").obj(), MakePod().name("e2").namespace("").uid("uid--e2").labels({"foo": ""}).node("b").obj()]
    for got in filter_both(incoming, nodes, existing):
        assert got == {"a": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))}


def test_match_label_keys_narrow_the_selector_to_the_pods_revision():
    # Pods of the old revision (pod-template-hash=old) do not count against the new one.
    sel = {"matchLabels": {"app": "web"}}
    incoming = MakePod().name("p").namespace("").uid("uid--p").labels({"app": "web", "pod-template-hash": "new"}).spread_constraints([spread(1, "zone", "DoNotSchedule", sel, matchLabelKeys=["pod-template-hash"])]).obj()
    nodes = [MakeNode().name("a").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("b").labels({"zone": "z2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name(f"old{i}").namespace("").uid(f"uid--old{i}").labels({"app": "web", "pod-template-hash": "old"}).node("a").obj() for i in range(3)]
    existing.append(MakePod().name("new0").namespace("").uid("uid--new0").labels({"app": "web", "pod-template-hash": "new"}).node("b").obj())
    for got in filter_both(incoming, nodes, existing):
        assert got == {"a": (SUCCESS, ()), "b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))}


def test_node_taints_policy_honor_leaves_untolerated_nodes_out_of_the_domains():
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    nodes = [MakeNode().name("a").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("b").labels({"zone": "z2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("c").labels({"zone": "z3"}).taints([taint]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name("e1").namespace("").uid("uid--e1").labels({"foo": ""}).node("a").obj(), MakePod().name("e2").namespace("").uid("uid--e2").labels({"foo": ""}).node("b").obj()]
    honor = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO, nodeTaintsPolicy="Honor")]).obj()
    ignore = MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO)]).obj()
    for got in filter_both(honor, nodes, existing):
        # z3 is not a domain: the minimum is 1, so a and b fit (the taint itself is TaintToleration's).
        assert [got[n][0] for n in "abc"] == [SUCCESS, SUCCESS, SUCCESS]
    for got in filter_both(ignore, nodes, existing):
        # z3 (0 pods) is a domain: the minimum is 0, so a and b are a skew of 2.
        assert [got[n][0] for n in "abc"] == [UNSCHEDULABLE, UNSCHEDULABLE, SUCCESS]


def test_a_pod_without_constraints_skips_filtering_and_with_no_owner_skips_scoring():
    nodes = [MakeNode().name("a").labels({HOSTNAME: "a", ZONE: "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    incoming = PodInfo(MakePod().name("p").namespace("default").uid("uid-default-p").labels({"app": "web"}).obj())
    sched, pl = setup(nodes)
    table = sched.cache.table
    _, s = pl.pre_filter(CycleState(), incoming, NodeSet(table, sched.cache.order()))
    assert s.code == SKIP         # system defaults are all ScheduleAnyway: no hard constraint
    s = pl.pre_score(CycleState(), incoming, NodeSet(table, sched.cache.order(), sched.cache.node_infos()))
    assert s.code == SKIP         # no ReplicaSet (nor Service) selects it: an empty default selector


def test_filter_without_prefilter_state_is_an_error():
    sched, pl = setup([MakeNode().name("a").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()])
    s = pl.filter(CycleState(), PodInfo(MakePod().name("p").namespace("").uid("uid--p").labels({}).obj()), sched.cache.get("a"))
    assert s.code == "Error" and "PreFilterPodTopologySpread" in s.message()
    with pytest.raises(PluginError):
        pl.score(CycleState(), PodInfo(MakePod().name("p").namespace("").uid("uid--p").labels({}).obj()), sched.cache.get("a"))


def test_an_invalid_selector_is_an_error_status():
    bad = {"matchExpressions": [{"key": "foo", "operator": "In", "values": []}]}
    sched, pl = setup([MakeNode().name("a").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()])
    _, s = pl.pre_filter(CycleState(), PodInfo(MakePod().name("p").namespace("").uid("uid--p").labels({}).spread_constraints([spread(1, "zone", "DoNotSchedule", bad)]).obj()),
                         NodeSet(sched.cache.table, sched.cache.order()))
    assert s.code == "Error" and "obtaining pod's hard topology spread constraints" in s.message()


@pytest.mark.parametrize("vectorised", [True, False])
def test_add_pod_and_remove_pod_update_the_prefilter_state(vectorised):
    """PreFilterExtensions: preemption removes a victim, the nominator adds a nominated pod."""
    nodes = [MakeNode().name("a").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("b").labels({"zone": "z2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name("e1").namespace("").uid("uid--e1").labels({"foo": ""}).node("a").obj(), MakePod().name("e2").namespace("").uid("uid--e2").labels({"foo": ""}).node("a").obj()]
    sched, pl = setup(nodes, existing, count_with_index=vectorised)
    incoming = PodInfo(MakePod().name("p").namespace("").uid("uid--p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO)]).obj())
    state = CycleState()
    pl.pre_filter(state, incoming, NodeSet(sched.cache.table, sched.cache.order()))
    a = sched.cache.get("a")
    assert pl.filter(state, incoming, a) is not None           # 2 + 1 - 0 > 1
    clone = state.clone()
    victim = next(iter(a.pods.values()))
    assert pl.remove_pod(clone, incoming, victim, a) is None
    assert clone[PRE_FILTER_STATE_KEY].match_num(0, "z1") == 1
    assert state[PRE_FILTER_STATE_KEY].match_num(0, "z1") == 2  # the original is untouched
    assert pl.remove_pod(clone, incoming, next(iter(list(a.pods.values())[1:])), a) is None
    assert pl.filter(clone, incoming, a) is None               # 0 + 1 - 0 <= 1
    assert pl.add_pod(clone, incoming, PodInfo(MakePod().name("n").namespace("").uid("uid--n").labels({"foo": ""}).node("b").obj()), sched.cache.get("b")) is None
    assert clone[PRE_FILTER_STATE_KEY].min_match_num(0) == 0 and clone[PRE_FILTER_STATE_KEY].match_num(0, "z2") == 1


# -- args and configuration ---------------------------------------------------------------
def test_args_default_to_system_defaulting_in_the_default_profile():
    cfg = default_configuration(None)
    [prof] = cfg["profiles"]
    assert {"name": "PodTopologySpread", "weight": 2} in prof["plugins"]["multiPoint"]["enabled"]
    args = next(pc["args"] for pc in prof["pluginConfig"] if pc["name"] == "PodTopologySpread")
    assert args == {"defaultingType": "System"}
    sched = Scheduler(None, ImmediateClient())
    assert {"name": "PodTopologySpread", "weight": 2} in sched.profiles["default-scheduler"].describe()["score"]
    assert "replicasets" in sched.needed_informers()      # kube-scheduler watches them for the default selector


@pytest.mark.parametrize(("args", "error"), [
    ({"defaultingType": "Fancy"}, 'defaultingType: Unsupported value: "Fancy": supported values: "System", "List"'),
    ({"defaultingType": "System", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                                          "whenUnsatisfiable": "DoNotSchedule"}]},
     'defaultingType: Invalid value: "System": when .defaultConstraints are not empty'),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 0, "topologyKey": "zone",
                                                        "whenUnsatisfiable": "DoNotSchedule"}]},
     "defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)"),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "",
                                                        "whenUnsatisfiable": "DoNotSchedule"}]},
     "defaultConstraints[0].topologyKey: Required value: can not be empty"),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                                        "whenUnsatisfiable": "Sometimes"}]},
     'defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes"'),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                                        "whenUnsatisfiable": "DoNotSchedule",
                                                        "labelSelector": {}}]},
     "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod"),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     'defaultConstraints[1]: Duplicate value: "{zone, DoNotSchedule}"'),
])
def test_bad_args_are_rejected_with_upstreams_field_errors(args, error):
    with pytest.raises(ConfigError) as e:
        default_configuration({"profiles": [{"pluginConfig": [{"name": "PodTopologySpread", "args": args}]}]})
    assert any(error in msg for msg in e.value.errors), e.value.errors
    assert any(msg.startswith("profiles[0].pluginConfig[0].args.") for msg in e.value.errors)


def test_list_defaulting_applies_the_profiles_default_constraints_as_hard_ones():
    args = {"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}
    nodes = [MakeNode().name("a").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("b").labels({"zone": "z2"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()]
    existing = [MakePod().name("e1").namespace("default").uid("uid-default-e1").labels({"app": "web"}).node("a").obj()]
    incoming = MakePod().name("p").namespace("default").uid("uid-default-p").labels({"app": "web"}).owner_reference("web", uid="uid-web").obj()
    rs = [MakeReplicaSet().name("web").namespace("default").uid("uid-web").spec(selector={"matchLabels": {"app": "web"}}).manifest()]
    for vectorised in (True, False):
        sched, pl = setup(nodes, existing, args, rs, count_with_index=vectorised)
        state = CycleState()
        p = PodInfo(incoming)
        assert pl.pre_filter(state, p, NodeSet(sched.cache.table, sched.cache.order())) == (None, None)
        assert pl.filter(state, p, sched.cache.get("a")).code == UNSCHEDULABLE
        assert pl.filter(state, p, sched.cache.get("b")) is None


# -- queueing hints -----------------------------------------------------------------------------
def test_events_to_register_are_upstreams():
    _, pl = setup([])
    names = {(e.event.resource, e.event.name()) for e in pl.events_to_register()}
    assert names == {("Pod", "PodAddDeleteLabelChangeTolerationChange"),
                     ("Node", "NodeAddDeleteLabelChangeTaintChange")}


def test_queueing_hints():
    _, pl = setup([])
    waiting = PodInfo(MakePod().name("p").namespace("default").uid("uid-default-p").labels({"foo": ""}).spread_constraints([spread(1, "zone", "DoNotSchedule", FOO, nodeTaintsPolicy="Honor")]).obj())
    hint = pl.is_schedulable_after_pod_change
    match = MakePod().name("e").namespace("default").uid("uid-default-e").labels({"foo": ""}).node("n1").obj()
    assert hint(waiting, None, match) == QUEUE                                  # a matching pod was bound
    assert hint(waiting, None, MakePod().name("e").namespace("default").uid("uid-default-e").labels({"x": ""}).node("n1").obj()) == QUEUE_SKIP
    assert hint(waiting, None, MakePod().name("e").namespace("other").uid("uid-other-e").labels({"foo": ""}).node("n1").obj()) == QUEUE_SKIP
    assert hint(waiting, None, MakePod().name("e").namespace("default").uid("uid-default-e").labels({"foo": ""}).obj()) == QUEUE_SKIP   # not assigned
    assert hint(waiting, match, None) == QUEUE                                  # a matching pod went away
    relabelled = MakePod().name("e").namespace("default").uid("uid-default-e").labels({"bar": ""}).node("n1").obj()
    assert hint(waiting, match, relabelled) == QUEUE
    assert hint(waiting, match, MakePod().name("e").namespace("default").uid("uid-default-e").labels({"foo": "", "x": "1"}).node("n1").obj()) == QUEUE_SKIP
    tolerating = dict(waiting.pod, spec=dict(waiting.pod["spec"], tolerations=[{"operator": "Exists"}]))
    assert hint(waiting, waiting.pod, tolerating) == QUEUE                      # the pod itself tolerates more now
    node_hint = pl.is_schedulable_after_node_change
    assert node_hint(waiting, None, MakeNode().name("n").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()) == QUEUE
    assert node_hint(waiting, None, MakeNode().name("n").labels({"rack": "r"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()) == QUEUE_SKIP
    assert node_hint(waiting, MakeNode().name("n").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("n").labels({"zone": "y"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()) == QUEUE
    assert node_hint(waiting, MakeNode().name("n").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("n").labels({"zone": "z", "x": "1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()) == QUEUE_SKIP
    assert node_hint(waiting, MakeNode().name("n").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), MakeNode().name("n").labels({"zone": "z"}).taints([{"key": "k", "effect": "NoSchedule"}]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()) == QUEUE
    assert node_hint(waiting, MakeNode().name("n").labels({"zone": "z"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), None) == QUEUE
    assert node_hint(waiting, MakeNode().name("n").labels({}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj(), None) == QUEUE_SKIP


# -- the index ------------------------------------------------------------------------------------
def test_the_index_follows_binds_deletes_relabels_terminations_and_node_removal():
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(1))
    for i in range(3):
        sched.add_node(MakeNode().name(f"n{i}").labels({"zone": f"z{i}"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())
    table = sched.cache.table
    index = PlacedPodIndex.of(table)
    web = label_selector_as_selector({"matchLabels": {"app": "web"}})

    def check():
        want = [count_pods_match_selector(info.pods.values(), web, "default") if info is not None else 0
                for info in table.infos[:table.high]]
        assert index.pod_counts("default", web).tolist() == want
        return want

    assert check() == [0, 0, 0]
    a = MakePod().name("a").namespace("default").uid("uid-default-a").labels({"app": "web"}).node("n0").obj()
    sched.add_pod(a)
    sched.add_pod(MakePod().name("b").namespace("default").uid("uid-default-b").labels({"app": "web"}).node("n0").obj())
    sched.add_pod(MakePod().name("c").namespace("default").uid("uid-default-c").labels({"app": "db"}).node("n1").obj())
    sched.add_pod(MakePod().name("d").namespace("other").uid("uid-other-d").labels({"app": "web"}).node("n1").obj())
    assert check() == [2, 0, 0]
    sched.update_pod(a, MakePod().name("a").namespace("default").uid("uid-default-a").labels({"app": "db"}).node("n0").obj())                     # relabelled
    assert check() == [1, 0, 0]
    c = MakePod().name("c").namespace("default").uid("uid-default-c").labels({"app": "db"}).node("n1").obj()
    sched.update_pod(c, MakePod().name("c").namespace("default").uid("uid-default-c").labels({"app": "web"}).node("n1").obj())
    assert check() == [1, 1, 0]
    b = MakePod().name("b").namespace("default").uid("uid-default-b").labels({"app": "web"}).node("n0").obj()
    sched.update_pod(b, MakePod().name("b").namespace("default").uid("uid-default-b").labels({"app": "web"}).terminating().node("n0").obj())  # terminating
    assert check() == [0, 1, 0]
    sched.delete_node(MakeNode().name("n1").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())
    sched.add_node(MakeNode().name("n3").labels({"zone": "z3"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())               # may reuse n1's row
    assert index.pod_counts("default", web).sum() == 0
    sched.add_node(MakeNode().name("n1").labels({"zone": "z1"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())               # back, with its pod
    check()
    assert index.pod_counts("default", web).sum() == 1
    sched.delete_pod(MakePod().name("c").namespace("default").uid("uid-default-c").labels({"app": "web"}).node("n1").obj())
    assert index.pod_counts("default", web).sum() == 0


def test_a_nil_selector_matches_nothing_and_an_empty_one_everything():
    nothing, everything = label_selector_as_selector(None), label_selector_as_selector({})
    assert not selector_matches(nothing, {}) and selector_matches(everything, {"a": "b"})
    assert everything == EVERYTHING and nothing != EVERYTHING
    # mergeLabelSetWithSelector: matchLabelKeys on a nil selector keep only the pod's values.
    assert selector_matches(selector_add(selector_from_set({"h": "1"}), nothing), {"h": "1"})


# -- vectorised == per-node on random clusters (hypothesis) ----------------------------------------
KEYS = ["zone", HOSTNAME, "rack"]
SELECTORS = [None, {}, {"matchLabels": {"app": "web"}},
             {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]}]},
             {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
             {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}]
TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@st.composite
def clusters(draw):
    n = draw(st.integers(1, 8))
    nodes = []
    for i in range(n):
        labels = {}
        if draw(st.integers(0, 5)):
            labels[HOSTNAME] = f"n{i}"
        if draw(st.integers(0, 4)):
            labels["zone"] = draw(st.sampled_from(["a", "b", "c", ""]))
        if draw(st.booleans()):
            labels["rack"] = draw(st.sampled_from(["r1", "r2"]))
        if draw(st.booleans()):
            labels["disk"] = "ssd"
        nodes.append(MakeNode().name(f"n{i}").labels(labels).taints([TAINT] if draw(st.integers(0, 3)) == 0 else []).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())
    existing = []
    for j in range(draw(st.integers(0, 14))):
        labels = {}
        if draw(st.integers(0, 3)):
            labels["app"] = draw(st.sampled_from(["web", "db"]))
        if draw(st.booleans()):
            labels["tier"] = draw(st.sampled_from(["x", "y"]))
        node_name = f"n{draw(st.integers(0, n - 1))}"
        namespace = draw(st.sampled_from(["default", "default", "other"]))
        existing.append(MakePod().name(f"e{j}").namespace(namespace).uid(f"uid-{namespace}-e{j}").labels(labels)
                        .terminating(draw(st.integers(0, 5)) == 0).node(node_name).obj())
    constraints = []
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=0, max_size=2, unique=True)):
        for when in draw(st.lists(st.sampled_from(["DoNotSchedule", "ScheduleAnyway"]), min_size=1, max_size=2,
                                  unique=True)):
            extra = {}
            if draw(st.integers(0, 3)) == 0:
                extra["minDomains"] = draw(st.integers(1, 4))
            if draw(st.integers(0, 3)) == 0:
                extra["nodeAffinityPolicy"] = draw(st.sampled_from(["Honor", "Ignore"]))
            if draw(st.integers(0, 3)) == 0:
                extra["nodeTaintsPolicy"] = draw(st.sampled_from(["Honor", "Ignore"]))
            if draw(st.integers(0, 4)) == 0:
                extra["matchLabelKeys"] = [draw(st.sampled_from(["tier", "app"]))]
            constraints.append(spread(draw(st.integers(1, 3)), key, when, draw(st.sampled_from(SELECTORS)), **extra))
    labels = {}
    if draw(st.integers(0, 3)):
        labels["app"] = draw(st.sampled_from(["web", "db"]))
    if draw(st.booleans()):
        labels["tier"] = "x"
    spec = {}
    if draw(st.integers(0, 3)) == 0:
        spec["nodeSelector"] = {"disk": "ssd"}
    if draw(st.integers(0, 3)) == 0:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    owner = "web" if not constraints and draw(st.booleans()) else None
    incoming = MakePod().name("incoming").namespace("default").uid("uid-default-incoming").labels(labels)
    if owner:
        incoming.owner_reference(owner, uid=f"uid-{owner}")
    incoming.spec(**spec)
    if constraints:
        incoming.spread_constraints(constraints)
    incoming = incoming.obj()
    filtered = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    args = draw(st.sampled_from([None, {"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"}]}]))
    return nodes, existing, incoming, filtered, args


RS = [MakeReplicaSet().name("web").namespace("default").uid("uid-web").spec(selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}).manifest()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_vectorised_filter_and_score_agree_with_the_per_node_reference(case):
    nodes, existing, incoming, filtered, args = case
    vec, ref = filter_both(incoming, nodes, existing, args)
    assert vec == ref
    candidates = [nodes[i] for i in filtered]
    failed = [n for i, n in enumerate(nodes) if i not in filtered]
    vec, ref = score_both(incoming, candidates, failed, existing, args, RS)
    assert vec == ref
    assert all(0 <= s <= 100 for s in vec.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_the_prefilter_state_is_the_same_counted_either_way(case):
    nodes, existing, incoming, _, args = case
    states = []
    for vectorised in (True, False):
        sched, pl = setup(nodes, existing, args, RS, count_with_index=vectorised)
        state = CycleState()
        _, s = pl.pre_filter(state, PodInfo(incoming), NodeSet(sched.cache.table, sched.cache.order()))
        st_ = state.get(PRE_FILTER_STATE_KEY)
        states.append(None if st_ is None else
                      ([c.tolist() for c in st_.counts], [p.tolist() for p in st_.present], st_.mins))
    assert states[0] == states[1]


# -- whole scheduling runs ---------------------------------------------------------------------------
def _zoned_cluster(sched, zones):
    i = 0
    for zone, count in zones.items():
        for _ in range(count):
            i += 1
            sched.add_node(MakeNode().name(f"w{i}").labels({HOSTNAME: f"w{i}", ZONE: zone}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())


@pytest.mark.parametrize("vectorised", [True, False])
def test_a_zone_constraint_spreads_six_replicas_two_per_zone(vectorised):
    """Zones of 3, 2 and 1 nodes: per-node spreading alone would give 3/2/1."""
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(2), vectorised=vectorised)
    _zoned_cluster(sched, {"a": 3, "b": 2, "c": 1})
    zone_of = {f"w{i}": z for i, z in enumerate("aaabbc", 1)}
    c = [spread(1, ZONE, "DoNotSchedule", {"matchLabels": {"app": "web"}})]
    for i in range(6):
        sched.add_pod(MakePod().name(f"web-{i}").namespace("default").uid(f"web-{i}").labels({"app": "web"}).container(name="c", cpu="100m", memory="64Mi").spread_constraints(c).obj())
    while sched.schedule_one():
        pass
    per_zone = {z: sum(1 for n in sched.client.bound.values() if zone_of[n] == z) for z in "abc"}
    assert per_zone == {"a": 2, "b": 2, "c": 2}


def test_a_pod_that_would_skew_the_zones_too_much_stays_pending_and_says_why():
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(2))
    _zoned_cluster(sched, {"a": 2, "b": 1})                         # w1, w2 in zone a; w3 in zone b
    sched.add_node(MakeNode().name("w9").labels({HOSTNAME: "w9"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj())                     # no zone label
    w3 = MakeNode().name("w3").labels({HOSTNAME: "w3", ZONE: "b"}).taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()
    cordoned = MakeNode().name("w3").labels({HOSTNAME: "w3", ZONE: "b"}).taints([]).unschedulable().allocatable({"cpu": "4", "memory": "8Gi", "pods": "32"}).obj()
    sched.update_node(w3, cordoned)
    for i in range(2):
        sched.add_pod(MakePod().name(f"web-{i}").namespace("default").uid(f"web-{i}").labels({"app": "web"})
                      .container(name="c", cpu="100m", memory="64Mi").node("w1").obj())
    sched.add_pod(MakePod().name(f"web-{2}").namespace("default").uid(f"web-{2}").labels({"app": "web"}).container(name="c", cpu="100m", memory="64Mi").spread_constraints([spread(1, ZONE, "DoNotSchedule", {"matchLabels": {"app": "web"}})]).obj())
    assert sched.schedule_one()
    assert ("default", "web-2") not in sched.client.bound
    msg = sched.explanations.get(("default", "web-2")).to_json()["message"]
    # Zone a: 2 + 1 - 0 > 1; zone b's node is cordoned; w9 has no zone.
    assert msg.startswith("0/4 nodes are available: 1 node(s) didn't match pod topology spread constraints "
                          "(missing required label), 1 node(s) were unschedulable, 2 node(s) didn't match pod "
                          "topology spread constraints."), msg


@pytest.mark.parametrize("vectorised", [True, False])
def test_system_default_constraints_spread_a_replicasets_pods_over_nodes(vectorised):
    """No constraints on the pods: the default hostname (maxSkew 3) and zone (maxSkew 5) soft
    constraints, with the ReplicaSet's selector, prefer the emptiest nodes and zones."""
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(4), vectorised=vectorised)
    rs = MakeReplicaSet().name("web").namespace("default").uid("uid-web").spec(selector={"matchLabels": {"app": "web"}}).manifest()
    sched.services.listers["replicasets"] = lambda: [rs]
    _zoned_cluster(sched, {"a": 2, "b": 2})
    for i in range(8):
        sched.add_pod(MakePod().name(f"web-{i}").namespace("default").uid(f"web-{i}").labels({"app": "web"}).owner_reference("web", uid="rs").container(name="c", cpu="100m", memory="64Mi").obj())
    while sched.schedule_one():
        pass
    per_node = {}
    for n in sched.client.bound.values():
        per_node[n] = per_node.get(n, 0) + 1
    assert sorted(per_node.values()) == [2, 2, 2, 2]
    rec = sched.explanations.get(("default", "web-7")).to_json()
    assert "PodTopologySpread" in [p["name"] for p in rec["scorePlugins"]]


def test_normalizing_weight_is_log_of_size_plus_two():
    assert topology_normalizing_weight(0) == math.log(2)
    assert topology_normalizing_weight(3) == math.log(5)
