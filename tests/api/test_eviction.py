"""The pods `eviction` subresource (policy/v1 Eviction) over raw HTTP, JSON and protobuf, and
through the official Python client (CoreV1Api.create_namespaced_pod_eviction); protobuf
DeleteOptions; the media types a protobuf decoding error names."""
from __future__ import annotations

import requests

import pytest

from cluster.api import protobuf
from tests.builders import MakePod
from tests.conftest import wait_until

PROTOBUF = "application/vnd.kubernetes.protobuf"


# -- a protobuf writer for the tests (gogo-protobuf's wire format) -------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _field(number: int, value) -> bytes:
    if isinstance(value, bool) or isinstance(value, int):
        return _varint(number << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _field(1, api_version) + _field(2, kind)
    return protobuf.MAGIC + _field(1, type_meta) + _field(2, raw) + _field(3, "") + _field(4, "")


def delete_options(grace: int | None = None, dry_run: list[str] = (), uid: str | None = None) -> bytes:
    out = b"" if grace is None else _field(1, grace)
    if uid is not None:
        out += _field(2, _field(1, uid))
    for d in dry_run:
        out += _field(5, d)
    return out


def eviction(name: str, namespace: str, options: bytes | None) -> bytes:
    meta = _field(1, name) + _field(3, namespace)
    return _field(1, meta) + (b"" if options is None else _field(2, options))


# -- decoding -----------------------------------------------------------------------------------
def test_protobuf_delete_options_keep_zero_pointers():
    body = envelope("v1", "DeleteOptions", delete_options(grace=0, dry_run=["All"], uid="u-1"))
    assert protobuf.decode(body) == {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                                     "preconditions": {"uid": "u-1"}, "dryRun": ["All"]}
    # DeleteOptions in any group version (client-go encodes it with the resource's)
    assert protobuf.decode(envelope("apps/v1", "DeleteOptions", b"")) == {"apiVersion": "apps/v1",
                                                                         "kind": "DeleteOptions"}


def test_protobuf_eviction():
    body = envelope("policy/v1", "Eviction", eviction("web", "default", delete_options(grace=5)))
    assert protobuf.decode(body) == {"apiVersion": "policy/v1", "kind": "Eviction",
                                     "metadata": {"name": "web", "namespace": "default"},
                                     "deleteOptions": {"gracePeriodSeconds": 5}}
    assert "deleteOptions" not in protobuf.decode(envelope("policy/v1", "Eviction", eviction("web", "d", None)))


# -- over HTTP ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base(pilothouse_server, module_cluster):
    return pilothouse_server.cluster_url(module_cluster("eviction", speed=20))


def _running_pod(base: str, name: str, grace: int = 30) -> dict:
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", timeout=10, json=(
        MakePod().name(name).container("nginx", name="c").spec(terminationGracePeriodSeconds=grace).manifest()))
    assert r.status_code == 201, r.text
    return wait_until(lambda: (lambda p: p if p["status"].get("phase") == "Running" else None)(
        requests.get(f"{base}/api/v1/namespaces/default/pods/{name}", timeout=10).json()),
        timeout=30, message=f"{name} running")


def _evict(base: str, name: str, body, content_type: str = "application/json", query: str = ""):
    url = f"{base}/api/v1/namespaces/default/pods/{name}/eviction{query}"
    if isinstance(body, bytes):
        return requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=10)
    return requests.post(url, json=body, timeout=10)


def _gone(base: str, name: str) -> bool:
    return requests.get(f"{base}/api/v1/namespaces/default/pods/{name}", timeout=10).status_code == 404


def test_discovery_lists_pods_eviction(base):
    resources = {r["name"]: r for r in requests.get(f"{base}/api/v1", timeout=10).json()["resources"]}
    # what kubectl drain's CheckEvictionSupport looks for
    assert resources["pods/eviction"] == {"name": "pods/eviction", "singularName": "", "namespaced": True,
                                          "group": "policy", "version": "v1", "kind": "Eviction",
                                          "verbs": ["create"]}


def test_eviction_deletes_gracefully_and_answers_201_status(base):
    _running_pod(base, "evictee", grace=1800)
    # The clock stands still while we look: nginx exits on SIGTERM, so at 50x the kubelet may
    # otherwise finish the graceful deletion before the GET below.
    requests.post(f"{base}/sim/v1/clock", json={"paused": True}, timeout=10).raise_for_status()
    r = _evict(base, "evictee", {"apiVersion": "policy/v1", "kind": "Eviction",
                                 "metadata": {"name": "evictee", "namespace": "default"}})
    assert r.status_code == 201, r.text
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    pod = requests.get(f"{base}/api/v1/namespaces/default/pods/evictee", timeout=10).json()
    assert pod.get("kind") == "Pod", pod.get("message")
    # terminating gracefully, with the DisruptionTarget condition
    assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 1800
    cond = [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert [(c["status"], c["reason"], c["message"]) for c in cond] == \
        [("True", "EvictionByEvictionAPI", "Eviction API: evicting")]
    requests.post(f"{base}/sim/v1/clock", json={"paused": False}, timeout=10).raise_for_status()
    wait_until(lambda: _gone(base, "evictee"), timeout=30, message="evicted pod gone")


def test_eviction_errors(base):
    r = _evict(base, "nobody", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "nobody"}})
    assert r.status_code == 404 and r.json()["message"] == 'pods "nobody" not found'
    uid = _running_pod(base, "stays")["metadata"]["uid"]
    r = _evict(base, "stays", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}})
    assert r.status_code == 400 and r.json()["message"] == "name in URL does not match name in Eviction object"
    r = _evict(base, "stays", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "stays"}},
               query="?dryRun=All")
    assert r.status_code == 201, r.text
    r = _evict(base, "stays", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "stays"},
                               "deleteOptions": {"dryRun": ["All"]}})
    assert r.status_code == 201, r.text
    r = _evict(base, "stays", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "stays"},
                               "deleteOptions": {"preconditions": {"uid": "not-its-uid"}}})
    assert r.status_code == 409 and r.json()["message"] == (
        'Operation cannot be fulfilled on Pod "stays": the UID in the precondition (not-its-uid) does not match '
        f'the UID in record ({uid}). The object might have been deleted and then recreated')
    pod = requests.get(f"{base}/api/v1/namespaces/default/pods/stays", timeout=10).json()
    assert "deletionTimestamp" not in pod["metadata"]
    assert not [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]


def test_protobuf_eviction_with_grace_zero(base):
    _running_pod(base, "pb-evictee")
    body = envelope("policy/v1", "Eviction", eviction("pb-evictee", "default", delete_options(grace=0)))
    r = _evict(base, "pb-evictee", body, PROTOBUF)
    assert r.status_code == 201, r.text
    assert _gone(base, "pb-evictee")  # gracePeriodSeconds 0 survived the decoding: gone at once


def test_protobuf_delete_options(base):
    _running_pod(base, "pb-deleted")
    r = requests.delete(f"{base}/api/v1/namespaces/default/pods/pb-deleted", timeout=10,
                        data=envelope("v1", "DeleteOptions", delete_options(grace=0)),
                        headers={"Content-Type": PROTOBUF})
    assert r.status_code == 200, r.text
    assert _gone(base, "pb-deleted")


def test_protobuf_error_names_the_accepted_media_types(base):
    # No kubectl sends a LimitRange as protobuf: it has no decoding here.
    r = requests.post(f"{base}/api/v1/namespaces/default/limitranges", timeout=10,
                      data=envelope("v1", "LimitRange", b""), headers={"Content-Type": PROTOBUF})
    assert r.status_code == 415
    assert r.json()["message"] == ("the body of the request could not be decoded as protobuf: no protobuf decoding "
                                   "for LimitRange in v1 - accepted media types include: application/json, "
                                   "application/yaml")
    r = requests.post(f"{base}/api/v1/namespaces/default/pods/x/eviction", timeout=10,
                      data=protobuf.MAGIC + b"\x0a\xff", headers={"Content-Type": PROTOBUF})
    assert r.status_code == 415
    assert r.json()["message"].endswith("accepted media types include: application/json, application/yaml, "
                                        f"{PROTOBUF}")


def test_official_python_client_evicts(kube_client):
    from kubernetes import client

    core, _, _ = kube_client
    core.create_namespaced_pod("default", client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-evictee"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")])))
    core.create_namespaced_pod_eviction("py-evictee", "default", client.V1Eviction(
        metadata=client.V1ObjectMeta(name="py-evictee", namespace="default"),
        delete_options=client.V1DeleteOptions(grace_period_seconds=0)))

    def gone():
        try:
            core.read_namespaced_pod("py-evictee", "default")
        except client.ApiException as e:
            return e.status == 404
        return False
    wait_until(gone, timeout=30, message="evicted pod gone")
    with pytest.raises(client.ApiException) as missing:
        core.create_namespaced_pod_eviction("py-evictee", "default", client.V1Eviction(
            metadata=client.V1ObjectMeta(name="py-evictee")))
    assert missing.value.status == 404


def test_an_unknown_media_type_names_what_this_body_is_really_read_from(base):
    def message(method: str, path: str) -> str:
        r = requests.request(method, f"{base}{path}", data=b"<pod/>", headers={"Content-Type": "application/xml"},
                             timeout=10)
        assert r.status_code == 415, r.text
        return r.json()["message"].split("accepted media types include: ")[1]
    assert message("POST", "/api/v1/namespaces/default/limitranges") == "application/json, application/yaml"
    assert message("POST", "/api/v1/namespaces/default/pods") == f"application/json, application/yaml, {PROTOBUF}"
    assert message("POST", "/api/v1/namespaces/default/pods/x/eviction") == \
        f"application/json, application/yaml, {PROTOBUF}"
    assert message("DELETE", "/api/v1/namespaces/default/pods/x") == f"application/json, application/yaml, {PROTOBUF}"
    assert message("POST", "/apis/scheduling.k8s.io/v1/priorityclasses") == \
        f"application/json, application/yaml, {PROTOBUF}"
