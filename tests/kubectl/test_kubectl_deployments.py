"""Deployments with the real kubectl: `create deployment` and `rollout status` (which returns once
the rollout is done) on every version; with the newest kubectl the whole lesson - `set image`,
`rollout history [--revision]`, `rollout undo [--to-revision]` (client side: the old
ReplicaSet's template patched back, under a new revision number), `rollout pause` / `resume`,
`rollout restart`, `set resources`, `scale`, `get deploy,rs,pods`, `get all`, `describe
deployment`, and `apply -f` of the documentation's nginx-deployment example, then its image
bumped from 1.14.2 to 1.16.1 as the docs do, and rolled back, with the oldest and the newest.
(The suite's time budget: the long sequence runs once.)"""
from __future__ import annotations

import json

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, binary_id, kubectl_minor, kubectl_runner, rows

NEWEST = [b for b in BINARIES if kubectl_minor(b) == "1.37"] or BINARIES[-1:]
OLDEST_AND_NEWEST = [b for b in BINARIES if kubectl_minor(b) in ("1.27", "1.37")] or BINARIES[-1:]


@pytest.fixture(params=NEWEST or [None], ids=binary_id)
def kubectl_newest(request, kube_env):
    return kubectl_runner(request.param, kube_env)


@pytest.fixture(params=OLDEST_AND_NEWEST or [None], ids=binary_id)
def kubectl_ends(request, kube_env):
    return kubectl_runner(request.param, kube_env)

# https://k8s.io/examples/controllers/nginx-deployment.yaml
NGINX_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
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
        image: {image}
        ports:
        - containerPort: 80
"""


def deployment(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "deployment", name, "-o", "json").stdout)


def replicasets_of(kubectl, name: str) -> list[dict]:
    items = json.loads(kubectl("get", "rs", "-l", f"app={name}", "-o", "json").stdout)["items"]
    return sorted(items, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))


def rollout_done(kubectl, name: str) -> None:
    out = kubectl("rollout", "status", f"deployment/{name}", "--timeout=60s", timeout=90).stdout
    assert f'deployment "{name}" successfully rolled out' in out


def test_create_deployment_and_rollout_status(kubectl_some):
    # Not version-dependent: the oldest, a middle and the newest kubectl (the suite's time).
    kubectl = kubectl_some
    name = f"web-{kubectl.suffix}"
    out = kubectl("create", "deployment", name, "--image=nginx:1.27", "--replicas=3").stdout
    assert out.strip() == f"deployment.apps/{name} created"
    rollout_done(kubectl, name)
    table = rows(kubectl("get", "deploy", name).stdout)
    assert table[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1][:4] == [name, "3/3", "3", "3"]
    kubectl("delete", "deployment", name)


def test_the_rollout_lesson(kubectl_newest):
    k = kubectl_newest
    name = f"lesson-{k.suffix}"
    k("create", "deployment", name, "--image=nginx:1.27", "--replicas=3")
    rollout_done(k, name)
    wide = rows(k("get", "deploy", name, "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][5:] == ["nginx", "nginx:1.27", f"app={name}"]

    # A rolling update to a new image: revision 2.
    assert "image updated" in k("set", "image", f"deployment/{name}", "nginx=nginx:1.26").stdout
    rollout_done(k, name)
    first, second = replicasets_of(k, name)
    assert second["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert (first["spec"]["replicas"], second["spec"]["replicas"]) == (0, 3)
    assert second["metadata"]["name"] == f"{name}-{second['metadata']['labels']['pod-template-hash']}"

    history = k("rollout", "history", f"deployment/{name}").stdout
    assert f"deployment.apps/{name}" in history
    assert [r[0] for r in rows(history)[2:]] == ["1", "2"]
    rev1 = k("rollout", "history", f"deployment/{name}", "--revision=1").stdout
    assert "with revision #1" in rev1 and "nginx:1.27" in rev1

    # rollout undo: the previous template comes back as revision 3 (revision 1 is gone from the list).
    assert "rolled back" in k("rollout", "undo", f"deployment/{name}").stdout
    rollout_done(k, name)
    d = deployment(k, name)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert [r[0] for r in rows(k("rollout", "history", f"deployment/{name}").stdout)[2:]] == ["2", "3"]
    back = replicasets_of(k, name)[-1]
    assert back["metadata"]["uid"] == first["metadata"]["uid"]
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    k("rollout", "undo", f"deployment/{name}", "--to-revision=2")
    rollout_done(k, name)
    assert deployment(k, name)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"

    # pause: a template change waits; scaling does not.  resume: the rollout goes.
    assert "paused" in k("rollout", "pause", f"deployment/{name}").stdout
    k("set", "resources", f"deployment/{name}", "-c=nginx", "--limits=cpu=200m,memory=128Mi")
    assert "scaled" in k("scale", f"deployment/{name}", "--replicas=4").stdout
    wait_until(lambda: deployment(k, name)["status"].get("availableReplicas") == 4, 30, message="scaled while paused")
    assert len(replicasets_of(k, name)) == 2
    d = deployment(k, name)
    progressing = {c["type"]: c for c in d["status"]["conditions"]}["Progressing"]
    assert progressing["reason"] == "DeploymentPaused"
    k("rollout", "resume", f"deployment/{name}")
    rollout_done(k, name)
    newest = replicasets_of(k, name)[-1]
    assert newest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "200m",
                                                                                          "memory": "128Mi"}
    assert newest["spec"]["replicas"] == 4

    # rollout restart: a new template annotation, so a new ReplicaSet.
    before = len(replicasets_of(k, name))
    assert "restarted" in k("rollout", "restart", f"deployment/{name}").stdout
    rollout_done(k, name)
    rss = replicasets_of(k, name)
    assert len(rss) == before + 1
    assert "kubectl.kubernetes.io/restartedAt" in rss[-1]["spec"]["template"]["metadata"]["annotations"]

    table = k("get", "deploy,rs,pods", "-l", f"app={name}").stdout
    assert f"deployment.apps/{name}" in table and f"replicaset.apps/{rss[-1]['metadata']['name']}" in table
    assert table.count(f"pod/{rss[-1]['metadata']['name']}-") == 4
    everything = k("get", "all").stdout
    assert f"deployment.apps/{name}" in everything and f"replicaset.apps/{rss[-1]['metadata']['name']}" in everything

    described = k("describe", "deployment", name).stdout
    for text in ("StrategyType:           RollingUpdate", "RollingUpdateStrategy:  25% max unavailable, 25% max surge",
                 f"NewReplicaSet:   {rss[-1]['metadata']['name']} (4/4 replicas created)", "ScalingReplicaSet",
                 "Available      True    MinimumReplicasAvailable",
                 "Progressing    True    NewReplicaSetAvailable"):
        assert text in described, described

    # A rollout that cannot progress: rollout status gives up at the progress deadline.
    k("patch", "deployment", name, "-p", '{"spec":{"progressDeadlineSeconds":15}}')
    k("set", "image", f"deployment/{name}", "nginx=nginx:no-such-tag")
    stuck = k("rollout", "status", f"deployment/{name}", "--timeout=60s", check=False, timeout=90)
    assert stuck.returncode != 0
    assert f'deployment "{name}" exceeded its progress deadline' in stuck.stderr
    k("delete", "deployment", name)


def test_apply_the_docs_nginx_deployment(kubectl_ends, tmp_path):
    k = kubectl_ends
    ns = f"docs-{k.suffix}"
    k("create", "namespace", ns)
    manifest = tmp_path / "nginx-deployment.yaml"
    manifest.write_text(NGINX_DEPLOYMENT.format(image="nginx:1.14.2"))
    assert k("apply", "-n", ns, "-f", str(manifest)).stdout.strip() == "deployment.apps/nginx-deployment created"
    out = k("-n", ns, "rollout", "status", "deployment/nginx-deployment", "--timeout=60s", timeout=90).stdout
    assert 'deployment "nginx-deployment" successfully rolled out' in out
    manifest.write_text(NGINX_DEPLOYMENT.format(image="nginx:1.16.1"))
    assert k("apply", "-n", ns, "-f", str(manifest)).stdout.strip() == "deployment.apps/nginx-deployment configured"
    k("-n", ns, "rollout", "status", "deployment/nginx-deployment", "--timeout=60s", timeout=90)
    pods = json.loads(k("-n", ns, "get", "pods", "-l", "app=nginx", "-o", "json").stdout)["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 3 and {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.16.1"}
    rs_rows = rows(k("-n", ns, "get", "rs").stdout)
    assert rs_rows[0] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert sorted(r[1] for r in rs_rows[1:]) == ["0", "3"]
    # Back to 1.14.2: its ReplicaSet returns as revision 3.
    k("-n", ns, "rollout", "undo", "deployment/nginx-deployment")
    k("-n", ns, "rollout", "status", "deployment/nginx-deployment", "--timeout=60s", timeout=90)
    history = rows(k("-n", ns, "rollout", "history", "deployment/nginx-deployment").stdout)
    assert [r[0] for r in history[2:]] == ["2", "3"]
    d = json.loads(k("-n", ns, "get", "deployment", "nginx-deployment", "-o", "json").stdout)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    k("delete", "namespace", ns, "--wait=false")
