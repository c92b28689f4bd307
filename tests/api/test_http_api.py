"""Raw HTTP on the Kubernetes-compatible API: discovery shapes, Status errors, watch framing,
Table output.  Shapes are those of k8s.io/apimachinery/pkg/apis/meta/v1."""
from __future__ import annotations

import json
import time

import pytest
import requests

from tests.builders import MakePod
from tests.conftest import wait_until

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
AGGREGATED_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                     "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


@pytest.fixture(scope="module")
def base(pilothouse_server, module_cluster):
    name = module_cluster("http-api", speed=20)
    return pilothouse_server.cluster_url(name)


def test_version_names_a_kubernetes_release(base):
    v = requests.get(f"{base}/version", timeout=10).json()
    assert v["major"] == "1" and v["minor"] == "36"
    assert v["gitVersion"].startswith("v1.36.")
    # Every apiserver since 1.33 reports its compatibility versions (KEP-4330).
    assert (v["emulationMajor"], v["emulationMinor"]) == ("1", "36")
    assert (v["minCompatibilityMajor"], v["minCompatibilityMinor"]) == ("1", "35")


def test_core_discovery(base):
    r = requests.get(f"{base}/api", timeout=10)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["kind"] == "APIVersions" and r.json()["versions"] == ["v1"]
    v1 = requests.get(f"{base}/api/v1", timeout=10).json()
    assert v1["kind"] == "APIResourceList" and v1["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in v1["resources"]}
    assert {"pods", "pods/status", "pods/binding", "nodes", "namespaces", "events"} <= set(by_name)
    pods = by_name["pods"]
    assert (pods["kind"], pods["namespaced"], pods["singularName"], pods["shortNames"]) == ("Pod", True, "pod", ["po"])
    assert set(pods["verbs"]) == {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    assert by_name["nodes"]["namespaced"] is False and by_name["nodes"]["shortNames"] == ["no"]
    assert by_name["namespaces"]["shortNames"] == ["ns"] and by_name["events"]["shortNames"] == ["ev"]
    assert by_name["pods/binding"]["kind"] == "Binding" and by_name["pods/binding"]["verbs"] == ["create"]


def test_group_discovery(base):
    groups = requests.get(f"{base}/apis", timeout=10).json()
    assert groups["kind"] == "APIGroupList"
    names = {g["name"]: g for g in groups["groups"]}
    assert names["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    apps = requests.get(f"{base}/apis/apps/v1", timeout=10).json()
    rs = {r["name"]: r for r in apps["resources"]}["replicasets"]
    assert (apps["groupVersion"], rs["kind"], rs["shortNames"]) == ("apps/v1", "ReplicaSet", ["rs"])
    group = requests.get(f"{base}/apis/apps", timeout=10).json()
    assert group["kind"] == "APIGroup" and group["name"] == "apps"


def test_aggregated_discovery_v2(base):
    """What kubectl 1.30+ asks for first: one APIGroupDiscoveryList for /api and one for /apis."""
    r = requests.get(f"{base}/apis", headers={"Accept": AGGREGATED_ACCEPT}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert r.headers["Vary"] == "Accept"
    doc = r.json()
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    groups = {g["metadata"]["name"]: g for g in doc["items"]}
    assert {"apps", "coordination.k8s.io", "scheduling.k8s.io", "authorization.k8s.io"} <= set(groups)
    [apps_v1] = groups["apps"]["versions"]
    assert (apps_v1["version"], apps_v1["freshness"]) == ("v1", "Current")
    rs = {r["resource"]: r for r in apps_v1["resources"]}["replicasets"]
    assert rs["responseKind"] == {"group": "apps", "version": "v1", "kind": "ReplicaSet"}
    assert (rs["scope"], rs["singularResource"], rs["shortNames"], rs["categories"]) == (
        "Namespaced", "replicaset", ["rs"], ["all"])
    subs = {s["subresource"]: s for s in rs["subresources"]}
    assert subs["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert subs["scale"]["verbs"] == ["get", "patch", "update"]

    core = requests.get(f"{base}/api", headers={"Accept": AGGREGATED_ACCEPT}, timeout=10).json()
    [group] = core["items"]
    assert "name" not in group["metadata"] and [v["version"] for v in group["versions"]] == ["v1"]
    pods = {r["resource"]: r for r in group["versions"][0]["resources"]}["pods"]
    assert (pods["scope"], pods["shortNames"], pods["categories"]) == ("Namespaced", ["po"], ["all"])
    subs = {s["subresource"]: s["responseKind"] for s in pods["subresources"]}
    assert subs == {"status": {"group": "", "version": "v1", "kind": "Pod"},
                    "binding": {"group": "", "version": "v1", "kind": "Binding"},
                    "eviction": {"group": "policy", "version": "v1", "kind": "Eviction"},
                    "log": {"group": "", "version": "v1", "kind": "Pod"},
                    "exec": {"group": "", "version": "v1", "kind": "PodExecOptions"},
                    "attach": {"group": "", "version": "v1", "kind": "PodAttachOptions"},
                    "portforward": {"group": "", "version": "v1", "kind": "PodPortForwardOptions"},
                    "ephemeralcontainers": {"group": "", "version": "v1", "kind": "Pod"}}
    assert {s["subresource"]: s["verbs"] for s in pods["subresources"]}["portforward"] == ["create", "get"]
    assert {s["subresource"]: s["verbs"] for s in pods["subresources"]}["attach"] == ["create", "get"]
    # The same resources as the legacy documents list.
    legacy = {r["name"] for r in requests.get(f"{base}/api/v1", timeout=10).json()["resources"] if "/" not in r["name"]}
    assert {r["resource"] for r in group["versions"][0]["resources"]} == legacy


@pytest.mark.parametrize("accept", [
    # kubectl 1.27-1.29 ask for v2beta1 only, which kube-apiserver no longer serves since 1.33.
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
    "application/json", "*/*", ""])
def test_other_discovery_requests_get_the_legacy_format(base, accept):
    r = requests.get(f"{base}/apis", headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"  # tells client-go to fall back
    assert r.json()["kind"] == "APIGroupList"


@pytest.mark.parametrize("path", ["/api/v1/widgets", "/apis/nope/v1", "/apis/nope", "/openapi/v3/api/v9", "/openapi/v1",
                                  "/api/v1/namespaces/default/pods/x/nope", "/api/v9"])
def test_unknown_paths_are_404_status(base, path):
    r = requests.get(base + path, timeout=10)
    assert r.status_code == 404
    body = r.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == ("Status", "Failure", "NotFound", 404)


def test_exec_over_plain_http_asks_for_an_upgrade(base):
    """pods/exec is a stream: without a WebSocket upgrade, kube-apiserver's 400; a SPDY upgrade
    (kubectl 1.29 and older) is told which kubectl speaks WebSocket."""
    r = requests.post(base + "/api/v1/namespaces/default/pods/x/exec?command=ls", timeout=10)
    assert (r.status_code, r.json()["message"]) == (400, "Upgrade request required")
    r = requests.post(base + "/api/v1/namespaces/default/pods/x/exec?command=ls", timeout=10,
                      headers={"Upgrade": "SPDY/3.1", "Connection": "Upgrade"})
    assert r.status_code == 400 and "use kubectl 1.30 or newer" in r.json()["message"]
    r = requests.post(base + "/api/v1/namespaces/default/pods/x/portforward", timeout=10)
    assert (r.status_code, r.json()["message"]) == (400, "Upgrade request required")


def test_unknown_cluster_is_404_status(pilothouse_server):
    for path in ("/version", "/api", "/api/v1/pods", "/api/v1/pods?watch=1"):
        r = requests.get(pilothouse_server.cluster_url("no-such") + path, timeout=10)
        assert r.status_code == 404, path
        assert r.json()["reason"] == "NotFound" and "no-such" in r.json()["message"]


def test_bad_json_is_400_and_wrong_method_405(base):
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", data="{nope", headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    r = requests.post(f"{base}/api/v1/namespaces/default/pods/x", json={}, timeout=10)
    assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"


def test_csrf_does_not_block_api_writes(base):
    pod = MakePod().name("nocsrf").container("nginx", name="c").manifest()
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", json=pod, timeout=10)
    assert r.status_code == 201, r.text


def test_table_output_for_kubectl(base):
    r = requests.get(f"{base}/api/v1/nodes", headers={"Accept": TABLE_ACCEPT}, timeout=10)
    table = r.json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Status", "Roles", "Age", "Version"]
    rows = {row["cells"][0]: row for row in table["rows"]}
    assert set(rows) == {"cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"}
    assert rows["cp-1"]["cells"][2] == "control-plane"
    assert rows["worker-1"]["object"]["kind"] == "PartialObjectMetadata"
    plain = requests.get(f"{base}/api/v1/nodes", timeout=10).json()
    assert plain["kind"] == "NodeList"
    bare = requests.get(f"{base}/api/v1/nodes", params={"includeObject": "None"}, headers={"Accept": TABLE_ACCEPT},
                        timeout=10).json()
    assert bare["kind"] == "Table" and all("object" not in row for row in bare["rows"])
    bad = requests.get(f"{base}/api/v1/nodes", params={"includeObject": "Everything"}, headers={"Accept": TABLE_ACCEPT},
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["message"] == 'unrecognized includeObject value: "Everything"'


def test_a_large_list_in_chunks_as_kubectl_pages_it(base):
    """kubectl asks for 500 rows at a time and follows `continue`; every row arrives once, in
    key order, and the server's answers carry no more than each page."""
    for i in range(12):
        pod = MakePod().name(f"chunk-{i:02d}").labels({"chunk": "yes"}).container("nginx", name="c").manifest()
        assert requests.post(f"{base}/api/v1/namespaces/default/pods", json=pod, timeout=10).status_code == 201
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": "5", "labelSelector": "chunk=yes", **({"continue": token} if token else {})}
        table = requests.get(f"{base}/api/v1/pods", params=params, headers={"Accept": TABLE_ACCEPT}, timeout=10).json()
        assert table["kind"] == "Table" and len(table["rows"]) <= 5
        seen += [row["cells"][0] for row in table["rows"]]
        pages += 1
        token = table["metadata"].get("continue")
        if not token:
            break
    assert seen == [f"chunk-{i:02d}" for i in range(12)] and pages == 3


def test_watch_streams_newline_delimited_events_and_honours_timeout(base):
    listed = requests.get(f"{base}/api/v1/namespaces/default/pods", timeout=10).json()
    rv = listed["metadata"]["resourceVersion"]
    pod = MakePod().name("streamed").container("nginx", name="c").manifest()
    assert requests.post(f"{base}/api/v1/namespaces/default/pods", json=pod, timeout=10).status_code == 201
    started = time.monotonic()
    with requests.get(f"{base}/api/v1/namespaces/default/pods",
                      params={"watch": "true", "resourceVersion": rv, "fieldSelector": "metadata.name=streamed",
                              "timeoutSeconds": "3"}, stream=True, timeout=15) as r:
        assert r.status_code == 200
        events = [json.loads(line) for line in r.iter_lines() if line]
    elapsed = time.monotonic() - started
    assert 2.5 <= elapsed < 10, "the stream ends when timeoutSeconds runs out"
    assert events[0]["type"] == "ADDED"
    assert all(e["object"]["kind"] == "Pod" and e["object"]["metadata"]["name"] == "streamed" for e in events)
    assert any(e["type"] == "MODIFIED" for e in events), "the pod moves on (scheduled, running) at 50x"


def test_watch_without_resource_version_starts_with_current_objects(base):
    with requests.get(f"{base}/api/v1/nodes", params={"watch": "1", "timeoutSeconds": "1"}, stream=True, timeout=15) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    added = {e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"}
    assert added == {"cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"}
    assert all(e["object"]["kind"] == "Node" and e["object"]["apiVersion"] == "v1" for e in events)


def test_quiet_watch_sends_headers_at_once(base):
    """client-go blocks until a watch's response headers arrive (kubectl delete waits on such a
    watch), so they must not wait for the first event."""
    listed = requests.get(f"{base}/api/v1/namespaces/default/pods", timeout=10).json()
    started = time.monotonic()
    with requests.get(f"{base}/api/v1/namespaces/default/pods",
                      params={"watch": "true", "fieldSelector": "metadata.name=nobody-here",
                              "resourceVersion": listed["metadata"]["resourceVersion"], "timeoutSeconds": "10"},
                      stream=True, timeout=(5, 15)) as r:
        assert r.status_code == 200
        assert time.monotonic() - started < 3
        assert r.headers["Content-Type"] == "application/json"


def test_openapi_v3_lists_field_validation_for_kubectl(base):
    root = requests.get(f"{base}/openapi/v3", timeout=10).json()
    assert set(root["paths"]) >= {"api/v1", "apis/apps/v1"}
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/clusters/http-api/openapi/v3/apis/apps/v1?hash=")
    host = base.split("/clusters/")[0]
    doc = requests.get(host + url, timeout=10).json()
    assert doc["openapi"].startswith("3.")
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/replicasets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "ReplicaSet"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    assert requests.get(f"{base}/openapi/v3/apis/nope/v1", timeout=10).status_code == 404


def test_openapi_v2_is_a_swagger_document_in_protobuf(base):
    r = requests.get(f"{base}/openapi/v2", timeout=10,
                     headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    # Document.swagger (field 1, length-delimited) = "2.0", then Document.info (field 2), and
    # the definitions (tests/api/test_openapi.py decodes them).
    assert r.content.startswith(b"\x0a\x032.0\x12")
    assert b"io.k8s.api.core.v1.Pod" in r.content
