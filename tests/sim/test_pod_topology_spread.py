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

HOSTNAME, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
FOO = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
BAR = {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}


# -- builders (upstream's st.MakeNode()/st.MakePod(), as JSON) ---------------------------------
def node(name, labels=None, taints=None):
    return {"metadata": {"name": name, "labels": dict(labels or {})}, "spec": {"taints": list(taints or [])},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "32"}}}


def pod(name, labels=None, node_name=None, namespace="", constraints=None, owner=None, terminating=False, **spec):
    md = {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}", "labels": dict(labels or {})}
    if owner:
        md["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": f"uid-{owner}",
                                  "controller": True}]
    if terminating:
        md["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec = dict(spec)
    if node_name:
        spec["nodeName"] = node_name
    if constraints:
        spec["topologySpreadConstraints"] = constraints
    return {"metadata": md, "spec": spec}


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
    return [node(n, {key: n}) for n in names]


def _pods_on(spec):
    """'node-a': 2 -> two pods labelled foo on node-a."""
    return [pod(f"p-{n[-1]}{i}", {"foo": ""}, n) for n, k in spec.items() for i in range(1, k + 1)]


def test_upstream_one_constraint_on_node_only_one_node_is_candidate():
    # TestPodTopologySpreadScore / one constraint on node, only one node is candidate
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, HOSTNAME, "ScheduleAnyway", FOO)])
    assert_scores(incoming, {"node-a": 100}, nodes=_hostnames("node-a"), failed_nodes=_hostnames("node-b"),
                  existing=_pods_on({"node-a": 2, "node-b": 1}))


def test_upstream_one_constraint_on_node_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / one constraint on node, 3 out of 4 nodes are candidates
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, HOSTNAME, "ScheduleAnyway", FOO)])
    assert_scores(incoming, {"node-a": 33, "node-b": 83, "node-x": 100},
                  nodes=_hostnames("node-a", "node-b", "node-x"), failed_nodes=_hostnames("node-y"),
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_one_node_of_the_candidates_does_not_match_topology_key():
    # TestPodTopologySpreadScore / one constraint on node, 3 out of 4 nodes are candidates, one
    # node doesn't match topology key
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, HOSTNAME, "ScheduleAnyway", FOO)])
    nodes = [node("node-a", {HOSTNAME: "node-a"}), node("node-b", {"n": "node-b"}), node("node-x", {HOSTNAME: "node-x"})]
    assert_scores(incoming, {"node-a": 16, "node-b": 0, "node-x": 100}, nodes=nodes,
                  failed_nodes=_hostnames("node-y"),
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_one_constraint_on_zone_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / one constraint on zone, 3 out of 4 nodes are candidates
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "ScheduleAnyway", FOO)])
    nodes = [node("node-a", {"zone": "zone1", HOSTNAME: "node-a"}), node("node-b", {"zone": "zone1", HOSTNAME: "node-b"}),
             node("node-x", {"zone": "zone2", HOSTNAME: "node-x"})]
    assert_scores(incoming, {"node-a": 75, "node-b": 75, "node-x": 100}, nodes=nodes,
                  failed_nodes=[node("node-y", {"zone": "zone2", HOSTNAME: "node-y"})],
                  existing=_pods_on({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}))


def test_upstream_two_constraints_on_zone_and_node_2_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / two Constraints on zone and node, 2 out of 4 nodes are candidates
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "ScheduleAnyway", FOO),
                                                 spread(1, HOSTNAME, "ScheduleAnyway", FOO)])
    assert_scores(incoming, {"node-a": 100, "node-x": 63},
                  nodes=[node("node-a", {"zone": "zone1", HOSTNAME: "node-a"}),
                         node("node-x", {"zone": "zone2", HOSTNAME: "node-x"})],
                  failed_nodes=[node("node-b", {"zone": "zone1", HOSTNAME: "node-b"}),
                                node("node-y", {"zone": "zone2", HOSTNAME: "node-y"})],
                  existing=_pods_on({"node-a": 2, "node-b": 1, "node-x": 2, "node-y": 4}))


def test_upstream_two_constraints_with_different_selectors_3_out_of_4_nodes_are_candidates():
    # TestPodTopologySpreadScore / two Constraints on zone and node, with different labelSelectors,
    # 3 out of 4 nodes are candidates
    incoming = pod("p", {"foo": "", "bar": ""}, constraints=[spread(1, "zone", "ScheduleAnyway", FOO),
                                                            spread(1, HOSTNAME, "ScheduleAnyway", BAR)])
    existing = [pod("p-a1", {"foo": ""}, "node-a"), pod("p-b1", {"foo": "", "bar": ""}, "node-b"),
                pod("p-y1", {"foo": ""}, "node-y"), pod("p-y2", {"bar": ""}, "node-y")]
    assert_scores(incoming, {"node-a": 50, "node-b": 25, "node-x": 100},
                  nodes=[node("node-a", {"zone": "zone1", HOSTNAME: "node-a"}),
                         node("node-b", {"zone": "zone1", HOSTNAME: "node-b"}),
                         node("node-x", {"zone": "zone2", HOSTNAME: "node-x"})],
                  failed_nodes=[node("node-y", {"zone": "zone2", HOSTNAME: "node-y"})], existing=existing)


def replica_set(name, selector, namespace="default"):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"}, "spec": {"selector": selector}}


def test_upstream_system_defaulting_with_a_replicaset_instead_of_a_service():
    # Adapted from TestPodTopologySpreadScore / system defaulting, nodes don't have zone, pods
    # match service: the simulator has no Services, so the same selector {foo} comes from the
    # pod's controlling ReplicaSet; upstream expects the scores of one hostname constraint.
    existing = [pod(f"p-{n[-1]}{i}", {"foo": ""}, n, namespace="default")
                for n, k in {"node-a": 4, "node-b": 3, "node-c": 2, "node-d": 1}.items() for i in range(1, k + 1)]
    incoming = pod("p", {"foo": ""}, namespace="default", owner="rs1")
    assert_scores(incoming, {"node-a": 44, "node-b": 66, "node-c": 77, "node-d": 100},
                  nodes=_hostnames("node-a", "node-b", "node-c", "node-d"), existing=existing,
                  replica_sets=[replica_set("rs1", {"matchLabels": {"foo": ""}})])


def test_upstream_default_constraints_and_a_replicaset_that_does_not_match_skip_prescore():
    # TestPreScoreSkip / default constraints and a replicaset that doesn't match: the pod's
    # owner rs2 does not exist, so the default selector is empty and there is nothing to score.
    incoming = pod("p", {"foo": "bar", "baz": "sup"}, namespace="default", owner="rs2")
    args = {"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": "ScheduleAnyway"}]}
    assert score_both(incoming, nodes=[node("node-a", {"planet": "mars"})], args=args,
                      replica_sets=[replica_set("rs1", {"matchExpressions": [{"key": "tar", "operator": "Exists"}]})]) == [{}, {}]


@pytest.mark.parametrize("vectorised", [True, False])
def test_upstream_pre_score_state_system_default_constraints_and_a_replicaset(vectorised):
    # TestPreScoreStateEmptyNodes / system default constraints and a replicaset: nodes without a
    # zone are not ignored (system defaults need not every key); they form the zone "".
    nodes = [node("node-a", {HOSTNAME: "node-a", ZONE: "mars"}), node("node-b", {HOSTNAME: "node-b", ZONE: "mars"}),
             node("node-c", {HOSTNAME: "node-c"}), node("node-d", {HOSTNAME: "node-d"})]
    sched, pl = setup(nodes, replica_sets=[replica_set("rs1", FOO)], count_with_index=vectorised)
    incoming = PodInfo(pod("p", {"foo": "tar", "baz": "sup"}, namespace="default", owner="rs1"))
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
    return [node("node-a", {"zone": "zone1", "node": "node-a"}), node("node-b", {"zone": "zone1", "node": "node-b"}),
            node("node-x", {"zone": "zone2", "node": "node-x"}), node("node-y", {"node": "node-y"})]


def test_filter_reasons_and_codes_are_upstreams():
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO)])
    existing = [pod("e1", {"foo": ""}, "node-a"), pod("e2", {"foo": ""}, "node-b")]
    for got in filter_both(incoming, _zone_nodes(), existing, {"defaultingType": "List"}):
        assert got == {"node-a": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "node-b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "node-x": (SUCCESS, ()),
                       "node-y": (UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_NODE_LABEL_NOT_MATCH,))}
    assert ERR_REASON_NODE_LABEL_NOT_MATCH == "node(s) didn't match pod topology spread constraints (missing required label)"


def test_the_first_failing_constraint_decides_the_status():
    # node-y fails the zone constraint's skew before it is found to miss the rack label.
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO),
                                                 spread(1, "rack", "DoNotSchedule", FOO)])
    nodes = [node("node-a", {"zone": "z1", "rack": "r1"}), node("node-b", {"zone": "z2", "rack": "r2"}),
             node("node-y", {"zone": "z1"})]
    existing = [pod("e1", {"foo": ""}, "node-a"), pod("e2", {"foo": ""}, "node-a")]
    for got in filter_both(incoming, nodes, existing):
        assert got["node-y"] == (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))
        assert got["node-b"] == (SUCCESS, ())


def test_min_domains_makes_the_global_minimum_zero():
    # Two zones with 1 pod each, minDomains 3: the global minimum counts as 0, so a zone with a
    # pod is a skew of 2 > maxSkew 1 for a pod that matches itself.
    incoming = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO, minDomains=3)])
    nodes = [node("a", {"zone": "z1"}), node("b", {"zone": "z2"})]
    existing = [pod("e1", {"foo": ""}, "a"), pod("e2", {"foo": ""}, "b")]
    for got in filter_both(incoming, nodes, existing):
        assert got == {"a": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,)),
                       "b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))}


def test_match_label_keys_narrow_the_selector_to_the_pods_revision():
    # Pods of the old revision (pod-template-hash=old) do not count against the new one.
    sel = {"matchLabels": {"app": "web"}}
    incoming = pod("p", {"app": "web", "pod-template-hash": "new"},
                   constraints=[spread(1, "zone", "DoNotSchedule", sel, matchLabelKeys=["pod-template-hash"])])
    nodes = [node("a", {"zone": "z1"}), node("b", {"zone": "z2"})]
    existing = [pod(f"old{i}", {"app": "web", "pod-template-hash": "old"}, "a") for i in range(3)]
    existing.append(pod("new0", {"app": "web", "pod-template-hash": "new"}, "b"))
    for got in filter_both(incoming, nodes, existing):
        assert got == {"a": (SUCCESS, ()), "b": (UNSCHEDULABLE, (ERR_REASON_CONSTRAINTS_NOT_MATCH,))}


def test_node_taints_policy_honor_leaves_untolerated_nodes_out_of_the_domains():
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    nodes = [node("a", {"zone": "z1"}), node("b", {"zone": "z2"}), node("c", {"zone": "z3"}, [taint])]
    existing = [pod("e1", {"foo": ""}, "a"), pod("e2", {"foo": ""}, "b")]
    honor = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO, nodeTaintsPolicy="Honor")])
    ignore = pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO)])
    for got in filter_both(honor, nodes, existing):
        # z3 is not a domain: the minimum is 1, so a and b fit (the taint itself is TaintToleration's).
        assert [got[n][0] for n in "abc"] == [SUCCESS, SUCCESS, SUCCESS]
    for got in filter_both(ignore, nodes, existing):
        # z3 (0 pods) is a domain: the minimum is 0, so a and b are a skew of 2.
        assert [got[n][0] for n in "abc"] == [UNSCHEDULABLE, UNSCHEDULABLE, SUCCESS]


def test_a_pod_without_constraints_skips_filtering_and_with_no_owner_skips_scoring():
    nodes = [node("a", {HOSTNAME: "a", ZONE: "z1"})]
    incoming = PodInfo(pod("p", {"app": "web"}, namespace="default"))
    sched, pl = setup(nodes)
    table = sched.cache.table
    _, s = pl.pre_filter(CycleState(), incoming, NodeSet(table, sched.cache.order()))
    assert s.code == SKIP         # system defaults are all ScheduleAnyway: no hard constraint
    s = pl.pre_score(CycleState(), incoming, NodeSet(table, sched.cache.order(), sched.cache.node_infos()))
    assert s.code == SKIP         # no ReplicaSet (nor Service) selects it: an empty default selector


def test_filter_without_prefilter_state_is_an_error():
    sched, pl = setup([node("a", {"zone": "z"})])
    s = pl.filter(CycleState(), PodInfo(pod("p")), sched.cache.get("a"))
    assert s.code == "Error" and "PreFilterPodTopologySpread" in s.message()
    with pytest.raises(PluginError):
        pl.score(CycleState(), PodInfo(pod("p")), sched.cache.get("a"))


def test_an_invalid_selector_is_an_error_status():
    bad = {"matchExpressions": [{"key": "foo", "operator": "In", "values": []}]}
    sched, pl = setup([node("a", {"zone": "z"})])
    _, s = pl.pre_filter(CycleState(), PodInfo(pod("p", constraints=[spread(1, "zone", "DoNotSchedule", bad)])),
                         NodeSet(sched.cache.table, sched.cache.order()))
    assert s.code == "Error" and "obtaining pod's hard topology spread constraints" in s.message()


@pytest.mark.parametrize("vectorised", [True, False])
def test_add_pod_and_remove_pod_update_the_prefilter_state(vectorised):
    """PreFilterExtensions: preemption removes a victim, the nominator adds a nominated pod."""
    nodes = [node("a", {"zone": "z1"}), node("b", {"zone": "z2"})]
    existing = [pod("e1", {"foo": ""}, "a"), pod("e2", {"foo": ""}, "a")]
    sched, pl = setup(nodes, existing, count_with_index=vectorised)
    incoming = PodInfo(pod("p", {"foo": ""}, constraints=[spread(1, "zone", "DoNotSchedule", FOO)]))
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
    assert pl.add_pod(clone, incoming, PodInfo(pod("n", {"foo": ""}, "b")), sched.cache.get("b")) is None
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
    nodes = [node("a", {"zone": "z1"}), node("b", {"zone": "z2"})]
    existing = [pod("e1", {"app": "web"}, "a", namespace="default")]
    incoming = pod("p", {"app": "web"}, namespace="default", owner="web")
    rs = [replica_set("web", {"matchLabels": {"app": "web"}})]
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
    waiting = PodInfo(pod("p", {"foo": ""}, namespace="default",
                          constraints=[spread(1, "zone", "DoNotSchedule", FOO, nodeTaintsPolicy="Honor")]))
    hint = pl.is_schedulable_after_pod_change
    match = pod("e", {"foo": ""}, "n1", namespace="default")
    assert hint(waiting, None, match) == QUEUE                                  # a matching pod was bound
    assert hint(waiting, None, pod("e", {"x": ""}, "n1", namespace="default")) == QUEUE_SKIP
    assert hint(waiting, None, pod("e", {"foo": ""}, "n1", namespace="other")) == QUEUE_SKIP
    assert hint(waiting, None, pod("e", {"foo": ""}, namespace="default")) == QUEUE_SKIP   # not assigned
    assert hint(waiting, match, None) == QUEUE                                  # a matching pod went away
    relabelled = pod("e", {"bar": ""}, "n1", namespace="default")
    assert hint(waiting, match, relabelled) == QUEUE
    assert hint(waiting, match, pod("e", {"foo": "", "x": "1"}, "n1", namespace="default")) == QUEUE_SKIP
    tolerating = dict(waiting.pod, spec=dict(waiting.pod["spec"], tolerations=[{"operator": "Exists"}]))
    assert hint(waiting, waiting.pod, tolerating) == QUEUE                      # the pod itself tolerates more now
    node_hint = pl.is_schedulable_after_node_change
    assert node_hint(waiting, None, node("n", {"zone": "z"})) == QUEUE
    assert node_hint(waiting, None, node("n", {"rack": "r"})) == QUEUE_SKIP
    assert node_hint(waiting, node("n", {"zone": "z"}), node("n", {"zone": "y"})) == QUEUE
    assert node_hint(waiting, node("n", {"zone": "z"}), node("n", {"zone": "z", "x": "1"})) == QUEUE_SKIP
    assert node_hint(waiting, node("n", {"zone": "z"}), node("n", {"zone": "z"}, [{"key": "k", "effect": "NoSchedule"}])) == QUEUE
    assert node_hint(waiting, node("n", {"zone": "z"}), None) == QUEUE
    assert node_hint(waiting, node("n", {}), None) == QUEUE_SKIP


# -- the index ------------------------------------------------------------------------------------
def test_the_index_follows_binds_deletes_relabels_terminations_and_node_removal():
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(1))
    for i in range(3):
        sched.add_node(node(f"n{i}", {"zone": f"z{i}"}))
    table = sched.cache.table
    index = PlacedPodIndex.of(table)
    web = label_selector_as_selector({"matchLabels": {"app": "web"}})

    def check():
        want = [count_pods_match_selector(info.pods.values(), web, "default") if info is not None else 0
                for info in table.infos[:table.high]]
        assert index.pod_counts("default", web).tolist() == want
        return want

    assert check() == [0, 0, 0]
    a = pod("a", {"app": "web"}, "n0", namespace="default")
    sched.add_pod(a)
    sched.add_pod(pod("b", {"app": "web"}, "n0", namespace="default"))
    sched.add_pod(pod("c", {"app": "db"}, "n1", namespace="default"))
    sched.add_pod(pod("d", {"app": "web"}, "n1", namespace="other"))
    assert check() == [2, 0, 0]
    sched.update_pod(a, pod("a", {"app": "db"}, "n0", namespace="default"))                     # relabelled
    assert check() == [1, 0, 0]
    c = pod("c", {"app": "db"}, "n1", namespace="default")
    sched.update_pod(c, pod("c", {"app": "web"}, "n1", namespace="default"))
    assert check() == [1, 1, 0]
    b = pod("b", {"app": "web"}, "n0", namespace="default")
    sched.update_pod(b, pod("b", {"app": "web"}, "n0", namespace="default", terminating=True))  # terminating
    assert check() == [0, 1, 0]
    sched.delete_node(node("n1", {"zone": "z1"}))
    sched.add_node(node("n3", {"zone": "z3"}))               # may reuse n1's row
    assert index.pod_counts("default", web).sum() == 0
    sched.add_node(node("n1", {"zone": "z1"}))               # back, with its pod
    check()
    assert index.pod_counts("default", web).sum() == 1
    sched.delete_pod(pod("c", {"app": "web"}, "n1", namespace="default"))
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
        nodes.append(node(f"n{i}", labels, [TAINT] if draw(st.integers(0, 3)) == 0 else []))
    existing = []
    for j in range(draw(st.integers(0, 14))):
        labels = {}
        if draw(st.integers(0, 3)):
            labels["app"] = draw(st.sampled_from(["web", "db"]))
        if draw(st.booleans()):
            labels["tier"] = draw(st.sampled_from(["x", "y"]))
        existing.append(pod(f"e{j}", labels, f"n{draw(st.integers(0, n - 1))}",
                            namespace=draw(st.sampled_from(["default", "default", "other"])),
                            terminating=draw(st.integers(0, 5)) == 0))
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
    incoming = pod("incoming", labels, namespace="default", constraints=constraints, owner=owner, **spec)
    filtered = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    args = draw(st.sampled_from([None, {"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"}]}]))
    return nodes, existing, incoming, filtered, args


RS = [replica_set("web", {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]})]


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
            sched.add_node(node(f"w{i}", {HOSTNAME: f"w{i}", ZONE: zone}))


def _web(i, constraints=None, owner=None):
    return {"metadata": {"name": f"web-{i}", "namespace": "default", "uid": f"web-{i}", "labels": {"app": "web"},
                         **({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                                  "uid": "rs", "controller": True}]} if owner else {})},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                     **({"topologySpreadConstraints": constraints} if constraints else {})}}


@pytest.mark.parametrize("vectorised", [True, False])
def test_a_zone_constraint_spreads_six_replicas_two_per_zone(vectorised):
    """Zones of 3, 2 and 1 nodes: per-node spreading alone would give 3/2/1."""
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(2), vectorised=vectorised)
    _zoned_cluster(sched, {"a": 3, "b": 2, "c": 1})
    zone_of = {f"w{i}": z for i, z in enumerate("aaabbc", 1)}
    c = [spread(1, ZONE, "DoNotSchedule", {"matchLabels": {"app": "web"}})]
    for i in range(6):
        sched.add_pod(_web(i, c))
    while sched.schedule_one():
        pass
    per_zone = {z: sum(1 for n in sched.client.bound.values() if zone_of[n] == z) for z in "abc"}
    assert per_zone == {"a": 2, "b": 2, "c": 2}


def test_a_pod_that_would_skew_the_zones_too_much_stays_pending_and_says_why():
    sched = Scheduler(None, ImmediateClient(), clock=lambda: 0.0, rng=random.Random(2))
    _zoned_cluster(sched, {"a": 2, "b": 1})                         # w1, w2 in zone a; w3 in zone b
    sched.add_node(node("w9", {HOSTNAME: "w9"}))                     # no zone label
    w3 = node("w3", {HOSTNAME: "w3", ZONE: "b"})
    cordoned = node("w3", {HOSTNAME: "w3", ZONE: "b"})
    cordoned["spec"]["unschedulable"] = True
    sched.update_node(w3, cordoned)
    for i in range(2):
        web = _web(i)
        web["spec"]["nodeName"] = "w1"
        sched.add_pod(web)
    sched.add_pod(_web(2, [spread(1, ZONE, "DoNotSchedule", {"matchLabels": {"app": "web"}})]))
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
    rs = replica_set("web", {"matchLabels": {"app": "web"}})
    sched.services.listers["replicasets"] = lambda: [rs]
    _zoned_cluster(sched, {"a": 2, "b": 2})
    for i in range(8):
        sched.add_pod(_web(i, owner="web"))
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
