"""A pod's scheduling fields are validated as kube-apiserver does, seen through the official
`kubernetes` Python client: 422 Invalid Status with one cause per field error (and 400 for a
field of the wrong JSON type), for pods and ReplicaSet pod templates, on create and update."""
from __future__ import annotations

import json

import pytest
import requests
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.builders import MakePod
from tests.conftest import wait_until


MERGE = "application/merge-patch+json"
QUALIFIED = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def invalid(e: ApiException) -> dict:
    """The 422 Status body, checked for its Kubernetes shape."""
    assert e.status == 422, e.body
    body = json.loads(e.body)
    assert (body["kind"], body["apiVersion"], body["status"], body["reason"], body["code"]) == \
        ("Status", "v1", "Failure", "Invalid", 422)
    return body


def causes(body: dict) -> list[tuple[str, str, str]]:
    return [(c["reason"], c["field"], c["message"]) for c in body["details"]["causes"]]


def test_typed_topology_spread_constraint_errors(kube_client):
    core, _, _ = kube_client
    body = client.V1Pod(
        metadata=client.V1ObjectMeta(name="tsc-bad"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="nginx:1.27")],
                              topology_spread_constraints=[client.V1TopologySpreadConstraint(
                                  max_skew=0, topology_key="", when_unsatisfiable="Maybe")]))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", body)
    status = invalid(e.value)
    assert status["message"] == (
        'Pod "tsc-bad" is invalid: [spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater '
        'than zero, spec.topologySpreadConstraints[0].topologyKey: Required value: can not be empty, '
        'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: '
        '"DoNotSchedule", "ScheduleAnyway"]')
    assert causes(status) == [
        ("FieldValueInvalid", "spec.topologySpreadConstraints[0].maxSkew",
         "Invalid value: 0: must be greater than zero"),
        ("FieldValueRequired", "spec.topologySpreadConstraints[0].topologyKey", "Required value: can not be empty"),
        ("FieldValueNotSupported", "spec.topologySpreadConstraints[0].whenUnsatisfiable",
         'Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"')]
    assert status["details"]["name"] == "tsc-bad" and status["details"]["kind"] == "Pod"


def test_duplicate_spread_constraints_and_min_domains(kube_client):
    core, _, _ = kube_client
    constraint = {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2,
                  "labelSelector": {"matchLabels": {"app": "dup"}}}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("dup").labels({"app": "dup"})
                                              .container("nginx:1.27", name="main", cpu="50m", memory="32Mi")
                                              .spec(topologySpreadConstraints=[constraint, constraint]).manifest())
    assert causes(invalid(e.value)) == [
        ("FieldValueDuplicate", "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}",
         'Duplicate value: "{zone, ScheduleAnyway}"'),
        ("FieldValueInvalid", "spec.topologySpreadConstraints[0].minDomains",
         "Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"),
        ("FieldValueInvalid", "spec.topologySpreadConstraints[1].minDomains",
         "Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway")]


def test_typed_node_affinity_errors(kube_client):
    core, _, _ = kube_client
    affinity = client.V1Affinity(node_affinity=client.V1NodeAffinity(
        required_during_scheduling_ignored_during_execution=client.V1NodeSelector(node_selector_terms=[
            client.V1NodeSelectorTerm(match_expressions=[
                client.V1NodeSelectorRequirement(key="zone", operator="In"),
                client.V1NodeSelectorRequirement(key="cores", operator="Gt", values=["2", "4"])])]),
        preferred_during_scheduling_ignored_during_execution=[client.V1PreferredSchedulingTerm(
            weight=0, preference=client.V1NodeSelectorTerm(match_expressions=[
                client.V1NodeSelectorRequirement(key="zone", operator="In", values=["a"])]))]))
    body = client.V1Pod(metadata=client.V1ObjectMeta(name="na-bad"),
                        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="nginx:1.27")],
                                              affinity=affinity))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", body)
    terms = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
    assert causes(invalid(e.value)) == [
        ("FieldValueRequired", f"{terms}.matchExpressions[0].values",
         "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
        ("FieldValueRequired", f"{terms}.matchExpressions[1].values",
         "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"),
        ("FieldValueInvalid", "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
         "Invalid value: 0: must be in the range 1-100")]


def test_pod_anti_affinity_errors(kube_client):
    core, _, _ = kube_client
    term = {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]},
            "topologyKey": ""}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("paa-bad").labels({"app": "paa-bad"}).container("nginx:1.27", name="main", cpu="50m", memory="32Mi").spec(affinity={"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term]}}).manifest())
    path = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
    assert causes(invalid(e.value)) == [
        ("FieldValueInvalid", f"{path}.labelSelector.matchExpressions[0].operator",
         'Invalid value: "Equals": not a valid selector operator'),
        ("FieldValueRequired", f"{path}.topologyKey", "Required value: can not be empty"),
        ("FieldValueInvalid", f"{path}.topologyKey", 'Invalid value: "": name part must be non-empty'),
        ("FieldValueInvalid", f"{path}.topologyKey", f'Invalid value: "": {QUALIFIED}')]


def test_toleration_and_node_selector_errors(kube_client):
    core, _, _ = kube_client
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("tol-bad").labels({"app": "tol-bad"}).container("nginx:1.27", name="main", cpu="50m", memory="32Mi").spec(nodeSelector={"disk type": "ssd"}, tolerations=[{"key": "dedicated", "operator": "Exists", "value": "gpu"},
                         {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule",
                          "tolerationSeconds": 30}]).manifest())
    assert causes(invalid(e.value)) == [
        ("FieldValueInvalid", "spec.nodeSelector", f'Invalid value: "disk type": {QUALIFIED}'),
        ("FieldValueInvalid", "spec.tolerations[0].operator",
         "Invalid value: \"gpu\": value must be empty when `operator` is 'Exists'"),
        ("FieldValueInvalid", "spec.tolerations[1].effect",
         "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set")]


def test_a_wrong_json_type_is_a_400_decoding_error(kube_client):
    # The client's own models refuse a string maxSkew before sending, so this goes over plain HTTP.
    core, _, _ = kube_client
    resp = requests.post(f"{core.api_client.configuration.host}/api/v1/namespaces/default/pods", timeout=10,
                         json=MakePod().name("typed").labels({"app": "typed"}).container("nginx:1.27", name="main", cpu="50m", memory="32Mi").spec(topologySpreadConstraints=[
                             {"maxSkew": "1", "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]).manifest())
    assert resp.status_code == 400
    body = resp.json()
    assert body["reason"] == "BadRequest" and body["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
        'TopologySpreadConstraint.spec.topologySpreadConstraints.maxSkew of type int32')


def test_a_replicaset_template_gets_the_same_validation(kube_client):
    _, apps, _ = kube_client
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs-bad"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rs-bad"}},
                   "template": {"metadata": {"labels": {"app": "rs-bad"}}, "spec": MakePod().name("x").labels({"app": "x"}).container("nginx:1.27", name="main", cpu="50m", memory="32Mi").spec(topologySpreadConstraints=[
                       {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]).manifest()["spec"]}}}
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_replica_set("default", rs)
    status = invalid(e.value)
    assert status["message"] == ('ReplicaSet.apps "rs-bad" is invalid: spec.template.spec.topologySpreadConstraints'
                                 '[0].maxSkew: Invalid value: 0: must be greater than zero')
    assert status["details"]["group"] == "apps"


def test_a_valid_pod_is_created_scheduled_and_its_scheduling_fields_stay_fixed(kube_client):
    core, _, _ = kube_client
    spec = dict(
        nodeSelector={"kubernetes.io/os": "linux"},
        affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                      {"weight": 10, "preference": {"matchExpressions": [
                          {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["cp-1"]}]}}]},
                  "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                      {"labelSelector": {"matchLabels": {"app": "fixed"}}, "topologyKey": "kubernetes.io/hostname"}]}},
        topologySpreadConstraints=[{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                    "whenUnsatisfiable": "ScheduleAnyway",
                                    "labelSelector": {"matchLabels": {"app": "fixed"}}}],
        tolerations=[{"key": "example.com/batch", "operator": "Exists", "effect": "NoSchedule"}])
    core.create_namespaced_pod("default", MakePod().name("fixed").labels({"app": "fixed"})
                                          .container("nginx:1.27", name="main", cpu="50m", memory="32Mi")
                                          .spec(**spec).manifest())
    wait_until(lambda: core.read_namespaced_pod("fixed", "default").spec.node_name, timeout=30, interval=0.1,
               message="pod fixed scheduled")
    # A toleration may be added; an existing one may not change; affinity may not change.
    tolerations = spec["tolerations"] + [{"key": "example.com/gpu", "operator": "Exists"}]
    patched = core.patch_namespaced_pod("fixed", "default", {"spec": {"tolerations": tolerations}},
                                        _content_type=MERGE)
    assert [t.key for t in patched.spec.tolerations][:2] == ["example.com/batch", "example.com/gpu"]
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod("fixed", "default", {"spec": {"tolerations": [
            {"key": "example.com/batch", "operator": "Exists", "effect": "NoExecute"}]}}, _content_type=MERGE)
    assert causes(invalid(e.value)) == [
        ("FieldValueForbidden", "spec.tolerations",
         "Forbidden: existing toleration can not be modified except its tolerationSeconds")]
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod("fixed", "default", {"spec": {"topologySpreadConstraints": None}},
                                  _content_type=MERGE)
    assert [c[:2] for c in causes(invalid(e.value))] == [("FieldValueForbidden", "spec")]


def test_a_gated_pod_is_ungated_by_removing_its_gates(kube_client):
    core, _, _ = kube_client
    core.create_namespaced_pod("default", MakePod().name("gated").labels({"app": "gated"})
                                          .container("nginx:1.27", name="main", cpu="50m", memory="32Mi")
                                          .spec(schedulingGates=[{"name": "example.com/quota"}]).manifest())
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod("gated", "default", {"spec": {"schedulingGates": [
            {"name": "example.com/quota"}, {"name": "example.com/extra"}]}}, _content_type=MERGE)
    assert causes(invalid(e.value)) == [
        ("FieldValueForbidden", "spec.schedulingGates[1].name",
         "Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/extra'")]
    # While gated it may still gain a nodeSelector; then the gate goes and the pod is scheduled.
    core.patch_namespaced_pod("gated", "default", {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}},
                              _content_type=MERGE)
    core.patch_namespaced_pod("gated", "default", {"spec": {"schedulingGates": None}}, _content_type=MERGE)
    p = wait_until(lambda: (p := core.read_namespaced_pod("gated", "default")).spec.node_name and p,
                   timeout=30, interval=0.1, message="ungated pod scheduled")
    assert p.spec.node_selector == {"kubernetes.io/os": "linux"} and not p.spec.scheduling_gates
