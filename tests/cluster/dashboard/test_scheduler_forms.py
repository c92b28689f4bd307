"""The dashboard's scheduling fields: the pod and ReplicaSet forms' tolerations, node affinity,
pod (anti-)affinity, topology spread and priority (cluster/dashboard/forms.py), and the node
label / taint editor (views.edit_node -> services.set_node_labels_and_taints), in-process
against a real simulation worker."""
from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import AsyncClient

from cluster import services
from cluster.dashboard import forms

BASE = "/clusters/demo/dashboard"


def query(**fields) -> QueryDict:
    """A form post as Django hands it to a view: repeated names for the rows."""
    q = QueryDict(mutable=True)
    for name, value in fields.items():
        q.setlist(name, value if isinstance(value, list) else [value])
    return q


# -- forms ------------------------------------------------------------------------------------
def test_pod_with_every_scheduling_field():
    pod = forms.pod_from(query(
        name="gpu-job", labels="app=gpu, tier=batch", cpu="500m",
        tol_key=["dedicated", "", ""], tol_operator=["Equal", "Exists", "Equal"], tol_value=["gpu", "", ""],
        tol_effect=["NoSchedule", "NoExecute", ""], tol_seconds=["", "60", ""],
        na_mode=["required", "required", "preferred"], na_weight=["", "", "20"],
        na_key=["topology.kubernetes.io/zone", "kubernetes.io/arch", "disktype"],
        na_operator=["In", "Exists", "In"], na_values=["zone-a, zone-b", "", "ssd"],
        pa_type=["podAntiAffinity", "podAffinity", ""], pa_mode=["required", "preferred", "required"],
        pa_weight=["", "10", ""], pa_topology_key=["kubernetes.io/hostname", "topology.kubernetes.io/zone",
                                                  "kubernetes.io/hostname"],
        pa_selector=["", "app in (cache,db), !canary", ""],
        tsc_topology_key=["topology.kubernetes.io/zone", ""], tsc_max_skew=["2", "1"],
        tsc_when=["ScheduleAnyway", "DoNotSchedule"], tsc_selector=["app=gpu", ""],
        priority_class="high",
    ))
    assert pod["metadata"] == {"name": "gpu-job", "namespace": "default", "labels": {"app": "gpu", "tier": "batch"}}
    spec = pod["spec"]
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
        # An empty key with Exists tolerates every taint (of that effect).
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
    ]
    assert spec["affinity"]["nodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a", "zone-b"]},
            {"key": "kubernetes.io/arch", "operator": "Exists"},
        ]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}},
        ],
    }
    # An empty selector: pods like this one (its own labels).
    assert spec["affinity"]["podAntiAffinity"] == {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "gpu", "tier": "batch"}}, "topologyKey": "kubernetes.io/hostname"}]}
    assert spec["affinity"]["podAffinity"] == {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["cache", "db"]},
                                                   {"key": "canary", "operator": "DoesNotExist"}]},
            "topologyKey": "topology.kubernetes.io/zone"}}]}
    assert spec["topologySpreadConstraints"] == [
        {"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": {"app": "gpu"}}}]
    assert spec["priorityClassName"] == "high"


def test_empty_rows_add_nothing():
    # What the form posts untouched: one row per group, with its defaults.
    pod = forms.pod_from(query(name="plain", tol_key="", tol_operator="Equal", tol_value="", tol_effect="",
                               tol_seconds="", na_mode="required", na_weight="", na_key="", na_operator="In",
                               na_values="", pa_type="", pa_mode="required", pa_weight="",
                               pa_topology_key="kubernetes.io/hostname", pa_selector="", tsc_topology_key="",
                               tsc_max_skew="1", tsc_when="DoNotSchedule", tsc_selector="", priority_class=""))
    assert pod["metadata"] == {"name": "plain", "namespace": "default"}
    assert set(pod["spec"]) == {"containers"}


@pytest.mark.parametrize("text, selector", [
    # metav1.ParseToLabelSelector: = and == to matchLabels, != to NotIn, set-based to expressions.
    ("app=web", {"matchLabels": {"app": "web"}}),
    ("app==web,tier=front", {"matchLabels": {"app": "web", "tier": "front"}}),
    ("app!=web", {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}),
    ("env notin (dev, test)", {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev", "test"]}]}),
    ("gpu, !spot", {"matchExpressions": [{"key": "gpu", "operator": "Exists"},
                                         {"key": "spot", "operator": "DoesNotExist"}]}),
])
def test_label_selector_strings(text, selector):
    assert forms.label_selector(text) == selector


def test_replicaset_template_spreads_its_own_pods():
    rs = forms.replicaset_from(query(name="web", replicas="3", pa_type="podAntiAffinity", pa_mode="required",
                                     pa_topology_key="kubernetes.io/hostname", pa_selector="",
                                     tsc_topology_key="topology.kubernetes.io/zone", tsc_max_skew="1",
                                     tsc_when="DoNotSchedule", tsc_selector=""))
    spec = rs["spec"]["template"]["spec"]
    own = {"matchLabels": {"app": "web"}}
    assert spec["affinity"] == {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": own, "topologyKey": "kubernetes.io/hostname"}]}}
    assert spec["topologySpreadConstraints"] == [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                  "whenUnsatisfiable": "DoNotSchedule", "labelSelector": own}]
    assert rs["spec"]["selector"] == own


@pytest.mark.parametrize("fields, message", [
    ({"tol_key": "a", "tol_seconds": "soon"}, 'tolerations[0].tolerationSeconds: "soon" is not a whole number'),
    ({"tsc_topology_key": "zone", "tsc_max_skew": "one", "labels": "app=x"},
     'topologySpreadConstraints[0].maxSkew: "one" is not a whole number'),
    ({"na_key": "disk", "na_mode": "preferred", "na_weight": "heavy"}, "weight"),
    ({"pa_type": "podAntiAffinity", "pa_topology_key": "kubernetes.io/hostname"},
     "podAntiAffinity.labelSelector: give the labels"),
    ({"pa_type": "podAffinity", "pa_selector": "app in (a"}, "podAffinity.labelSelector: unable to parse"),
    ({"labels": "app"}, 'labels: "app" is not key=value'),
])
def test_what_cannot_be_an_object_is_a_form_error(fields, message):
    with pytest.raises(forms.FormError, match=message.replace("(", r"\(").replace("[", r"\[")):
        forms.pod_from(query(name="x", **fields))


def test_taints_in_kubectl_syntax():
    assert forms.taints("dedicated=gpu:NoSchedule\nspot:PreferNoSchedule, maintenance=now:NoExecute\n") == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
        {"key": "spot", "effect": "PreferNoSchedule"},
        {"key": "maintenance", "value": "now", "effect": "NoExecute"},
    ]
    assert forms.taints("  ") == []
    assert [forms.format_taint(t) for t in forms.taints("a=b:NoSchedule\nc:NoExecute")] == ["a=b:NoSchedule", "c:NoExecute"]
    with pytest.raises(forms.FormError, match='"dedicated=gpu" is not key=value:Effect'):
        forms.taints("dedicated=gpu")
    assert forms.key_values("zone=a\ndisk=ssd", "labels") == {"zone": "a", "disk": "ssd"}


# -- views, against a running worker ------------------------------------------------------------
def node_get(name: str) -> dict:
    return {"verb": "get", "group": "", "version": "v1", "resource": "nodes", "namespace": None, "name": name,
            "subresource": None, "body": None, "patch_type": None, "query": {}}


@pytest.mark.asyncio
async def test_edit_node_labels_and_taints(worker):
    client = AsyncClient()
    before = (await services.cluster_api("demo", node_get("worker-1")))["body"]
    labels = dict(before["metadata"]["labels"], **{"topology.kubernetes.io/zone": "zone-a"})
    text = "\n".join(f"{k}={v}" for k, v in labels.items())
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-1", "labels": text,
                                                 "taints": "dedicated=gpu:NoSchedule"})
    assert r.status_code == 200 and b"result ok" in r.content, r.content
    assert b"dedicated=gpu:NoSchedule" in r.content
    node = (await services.cluster_api("demo", node_get("worker-1")))["body"]
    assert node["metadata"]["labels"] == labels
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]

    # A label left out is removed; no taints clears them.
    del labels["topology.kubernetes.io/zone"]
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-1", "labels": ",".join(f"{k}={v}" for k, v in labels.items()),
                                                 "taints": ""})
    assert r.status_code == 200, r.content
    node = (await services.cluster_api("demo", node_get("worker-1")))["body"]
    assert node["metadata"]["labels"] == labels and not node["spec"].get("taints")


@pytest.mark.asyncio
async def test_edit_node_errors_change_nothing(worker):
    client = AsyncClient()
    before = (await services.cluster_api("demo", node_get("worker-2")))["body"]
    # The API server judges the effect: 422 Invalid, in its words.
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-2", "labels": "a=b", "taints": "x=y:Sometimes"})
    assert r.status_code == 422 and b"result error" in r.content, r.content
    assert b"spec.taints[0].effect" in r.content and b"Unsupported value" in r.content
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-2", "labels": "bad label=x", "taints": ""})
    assert r.status_code == 422 and b"metadata.labels" in r.content, r.content
    after = (await services.cluster_api("demo", node_get("worker-2")))["body"]
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert after["spec"].get("taints") == before["spec"].get("taints")
    # Refused before asking the API: no node, a taint without an effect.
    r = await client.post(f"{BASE}/nodes/edit", {"node": "", "labels": "", "taints": ""})
    assert r.status_code == 400 and b"pick a node" in r.content
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-2", "labels": "", "taints": "dedicated"})
    assert r.status_code == 400 and b"key=value:Effect" in r.content
    r = await client.post(f"{BASE}/nodes/edit", {"node": "worker-99", "labels": "", "taints": ""})
    assert r.status_code == 404 and b"worker-99" in r.content


@pytest.mark.asyncio
async def test_an_unchanged_taint_keeps_its_time_added(worker):
    patch = {"verb": "patch", "group": "", "version": "v1", "resource": "nodes", "namespace": None,
             "name": "worker-3", "subresource": None, "patch_type": "application/merge-patch+json", "query": {},
             "body": {"spec": {"taints": [{"key": "maintenance", "effect": "NoExecute",
                                           "timeAdded": "2026-01-01T00:00:05Z"}]}}}
    assert (await services.cluster_api("demo", patch))["code"] == 200
    labels = (await services.cluster_api("demo", node_get("worker-3")))["body"]["metadata"]["labels"]
    resp = await services.set_node_labels_and_taints(
        "demo", "worker-3", labels, [{"key": "maintenance", "effect": "NoExecute"},
                                     {"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    assert resp["code"] == 200, resp
    assert resp["body"]["spec"]["taints"] == [
        {"key": "maintenance", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:05Z"},
        {"key": "dedicated", "value": "db", "effect": "NoSchedule"}]


@pytest.mark.asyncio
async def test_create_pod_with_scheduling_fields_and_api_errors(worker):
    client = AsyncClient()
    r = await client.post(f"{BASE}/pods", {"name": "tolerant", "labels": "app=tolerant", "tol_key": "dedicated",
                                           "tol_operator": "Equal", "tol_value": "gpu", "tol_effect": "NoSchedule",
                                           "pa_type": "podAntiAffinity", "pa_mode": "required",
                                           "pa_topology_key": "kubernetes.io/hostname", "pa_selector": ""})
    assert r.status_code == 200 and b"default/tolerant created" in r.content, r.content
    get = {"verb": "get", "group": "", "version": "v1", "resource": "pods", "namespace": "default",
           "name": "tolerant", "subresource": None, "body": None, "patch_type": None, "query": {}}
    spec = (await services.cluster_api("demo", get))["body"]["spec"]
    assert {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"} in spec["tolerations"]
    assert spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0] == {
        "labelSelector": {"matchLabels": {"app": "tolerant"}}, "topologyKey": "kubernetes.io/hostname"}

    # The API refuses, in its words, and nothing is created.
    r = await client.post(f"{BASE}/pods", {"name": "bad-tol", "tol_key": "k", "tol_operator": "Exists",
                                           "tol_value": "v"})
    assert r.status_code == 422 and b"tolerations[0].operator" in r.content, r.content
    r = await client.post(f"{BASE}/pods", {"name": "no-class", "priority_class": "no-such-class"})
    assert r.status_code == 403 and b"no PriorityClass with name no-such-class was found" in r.content, r.content
    r = await client.post(f"{BASE}/pods", {"name": "bad-skew", "tsc_topology_key": "zone", "tsc_max_skew": "x",
                                           "labels": "app=x"})
    assert r.status_code == 400 and b"maxSkew" in r.content
    for name in ("bad-tol", "no-class", "bad-skew"):
        resp = await services.cluster_api("demo", dict(get, name=name))
        assert resp["code"] == 404, (name, resp)


@pytest.mark.asyncio
async def test_create_replicaset_with_anti_affinity(worker):
    client = AsyncClient()
    r = await client.post(f"{BASE}/replicasets", {"name": "spread", "replicas": "2", "pa_type": "podAntiAffinity",
                                                  "pa_mode": "required", "pa_topology_key": "kubernetes.io/hostname"})
    assert r.status_code == 200 and b"replicaset default/spread created (2 replicas)" in r.content, r.content
    get = {"verb": "get", "group": "apps", "version": "v1", "resource": "replicasets", "namespace": "default",
           "name": "spread", "subresource": None, "body": None, "patch_type": None, "query": {}}
    template = (await services.cluster_api("demo", get))["body"]["spec"]["template"]["spec"]
    assert template["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "kubernetes.io/hostname"}]


@pytest.mark.asyncio
async def test_cluster_page_has_the_scheduler_panel_and_fields(worker):
    html = (await AsyncClient().get("/clusters/demo/")).content.decode()
    assert 'id="scheduler-panel"' in html and 'data-api="/clusters/demo/sim/v1/scheduler"' in html
    assert 'id="node-edit-form"' in html and 'data-node-url="/clusters/demo/api/v1/nodes/"' in html
    # Both forms carry the scheduling fields.
    assert html.count('name="tol_key"') == 2 and html.count('name="tsc_topology_key"') == 2
    assert html.count('name="priority_class"') == 2
