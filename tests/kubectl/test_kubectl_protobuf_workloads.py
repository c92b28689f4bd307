"""The workload objects kubectl 1.32+ sends as protobuf (client-go's typed clients: `create
deployment|job|cronjob`, `create job --from=cronjob/x`, `autoscale`), read by
cluster/api/protobuf*.py into the same JSON kubectl 1.31 sends for the same command.

Each command runs against a small fake API server of the test's own (discovery and the objects a
command reads, canned; every write recorded and answered with a 500), so what is compared is the
exact body of the real binaries, with no cluster in between: the real gogo-protobuf encoder of
1.32, 1.33, 1.36 and 1.37 against the real encoding/json of 1.31.  A descriptor with a wrong
field number, name, pointer-ness or omitempty cannot pass (tests/api/test_protobuf_workloads.py
checks every number against kubectl's own compiled generated.proto besides)."""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from cluster.api import protobuf
from tests.api.protobuf_objects import NEWER_POD_SPEC, POD_SPEC, container, cronjob
from tests.conftest import kubectl_binaries, kubectl_minor, require_service

BINARIES = {kubectl_minor(b): b for b in kubectl_binaries(include_missing=True) if kubectl_minor(b)}
REFERENCE = "1.31"  # the newest kubectl that sends these as JSON
# 1.32 writes the generators' objects as 1.33 does; it is kept for autoscale, where it differs.
SENDERS = [m for m in ("1.33", "1.36", "1.37") if m in BINARIES]


def _binary(minor: str) -> str:
    binary = BINARIES.get(minor)
    require_service("kubectl", binary is not None and Path(binary).exists(), f"kubectl {minor} is missing")
    return binary


def _resources(group_version: str, *resources: tuple[str, str, str]) -> dict:
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    listed = []
    for name, kind, short in resources:
        listed.append({"name": name, "singularName": kind.lower(), "namespaced": True, "kind": kind, "verbs": verbs,
                       **({"shortNames": [short]} if short else {})})
        if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            listed.append({"name": f"{name}/scale", "singularName": "", "namespaced": True, "group": "autoscaling",
                           "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": listed}


def _group(name: str, *versions: str) -> dict:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


# Legacy discovery (a plain JSON answer to the aggregated-discovery Accept makes client-go fall
# back to it): just the groups these commands resolve.
DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1",
              "groups": [_group("apps", "v1"), _group("batch", "v1"), _group("autoscaling", "v2", "v1")]},
    "/apis/apps/v1": _resources("apps/v1", ("deployments", "Deployment", "deploy"),
                                ("replicasets", "ReplicaSet", "rs")),
    "/apis/batch/v1": _resources("batch/v1", ("jobs", "Job", ""), ("cronjobs", "CronJob", "cj")),
    "/apis/autoscaling/v1": _resources("autoscaling/v1", ("horizontalpodautoscalers", "HorizontalPodAutoscaler",
                                                          "hpa")),
    "/apis/autoscaling/v2": _resources("autoscaling/v2", ("horizontalpodautoscalers", "HorizontalPodAutoscaler",
                                                          "hpa")),
}


def captured_writes(minor: str, home: Path, *args: str, objects: dict | None = None) -> list[tuple[str, str, bytes]]:
    """(path, Content-Type, body) of every POST/PUT `kubectl <args>` (version `minor`) sends to a
    fake API server serving DISCOVERY and `objects` ({path: JSON}) and failing every write."""
    served = {**DISCOVERY, **(objects or {})}
    seen: list[tuple[str, str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, code: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path in served:
                self._answer(200, served[path])
            else:
                self._answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                                   "message": "not served here", "code": 404})

        def _write(self):
            seen.append((self.path.split("?")[0], self.headers.get("Content-Type", ""),
                         self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self._answer(500, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "caught",
                               "code": 500})

        do_POST = do_PUT = _write

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = home / "config"
        config.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: "
                          f"'http://127.0.0.1:{server.server_address[1]}'}}\ncontexts:\n- name: c\n  context: "
                          f"{{cluster: c, user: u, namespace: default}}\ncurrent-context: c\nusers:\n- name: u\n"
                          f"  user: {{}}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        subprocess.run([_binary(minor), *args], env={**env, "HOME": str(home), "KUBECONFIG": str(config)},
                       capture_output=True, timeout=60)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    return seen


def without_nulls(value):
    """encoding/json writes a zero metav1.Time as null (`creationTimestamp: null`); the protobuf
    reading leaves it out."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def body(ctype: str, raw: bytes) -> dict:
    if ctype.startswith(protobuf.CONTENT_TYPE):
        return protobuf.decode(raw)
    assert ctype.startswith("application/json"), ctype
    return without_nulls(json.loads(raw))


_REFERENCE_BODIES: dict[tuple, list] = {}


def reference(tmp_path: Path, *args: str, objects: dict | None = None) -> list[tuple[str, dict]]:
    """(path, JSON) of what kubectl 1.31 sends for `args` (once per module)."""
    key = (args, json.dumps(objects, sort_keys=True))
    if key not in _REFERENCE_BODIES:
        writes = captured_writes(REFERENCE, tmp_path / "reference", *args, objects=objects)
        assert writes and all(ctype.startswith("application/json") for _, ctype, _ in writes), writes
        _REFERENCE_BODIES[key] = [(path, body(ctype, raw)) for path, ctype, raw in writes]
    return _REFERENCE_BODIES[key]


GENERATORS = {
    "deployment": ("create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=80"),
    "job": ("create", "job", "j", "--image=busybox", "--", "sh", "-c", "echo hi"),
    "cronjob": ("create", "cronjob", "c", "--image=busybox", "--schedule=*/1 * * * *", "--", "date"),
}


@pytest.mark.parametrize("minor", SENDERS)
@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_a_generator_sends_protobuf_that_reads_as_the_json_of_1_31(minor, generator, tmp_path):
    args = GENERATORS[generator]
    [(path, ctype, raw)] = captured_writes(minor, tmp_path / minor, *args)
    assert ctype == protobuf.CONTENT_TYPE
    assert raw.startswith(protobuf.MAGIC)
    [(reference_path, expected)] = reference(tmp_path, *args)
    assert path == reference_path
    assert body(ctype, raw) == expected


# -- `kubectl create job --from=cronjob/x`: a stored, fully defaulted template, copied whole ------
NIGHTLY = "/apis/batch/v1/namespaces/default/cronjobs/nightly"


@pytest.mark.parametrize("minor", SENDERS)
def test_create_job_from_a_cronjob_copies_its_whole_template_through_protobuf(minor, tmp_path):
    objects = {NIGHTLY: cronjob("nightly", POD_SPEC)}
    args = ("create", "job", "manual", "--from=cronjob/nightly")
    [(path, ctype, raw)] = captured_writes(minor, tmp_path / minor, *args, objects=objects)
    assert (path, ctype) == ("/apis/batch/v1/namespaces/default/jobs", protobuf.CONTENT_TYPE)
    got = body(ctype, raw)
    [(_, expected)] = reference(tmp_path, *args, objects=objects)
    assert got == expected
    # What 1.31 sends is the template itself, owned by the CronJob: the comparison is not vacuous.
    assert got["spec"]["template"]["spec"] == POD_SPEC
    assert got["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly",
                                                   "uid": "5f0b6c2e-8a4b-4a57-9a0e-0c1f4f0d1c2a",
                                                   "controller": True}]


@pytest.mark.parametrize("minor", [m for m in SENDERS if m >= "1.36"])
def test_fields_newer_than_1_31_read_back(minor, tmp_path):
    objects = {NIGHTLY: cronjob("nightly", NEWER_POD_SPEC)}
    [(_, ctype, raw)] = captured_writes(minor, tmp_path / minor, "create", "job", "manual", "--from=cronjob/nightly",
                                        objects=objects)
    assert body(ctype, raw)["spec"]["template"]["spec"] == NEWER_POD_SPEC


# -- `kubectl autoscale`: autoscaling/v1 (JSON to 1.31, protobuf in 1.32), then autoscaling/v2 ---
WEB = {"apiVersion": "apps/v1", "kind": "Deployment",
       "metadata": {"name": "web", "namespace": "default", "uid": "0d6c3f5e-1b1e-4c1a-9d0e-3f1f2a3b4c5d",
                    "labels": {"app": "web"}},
       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [container("nginx", image="nginx")]}}}}
AUTOSCALE = ("autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=50")


@pytest.mark.parametrize("minor", ["1.32", *SENDERS])
def test_autoscale_sends_its_hpa_as_protobuf(minor, tmp_path):
    objects = {"/apis/apps/v1/namespaces/default/deployments/web": WEB}
    writes = captured_writes(minor, tmp_path / minor, *AUTOSCALE, objects=objects)
    [(v1_path, v1)] = reference(tmp_path, *AUTOSCALE, objects=objects)
    assert v1_path == "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
    assert v1["spec"] == {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                          "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50}
    path, ctype, raw = writes[0]  # the first try; the server fails it
    assert ctype == protobuf.CONTENT_TYPE
    if minor == "1.32":
        assert (path, body(ctype, raw)) == (v1_path, v1)
        return
    # 1.33 and newer create an autoscaling/v2 HPA (and try v1 only when v2 is not served).
    assert path == "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    spec = {k: v for k, v in v1["spec"].items() if k != "targetCPUUtilizationPercentage"}
    assert body(ctype, raw) == {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": v1["metadata"],
        "spec": {**spec, "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
        "status": {"desiredReplicas": 0}}


def test_the_reference_kubectl_sends_json(tmp_path):
    """What every comparison above stands on: 1.31 still writes JSON, Go's zero time as null."""
    [(_, ctype, raw)] = captured_writes(REFERENCE, tmp_path, *GENERATORS["deployment"])
    assert ctype == "application/json"
    sent = json.loads(raw)
    assert sent["metadata"]["creationTimestamp"] is None and sent["status"] == {}
    assert without_nulls(sent)["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {}}]
