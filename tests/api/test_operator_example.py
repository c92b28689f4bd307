"""The example operator of docs/operator-example.md (docs/examples/crontab_operator.py, kopf) against
a live cluster: `kopf run` as a subprocess with a kubeconfig whose server is the cluster's path
(/clusters/<name>); a CronTab gets its ReplicaSet and pods and its status, the scale subresource
drives the ReplicaSet, and deleting the CronTab lets the garbage collector take the ReplicaSet."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.conftest import REPO, wait_until

EXAMPLES = REPO / "docs" / "examples"
GROUP, NS = "stable.example.com", "default"
LABEL = "stable.example.com/crontab"


@pytest.fixture(scope="module")
def cluster(pilothouse_server, module_cluster, tmp_path_factory):
    name = module_cluster("api-operator-example", speed=20)
    url = pilothouse_server.cluster_url(name)
    kubeconfig = tmp_path_factory.mktemp("operator") / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": "student", "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "student", "namespace": NS}}],
        "current-context": name,
    }))
    cfg = client.Configuration()
    cfg.host = url
    api = client.ApiClient(cfg)
    yield api, kubeconfig
    api.close()


@pytest.fixture(scope="module")
def operator(cluster):
    api, kubeconfig = cluster
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(yaml.safe_load((EXAMPLES / "crontab-crd.yaml").read_text()))

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"crontabs.{GROUP}")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    wait_until(established, timeout=20, interval=0.1, message="the CronTab CRD Established")
    log = kubeconfig.parent / "operator.log"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", NS, "--verbose",
             str(EXAMPLES / "crontab_operator.py")],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    yield proc, log
    proc.send_signal(signal.SIGTERM)  # as Kubernetes stops a pod: kopf closes its watches and exits
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        pytest.fail(f"the operator ignored SIGTERM:\n{log.read_text()[-3000:]}")


def test_operator_reconciles_a_crontab(cluster, operator):
    api, _ = cluster
    proc, log = operator
    apps, core, custom = client.AppsV1Api(api), client.CoreV1Api(api), client.CustomObjectsApi(api)

    def alive(value):
        assert proc.poll() is None, f"the operator exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        return value

    ct = custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs",
                                                yaml.safe_load((EXAMPLES / "crontab.yaml").read_text()))
    name = ct["metadata"]["name"]

    def replicaset():
        try:
            return alive(apps.read_namespaced_replica_set(name, NS))
        except ApiException as e:
            if e.status == 404:
                return alive(None)
            raise

    rs = wait_until(replicaset, timeout=20, interval=0.1, message="the operator to create the ReplicaSet")
    owner = rs.metadata.owner_references[0]
    assert (owner.api_version, owner.kind, owner.name, owner.uid, owner.controller, owner.block_owner_deletion) \
        == (f"{GROUP}/v1", "CronTab", name, ct["metadata"]["uid"], True, True)
    assert rs.spec.replicas == 2 and rs.spec.template.spec.containers[0].image == "nginx:1.27"

    def running(n: int):
        pods = core.list_namespaced_pod(NS, label_selector=f"{LABEL}={name}").items
        up = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        return alive(len(up) == n and pods)

    wait_until(lambda: running(2), timeout=20, interval=0.2, message="2 pods Running")

    def status(n: int):
        got = custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", name)
        return alive(got.get("status") == {"replicas": n, "labelSelector": f"{LABEL}={name}"})

    wait_until(lambda: status(2), timeout=20, interval=0.1, message="the CronTab's status: 2 replicas")

    # The operator posts Events about the CronTab (`kubectl describe crontab` shows them).
    def posted():
        events = core.list_namespaced_event(NS).items
        return alive({(e.reason, e.message) for e in events if e.involved_object.kind == "CronTab"
                      and e.involved_object.uid == ct["metadata"]["uid"]})

    wait_until(lambda: ("SuccessfulCreate", f"Created ReplicaSet {name} with 2 replicas") in posted(),
               timeout=10, interval=0.1, message="the operator's Event about the CronTab")

    # The scale subresource reads the status the operator writes; scaling it drives the ReplicaSet.
    scale = custom.get_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", name)
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": f"{LABEL}={name}"}
    custom.patch_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", name, {"spec": {"replicas": 4}})
    wait_until(lambda: alive(apps.read_namespaced_replica_set(name, NS).spec.replicas == 4),
               timeout=20, interval=0.1, message="the ReplicaSet to follow the scale to 4")
    wait_until(lambda: running(4), timeout=20, interval=0.2, message="4 pods Running")
    wait_until(lambda: status(4), timeout=20, interval=0.1, message="the CronTab's status: 4 replicas")

    # Deleting the CronTab: the garbage collector deletes the ReplicaSet it owns, then its pods.
    custom.delete_namespaced_custom_object(GROUP, "v1", NS, "crontabs", name)
    wait_until(lambda: replicaset() is None, timeout=60, interval=0.1,
               message="the ReplicaSet garbage-collected")
    wait_until(lambda: alive(not core.list_namespaced_pod(NS, label_selector=f"{LABEL}={name}").items),
               timeout=30, interval=0.2, message="its pods gone")
    assert proc.poll() is None
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
