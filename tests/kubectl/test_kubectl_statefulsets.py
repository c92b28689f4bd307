"""StatefulSets with the machine's real kubectl: the Kubernetes documentation's StatefulSet
basics tutorial (the StatefulSet of application/web/web.yaml: web-0 and web-1 made in order,
one claim `www-web-N` each, bound through the cluster's default StorageClass), `get sts` as
upstream prints it, `rollout status`, `scale`, `set image` with `rollout history` and `rollout
undo` (ControllerRevisions), `rollout restart`; and on every kubectl a cheap smoke (get, wide
columns, scale through the scale subresource).

The tutorial's headless Service `nginx` is left out: Services are served by a later issue.
The expensive sequence runs on the newest kubectl and the oldest; each version has its own
namespace, so the names stay the tutorial's own."""
from __future__ import annotations

import json
import re

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, rows

ENDS = [b for b in BINARIES if kubectl_minor(b) in ("1.27", "1.37")] or BINARIES[-1:]

# The StatefulSet of https://k8s.io/examples/application/web/web.yaml, as the docs give it.
WEB_YAML = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: "nginx"
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
"""


def _json(k, *args) -> dict:
    return json.loads(k(*args, "-o", "json").stdout)


def _namespace(k, prefix: str) -> str:
    ns = f"{prefix}-{k.suffix}"
    k("create", "namespace", ns)
    wait_until(lambda: k("get", "serviceaccount", "default", "-n", ns, check=False).returncode == 0, 30, 0.2,
               f"namespace {ns} ready")
    return ns


@pytest.fixture(params=ENDS or [None], ids=lambda b: f"kubectl.{kubectl_minor(b)}" if b else "missing")
def kubectl_ends(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def test_the_documentations_statefulset_basics(kubectl_ends, tmp_path):
    k = kubectl_ends
    ns = _namespace(k, "sts")
    (tmp_path / "web.yaml").write_text(WEB_YAML)
    assert k("apply", "-n", ns, "-f", str(tmp_path / "web.yaml")).stdout == "statefulset.apps/web created\n"

    # `kubectl rollout status` returns once both pods are ready (partition 0: all updated)
    out = k("rollout", "status", "sts/web", "-n", ns, "--timeout=60s", timeout=90).stdout
    assert out.strip().endswith("partitioned roll out complete: 2 new pods have been updated...")
    table = rows(k("get", "sts", "web", "-n", ns).stdout)
    assert table[0] == ["NAME", "READY", "AGE"] and table[1][:2] == ["web", "2/2"]
    wide = rows(k("get", "sts", "web", "-n", ns, "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]
    assert wide[1][3:] == ["nginx", "registry.k8s.io/nginx-slim:0.24"]

    # web-0 was made first, web-1 once web-0 was Running and Ready; each has its hostname
    pods = {p["metadata"]["name"]: p for p in _json(k, "get", "pods", "-n", ns, "-l", "app=nginx")["items"]}
    assert sorted(pods) == ["web-0", "web-1"]
    assert all(p["status"]["phase"] == "Running" for p in pods.values())
    assert pods["web-0"]["metadata"]["creationTimestamp"] <= pods["web-1"]["metadata"]["creationTimestamp"]
    assert pods["web-1"]["spec"]["hostname"] == "web-1" and pods["web-1"]["spec"]["subdomain"] == "nginx"
    events = k("get", "events", "-n", ns, "--field-selector", "involvedObject.kind=StatefulSet").stdout
    assert "create Pod web-0 in StatefulSet web successful" in events
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in events
    # one claim per pod, bound by the default StorageClass's provisioner
    pvc = rows(k("get", "pvc", "-n", ns, "-l", "app=nginx").stdout)
    assert [r[0] for r in pvc[1:]] == ["www-web-0", "www-web-1"]
    assert all(r[1] == "Bound" and r[3] == "1Gi" and r[4] == "RWO" and r[5] == "standard" for r in pvc[1:])

    described = k("describe", "sts", "web", "-n", ns).stdout
    assert re.search(r"Replicas:\s+2 desired \| 2 total", described), described
    assert re.search(r"Pods Status:\s+2 Running / 0 Waiting / 0 Succeeded / 0 Failed", described), described
    assert re.search(r"Update Strategy:\s+RollingUpdate", described) and "Volume Claims:" in described, described

    # scale up, as the tutorial does: web-2 and its claim
    assert k("scale", "sts", "web", "-n", ns, "--replicas=3").stdout == "statefulset.apps/web scaled\n"
    k("rollout", "status", "sts/web", "-n", ns, "--timeout=60s", timeout=90)
    assert rows(k("get", "sts", "web", "-n", ns).stdout)[1][:2] == ["web", "3/3"]
    assert "www-web-2" in k("get", "pvc", "-n", ns).stdout

    # a rolling update (highest ordinal first), its history, and the undo
    k("set", "image", "sts/web", "-n", ns, "nginx=registry.k8s.io/nginx-slim:0.21")
    k("rollout", "status", "sts/web", "-n", ns, "--timeout=90s", timeout=120)
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"]
              for p in _json(k, "get", "pods", "-n", ns, "-l", "app=nginx")["items"]}
    assert images == {f"web-{i}": "registry.k8s.io/nginx-slim:0.21" for i in range(3)}
    history = k("rollout", "history", "sts/web", "-n", ns).stdout
    assert re.search(r"REVISION\s+CHANGE-CAUSE", history) and re.search(r"^1\s", history, re.M) \
        and re.search(r"^2\s", history, re.M), history
    assert "registry.k8s.io/nginx-slim:0.24" in k("rollout", "history", "sts/web", "-n", ns, "--revision=1").stdout
    assert k("rollout", "undo", "sts/web", "-n", ns).stdout == "statefulset.apps/web rolled back\n"
    k("rollout", "status", "sts/web", "-n", ns, "--timeout=90s", timeout=120)
    wait_until(lambda: {p["spec"]["containers"][0]["image"] for p in
                        _json(k, "get", "pods", "-n", ns, "-l", "app=nginx")["items"]}
               == {"registry.k8s.io/nginx-slim:0.24"}, 60, 0.5, "every pod back at nginx-slim:0.24")
    # the undo renumbered revision 1 as 3 (it is the newest now), as upstream numbers it
    revisions = sorted(r["revision"] for r in _json(k, "get", "controllerrevisions", "-n", ns)["items"])
    assert revisions == [2, 3]
    sts = _json(k, "get", "sts", "web", "-n", ns)
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]

    # rollout restart: a new template annotation, every pod made again
    old = {p["metadata"]["name"]: p["metadata"]["uid"] for p in _json(k, "get", "pods", "-n", ns)["items"]}
    assert k("rollout", "restart", "sts/web", "-n", ns).stdout == "statefulset.apps/web restarted\n"
    k("rollout", "status", "sts/web", "-n", ns, "--timeout=90s", timeout=120)
    new = {p["metadata"]["name"]: p["metadata"]["uid"] for p in _json(k, "get", "pods", "-n", ns)["items"]}
    assert sorted(new) == sorted(old) and all(new[n] != old[n] for n in new)

    # scale down to 1: web-2 then web-1 go; their claims stay (whenScaled: Retain)
    k("scale", "sts", "web", "-n", ns, "--replicas=1")
    wait_until(lambda: [p["metadata"]["name"] for p in _json(k, "get", "pods", "-n", ns)["items"]] == ["web-0"],
               60, 0.5, "scaled down to web-0")
    assert [r[0] for r in rows(k("get", "pvc", "-n", ns).stdout)[1:]] == ["www-web-0", "www-web-1", "www-web-2"]


def test_statefulset_smoke(kubectl, tmp_path):
    """Every kubectl: create from a manifest, the table, the scale subresource, `get all`."""
    k = kubectl
    name = f"db-{k.suffix}"
    manifest = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
                "spec": {"serviceName": name, "replicas": 1, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [{"name": "redis", "image": "redis:7.4"}]}}}}
    (tmp_path / "sts.json").write_text(json.dumps(manifest))
    assert k("apply", "-f", str(tmp_path / "sts.json")).stdout == f"statefulset.apps/{name} created\n"
    wait_until(lambda: rows(k("get", "sts", name).stdout)[1][1] == "1/1", 30, 0.3, f"{name} 1/1")
    assert f"statefulset.apps/{name}" in k("get", "all").stdout
    k("scale", "statefulset", name, "--replicas=0")
    wait_until(lambda: k("get", "pod", f"{name}-0", check=False).returncode != 0, 30, 0.3, f"{name}-0 gone")
    assert rows(k("get", "sts", name).stdout)[1][1] == "0/0"
    k("delete", "sts", name)
