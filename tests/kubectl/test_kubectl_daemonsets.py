"""DaemonSets with the real kubectl: the documentation's fluentd-elasticsearch example
(https://k8s.io/examples/controllers/daemonset.yaml) applied as the DaemonSet page says, then
`get ds`, `rollout status`, `set image`, `rollout history` (with --revision), `rollout undo`,
`rollout restart` and `get controllerrevisions`, on the oldest and newest kubectl; a cheap
smoke (apply, rollout status, get ds, rollout history, delete) on every kubectl; and the official Python client reading
DaemonSets and ControllerRevisions."""
from __future__ import annotations

import json

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, rows

# The docs' example, as published (controllers/daemonset.yaml).
FLUENTD = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      # these tolerations are to have the daemonset runnable on control plane nodes
      # remove them if your control plane nodes should not run pods
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v5.0.1
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      # it may be desirable to set a high priority class to ensure that a DaemonSet Pod
      # preempts running Pods
      # priorityClassName: important
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
"""

NEW_IMAGE = "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"
NS = ("-n", "kube-system")
# The full sequence changes the one example DaemonSet: it runs once, with the newest kubectl
# (the others read what it left: rollout history and get are read-only).
NEWEST = [b for b in BINARIES if kubectl_minor(b) == "1.37"] or BINARIES[-1:]


@pytest.fixture(scope="module")
def schedulable_workers(kube_env) -> str:
    """How many nodes a DaemonSet without tolerations runs on (the untainted ones), as text."""
    from tests.kubectl.conftest import kubectl_runner as runner
    run = runner((NEWEST or [None])[0], kube_env)
    return str(len(node_names(run, untainted_only=True)))


@pytest.fixture(params=NEWEST or [None], ids=lambda b: "newest")
def kubectl_newest(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def pod_images(kubectl) -> dict[str, str]:
    """node -> image of the example's live pods."""
    out = json.loads(kubectl("get", "pods", *NS, "-l", "name=fluentd-elasticsearch", "-o", "json").stdout)
    return {p["spec"].get("nodeName"): p["spec"]["containers"][0]["image"] for p in out["items"]
            if not p["metadata"].get("deletionTimestamp")}


def node_names(kubectl, untainted_only: bool = False) -> list[str]:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return sorted(n["metadata"]["name"] for n in nodes
                  if not (untainted_only and (n.get("spec") or {}).get("taints")))


def test_the_documentations_daemonset_example(kubectl_newest, tmp_path):
    kubectl = kubectl_newest
    nodes = node_names(kubectl)
    n = str(len(nodes))
    manifest = tmp_path / "daemonset.yaml"
    manifest.write_text(FLUENTD)
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "daemonset.apps/fluentd-elasticsearch created"
    status = kubectl("rollout", "status", "ds/fluentd-elasticsearch", *NS, "--timeout=60s", timeout=90).stdout
    assert status.strip().endswith('daemon set "fluentd-elasticsearch" successfully rolled out')

    # The control plane's taint is tolerated: one pod on each node.
    table = rows(kubectl("get", "ds", *NS).stdout)
    assert table[0] == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"]
    line = next(r for r in table if r[0] == "fluentd-elasticsearch")
    assert line[1:7] == [n, n, n, n, n, "<none>"]
    wide = rows(kubectl("get", "daemonset", "fluentd-elasticsearch", *NS, "-o", "wide").stdout)
    assert wide[0][-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][-3:] == ["fluentd-elasticsearch", "quay.io/fluentd_elasticsearch/fluentd:v5.0.1",
                            "name=fluentd-elasticsearch"]
    assert sorted(pod_images(kubectl)) == nodes
    assert "daemonset.apps/fluentd-elasticsearch" in kubectl("get", "all", *NS).stdout
    described = kubectl("describe", "ds", "fluentd-elasticsearch", *NS).stdout
    assert f"Desired Number of Nodes Scheduled: {n}" in described
    assert f"Pods Status:  {n} Running / 0 Waiting / 0 Succeeded / 0 Failed" in described
    assert "SuccessfulCreate" in described and "daemonset-controller" in described
    explained = kubectl("explain", "ds.spec.updateStrategy.rollingUpdate").stdout
    assert "maxSurge" in explained and "maxUnavailable" in explained
    logs = kubectl("logs", "-l", "name=fluentd-elasticsearch", *NS, "--tail=1").stdout
    assert "fluentd worker is now running" in logs

    # A rolling update, its history, and a rollback.
    kubectl("set", "image", "ds/fluentd-elasticsearch", f"fluentd-elasticsearch={NEW_IMAGE}", *NS)
    kubectl("rollout", "status", "ds/fluentd-elasticsearch", *NS, "--timeout=90s", timeout=120)
    assert set(pod_images(kubectl).values()) == {NEW_IMAGE}
    history = rows(kubectl("rollout", "history", "ds/fluentd-elasticsearch", *NS).stdout)
    assert history[0] == ['daemonset.apps/fluentd-elasticsearch']
    assert history[1] == ["REVISION", "CHANGE-CAUSE"] and [r[0] for r in history[2:]] == ["1", "2"]
    first = kubectl("rollout", "history", "ds/fluentd-elasticsearch", *NS, "--revision=1").stdout
    assert "quay.io/fluentd_elasticsearch/fluentd:v5.0.1" in first and "Pod Template:" in first

    revisions = rows(kubectl("get", "controllerrevisions", *NS).stdout)
    assert revisions[0] == ["NAME", "CONTROLLER", "REVISION", "AGE"]
    ours = sorted((r[2], r[1]) for r in revisions[1:] if r[0].startswith("fluentd-elasticsearch-"))
    assert ours == [("1", "daemonset.apps/fluentd-elasticsearch"), ("2", "daemonset.apps/fluentd-elasticsearch")]

    assert kubectl("rollout", "undo", "ds/fluentd-elasticsearch", *NS).stdout.strip() == \
        "daemonset.apps/fluentd-elasticsearch rolled back"
    kubectl("rollout", "status", "ds/fluentd-elasticsearch", *NS, "--timeout=90s", timeout=120)
    assert set(pod_images(kubectl).values()) == {"quay.io/fluentd_elasticsearch/fluentd:v5.0.1"}
    history = rows(kubectl("rollout", "history", "ds/fluentd-elasticsearch", *NS).stdout)
    assert [r[0] for r in history[2:]] == ["2", "3"]  # revision 1 came back as 3

    # rollout restart: a new template (restartedAt), every pod replaced.
    names = set(kubectl("get", "pods", *NS, "-l", "name=fluentd-elasticsearch", "-o",
                        "jsonpath={.items[*].metadata.name}").stdout.split())
    assert len(names) == len(nodes)
    kubectl("rollout", "restart", "ds/fluentd-elasticsearch", *NS)
    kubectl("rollout", "status", "ds/fluentd-elasticsearch", *NS, "--timeout=90s", timeout=120)
    wait_until(lambda: not names & set(kubectl("get", "pods", *NS, "-l", "name=fluentd-elasticsearch", "-o",
                                               "jsonpath={.items[*].metadata.name}").stdout.split()),
               30, message="every pod replaced by the restart")
    history = rows(kubectl("rollout", "history", "ds/fluentd-elasticsearch", *NS).stdout)
    assert [r[0] for r in history[2:]] == ["2", "3", "4"]

    # kubectl drain will not evict a DaemonSet's pod (the controller would put it right back:
    # it tolerates the cordon) unless told to leave them.
    worker = next(n for n in nodes if n.startswith("worker"))
    refused = kubectl("drain", worker, "--timeout=60s", check=False, timeout=90)
    assert refused.returncode != 0 and "cannot delete DaemonSet-managed Pods" in refused.stderr
    drained = kubectl("drain", worker, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                      "--timeout=60s", timeout=90)
    assert "ignoring DaemonSet-managed Pods" in drained.stderr + drained.stdout
    assert f"node/{worker} drained" in drained.stdout
    assert worker in pod_images(kubectl)  # still there, on the cordoned node
    kubectl("uncordon", worker)


SMOKE = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent-{suffix}}}
spec:
  selector: {{matchLabels: {{app: agent-{suffix}}}}}
  template:
    metadata: {{labels: {{app: agent-{suffix}}}}}
    spec:
      containers: [{{name: agent, image: "nginx:1.27"}}]
"""


def test_daemonset_smoke_on_every_kubectl(kubectl, schedulable_workers, tmp_path):
    name = f"agent-{kubectl.suffix}"
    manifest = tmp_path / "ds.yaml"
    manifest.write_text(SMOKE.format(suffix=kubectl.suffix))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == f"daemonset.apps/{name} created"
    out = kubectl("rollout", "status", f"daemonset/{name}", "--timeout=60s", timeout=90).stdout
    assert out.strip().endswith(f'daemon set "{name}" successfully rolled out')
    line = next(r for r in rows(kubectl("get", "ds").stdout) if r[0] == name)
    n = schedulable_workers  # the control plane is tainted
    assert line[1:7] == [n, n, n, n, n, "<none>"]
    history = rows(kubectl("rollout", "history", f"daemonset/{name}").stdout)
    assert history[1] == ["REVISION", "CHANGE-CAUSE"] and history[2] == ["1", "<none>"]
    assert kubectl("delete", "ds", name).stdout.strip() == kubectl.deleted(f'daemonset.apps "{name}"', "default")


def test_the_python_client_reads_daemonsets_and_revisions(pilothouse_server, kube_cluster, kubectl_newest, tmp_path):
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(kube_cluster)
    with client.ApiClient(cfg) as api_client:
        apps = client.AppsV1Api(api_client)
        body = client.V1DaemonSet(
            metadata=client.V1ObjectMeta(name="pyds"),
            spec=client.V1DaemonSetSpec(
                selector=client.V1LabelSelector(match_labels={"app": "pyds"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "pyds"}),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1.27")]))))
        created = apps.create_namespaced_daemon_set("default", body)
        assert created.spec.update_strategy.type == "RollingUpdate"
        assert created.spec.update_strategy.rolling_update.max_unavailable == 1
        assert created.spec.revision_history_limit == 10
        workers = len(node_names(kubectl_newest, untainted_only=True))
        ds = wait_until(lambda: (lambda d: d if d.status.number_ready == workers else None)(
            apps.read_namespaced_daemon_set("pyds", "default")), 30, message="three ready daemon pods")
        assert ds.status.observed_generation == 1 and ds.status.updated_number_scheduled == workers
        revs = [r for r in apps.list_namespaced_controller_revision("default", label_selector="app=pyds").items]
        assert len(revs) == 1 and revs[0].revision == 1
        assert revs[0].data["spec"]["template"]["$patch"] == "replace"
        apps.delete_namespaced_daemon_set("pyds", "default")
