"""PriorityClasses and pod priority through the official `kubernetes` Python client
(SchedulingV1Api, CoreV1Api) and raw HTTP: discovery, Table output, Status errors."""
from __future__ import annotations

import json

import pytest
import requests
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.builders import MakePod, MakePriorityClass
from tests.conftest import wait_until


SYSTEM = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture(scope="module")
def apis(pilothouse_server, module_cluster):
    """(SchedulingV1Api, CoreV1Api, base URL) for a fresh cluster at 50x whose system classes exist."""
    name = module_cluster("api-priorityclasses", speed=20)
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(name)
    api_client = client.ApiClient(cfg)
    scheduling = client.SchedulingV1Api(api_client)
    wait_until(lambda: len(scheduling.list_priority_class().items) >= 2, timeout=20, interval=0.1,
               message="system priority classes bootstrapped")
    yield scheduling, client.CoreV1Api(api_client), cfg.host
    api_client.close()


def status_of(e: ApiException) -> dict:
    body = json.loads(e.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == e.status
    return body


def test_system_classes_are_listed(apis):
    scheduling, _, _ = apis
    items = {pc.metadata.name: pc for pc in scheduling.list_priority_class().items}
    assert {n: items[n].value for n in SYSTEM} == SYSTEM
    assert items["system-node-critical"].preemption_policy == "PreemptLowerPriority"
    assert items["system-node-critical"].global_default is None


def test_create_read_patch_list_delete(apis):
    scheduling, _, _ = apis
    created = scheduling.create_priority_class(MakePriorityClass().name("gold").value(1000)
                                               .description("paying customers").obj())
    assert created.metadata.uid and created.value == 1000 and created.preemption_policy == "PreemptLowerPriority"
    assert created.api_version == "scheduling.k8s.io/v1" and created.kind == "PriorityClass"
    assert scheduling.read_priority_class("gold").description == "paying customers"
    patched = scheduling.patch_priority_class("gold", {"metadata": {"labels": {"tier": "gold"}}})
    assert patched.metadata.labels == {"tier": "gold"} and patched.value == 1000
    assert "gold" in {pc.metadata.name for pc in scheduling.list_priority_class(label_selector="tier=gold").items}
    scheduling.delete_priority_class("gold")
    with pytest.raises(ApiException) as e:
        scheduling.read_priority_class("gold")
    body = status_of(e.value)
    assert body["reason"] == "NotFound" and body["message"] == 'priorityclasses.scheduling.k8s.io "gold" not found'


def test_watch_sees_a_new_class(apis):
    scheduling, _, _ = apis
    rv = scheduling.list_priority_class().metadata.resource_version
    scheduling.create_priority_class(MakePriorityClass().name("watched").value(7).obj())
    w = watch.Watch()
    seen = [(ev["type"], ev["object"].metadata.name, ev["object"].value)
            for ev in w.stream(scheduling.list_priority_class, resource_version=rv, timeout_seconds=2)]
    assert ("ADDED", "watched", 7) in seen
    scheduling.delete_priority_class("watched")


def test_pod_gets_the_priority_of_its_class(apis):
    scheduling, core, _ = apis
    scheduling.create_priority_class(MakePriorityClass().name("silver").value(500).preemption_policy("Never").obj())
    created = core.create_namespaced_pod("default", MakePod().name("silver-pod").container("nginx:1.27", name="main")
                                                    .spec(priorityClassName="silver").manifest())
    assert (created.spec.priority, created.spec.preemption_policy) == (500, "Never")
    assert core.read_namespaced_pod("silver-pod", "default").spec.priority == 500
    plain = core.create_namespaced_pod("default", MakePod().name("plain-pod")
                                                  .container("nginx:1.27", name="main").manifest())
    assert plain.spec.priority == 0 and plain.spec.priority_class_name is None
    assert plain.spec.preemption_policy == "PreemptLowerPriority"


def test_errors_come_back_as_status(apis):
    scheduling, core, _ = apis
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("orphan").container("nginx:1.27", name="main")
                                              .spec(priorityClassName="platinum").manifest())
    body = status_of(e.value)
    assert (e.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == 'pods "orphan" is forbidden: no PriorityClass with name platinum was found'

    with pytest.raises(ApiException) as e:
        scheduling.create_priority_class(MakePriorityClass().name("too-high").value(2000000000).obj())
    body = status_of(e.value)
    assert (e.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"] == [{"reason": "FieldValueForbidden", "field": "value",
                                          "message": "Forbidden: maximum allowed value of a user defined priority "
                                                     "is 1000000000"}]
    assert body["details"]["group"] == "scheduling.k8s.io" and body["details"]["kind"] == "PriorityClass"

    with pytest.raises(ApiException) as e:
        scheduling.delete_priority_class("system-cluster-critical")
    body = status_of(e.value)
    assert body["message"] == ('priorityclasses.scheduling.k8s.io "system-cluster-critical" is forbidden: '
                               'this is a system priority class and cannot be deleted')

    scheduling.create_priority_class(MakePriorityClass().name("fallback").value(1).global_default(True).obj())
    try:
        with pytest.raises(ApiException) as e:
            scheduling.create_priority_class(MakePriorityClass().name("fallback-2").value(2).global_default(True).obj())
        assert status_of(e.value)["message"] == ('priorityclasses.scheduling.k8s.io "fallback-2" is forbidden: '
                                                 'PriorityClass fallback is already marked as default. '
                                                 'Only one default can exist')
        defaulted = core.create_namespaced_pod("default", MakePod().name("defaulted")
                                                          .container("nginx:1.27", name="main").manifest())
        assert (defaulted.spec.priority_class_name, defaulted.spec.priority) == ("fallback", 1)
    finally:
        scheduling.delete_priority_class("fallback")


def test_nominated_node_name_through_pods_status(apis):
    _, core, base = apis
    core.create_namespaced_pod("default", MakePod().name("nominee").container("nginx:1.27", name="main")
                                          .spec(schedulerName="example.com/manual").manifest())
    patched = core.patch_namespaced_pod_status("nominee", "default", {"status": {"nominatedNodeName": "worker-1"}})
    assert patched.status.nominated_node_name == "worker-1"
    table = requests.get(f"{base}/api/v1/namespaces/default/pods/nominee", headers={"Accept": TABLE_ACCEPT},
                         timeout=10).json()
    names = [c["name"] for c in table["columnDefinitions"]]
    assert table["rows"][0]["cells"][names.index("Nominated Node")] == "worker-1"
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_pod_status("nominee", "default", {"status": {"nominatedNodeName": "No_Such"}})
    assert e.value.status == 422
    assert status_of(e.value)["details"]["causes"][0]["field"] == "status.nominatedNodeName"


def test_discovery_openapi_and_table(apis):
    _, _, base = apis
    groups = {g["name"]: g for g in requests.get(f"{base}/apis", timeout=10).json()["groups"]}
    assert groups["scheduling.k8s.io"]["preferredVersion"] == {"groupVersion": "scheduling.k8s.io/v1", "version": "v1"}
    resources = requests.get(f"{base}/apis/scheduling.k8s.io/v1", timeout=10).json()["resources"]
    pc = {r["name"]: r for r in resources}["priorityclasses"]
    assert (pc["kind"], pc["namespaced"], pc["shortNames"], pc["singularName"]) == \
        ("PriorityClass", False, ["pc"], "priorityclass")
    assert set(pc["verbs"]) == {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    root = requests.get(f"{base}/openapi/v3", timeout=10).json()
    assert "apis/scheduling.k8s.io/v1" in root["paths"]
    doc = requests.get(f"{base}/openapi/v3/apis/scheduling.k8s.io/v1", timeout=10).json()
    op = doc["paths"]["/apis/scheduling.k8s.io/v1/priorityclasses"]["post"]
    assert op["x-kubernetes-group-version-kind"] == {"group": "scheduling.k8s.io", "version": "v1",
                                                     "kind": "PriorityClass"}
    table = requests.get(f"{base}/apis/scheduling.k8s.io/v1/priorityclasses", headers={"Accept": TABLE_ACCEPT},
                         timeout=10).json()
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [
        ("Name", "string"), ("Value", "integer"), ("Global-Default", "boolean"), ("Age", "string"),
        ("PreemptionPolicy", "string")]
    rows = {r["cells"][0]: r["cells"] for r in table["rows"]}
    assert rows["system-node-critical"][1:3] == [2000001000, False]
    assert rows["system-node-critical"][4] == "PreemptLowerPriority"
