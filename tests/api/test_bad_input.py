"""Bad input against the real server, over HTTP: every case is refused as kube-apiserver refuses
it (its code, reason and message), the answer is a Kubernetes `Status`, nothing is stored, and
the server still answers.  The cases are the ones a fuzz run of issue 8 found answered 500, HTML,
or accepted."""
from __future__ import annotations

import json

import pytest
import requests

from sim.api.quantity import QUANTITY_ERROR
from tests.builders import MakePod, MakeReplicaSet
from tests.conftest import wait_nodes_ready, wait_until


POD_TYPE_ERROR = 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal '
RS_TYPE_ERROR = 'ReplicaSet in version "v1" cannot be handled as a ReplicaSet: json: cannot unmarshal '


@pytest.fixture(scope="module")
def api(pilothouse_server, module_cluster):
    name = module_cluster("bad-input", speed=20)
    # Nodes Ready first: the tests compare the whole cluster before and after each bad request,
    # and the not-ready taints come off while the CNI plugin starts.
    wait_nodes_ready(pilothouse_server, name)
    base = pilothouse_server.cluster_url(name)
    pod = MakePod().name("keep").container("nginx", name="c").manifest()
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", json=pod, timeout=30)
    assert r.status_code == 201, r.text
    rs = (MakeReplicaSet().name("keep-rs").replicas(1).selector({"app": "keep-rs"})
          .template(MakePod().labels({"app": "keep-rs"}).container("nginx", name="c")).manifest())
    r = requests.post(f"{base}/apis/apps/v1/namespaces/default/replicasets", json=rs, timeout=30)
    assert r.status_code == 201, r.text

    def settled():  # both pods bound, so that only a refused write could change what is stored
        pods = requests.get(f"{base}/api/v1/namespaces/default/pods", timeout=30).json()["items"]
        return len(pods) == 2 and all(p["spec"].get("nodeName") for p in pods)
    wait_until(settled, timeout=60, message="the fixture's pods to be bound")
    return base


def stored(base) -> dict:
    """What the refused writes must leave alone: every pod's, ReplicaSet's, PriorityClass's and
    namespace's identity and spec, and the nodes' labels and taints."""
    out = {}
    for path in ("/api/v1/pods", "/apis/apps/v1/replicasets", "/apis/scheduling.k8s.io/v1/priorityclasses",
                 "/api/v1/namespaces", "/api/v1/nodes"):
        r = requests.get(base + path, timeout=30)
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            md = item["metadata"]
            key = (path, md.get("namespace"), md["name"])
            if path.endswith("nodes"):
                out[key] = (md.get("labels"), (item.get("spec") or {}).get("taints"))
            else:
                out[key] = (md["uid"], md.get("generation"), item.get("spec"), md.get("labels"),
                            md.get("annotations"), md.get("ownerReferences"))
    return out


def send(base, method, path, body=None, raw=None, content_type="application/json", headers=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    h = {"Content-Type": content_type} if data is not None else {}
    h.update(headers or {})
    return requests.request(method, base + path, data=data, headers=h, timeout=30)


def assert_refused(base, before, r, code, reason, message=None, contains=None):
    assert r.status_code == code, r.text
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    body = r.json()
    assert (body["kind"], body["status"], body["code"], body["reason"]) == ("Status", "Failure", code, reason), body
    if message is not None:
        assert body["message"] == message
    if contains is not None:
        assert contains in body["message"], body["message"]
    assert stored(base) == before
    assert requests.get(base + "/version", timeout=10).status_code == 200


PODS = "/api/v1/namespaces/default/pods"
RSS = "/apis/apps/v1/namespaces/default/replicasets"

# (method, path, body, code, reason, exact message)
DECODING_CASES = {
    "containers is a number": (
        "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "spec": {"containers": 1}}, 400, "BadRequest",
        POD_TYPE_ERROR + "number into Go struct field PodSpec.spec.containers of type []v1.Container"),
    "selector is a number": (
        "POST", RSS, (MakeReplicaSet().name("bad-rs").replicas(1).selector({"app": "bad-rs"})
                      .template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c"))
                      .spec(selector=1).manifest()), 400, "BadRequest",
        RS_TYPE_ERROR + "number into Go struct field ReplicaSetSpec.spec.selector of type v1.LabelSelector"),
    "resources is a string": (
        "POST", PODS, (MakePod().name("bad").container("nginx", name="c")
                       .spec(containers=[{"name": "c", "image": "nginx", "resources": "str"}])
                       .manifest()), 400, "BadRequest",
        POD_TYPE_ERROR + "string into Go struct field Container.spec.containers.resources of type "
                         "v1.ResourceRequirements"),
    "ownerReferences is a number": (
        "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "metadata": {"name": "bad", "ownerReferences": 1}}, 400, "BadRequest",
        POD_TYPE_ERROR + "number into Go struct field ObjectMeta.metadata.ownerReferences of type "
                         "[]v1.OwnerReference"),
    "replicas 1e30": (
        "POST", RSS, (MakeReplicaSet().name("bad-rs").replicas(1e30).selector({"app": "bad-rs"})
                      .template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c"))
                      .manifest()), 400, "BadRequest",
        RS_TYPE_ERROR + "number 1e+30 into Go struct field ReplicaSetSpec.spec.replicas of type int32"),
    "replicas above int32": (
        "POST", RSS, (MakeReplicaSet().name("bad-rs").replicas(2147483648).selector({"app": "bad-rs"})
                      .template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c"))
                      .manifest()), 400, "BadRequest",
        RS_TYPE_ERROR + "number 2147483648 into Go struct field ReplicaSetSpec.spec.replicas of type int32"),
    "replicas 99999999999": (
        "POST", RSS, (MakeReplicaSet().name("bad-rs").replicas(99999999999).selector({"app": "bad-rs"})
                      .template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c"))
                      .manifest()), 400, "BadRequest",
        RS_TYPE_ERROR + "number 99999999999 into Go struct field ReplicaSetSpec.spec.replicas of type int32"),
    "a float for an int32": (
        "POST", PODS, (MakePod().name("bad").container("nginx", name="c")
                       .spec(containers=[{"name": "c", "image": "nginx", "ports": [{"containerPort": 1.5}]}])
                       .manifest()),
        400, "BadRequest",
        POD_TYPE_ERROR + "number 1.5 into Go struct field ContainerPort.spec.containers.ports.containerPort "
                         "of type int32"),
    "terminationGracePeriodSeconds 10^30": (
        "POST", PODS, (MakePod().name("bad").container("nginx", name="c")
                       .spec(terminationGracePeriodSeconds=10 ** 30).manifest()), 400, "BadRequest",
        POD_TYPE_ERROR + f"number {10 ** 30} into Go struct field PodSpec.spec.terminationGracePeriodSeconds "
                         "of type int64"),
    "a quantity with a space inside": (
        "POST", PODS, MakePod().name("bad").container("nginx", name="c").spec(containers=[{"name": "c", "image": "nginx",
                                       "resources": {"requests": {"cpu": "1 m"}}}]).manifest(), 400, "BadRequest",
        f'Pod in version "v1" cannot be handled as a Pod: {QUANTITY_ERROR}'),
    "a quantity with a bad suffix": (
        "POST", PODS, MakePod().name("bad").container("nginx", name="c").spec(containers=[{"name": "c", "image": "nginx",
                                       "resources": {"requests": {"memory": "1e"}}}]).manifest(), 400, "BadRequest",
        'Pod in version "v1" cannot be handled as a Pod: unable to parse quantity\'s suffix'),
    "apiVersion v2": (
        "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "apiVersion": "v2"}, 400, "BadRequest",
        "the API version in the data (v2) does not match the expected API version (v1)"),
    "apiVersion foo/v1": (
        "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "apiVersion": "foo/v1"}, 400, "BadRequest",
        "the API version in the data (foo/v1) does not match the expected API version (v1)"),
    "kind mismatch": (
        "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "kind": "Service"}, 400, "BadRequest",
        "the object provided is unrecognized (must be of type Pod)"),
    "binding target is a number": (
        "POST", PODS + "/keep/binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "keep"},
                                         "target": 5}, 400, "BadRequest",
        'Binding in version "v1" cannot be handled as a Binding: json: cannot unmarshal number into Go struct '
        "field Binding.target of type v1.ObjectReference"),
    "DeleteOptions preconditions is a string": (
        "DELETE", PODS + "/keep", {"preconditions": "x"}, 400, "BadRequest",
        "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of type v1.Preconditions"),
    "scale replicas is a string": (
        "PUT", RSS + "/keep-rs/scale", {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                        "metadata": {"name": "keep-rs"}, "spec": {"replicas": "9"}},
        400, "BadRequest",
        'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field '
        "ScaleSpec.spec.replicas of type int32"),
    "a merge patch making replicas huge": (
        "PATCH", RSS + "/keep-rs", {"spec": {"replicas": 2147483648}}, 400, "BadRequest",
        RS_TYPE_ERROR + "number 2147483648 into Go struct field ReplicaSetSpec.spec.replicas of type int32"),
    "a status update with the wrong type": (
        "PUT", PODS + "/keep/status", {**MakePod().name("keep").container("nginx", name="c").manifest(), "status": {"conditions": "Ready"}}, 400, "BadRequest",
        POD_TYPE_ERROR + "string into Go struct field PodStatus.status.conditions of type []v1.PodCondition"),
}


@pytest.mark.parametrize("case", list(DECODING_CASES))
def test_a_body_that_does_not_decode_is_a_400(api, case):
    method, path, body, code, reason, message = DECODING_CASES[case]
    before = stored(api)
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    r = send(api, method, path, body, content_type=content_type)
    assert_refused(api, before, r, code, reason, message)


def test_template_null_and_tolerations_null_are_zero_values(api):
    # A null is the Go zero value: not a decoding error.  A template without labels then fails
    # validation (422), and a pod with tolerations: null is an ordinary pod.
    before = stored(api)
    r = send(api, "POST", RSS, {**MakeReplicaSet().name("bad-rs").replicas(1).selector({"app": "bad-rs"}).template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c")).manifest(), "spec": {**MakeReplicaSet().name("bad-rs").replicas(1).selector({"app": "bad-rs"}).template(MakePod().labels({"app": "bad-rs"}).container("nginx", name="c")).manifest()["spec"], "template": None}})
    assert_refused(api, before, r, 422, "Invalid", contains="`selector` does not match template `labels`")
    r = send(api, "POST", PODS, MakePod().name("null-tolerations").container("nginx", name="c")
                                .spec(tolerations=None).manifest())
    assert r.status_code == 201, r.text
    assert requests.delete(f"{api}{PODS}/null-tolerations?gracePeriodSeconds=0", timeout=30).status_code == 200


SYNTAX_CASES = {
    "NaN": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": NaN}',
            "invalid character 'N' looking for beginning of value"),
    "Infinity": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "generation": Infinity}}',
                 "invalid character 'I' looking for beginning of value"),
    "nested 1,000 deep": ('{"metadata": ' + "[" * 1000 + "]" * 1000 + "}",
                          "exceeded max depth: objects and arrays may nest at most 500 levels deep"),
    "nested 100,000 deep": ("[" * 100000, "exceeded max depth: objects and arrays may nest at most 500 levels deep"),
    "truncated": ('{"apiVersion": "v1"', "unexpected end of JSON input"),
}


@pytest.mark.parametrize("case", list(SYNTAX_CASES))
def test_a_body_that_is_not_json_is_a_400_naming_the_syntax_error(api, case):
    raw, why = SYNTAX_CASES[case]
    before = stored(api)
    r = send(api, "POST", PODS, raw=raw)
    assert_refused(api, before, r, 400, "BadRequest", contains=why)
    assert r.json()["message"].startswith("the object provided is unrecognized (must be of type Pod): "
                                          "couldn't get version/kind; json parse error: ")


@pytest.mark.parametrize(("query", "message"), [
    ("limit=abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("limit=99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ("timeoutSeconds=soon", 'strconv.ParseInt: parsing "soon": invalid syntax'),
    ("resourceVersion=abc", 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'),
    ("watch=true&timeoutSeconds=1.5", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
    ("fieldValidation=Sloppy", None),
])
def test_a_malformed_query_parameter_is_a_400(api, query, message):
    before = stored(api)
    r = requests.get(f"{api}{PODS}?{query}", timeout=30)
    if message is None:  # fieldValidation matters on writes only
        r = send(api, "POST", f"{PODS}?{query}", MakePod().name("fv").container("nginx", name="c").manifest())
        message = "fieldValidation parameter unsupported: Sloppy"
    assert_refused(api, before, r, 400, "BadRequest", message)


def test_a_malformed_grace_period_is_a_400(api):
    before = stored(api)
    r = requests.delete(f"{api}{PODS}/keep?gracePeriodSeconds=later", timeout=30)
    assert_refused(api, before, r, 400, "BadRequest", 'strconv.ParseInt: parsing "later": invalid syntax')
    r = send(api, "DELETE", f"{PODS}/keep", {"gracePeriodSeconds": 1.5})
    assert_refused(api, before, r, 400, "BadRequest",
                   "json: cannot unmarshal number 1.5 into Go struct field DeleteOptions.gracePeriodSeconds of type int64")


def test_a_post_of_a_namespaced_kind_to_the_all_namespaces_collection_is_405(api):
    before = stored(api)
    r = send(api, "POST", "/api/v1/pods", MakePod().name("bad").container("nginx", name="c").manifest())
    assert_refused(api, before, r, 405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource")
    r = send(api, "DELETE", "/apis/apps/v1/replicasets")
    assert_refused(api, before, r, 405, "MethodNotAllowed")


def test_a_body_above_3_mib_is_a_413(api):
    before = stored(api)
    big = (MakePod().name("bad").container("nginx", name="c")
           .spec(containers=[{"name": "c", "image": "x" * (3 * 1024 * 1024)}]).manifest())
    r = send(api, "POST", PODS, big)
    assert_refused(api, before, r, 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")


def test_a_body_of_another_media_type_is_a_415(api):
    before = stored(api)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = send(api, "POST", PODS, MakePod().name("bad")
                                    .container("nginx", name="c").manifest(), content_type=content_type)
        assert_refused(api, before, r, 415, "UnsupportedMediaType",
                       contains="the body of the request was in an unknown format - accepted media types include: "
                                "application/json")
    # A browser form's multipart body (well formed: Twisted refuses a malformed one itself).
    r = requests.post(api + PODS, files={"pod": ("pod.json", json.dumps(MakePod().name("bad").container("nginx", name="c").manifest()), "application/json")}, timeout=30)
    assert_refused(api, before, r, 415, "UnsupportedMediaType")


def test_a_cross_origin_write_is_403_and_a_same_origin_one_is_served(api, pilothouse_server):
    before = stored(api)
    r = send(api, "POST", PODS, MakePod().name("bad")
                                .container("nginx", name="c").manifest(), headers={"Origin": "http://evil.example"})
    assert_refused(api, before, r, 403, "Forbidden", contains="cross-origin request from http://evil.example")
    r = send(api, "POST", PODS, MakePod().name("same-origin")
                                .container("nginx", name="c").manifest(), headers={"Origin": pilothouse_server.base})
    assert r.status_code == 201, r.text
    assert requests.delete(f"{api}{PODS}/same-origin?gracePeriodSeconds=0", timeout=30).status_code == 200
    # Reads are not refused: a cross-origin GET cannot change anything.
    assert requests.get(f"{api}{PODS}", headers={"Origin": "http://evil.example"}, timeout=30).status_code == 200


@pytest.mark.parametrize("path", ["/clusters/{name}/sim/v1/nodes/worker-1/kill", "/clusters/{name}/sim/v1/clock",
                                  "/sim/v1/clusters"])
def test_a_cross_site_write_to_the_control_api_is_refused(api, pilothouse_server, path):
    name = api.rsplit("/", 1)[1]
    url = pilothouse_server.base + path.format(name=name)
    before = stored(api)
    r = requests.post(url, data='{"speed": 1}', headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
                      timeout=30)
    assert_refused(api, before, r, 403, "Forbidden")
    assert r.json()["error"]["code"] == 403
    r = requests.post(url, data='{"speed": 1}', headers={"Content-Type": "text/plain"}, timeout=30)
    assert_refused(api, before, r, 415, "UnsupportedMediaType")
    r = requests.post(url, data={"speed": "1"}, timeout=30)  # an HTML form's body
    assert_refused(api, before, r, 415, "UnsupportedMediaType")


@pytest.mark.parametrize("path", ["/clusters/{name}/api/v1/namespaces/default/pods/keep/logs/x/y",
                                  "/clusters/Not_A_Cluster/api/v1/pods", "/clusters/no-such-cluster/api/v1/pods"])
def test_an_unserved_url_is_a_404_status_not_html(api, pilothouse_server, path):
    name = api.rsplit("/", 1)[1]
    before = stored(api)
    r = requests.get(pilothouse_server.base + path.format(name=name), timeout=30)
    assert_refused(api, before, r, 404, "NotFound")


def test_annotations_above_256_kib_are_invalid(api):
    before = stored(api)
    r = send(api, "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "metadata": {"name": "bad", "annotations": {"a": "x" * 262144}}})
    assert_refused(api, before, r, 422, "Invalid",
                   'Pod "bad" is invalid: metadata.annotations: Too long: must have at most 262144 bytes')


def test_a_taint_value_that_is_no_label_value_is_invalid(api):
    before = stored(api)
    r = send(api, "PATCH", "/api/v1/nodes/worker-1",
             {"spec": {"taints": [{"key": "k", "value": "<b>bold</b>", "effect": "NoSchedule"}]}},
             content_type="application/merge-patch+json")
    assert_refused(api, before, r, 422, "Invalid", contains='spec.taints[0].value: Invalid value: "<b>bold</b>"')


@pytest.mark.parametrize(("field", "value", "message"), [
    ("terminationGracePeriodSeconds", -5, "must be greater than or equal to 0"),
    ("activeDeadlineSeconds", 0, "must be between 1 and 2147483647, inclusive"),
])
def test_pod_spec_numbers_out_of_upstreams_range_are_invalid(api, field, value, message):
    before = stored(api)
    r = send(api, "POST", PODS, MakePod().name("bad").container("nginx", name="c").spec(**{field: value}).manifest())
    assert_refused(api, before, r, 422, "Invalid", contains=f"spec.{field}: Invalid value: {value}: {message}")


def test_a_container_port_out_of_range_is_invalid(api):
    before = stored(api)
    r = send(api, "POST", PODS, MakePod().name("bad").container("nginx", name="c")
                                .spec(containers=[{"name": "c", "image": "nginx", "ports": [{"containerPort": 70000}]}])
                                .manifest())
    assert_refused(api, before, r, 422, "Invalid",
                   contains="spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
                            "must be between 1 and 65535, inclusive")


def test_huge_but_valid_quantities_are_stored_and_leave_the_pod_pending(api):
    # Upstream accepts any magnitude ("1e20" cpu, "1e100" memory are valid quantities); the
    # scheduler must then find no node for it, without crashing.
    r = send(api, "POST", PODS, MakePod().name("greedy").container("nginx", name="c").spec(containers=[{"name": "c", "image": "nginx", "resources": {
        "requests": {"cpu": "1e20", "memory": "1e100"}}}]).manifest())
    assert r.status_code == 201, r.text

    def unschedulable():
        p = requests.get(f"{api}{PODS}/greedy", timeout=30).json()
        conds = {c["type"]: c for c in (p.get("status") or {}).get("conditions") or []}
        return conds.get("PodScheduled", {}).get("reason") == "Unschedulable" and p
    p = wait_until(unschedulable, timeout=60, message="the scheduler to find no node for the greedy pod")
    assert "Insufficient cpu" in p["status"]["conditions"][0]["message"] or \
        "Insufficient" in json.dumps(p["status"]["conditions"])
    assert requests.delete(f"{api}{PODS}/greedy?gracePeriodSeconds=0", timeout=30).status_code == 200


def test_an_object_above_etcds_request_limit_is_a_413(api):
    # 120,000 valid labels: a 1.9 MB body (under the 3 MiB request limit) whose object is more
    # than etcd's 1.5 MiB request limit ("etcdserver: request is too large").
    before = stored(api)
    labels = {f"label-{i:06d}": "v" for i in range(120000)}
    r = send(api, "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "metadata": {"name": "bad", "labels": labels}})
    assert_refused(api, before, r, 413, "RequestEntityTooLarge", "etcdserver: request is too large")


# -- the simulator control API ----------------------------------------------------------------
def control(api, pilothouse_server, path, body=None, raw=None):
    name = api.rsplit("/", 1)[1]
    data = raw if raw is not None else json.dumps(body)
    return requests.post(f"{pilothouse_server.base}/clusters/{name}/sim/v1{path}", data=data,
                         headers={"Content-Type": "application/json"}, timeout=60)


def assert_control_refused(api, before, r, code, contains):
    assert r.status_code == code, r.text
    assert r.json()["error"]["code"] == code and contains in r.json()["error"]["message"], r.text
    assert stored(api) == before


@pytest.mark.parametrize(("path", "body", "raw", "code", "contains"), [
    ("/nodes", {"name": "huge", "cpu": "1e309"}, None, 400, "node.cpu: must be at most 4096"),
    ("/nodes", None, '{"name": "huge", "cpu": 1e309}', 400, "node.cpu: must be a finite quantity"),
    ("/nodes", {"name": "huge", "memory": " 1Gi"}, None, 400, "node.memory: invalid quantity"),
    ("/nodes", {"name": "huge", "cpu": []}, None, 400, "node.cpu: must be a quantity"),
    ("/network/link", None, '{"a": "worker-1", "b": "worker-2", "latencyMs": NaN}', 400,
     "the request body is not valid JSON: invalid character 'N' looking for beginning of value"),
    ("/network/link", {"a": "worker-1", "b": "worker-2", "latencyMs": 1e308}, None, 400,
     "latencyMs must be a number from 0 to 60000"),
    ("/network/link", {"a": [], "b": "worker-2"}, None, 400, "a and b: Required value"),
    ("/clock", None, '{"speed": ' + "[" * 5000, 400, "exceeded max depth"),
    ("/clock", {"speed": 1e308}, None, 400, "speed"),
    ("/clock", {"advance": "168h"}, None, 400, "advance"),
    ("/etcd/put", {"key": "/registry/big", "value": "x" * (1600 * 1024)}, None, 413, "etcdserver: request is too large"),
])
def test_the_control_api_refuses_malformed_input_with_a_clear_400(api, pilothouse_server, path, body, raw, code,
                                                                   contains):
    before = stored(api)
    r = control(api, pilothouse_server, path, body, raw)
    assert_control_refused(api, before, r, code, contains)
    assert requests.get(api + "/version", timeout=10).status_code == 200


def test_owner_references_and_finalizers_are_validated(api):
    before = stored(api)
    r = send(api, "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "metadata": {"name": "bad", "ownerReferences": [{"kind": "ReplicaSet"}]}})
    assert_refused(api, before, r, 422, "Invalid",
                   contains='metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty')
    r = send(api, "POST", PODS, {**MakePod().name("bad").container("nginx", name="c").manifest(), "metadata": {"name": "bad", "finalizers": ["not a name"]}})
    assert_refused(api, before, r, 422, "Invalid", contains='metadata.finalizers[0]: Invalid value: "not a name"')


def test_a_json_patch_that_copies_itself_exponentially_is_refused(api):
    # Each copy doubles the document: 60 of them would ask for 2^60 copies.  Upstream bounds the
    # bytes copy operations add (JSONPatchMaxCopyBytes) and the number of operations.
    before = stored(api)
    bomb = [{"op": "copy", "from": "/metadata/annotations", "path": f"/metadata/annotations/x{i}"} for i in range(60)]
    bomb.insert(0, {"op": "add", "path": "/metadata/annotations", "value": {}})
    r = send(api, "PATCH", PODS + "/keep", bomb, content_type="application/json-patch+json")
    assert_refused(api, before, r, 422, "Invalid", contains="Unable to copy, accumulated size increase of")
    many = [{"op": "test", "path": "/metadata/name", "value": "keep"}] * 10001
    r = send(api, "PATCH", PODS + "/keep", many, content_type="application/json-patch+json")
    assert_refused(api, before, r, 413, "RequestEntityTooLarge",
                   "The allowed maximum operations in a JSON patch is 10000, got 10001")


def test_a_chunked_body_is_cut_off_at_the_limit_as_it_arrives(api):
    # No Content-Length to refuse it by: the view reads at most 3 MiB of it, and nothing on the
    # way keeps more than the server's largest limit (the etcd snapshot restore's 64 MiB).
    before = stored(api)

    def chunks(mib):
        for _ in range(mib):
            yield b" " * (1 << 20)
    r = requests.post(api + PODS, data=chunks(4), headers={"Content-Type": "application/json"}, timeout=60)
    assert_refused(api, before, r, 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
    r = requests.post(api + PODS, data=chunks(70), headers={"Content-Type": "application/json"}, timeout=120)
    assert_refused(api, before, r, 413, "RequestEntityTooLarge", "Request entity too large: limit is 67108864")
