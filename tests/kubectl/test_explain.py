"""`kubectl explain` and manifest validation, from the served OpenAPI v2 and v3 documents
(upstream's schemas for Kubernetes' release, cluster/api/openapi_schemas.py), with every kubectl
1.27-1.33, 1.36 and 1.37: what they print against a real cluster."""
from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.kubectl.conftest import BINARIES, binary_id, kube_env_for, kubectl_every_version, kubectl_runner


# Every kubectl release on the machine (tests/kubectl/conftest.py: the other modules run three).
kubectl = pytest.fixture(params=BINARIES or [None], ids=binary_id)(kubectl_every_version)


def test_explain_pod(kubectl):
    out = kubectl("explain", "pod").stdout
    assert re.search(r"^KIND:\s+Pod$", out, re.M), out
    assert re.search(r"^VERSION:\s+v1$", out, re.M), out
    assert "Pod is a collection of containers that can run on a host." in out
    # The fields with their types and descriptions.
    assert re.search(r"^\s+spec\s+<PodSpec>$", out, re.M), out
    assert re.search(r"^\s+apiVersion\s+<string>$", out, re.M), out
    assert "Specification of the desired behavior of the pod." in out


def test_explain_nested_field(kubectl):
    out = kubectl("explain", "pod.spec.containers.livenessProbe").stdout
    assert re.search(r"^FIELD:\s+livenessProbe\s+<Probe>$", out, re.M), out
    assert "Periodic probe of container liveness." in out
    assert "Probe describes a health check to be performed against a container" in out
    assert re.search(r"^\s+initialDelaySeconds\s+<integer>$", out, re.M), out
    assert re.search(r"^\s+httpGet\s+<HTTPGetAction>$", out, re.M), out


def test_explain_int_or_string_and_quantity(kubectl):
    port = kubectl("explain", "pod.spec.containers.livenessProbe.httpGet").stdout
    # v3 names the type (1.27+ explain from v3; v2 says string), as against a real cluster.
    assert re.search(r"^\s+port\s+<IntOrString> -required-$", port, re.M), port
    limits = kubectl("explain", "pod.spec.containers.resources").stdout
    assert re.search(r"^\s+limits\s+<map\[string\]Quantity>$", limits, re.M), limits


def test_explain_replicaset_spec_recursive(kubectl):
    out = kubectl("explain", "rs.spec", "--recursive").stdout
    assert re.search(r"^GROUP:\s+apps$", out, re.M), out
    assert re.search(r"^KIND:\s+ReplicaSet$", out, re.M), out
    assert re.search(r"^  replicas\s+<integer>$", out, re.M), out
    assert re.search(r"^  selector\s+<LabelSelector> -required-$", out, re.M), out
    assert re.search(r"^      containers\s+<\[\]Container> -required-$", out, re.M), out
    assert re.search(r"^        livenessProbe\s+<Probe>$", out, re.M), out


def test_explain_openapiv2_output(kubectl):
    """--output plaintext-openapiv2 (1.27+) reads /openapi/v2 in gnostic protobuf."""
    out = kubectl("explain", "pod.spec.containers.livenessProbe", "--output", "plaintext-openapiv2").stdout
    assert re.search(r"^RESOURCE:\s+livenessProbe <Object>$", out, re.M), out
    assert "Periodic probe of container liveness." in out
    assert re.search(r"^\s+initialDelaySeconds\s+<integer>$", out, re.M), out


def test_explain_unknown_field(kubectl):
    out = kubectl("explain", "pod.spec.nosuchfield", check=False)
    assert out.returncode != 0
    assert 'field "nosuchfield" does not exist' in out.stderr


@pytest.fixture
def bad_manifest(tmp_path) -> Path:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n"
                        "  - name: web\n    image: nginx\n    imagePullPolicyy: Always\n")
    return manifest


def test_apply_validate_refuses_unknown_field(kubectl, bad_manifest):
    """--validate=strict: kubectl asks the server (fieldValidation=Strict, advertised in the v3
    document), which refuses the typo in upstream's words; nothing is created."""
    out = kubectl("apply", "--validate=strict", "-f", str(bad_manifest), check=False)
    assert out.returncode != 0, out.stdout
    assert 'unknown field "spec.containers[0].imagePullPolicyy"' in out.stderr, out.stderr
    assert kubectl("get", "pod", "typo", check=False).returncode != 0


# -- client-side validation --------------------------------------------------------------------
# kubectl validates a manifest itself only when the server does not take fieldValidation (its
# v3 PATCH operations say so; servers before 1.25 did not): then it checks the manifest against
# the /openapi/v2 definitions (k8s.io/kubectl/pkg/validation, kube-openapi's proto validator).
# A proxy that hides the parameter from the v3 documents makes this server look like that.
class _NoFieldValidation(BaseHTTPRequestHandler):
    upstream = ""

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        request = urllib.request.Request(
            self.upstream + self.path, data=self.rfile.read(length) if length else None, method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")})
        try:
            answer = urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as e:
            answer = e
        body = answer.read()
        if "/openapi/v3/" in self.path and answer.status == 200:
            doc = json.loads(body)
            for item in doc["paths"].values():
                for op in item.values():
                    op["parameters"] = [p for p in op["parameters"] if p["name"] != "fieldValidation"]
            body = json.dumps(doc).encode()
        self.send_response(answer.status)
        for k, v in answer.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def old_server_env(pilothouse_server, kube_cluster, tmp_path_factory):
    handler = type("Handler", (_NoFieldValidation,), {"upstream": pilothouse_server.base})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    through = type("Through", (), {"cluster_url": lambda self, c: f"http://127.0.0.1:{proxy.server_port}/clusters/{c}"})()
    yield kube_env_for(through, kube_cluster, tmp_path_factory.mktemp("old-server-home"))
    proxy.shutdown()
    proxy.server_close()


def test_client_side_validation_uses_the_v2_definitions(kubectl, old_server_env, bad_manifest, tmp_path):
    run = kubectl_runner(kubectl.binary, old_server_env)
    out = run("apply", "--validate=true", "--dry-run=client", "-f", str(bad_manifest), check=False)
    assert out.returncode != 0, out.stdout
    assert ('error validating data: ValidationError(Pod.spec.containers[0]): unknown field "imagePullPolicyy" '
            'in io.k8s.api.core.v1.Container; if you choose to ignore these errors, turn validation off with '
            '--validate=false') in out.stderr, out.stderr
    wrong_type = tmp_path / "rs.yaml"
    wrong_type.write_text("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: shop\nspec:\n  replicas: '2'\n"
                          "  selector: {matchLabels: {app: shop}}\n  template:\n    metadata: {labels: {app: shop}}\n"
                          "    spec: {containers: [{name: web, image: nginx}]}\n")
    out = run("apply", "--validate=true", "--dry-run=client", "-f", str(wrong_type), check=False)
    assert ('ValidationError(ReplicaSet.spec.replicas): invalid type for io.k8s.api.apps.v1.ReplicaSetSpec.replicas: '
            'got "string", expected "integer"') in out.stderr, out.stderr
    # A valid manifest of every field shape (quantities, int-or-string ports, maps, lists) passes.
    fine = tmp_path / "fine.yaml"
    fine.write_text(wrong_type.read_text().replace("'2'", "2").replace(
        "{name: web, image: nginx}", "{name: web, image: nginx, ports: [{containerPort: 80, name: http}], "
        "resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 100m}}, "
        "livenessProbe: {httpGet: {path: /, port: http}, initialDelaySeconds: 3}}"))
    assert run("apply", "--validate=true", "--dry-run=client", "-f", str(fine)).stdout.strip() == (
        "replicaset.apps/shop created (dry run)")
