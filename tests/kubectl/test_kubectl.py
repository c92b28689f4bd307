"""The machine's real kubectl (the version dispatcher and every kubectl 1.27-1.33, 1.36 and
1.37) against a live server: the commands the issue names, with the output kubectl prints
against a real cluster."""
from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, binary_id, kubectl_every_version, rows

# kubeadm's HA shape, as `make demo` builds it: `get nodes` lists three control-plane nodes.
CLUSTER_SPEC: dict = {}


# Every kubectl release on the machine (tests/kubectl/conftest.py: the other modules run three).
kubectl = pytest.fixture(params=BINARIES or [None], ids=binary_id)(kubectl_every_version)


def test_get_nodes(kubectl):
    table = rows(kubectl("get", "nodes").stdout)
    assert table[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    nodes = {r[0]: r for r in table[1:]}
    assert set(nodes) == {"cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"}
    assert nodes["cp-1"][2] == "control-plane"
    for name in ("worker-1", "worker-2", "worker-3"):
        assert nodes[name][1] == "Ready" and nodes[name][2] == "<none>"
        assert nodes[name][4] == "v1.36.4"  # the kubelets are at the API server's release


def test_discovery_is_aggregated_from_kubectl_1_30(kubectl, tmp_path):
    """kubectl 1.30+ ask for aggregated discovery (apidiscovery.k8s.io/v2) and read every resource
    from /api and /apis; 1.27-1.29 ask for v2beta1, which a 1.36 server no longer serves, and read
    the legacy per-group-version documents.  A fresh HOME, so that no discovery cache answers."""
    env = dict(kubectl.env, HOME=str(tmp_path))
    proc = subprocess.run([kubectl.binary, "get", "pods", "-v=6"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # "GET http://host/clusters/x/api?timeout=32s 200 OK" up to 1.29; "verb="GET" url="..."" later.
    urls = re.findall(r'(?:\] GET |verb="GET" url=")https?://[^/]+/clusters/[^/]+(/[^?" ]*)', proc.stderr)
    discovery = [u for u in urls if re.fullmatch(r"/api(/v1)?|/apis(/[^/]+/[^/]+)?", u)]
    if kubectl.minor is None or int(kubectl.minor.split(".")[1]) >= 30:  # the dispatcher runs 1.32
        assert discovery == ["/api", "/apis"], urls
    else:
        assert discovery[:2] == ["/api", "/apis"] and "/api/v1" in discovery and "/apis/apps/v1" in discovery, urls


def test_describe_node_reports_the_release(kubectl):
    out = kubectl("describe", "node", "worker-1").stdout
    assert re.search(r"^  Kubelet Version:\s+v1\.36\.4$", out, re.M), out
    # Kubelets leave the deprecated nodeInfo.kubeProxyVersion empty since 1.33: kubectl up to 1.33
    # prints the line blank, 1.37 leaves it out.
    assert [v.strip() for v in re.findall(r"^  Kube-Proxy Version:(.*)$", out, re.M)] in ([], [""]), out


def test_run_get_wide_delete_and_events(kubectl):
    # kubectl run web --image=nginx
    created = kubectl("run", "web", "--image=nginx")
    assert created.stdout.strip() == "pod/web created"

    def running():
        out = kubectl("get", "pod", "web", "-o", "jsonpath={.status.phase}").stdout
        return out == "Running"

    wait_until(running, timeout=30, interval=0.3, message="pod web Running")

    # kubectl get pods -A -o wide
    table = rows(kubectl("get", "pods", "-A", "-o", "wide").stdout)
    assert table[0][:8] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    web = [r for r in table[1:] if r[:2] == ["default", "web"]]
    assert len(web) == 1, table
    assert web[0][2:5] == ["1/1", "Running", "0"]
    assert re.fullmatch(r"10\.244\.\d+\.\d+", web[0][6]), web[0]
    assert web[0][7] in {"worker-1", "worker-2", "worker-3"}

    # kubectl get events
    events = kubectl("get", "events").stdout
    table = rows(events)
    assert table[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    reasons = {(r[2], r[3]) for r in table[1:]}
    assert ("Scheduled", "pod/web") in reasons, events
    assert re.search(r"Successfully assigned default/web to worker-\d", events)

    # kubectl delete pod web: waits (a watch on metadata.name=web) until the pod is gone.
    deleted = kubectl("delete", "pod", "web", timeout=90)
    assert deleted.stdout.strip() == kubectl.deleted('pod "web"', "default")
    gone = kubectl("get", "pod", "web", check=False)
    assert gone.returncode != 0
    assert 'pods "web" not found' in gone.stderr


def test_version_reports_the_server(kubectl):
    proc = kubectl("version")
    # kubectl 1.27 prints version.Info{...GitVersion:"v1.36.4"...}; later ones just v1.36.4.
    assert re.search(r'Server Version: (version\.Info\{.*GitVersion:")?v1\.36\.\d+', proc.stdout), proc.stdout
    # The skew warning (on stderr): none from 1.35 up; from the others (the dispatcher runs its
    # built-in 1.32 against a 1.36 server), kubectl's own words.
    minor = int((kubectl.minor or "1.32").split(".")[1])
    if minor >= 35:
        assert "version difference" not in proc.stderr, proc.stderr
    else:
        assert (f"WARNING: version difference between client (1.{minor}) and server (1.36) exceeds the "
                "supported minor version skew of +/-1") in proc.stderr, proc.stderr


@pytest.fixture
def kubectl_apply(kubectl):
    """kubectl for manifests: 1.27/1.28 read /openapi/v2 (protobuf), 1.29+ /openapi/v3."""
    return kubectl


def test_apply_manifest_create_then_configure(kubectl_apply, tmp_path):
    manifest = tmp_path / "rs.yaml"
    template = ("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: shop\nspec:\n  replicas: {n}\n"
                "  selector:\n    matchLabels: {{app: shop}}\n  template:\n    metadata:\n      labels: {{app: shop}}\n"
                "    spec:\n      containers:\n      - name: web\n        image: nginx\n")
    manifest.write_text(template.format(n=2))
    assert kubectl_apply("apply", "-f", str(manifest)).stdout.strip() == "replicaset.apps/shop created"
    manifest.write_text(template.format(n=3))
    assert kubectl_apply("apply", "-f", str(manifest)).stdout.strip() == "replicaset.apps/shop configured"
    desired = kubectl_apply("get", "rs", "shop", "-o", "jsonpath={.spec.replicas}").stdout
    assert desired == "3"
    assert (kubectl_apply("delete", "rs", "shop").stdout.strip()
            == kubectl_apply.deleted('replicaset.apps "shop"', "default"))


def test_unknown_field_is_refused_strictly_or_warned(kubectl_apply, tmp_path):
    # A name of its own per kubectl version: the previous version's pod may still be
    # terminating (graceful deletion) when the next one runs.
    name = f"typo-{uuid.uuid4().hex[:6]}"
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
                        "  - name: c\n    image: nginx\n    imagee: x\n")
    strict = kubectl_apply("create", "-f", str(manifest), check=False)
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "spec.containers[0].imagee"' in strict.stderr
    warned = kubectl_apply("create", "-f", str(manifest), "--validate=warn")
    assert 'Warning: unknown field "spec.containers[0].imagee"' in warned.stderr
    assert warned.stdout.strip() == f"pod/{name} created"
    kubectl_apply("delete", "pod", name, "--wait=false")


def test_scale_and_describe(kubectl, tmp_path):
    manifest = tmp_path / "rs.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: sc\nspec:\n  replicas: 1\n"
                        "  selector:\n    matchLabels: {app: sc}\n  template:\n    metadata:\n      labels: {app: sc}\n"
                        "    spec:\n      containers:\n      - name: web\n        image: nginx\n")
    kubectl("create", "-f", str(manifest))
    assert kubectl("scale", "rs", "sc", "--replicas=3").stdout.strip() == "replicaset.apps/sc scaled"

    def three_ready():
        return kubectl("get", "rs", "sc", "-o", "jsonpath={.status.readyReplicas}").stdout == "3"

    wait_until(three_ready, timeout=30, interval=0.3, message="3 ready replicas")
    described = kubectl("describe", "rs", "sc").stdout
    assert "Replicas:     3 current / 3 desired" in described
    assert "SuccessfulCreate" in described
    kubectl("delete", "rs", "sc")


def test_create_namespace_generator(kubectl):
    """`kubectl create namespace` (a generator: JSON up to 1.31, protobuf from 1.32) works with
    every kubectl version."""
    name = f"ns-{uuid.uuid4().hex[:6]}"
    assert kubectl("create", "namespace", name).stdout.strip() == f"namespace/{name} created"
    assert kubectl("get", "namespace", name, "-o", "jsonpath={.status.phase}").stdout == "Active"


def test_get_in_chunks_prints_every_row_once(kubectl):
    """kubectl pages with ?limit=&continue= (--chunk-size; 500 by default) and prints one table:
    each node once, in order, whatever the chunk size, as one request would."""
    whole = rows(kubectl("get", "nodes", "--chunk-size=0").stdout)
    for size in ("1", "4"):
        chunked = rows(kubectl("get", "nodes", f"--chunk-size={size}").stdout)
        assert [r[0] for r in chunked] == [r[0] for r in whole]
    assert [r[0] for r in whole[1:]] == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
