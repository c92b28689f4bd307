"""The API server validates a pod's scheduling fields as kube-apiserver v1.32 does
(pkg/apis/core/validation/validation.go: validateAffinity, validateTopologySpreadConstraints,
ValidateTolerations, ValidateLabels for nodeSelector, validateSchedulingGates, and
ValidatePodUpdate's rules for them), with upstream's field paths and messages."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.registry import BUILTIN
from sim.api.validation import (validate_pod, validate_pod_update,
                                validate_replicaset, validate_replicaset_update)
from tests.builders import MakePod, MakeReplicaSet
from tests.sim.conftest import create_pod, get_pod, ok


QUALIFIED = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
               "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
               "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
DNS_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
             "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")

NA = "spec.affinity.nodeAffinity"
NA_REQ = f"{NA}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
NA_PREF = f"{NA}.preferredDuringSchedulingIgnoredDuringExecution"
PA_REQ = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
PAA_REQ = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
PAA_PREF = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
TSC = "spec.topologySpreadConstraints"


def errors(p: dict) -> list[str]:
    return [e.text() for e in validate_pod(p)]


def required_node_affinity(*terms) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def spread(**c) -> dict:
    return {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}, **c}


def anti_affinity_term(**t) -> dict:
    return {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname", **t}


VALID = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(nodeSelector={"disktype": "ssd", "kubernetes.io/os": "linux"}, affinity={
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                      {"key": "gpu", "operator": "DoesNotExist"},
                                      {"key": "cores", "operator": "Gt", "values": ["4"]}],
                 "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["worker-3"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]},
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "podAffinityTerm": {"labelSelector": {"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["cache"]}]},
                "namespaceSelector": {}, "topologyKey": "topology.kubernetes.io/zone"}}]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            anti_affinity_term(namespaces=["default", "team-a"], mismatchLabelKeys=["tenant"])]}}, topologySpreadConstraints=[spread(minDomains=2, nodeAffinityPolicy="Honor", nodeTaintsPolicy="Ignore",
                                      matchLabelKeys=["pod-template-hash"]),
                               spread(topologyKey="kubernetes.io/hostname", whenUnsatisfiable="ScheduleAnyway")], tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
                 {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                  "tolerationSeconds": 60},
                 {"operator": "Exists"}], schedulingGates=[{"name": "example.com/quota"}], priorityClassName="high-priority").manifest()


def test_a_pod_using_every_scheduling_field_correctly_is_valid():
    assert errors(VALID) == []


# -- topology spread constraints (validateTopologySpreadConstraints) --------------------------------------------
@pytest.mark.parametrize(("constraint", "expected"), [
    (spread(maxSkew=0), [f"{TSC}[0].maxSkew: Invalid value: 0: must be greater than zero"]),
    (spread(maxSkew=-2), [f"{TSC}[0].maxSkew: Invalid value: -2: must be greater than zero"]),
    # An absent maxSkew is Go's zero value.
    ({k: v for k, v in spread().items() if k != "maxSkew"},
     [f"{TSC}[0].maxSkew: Invalid value: 0: must be greater than zero"]),
    (spread(topologyKey=""), [f"{TSC}[0].topologyKey: Required value: can not be empty"]),
    (spread(whenUnsatisfiable="Maybe"),
     [f'{TSC}[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"']),
    ({k: v for k, v in spread().items() if k != "whenUnsatisfiable"},
     [f'{TSC}[0].whenUnsatisfiable: Unsupported value: "": supported values: "DoNotSchedule", "ScheduleAnyway"']),
    (spread(minDomains=0), [f"{TSC}[0].minDomains: Invalid value: 0: must be greater than zero"]),
    (spread(minDomains=3, whenUnsatisfiable="ScheduleAnyway"),
     [f"{TSC}[0].minDomains: Invalid value: 3: can only use minDomains if whenUnsatisfiable=DoNotSchedule, "
      f"not ScheduleAnyway"]),
    (spread(nodeAffinityPolicy="Always"),
     [f'{TSC}[0].nodeAffinityPolicy: Unsupported value: "Always": supported values: "Honor", "Ignore"']),
    (spread(nodeTaintsPolicy="honor"),
     [f'{TSC}[0].nodeTaintsPolicy: Unsupported value: "honor": supported values: "Honor", "Ignore"']),
    (spread(matchLabelKeys=["app"]),
     [f'{TSC}[0].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector']),
    (spread(matchLabelKeys=["bad key"]), [f'{TSC}[0].matchLabelKeys[0]: Invalid value: "bad key": {QUALIFIED}']),
    ({k: v for k, v in spread(matchLabelKeys=["pod-template-hash"]).items() if k != "labelSelector"},
     [f"{TSC}[0].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"]),
    (spread(labelSelector={"matchExpressions": [{"key": "app", "operator": "In"}]}),
     [f"{TSC}[0].labelSelector.matchExpressions[0].values: Required value: "
      f"must be specified when `operator` is 'In' or 'NotIn'"]),
    (spread(labelSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["a b"]}]}),
     [f'{TSC}[0].labelSelector.matchExpressions[0].values[0]: Invalid value: "a b": {LABEL_VALUE}']),
    # Upstream only requires a topologyKey here; it is not checked as a label name.
    (spread(topologyKey="not a/qualified/name"), []),
])
def test_topology_spread_constraint_rules(constraint, expected):
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(topologySpreadConstraints=[constraint]).manifest()) == expected


def test_a_topology_key_and_when_unsatisfiable_pair_may_not_repeat():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(topologySpreadConstraints=[spread(), spread(maxSkew=2), spread(whenUnsatisfiable="ScheduleAnyway")]).manifest())
    assert got == [f'{TSC}[0].{{topologyKey, whenUnsatisfiable}}: Duplicate value: '
                   f'"{{topology.kubernetes.io/zone, DoNotSchedule}}"']


def test_every_error_of_a_constraint_is_reported_in_upstreams_order():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(topologySpreadConstraints=[{"maxSkew": 0, "topologyKey": "", "whenUnsatisfiable": "Maybe"}]).manifest())
    assert got == [f"{TSC}[0].maxSkew: Invalid value: 0: must be greater than zero",
                   f"{TSC}[0].topologyKey: Required value: can not be empty",
                   f'{TSC}[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: '
                   f'"DoNotSchedule", "ScheduleAnyway"']


# -- node affinity (validateNodeAffinity, ValidateNodeSelector*) ---------------------------------------------------
@pytest.mark.parametrize(("requirement", "expected"), [
    ({"key": "zone", "operator": "In"},
     [f"{NA_REQ}[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]),
    ({"key": "zone", "operator": "NotIn", "values": []},
     [f"{NA_REQ}[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]),
    ({"key": "gpu", "operator": "Exists", "values": ["yes"]},
     [f"{NA_REQ}[0].matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or "
      f"'DoesNotExist'"]),
    ({"key": "gpu", "operator": "DoesNotExist", "values": ["yes"]},
     [f"{NA_REQ}[0].matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or "
      f"'DoesNotExist'"]),
    ({"key": "cores", "operator": "Gt", "values": ["1", "2"]},
     [f"{NA_REQ}[0].matchExpressions[0].values: Required value: must be specified single value when `operator` is "
      f"'Lt' or 'Gt'"]),
    ({"key": "cores", "operator": "Lt"},
     [f"{NA_REQ}[0].matchExpressions[0].values: Required value: must be specified single value when `operator` is "
      f"'Lt' or 'Gt'"]),
    # v1.32 does not parse a Gt/Lt value, nor check values as label values (v1.33 added the
    # latter): the scheduler reports the unparsable value instead.
    ({"key": "cores", "operator": "Gt", "values": ["four"]}, []),
    ({"key": "zone", "operator": "In", "values": ["not a label value!"]}, []),
    ({"key": "zone", "operator": "Equals", "values": ["a"]},
     [f'{NA_REQ}[0].matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator']),
    ({"key": "bad key", "operator": "Exists"},
     [f'{NA_REQ}[0].matchExpressions[0].key: Invalid value: "bad key": {QUALIFIED}']),
    ({"key": "example.com/", "operator": "Exists"},
     [f'{NA_REQ}[0].matchExpressions[0].key: Invalid value: "example.com/": name part must be non-empty',
      f'{NA_REQ}[0].matchExpressions[0].key: Invalid value: "example.com/": {QUALIFIED}']),
])
def test_node_selector_requirement_rules(requirement, expected):
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity=required_node_affinity({"matchExpressions": [requirement]})).manifest()) == expected


@pytest.mark.parametrize(("requirement", "expected"), [
    ({"key": "metadata.name", "operator": "In", "values": ["a", "b"]},
     [f"{NA_REQ}[0].matchFields[0].values: Required value: must be only one value when `operator` is 'In' or "
      f"'NotIn' for node field selector"]),
    ({"key": "metadata.name", "operator": "Exists"},
     [f'{NA_REQ}[0].matchFields[0].operator: Invalid value: "Exists": not a valid selector operator']),
    ({"key": "metadata.uid", "operator": "In", "values": ["x"]},
     [f'{NA_REQ}[0].matchFields[0].key: Invalid value: "metadata.uid": not a valid field selector key']),
    ({"key": "metadata.name", "operator": "In", "values": ["Worker_1"]},
     [f'{NA_REQ}[0].matchFields[0].values[0]: Invalid value: "Worker_1": {SUBDOMAIN}']),
])
def test_node_field_selector_rules(requirement, expected):
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity=required_node_affinity({"matchFields": [requirement]})).manifest()) == expected


def test_required_node_affinity_needs_a_term():
    expected = [f"{NA_REQ}: Required value: must have at least one node selector term"]
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity=required_node_affinity()).manifest()) == expected
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}).manifest()) == expected
    # A null required selector is no constraint at all.
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": None}}).manifest()) == []


@pytest.mark.parametrize(("weight", "expected"), [
    (0, [f"{NA_PREF}[0].weight: Invalid value: 0: must be in the range 1-100"]),
    (101, [f"{NA_PREF}[0].weight: Invalid value: 101: must be in the range 1-100"]),
    (None, [f"{NA_PREF}[0].weight: Invalid value: 0: must be in the range 1-100"]),  # absent: Go's zero value
    (1, []), (100, []),
])
def test_preferred_node_affinity_weight_is_1_to_100(weight, expected):
    term = {"preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}
    if weight is not None:
        term["weight"] = weight
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [term]}}).manifest())
    assert got == expected


def test_a_preferred_terms_preference_is_validated_like_a_required_term():
    term = {"weight": 5, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists", "values": ["a"]}]}}
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [term]}}).manifest())
    assert got == [f"{NA_PREF}[0].preference.matchExpressions[0].values: Forbidden: may not be specified when "
                   f"`operator` is 'Exists' or 'DoesNotExist'"]


# -- pod affinity and anti-affinity (validatePodAffinity, validatePodAntiAffinity) ---------------------------------
def test_a_pod_affinity_term_needs_a_topology_key():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        anti_affinity_term(topologyKey="")]}}).manifest())
    assert got == [f"{PA_REQ}[0].topologyKey: Required value: can not be empty",
                   f'{PA_REQ}[0].topologyKey: Invalid value: "": name part must be non-empty',
                   f'{PA_REQ}[0].topologyKey: Invalid value: "": {QUALIFIED}']


def test_a_topology_key_must_be_a_qualified_name():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        anti_affinity_term(topologyKey="-zone")]}}).manifest())
    assert got == [f'{PAA_REQ}[0].topologyKey: Invalid value: "-zone": {QUALIFIED}']


@pytest.mark.parametrize(("selector", "expected"), [
    ({"matchExpressions": [{"key": "app", "operator": "In"}]},
     [f"{PAA_REQ}[0].labelSelector.matchExpressions[0].values: Required value: must be specified when `operator` "
      f"is 'In' or 'NotIn'"]),
    ({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]},
     [f"{PAA_REQ}[0].labelSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is "
      f"'Exists' or 'DoesNotExist'"]),
    ({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]},
     [f'{PAA_REQ}[0].labelSelector.matchExpressions[0].operator: Invalid value: "Gt": not a valid selector operator']),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "-bad"]}]},
     [f'{PAA_REQ}[0].labelSelector.matchExpressions[0].values[1]: Invalid value: "-bad": {LABEL_VALUE}']),
    ({"matchLabels": {"app": "web server"}},
     [f'{PAA_REQ}[0].labelSelector.matchLabels: Invalid value: "web server": {LABEL_VALUE}']),
    ({"matchLabels": {"a/b/c": "x"}},
     [f'{PAA_REQ}[0].labelSelector.matchLabels: Invalid value: "a/b/c": a qualified name must consist of '
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
      "'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
      "[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]),
])
def test_a_pod_affinity_label_selector_is_validated(selector, expected):
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        anti_affinity_term(labelSelector=selector)]}}).manifest())
    assert got == expected


def test_namespace_selector_and_namespaces_are_validated():
    term = anti_affinity_term(namespaceSelector={"matchExpressions": [{"key": "team", "operator": "NotIn"}]},
                              namespaces=["Team_A"])
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}).manifest())
    # Upstream names the namespaces field "namespace" in this error.
    assert got == [f"{PAA_REQ}[0].namespaceSelector.matchExpressions[0].values: Required value: must be specified "
                   f"when `operator` is 'In' or 'NotIn'",
                   f'{PAA_REQ}[0].namespace: Invalid value: "Team_A": {DNS_LABEL}']


@pytest.mark.parametrize(("weight", "expected"), [
    (0, [f"{PAA_PREF}[0].weight: Invalid value: 0: must be in the range 1-100"]),
    (-1, [f"{PAA_PREF}[0].weight: Invalid value: -1: must be in the range 1-100"]),
    (101, [f"{PAA_PREF}[0].weight: Invalid value: 101: must be in the range 1-100"]),
    (50, []),
])
def test_a_weighted_pod_affinity_term_has_weight_1_to_100(weight, expected):
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": weight, "podAffinityTerm": anti_affinity_term()}]}}).manifest())
    assert got == expected


def test_a_weighted_terms_pod_affinity_term_is_validated_under_its_own_path():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "podAffinityTerm": anti_affinity_term(topologyKey="bad key")}]}}).manifest())
    assert got == ['spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm'
                   f'.topologyKey: Invalid value: "bad key": {QUALIFIED}']


def test_match_label_keys_and_mismatch_label_keys_rules():
    no_selector = {"topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["app"], "mismatchLabelKeys": ["tenant"]}
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [no_selector]}}).manifest())
    assert got == [f"{PA_REQ}[0].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set",
                   f"{PA_REQ}[0].mismatchLabelKeys: Forbidden: must not be specified when labelSelector is not set"]
    both = anti_affinity_term(matchLabelKeys=["tenant", "bad key"], mismatchLabelKeys=["tenant"])
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [both]}}).manifest())
    assert got == [f'{PAA_REQ}[0].matchLabelKeys[1]: Invalid value: "bad key": {QUALIFIED}',
                   f'{PAA_REQ}[0].matchLabelKeys[0]: Invalid value: "tenant": exists in both matchLabelKeys and '
                   f'mismatchLabelKeys']


def test_a_match_label_key_already_in_the_selector_is_reported_on_upstreams_path():
    # The pod strategy merges matchLabelKeys into matchExpressions before validation; a key that
    # is also in matchLabels then appears twice.  Upstream's path is the term's, indexed again.
    merged = anti_affinity_term(matchLabelKeys=["app"], labelSelector={
        "matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]})
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [merged]}}).manifest())
    assert got == [f'{PAA_REQ}[0][0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector']


# -- tolerations (ValidateTolerations) ------------------------------------------------------------------------------
@pytest.mark.parametrize(("toleration", "expected"), [
    ({"operator": "Equal", "value": "gpu"},
     ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which '
      'means "match all values and all keys"']),
    ({"value": "gpu"},
     ['spec.tolerations[0].operator: Invalid value: "": operator must be Exists when `key` is empty, which means '
      '"match all values and all keys"']),
    ({"key": "dedicated", "operator": "Exists", "value": "gpu"},
     ["spec.tolerations[0].operator: Invalid value: \"gpu\": value must be empty when `operator` is 'Exists'"]),
    ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule", "tolerationSeconds": 30},
     ["spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
      "`tolerationSeconds` is set"]),
    ({"key": "dedicated", "operator": "Exists", "tolerationSeconds": 30},
     ["spec.tolerations[0].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set"]),
    ({"key": "dedicated", "operator": "In", "value": "gpu"},
     ['spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"']),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoAdmit"},
     ['spec.tolerations[0].effect: Unsupported value: "NoAdmit": supported values: "NoSchedule", '
      '"PreferNoSchedule", "NoExecute"']),
    ({"key": "dedicated", "operator": "Equal", "value": "gpu!"},
     [f'spec.tolerations[0].operator: Invalid value: "gpu!": {LABEL_VALUE}']),
    ({"key": "dedicated pool", "operator": "Exists"},
     [f'spec.tolerations[0].key: Invalid value: "dedicated pool": {QUALIFIED}']),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}, []),
    ({"operator": "Exists", "effect": "NoSchedule"}, []),
    ({"key": "dedicated", "value": ""}, []),
])
def test_toleration_rules(toleration, expected):
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(tolerations=[toleration]).manifest()) == expected


# -- nodeSelector, scheduling gates, priorityClassName ---------------------------------------------------------------
def test_node_selector_keys_and_values_are_label_keys_and_values():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(nodeSelector={"disk type": "ssd", "example.com/zone": "-a", "UPPER.example.com/x": "y"}).manifest())
    assert got == [f'spec.nodeSelector: Invalid value: "disk type": {QUALIFIED}',
                   f'spec.nodeSelector: Invalid value: "-a": {LABEL_VALUE}',
                   f'spec.nodeSelector: Invalid value: "UPPER.example.com/x": prefix part {SUBDOMAIN}']


def test_scheduling_gates_are_qualified_names_without_duplicates():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(schedulingGates=[{"name": "example.com/a"}, {"name": "bad gate"}, {"name": "example.com/a"}]).manifest())
    assert got == [f'spec.schedulingGates[1]: Invalid value: "bad gate": {QUALIFIED}',
                   'spec.schedulingGates[2]: Duplicate value: "example.com/a"']


def test_a_gated_pod_may_not_be_created_bound_to_a_node():
    got = errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(schedulingGates=[{"name": "example.com/a"}], nodeName="worker-1").manifest())
    assert got == ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"]


def test_priority_class_name_is_a_dns_subdomain():
    assert errors(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(priorityClassName="High_Priority").manifest()) == [
        f'spec.priorityClassName: Invalid value: "High_Priority": {SUBDOMAIN}']


# -- decoding: the wrong JSON type is a 400 before validation --------------------------------------------------------
@pytest.mark.parametrize(("spec", "expected"), [
    ({"topologySpreadConstraints": [spread(maxSkew="1")]},
     "json: cannot unmarshal string into Go struct field TopologySpreadConstraint.spec.topologySpreadConstraints"
     ".maxSkew of type int32"),
    ({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1.5}]}}},
     "json: cannot unmarshal number 1.5 into Go struct field PreferredSchedulingTerm.spec.affinity.nodeAffinity"
     ".preferredDuringSchedulingIgnoredDuringExecution.weight of type int32"),
    ({"tolerations": [{"key": "a", "tolerationSeconds": "60"}]},
     "json: cannot unmarshal string into Go struct field Toleration.spec.tolerations.tolerationSeconds of type int64"),
    ({"tolerations": {"key": "a"}},
     "json: cannot unmarshal object into Go struct field PodSpec.spec.tolerations of type []v1.Toleration"),
    ({"nodeSelector": {"cores": 4}},
     "json: cannot unmarshal number into Go struct field PodSpec.spec.nodeSelector of type string"),
    ({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": [1]}]}}]}}},
     "json: cannot unmarshal number into Go struct field LabelSelectorRequirement.spec.affinity.podAntiAffinity"
     ".requiredDuringSchedulingIgnoredDuringExecution.labelSelector.matchExpressions.values of type string"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}}},
     "json: cannot unmarshal array into Go struct field NodeAffinity.spec.affinity.nodeAffinity"
     ".requiredDuringSchedulingIgnoredDuringExecution of type v1.NodeSelector"),
])
def test_wrong_json_types_are_decoding_errors(spec, expected):
    assert pod_type_error(MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(**spec).manifest()) == expected
    template = {"spec": {"template": {"spec": MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(**spec).manifest()["spec"]}}}
    assert replicaset_type_error(template) == expected.replace(".spec.", ".spec.template.spec.", 1)


def pod_type_error(obj):
    return BUILTIN.by_kind("", "Pod").type_error(obj)


def replicaset_type_error(obj):
    return BUILTIN.by_kind("apps", "ReplicaSet").type_error(obj)


def test_the_first_type_error_in_document_order_is_reported():
    p = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(tolerations=[{"tolerationSeconds": "x"}], priority="high").manifest()
    assert pod_type_error(p) == ("json: cannot unmarshal string into Go struct field Toleration.spec.tolerations"
                                 ".tolerationSeconds of type int64")


# -- updates (ValidatePodUpdate) -------------------------------------------------------------------------------------
def updated(p: dict, **spec) -> dict:
    new = copy.deepcopy(p)
    new["spec"].update(spec)
    return new


FORBIDDEN_SPEC = ("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                  "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                  "previously negative)")


def update_errors(new: dict, old: dict) -> list[str]:
    return [e.text() for e in validate_pod_update(new, old)]


@pytest.mark.parametrize("change", [
    {"affinity": required_node_affinity({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]})},
    {"topologySpreadConstraints": [spread(maxSkew=2)]},
    {"nodeSelector": {"disktype": "hdd"}},
    {"priorityClassName": "low"},
])
def test_scheduling_fields_are_immutable_on_a_pod(change):
    old = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(nodeName="worker-1", nodeSelector={"disktype": "ssd"}, topologySpreadConstraints=[spread()]).manifest()
    assert update_errors(updated(old, **change), old) == [FORBIDDEN_SPEC]


def test_tolerations_may_only_be_added_and_their_seconds_changed():
    base = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300}
    old = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(nodeName="worker-1", tolerations=[base]).manifest()
    added = [dict(base, tolerationSeconds=10), {"key": "dedicated", "operator": "Exists"}]
    assert update_errors(updated(old, tolerations=added), old) == []
    changed = [dict(base, effect="NoSchedule", tolerationSeconds=None)]
    assert update_errors(updated(old, tolerations=changed), old) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
    invalid = [base, {"key": "dedicated", "operator": "Exists", "value": "x"}]
    assert update_errors(updated(old, tolerations=invalid), old) == [
        "spec.tolerations[1].operator: Invalid value: \"x\": value must be empty when `operator` is 'Exists'"]


def test_a_gated_pod_may_lose_gates_but_not_gain_them():
    old = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(schedulingGates=[{"name": "example.com/a"}, {"name": "example.com/b"}]).manifest()
    assert update_errors(updated(old, schedulingGates=[{"name": "example.com/b"}]), old) == []
    assert update_errors(updated(old, schedulingGates=[]), old) == []
    grown = updated(old, schedulingGates=[{"name": "example.com/a"}, {"name": "example.com/c"}])
    assert update_errors(grown, old) == [
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate "
        "'example.com/c'"]


def test_a_gated_pod_may_gain_node_selector_entries_and_node_affinity_requirements():
    old = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(schedulingGates=[{"name": "example.com/a"}], nodeSelector={"disktype": "ssd"}, affinity=required_node_affinity({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]})).manifest()
    more = updated(old, nodeSelector={"disktype": "ssd", "gpu": "true"},
                   affinity=required_node_affinity({"matchExpressions": [
                       {"key": "zone", "operator": "In", "values": ["a"]}, {"key": "gpu", "operator": "Exists"}]}))
    assert update_errors(more, old) == []
    assert update_errors(updated(old, nodeSelector={"disktype": "hdd"}), old) == [
        'spec.nodeSelector: Invalid value: map[string]string{"disktype":"hdd"}: only additions to spec.nodeSelector '
        'are allowed (no mutations or deletions)']
    mutated = updated(old, affinity=required_node_affinity({"matchExpressions": [
        {"key": "zone", "operator": "In", "values": ["b"]}]}))
    assert update_errors(mutated, old) == [
        f'{NA_REQ}[0]: Invalid value: core.NodeSelectorTerm{{MatchExpressions:[]core.NodeSelectorRequirement{{'
        f'core.NodeSelectorRequirement{{Key:"zone", Operator:"In", Values:[]string{{"b"}}}}}}, '
        f'MatchFields:[]core.NodeSelectorRequirement(nil)}}: only additions are allowed (no mutations or deletions)']
    dropped = updated(old, affinity=None)
    assert update_errors(dropped, old) == [
        f"{NA_REQ}: Invalid value: []core.NodeSelectorTerm(nil): no additions/deletions to non-empty "
        f"NodeSelectorTerms list are allowed"]
    # Once the gates are gone, the same changes are refused as for any pod.
    ungated = updated(old, schedulingGates=None)
    assert update_errors(updated(ungated, nodeSelector={"disktype": "ssd", "gpu": "true"}), ungated) == [FORBIDDEN_SPEC]


def test_an_update_keeps_allowing_the_invalid_selector_the_stored_pod_already_had():
    bad_value = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["-web"]}]}
    stored = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        anti_affinity_term(labelSelector=bad_value)]}}, topologySpreadConstraints=[spread(labelSelector=bad_value)]).manifest()
    assert len(errors(stored)) == 2  # refused on create
    relabelled = copy.deepcopy(stored)
    relabelled["metadata"]["labels"] = {"app": "web", "tier": "front"}
    assert update_errors(relabelled, stored) == []


# -- ReplicaSet pod templates get the same validation ----------------------------------------------------------------
def test_a_replicaset_template_is_validated_like_a_pod():
    assert validate_replicaset(MakeReplicaSet().name("web").namespace("default").replicas(2).selector({"app": "web"}).template(MakePod().labels({"app": "web"}).container("nginx:1.27", name="app").spec(**VALID["spec"])).manifest()) == []
    got = [e.text() for e in validate_replicaset(MakeReplicaSet().name("web").namespace("default").replicas(2).selector({"app": "web"}).template(MakePod().labels({"app": "web"}).container("nginx:1.27", name="app").spec(topologySpreadConstraints=[spread(maxSkew=0)], affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 0, "podAffinityTerm": anti_affinity_term()}]}}, tolerations=[{"key": "a", "operator": "Exists", "value": "b"}])).manifest())]
    assert got == [
        "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
        "Invalid value: 0: must be in the range 1-100",
        "spec.template.spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
        "spec.template.spec.tolerations[0].operator: Invalid value: \"b\": value must be empty when `operator` is "
        "'Exists'"]


def test_a_replicaset_update_keeps_allowing_its_stored_templates_invalid_spread_selector():
    stored = MakeReplicaSet().name("web").namespace("default").replicas(2).selector({"app": "web"}).template(MakePod().labels({"app": "web"}).container("nginx:1.27", name="app").spec(topologySpreadConstraints=[spread(labelSelector={"matchLabels": {"app": "-web"}})])).manifest()
    assert [e.text() for e in validate_replicaset(stored)] == [
        f'spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels: Invalid value: "-web": '
        f'{LABEL_VALUE}']
    scaled = copy.deepcopy(stored)
    scaled["spec"]["replicas"] = 5
    assert validate_replicaset_update(scaled, stored) == []


# -- through the engine's API server -------------------------------------------------------------------------------
def test_an_invalid_pod_is_refused_with_422_and_one_cause_per_error(cluster):
    resp = create_pod(cluster, "skewed", topologySpreadConstraints=[
        {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
        affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 0, "podAffinityTerm": anti_affinity_term()}]}})
    assert resp["code"] == 422
    body = resp["body"]
    assert body["reason"] == "Invalid" and body["message"] == (
        'Pod "skewed" is invalid: [spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]'
        '.weight: Invalid value: 0: must be in the range 1-100, spec.topologySpreadConstraints[0].maxSkew: Invalid '
        'value: 0: must be greater than zero]')
    assert body["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": "Invalid value: 0: must be in the range 1-100",
         "field": "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"},
        {"reason": "FieldValueInvalid", "message": "Invalid value: 0: must be greater than zero",
         "field": "spec.topologySpreadConstraints[0].maxSkew"}]
    assert get_pod(cluster, "skewed")["code"] == 404


def test_a_valid_pod_with_scheduling_fields_is_created_and_scheduled(cluster):
    ok(create_pod(cluster, "spread", topologySpreadConstraints=[
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"app": "spread"}}}],
        tolerations=[{"key": "example.com/x", "operator": "Exists", "effect": "NoSchedule"}]), 201)
    cluster.advance(5)
    assert ok(get_pod(cluster, "spread"))["spec"].get("nodeName")


def test_a_wrong_json_type_is_a_400(cluster):
    resp = create_pod(cluster, "typed", topologySpreadConstraints=[spread(maxSkew="1")])
    assert resp["code"] == 400 and resp["body"]["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
        'TopologySpreadConstraint.spec.topologySpreadConstraints.maxSkew of type int32')


def test_an_update_changing_a_scheduled_pods_affinity_is_refused(cluster):
    ok(create_pod(cluster, "pinned", nodeSelector={"kubernetes.io/hostname": "worker-1"}), 201)
    resp = cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "pinned",
                            "patch_type": "application/merge-patch+json",
                            "body": {"spec": {"affinity": required_node_affinity(
                                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]})}}})
    assert resp["code"] == 422
    assert resp["body"]["details"]["causes"][0]["field"] == "spec"
    assert resp["body"]["message"].startswith('Pod "pinned" is invalid: spec: Forbidden: pod updates may not change '
                                              'fields other than `spec.containers[*].image`')


def test_a_null_or_empty_list_field_is_no_change():
    old = MakePod().name("p").namespace("default").labels({"app": "web"}).container("nginx:1.27", name="app").spec(nodeName="worker-1", tolerations=[{"key": "a", "operator": "Exists"}]).manifest()
    assert update_errors(updated(old, affinity=None, topologySpreadConstraints=[], nodeSelector=None), old) == []


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 200) | st.floats(allow_nan=False) |
                    st.sampled_from(["", "In", "Exists", "Gt", "DoNotSchedule", "NoExecute", "zone", "a/b", "-x"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["key", "operator", "values", "value", "effect", "weight", "topologyKey",
                                         "labelSelector", "matchLabels", "matchExpressions", "maxSkew", "minDomains",
                                         "whenUnsatisfiable", "matchLabelKeys", "name", "nodeSelectorTerms",
                                         "podAffinityTerm", "preference", "tolerationSeconds", "namespaces"]),
                        inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["affinity", "topologySpreadConstraints", "tolerations", "nodeSelector",
                              "schedulingGates"]), value=JSON)
def test_a_replicaset_template_of_any_json_shape_is_validated_without_crashing(field, value):
    # Decoding refuses a wrong type before validation runs; validation is still called on
    # objects that never were decoded (the engine's own), so it must answer, not raise.
    rs = MakeReplicaSet().name("web").namespace("default").replicas(2).selector({"app": "web"}).template(MakePod().labels({"app": "web"}).container("nginx:1.27", name="app").spec(**{field: value})).manifest()
    assert isinstance(validate_replicaset(rs), list)
    assert isinstance(validate_replicaset_update(rs, rs), list)
    assert replicaset_type_error(rs) is None or replicaset_type_error(rs).startswith("json: cannot unmarshal")


def test_a_wrong_json_type_in_a_replicaset_template_is_a_400(cluster):
    rs = (MakeReplicaSet().name("typed-rs").replicas(1).selector({"app": "t"})
          .template(MakePod().labels({"app": "t"}).container("nginx", name="c")
                    .spec(topologySpreadConstraints=[spread(maxSkew="1")])).manifest())
    resp = cluster.request({"verb": "create", "group": "apps", "resource": "replicasets",
                            "namespace": "default", "body": rs})
    assert resp["code"] == 400, resp
    assert resp["body"]["message"].startswith(
        'ReplicaSet in version "v1" cannot be handled as a ReplicaSet: json: cannot unmarshal string')
