"""Upstream-fidelity tests: every kube-scheduler plugin against upstream's own unit tests.

Each case in tests/sim/scheduler_fidelity/*.json is one table entry of an upstream
test in kubernetes/kubernetes pkg/scheduler/framework/plugins/ (the `upstream` field
names file, test function and case; each file's `version` says which upstream
revision it was read from). The Go builders (st.MakePod()..., makeNode(...),
newResourcePod(...)) are translated into the Pod/Node JSON objects they build, with
upstream's test conventions kept as they are: quantities as written ("4000" CPUs,
"10000" bytes), containers named con0.. with the pause image, MakeNode's default
"pods: 32", requests-only containers, and so on. Upstream leaves many objects
nameless; the fixtures name them (incoming, existing-<i>, node / node-<i>), which
none of the plugins reads (the NodeName and matchFields cases name their nodes).

Expected values are upstream's:
  score:  {node: score after the plugin's NormalizeScore, before weight} over the
          nodes upstream scores ({} when upstream's PreScore returns Skip);
  filter: {node: {"code", "reasons"}}; "Success" with no reasons when the node
          passes, including when upstream's PreFilter returns Skip; when upstream's
          PreFilter rejects the pod, that status for every node. Where upstream
          compares only the status code, the entry has no "reasons".

Cases left out (each file's "skipped" list has the exact upstream names):
  - NodeResourcesFit Least/MostAllocated "resource with negative/zero weight",
    "resource weight larger than MaxNodeScore": upstream expects NewFit to reject the
    args (a validation error), there is no score to compare.
  - Least/MostAllocated "Resources not set, pods scheduled with error": upstream
    expects Score to return an Error status; run_score returns scores only.
  - BalancedAllocation "include DRA resource ...", both: need DRA DeviceClass and
    ResourceSlice objects and the DRAExtendedResource gate.
  - fit_test.go TestRestartableInitContainers "... sidecar containers is disabled",
    both: need the SidecarContainers gate off (on by default since v1.29).
  - TaintToleration numeric Gt/Lt toleration cases (3 score, 5 filter): master-only
    TaintTolerationComparisonOperators alpha gate, off by default.
  - InterPodAffinity cases with a namespaceSelector that must be resolved against
    Namespace objects and their labels (13): run_filter/run_score take no Namespaces.
  - InterPodAffinity "invalid (Anti)Affinity fails PreScore": an Error status, not scores.
  - InterPodAffinity TestPreferredAffinityWithHardPodAffinitySymmetricWeight "with
    default weight": matches only through the empty namespace "" listed in a term's
    namespaces, which no stored object has.
  - PodTopologySpread scoring cases with upstream's failedNodes (6): nodes that exist
    (their pods count) but failed filtering and are not scored; run_score scores every
    node it is given.
  - PodTopologySpread default-constraint cases whose selector comes from a Service or
    ReplicaSet (2): run_score takes neither. "the pod doesn't have soft topology spread
    Constraints" (PreScore Skip) is kept.
  - PodTopologySpread "matchLabelKeys ignored when feature gate disabled": needs the
    MatchLabelKeysInPodTopologySpread gate off.
  Internal-state tests (TestPreFilterState*, TestPreScoreStateEmptyNodes, queueing-hint
  and EventsToRegister tests, TestBrokenLinearFunction) have no filter or score output
  to compare and are not translated.
"""
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "scheduler_fidelity"

def _load_cases():
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        assert data["cases"], f"{path.name} has no cases"
        for case in data["cases"]:
            assert case["kind"] in ("filter", "score"), case["upstream"]
            cases.append(case)
    return cases


CASES = _load_cases()


def _params():
    for case in CASES:
        for vectorised in (True, False):
            yield pytest.param(case, vectorised,
                               id=f"{case['upstream']} [{'vectorised' if vectorised else 'scalar'}]")


def _run(case, vectorised):
    from sim.scheduler import testing

    if case["kind"] == "score":
        # "preScore": false - the upstream case calls Score without PreScore (disablePreScore).
        return testing.run_score(case["plugin"], case["pod"], case["nodes"], case["existingPods"],
                                 args=case.get("args"), vectorised=vectorised,
                                 pre_score=case.get("preScore", True))
    return testing.run_filter(case["plugin"], case["pod"], case["nodes"], case["existingPods"],
                              args=case.get("args"), vectorised=vectorised)


@pytest.mark.parametrize(("case", "vectorised"), list(_params()))
def test_matches_upstream(case, vectorised):
    got = _run(case, vectorised)
    expected = case["expected"]
    if case["kind"] == "score":
        assert got == expected, case["upstream"]
        return
    assert set(got) == set(expected), case["upstream"]
    for node, want in expected.items():
        have = got[node]
        assert have["code"] == want["code"], (node, have, want)
        if "reasons" in want:
            assert list(have["reasons"]) == want["reasons"], (node, have, want)


def test_every_plugin_has_upstream_cases():
    # The fidelity list: a score case for every scoring plugin, a filter case
    # for every filter plugin.
    kinds = {}
    for case in CASES:
        kinds.setdefault(case["plugin"], set()).add(case["kind"])
    for plugin in ("NodeResourcesFit", "NodeAffinity", "TaintToleration", "InterPodAffinity",
                   "PodTopologySpread"):
        assert kinds.get(plugin) == {"filter", "score"}, plugin
    for plugin in ("NodeResourcesBalancedAllocation", "ImageLocality"):
        assert kinds.get(plugin) == {"score"}, plugin
    for plugin in ("NodeUnschedulable", "NodeName", "NodePorts"):
        assert kinds.get(plugin) == {"filter"}, plugin


def test_case_names_are_unique():
    names = [c["upstream"] for c in CASES]
    assert len(names) == len(set(names))
