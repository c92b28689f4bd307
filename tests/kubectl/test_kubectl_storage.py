"""Persistent storage with the machine's real kubectl: the Kubernetes documentation's
"Configure a Pod to Use a PersistentVolume for Storage" (pv-volume.yaml, pv-claim.yaml,
pv-pod.yaml: a hostPath volume of class `manual`, a claim bound to it, nginx serving from it, the
clean-up), `kubectl get pv,pvc,sc` as upstream prints them, and a claim of the default class
provisioned by the simulated CSI driver once a pod uses it."""
from __future__ import annotations

import json
import re

from tests.conftest import wait_until
from tests.kubectl.conftest import pod_json, rows


def _speaks_websocket(kubectl) -> bool:
    return kubectl.minor is None or int(kubectl.minor.split(".")[1]) >= 30


def _header(output: str) -> list[str]:
    return re.split(r"\s{2,}", output.strip().splitlines()[0].strip())


def _get(kubectl, kind: str, name: str) -> dict:
    return json.loads(kubectl("get", kind, name, "-o", "json").stdout)


def test_the_documentations_persistent_volume_tutorial(kubectl_some, tmp_path):
    k, s = kubectl_some, kubectl_some.suffix
    pv, pvc, pod = f"task-pv-volume-{s}", f"task-pv-claim-{s}", f"task-pv-pod-{s}"
    (tmp_path / "pv-volume.yaml").write_text(
        f"apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {pv}\n  labels:\n    type: local\n"
        "spec:\n  storageClassName: manual\n  capacity:\n    storage: 10Gi\n  accessModes:\n    - ReadWriteOnce\n"
        '  hostPath:\n    path: "/mnt/data"\n')
    (tmp_path / "pv-claim.yaml").write_text(
        f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {pvc}\n"
        "spec:\n  storageClassName: manual\n  accessModes:\n    - ReadWriteOnce\n  resources:\n    requests:\n"
        "      storage: 3Gi\n")
    (tmp_path / "pv-pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pod}\nspec:\n  volumes:\n    - name: task-pv-storage\n"
        f"      persistentVolumeClaim:\n        claimName: {pvc}\n  containers:\n    - name: task-pv-container\n"
        '      image: nginx\n      ports:\n        - containerPort: 80\n          name: "http-server"\n'
        '      volumeMounts:\n        - mountPath: "/usr/share/nginx/html"\n          name: task-pv-storage\n')

    k("apply", "-f", str(tmp_path / "pv-volume.yaml"))
    wait_until(lambda: _get(k, "pv", pv)["status"]["phase"] == "Available", 30, 0.3, f"{pv} Available")
    out = k("get", "pv", pv).stdout
    assert _header(out) == ["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                            "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]
    assert rows(out)[1][:7] == [pv, "10Gi", "RWO", "Retain", "Available", "manual", "<unset>"]

    k("apply", "-f", str(tmp_path / "pv-claim.yaml"))
    wait_until(lambda: _get(k, "pvc", pvc)["status"]["phase"] == "Bound", 30, 0.3, f"{pvc} Bound")
    wait_until(lambda: _get(k, "pv", pv)["status"]["phase"] == "Bound", 30, 0.3, f"{pv} Bound")
    assert rows(k("get", "pv", pv).stdout)[1][:8] == [pv, "10Gi", "RWO", "Retain", "Bound", f"default/{pvc}", "manual",
                                                       "<unset>"]
    out = k("get", "pvc", pvc).stdout
    assert _header(out) == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                            "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert rows(out)[1][:7] == [pvc, "Bound", pv, "10Gi", "RWO", "manual", "<unset>"]

    k("apply", "-f", str(tmp_path / "pv-pod.yaml"))
    wait_until(lambda: pod_json(k, pod)["status"].get("phase") == "Running", 60, 0.5, f"{pod} Running")
    if _speaks_websocket(k):
        k("exec", pod, "--", "sh", "-c",
          "echo 'Hello from Kubernetes storage' > /usr/share/nginx/html/index.html")
        # (The tutorial then curls nginx from inside the pod; an exec'd curl reaching the pod's own
        # server is not simulated yet, so the file nginx serves is read instead.)
        assert k("exec", pod, "--", "cat", "/usr/share/nginx/html/index.html").stdout == \
            "Hello from Kubernetes storage\n"

    # kubectl get pv,pvc,sc: one table per kind, each with its kind-qualified names.
    out = k("get", "pv,pvc,sc").stdout
    assert f"persistentvolume/{pv}" in out and f"persistentvolumeclaim/{pvc}" in out
    sc_line = next(line for line in out.splitlines() if line.startswith("storageclass.storage.k8s.io/standard"))
    assert re.split(r"\s{2,}", sc_line)[:5] == ["storageclass.storage.k8s.io/standard (default)",
                                                "pilothouse.csi.k8s.io", "Delete", "WaitForFirstConsumer", "false"]
    assert re.search(r"NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE", out)

    # Clean up, as the tutorial does: the pod, the claim, then the volume.
    k("delete", "pod", pod, "--wait=true", timeout=90)
    k("delete", "pvc", pvc, "--wait=true", timeout=90)
    k("delete", "pv", pv, "--wait=true", timeout=90)
    assert k("get", "pv", pv, check=False).returncode != 0


def test_a_claim_of_the_default_class_is_provisioned_for_its_first_consumer(kubectl_some, tmp_path):
    k, s = kubectl_some, kubectl_some.suffix
    claim, pod = f"data-{s}", f"app-{s}"
    (tmp_path / "app.yaml").write_text(
        f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {claim}}}\n"
        "spec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n")
    k("apply", "-f", str(tmp_path / "app.yaml"))
    wait_until(lambda: "waiting for first consumer to be created before binding" in k("describe", "pvc", claim).stdout,
               30, 0.5, "WaitForFirstConsumer event")
    assert rows(k("get", "pvc", claim).stdout)[1][:3] == [claim, "Pending", "standard"]
    (tmp_path / "pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}}}\nspec:\n  containers:\n"
        "  - {name: app, image: busybox, command: [sh, -c, 'echo saved > /data/f; sleep 3600'],\n"
        "     volumeMounts: [{name: data, mountPath: /data}]}\n"
        f"  volumes: [{{name: data, persistentVolumeClaim: {{claimName: {claim}}}}}]\n")
    k("apply", "-f", str(tmp_path / "pod.yaml"))
    wait_until(lambda: pod_json(k, pod)["status"].get("phase") == "Running", 60, 0.5, f"{pod} Running")
    pvc = _get(k, "pvc", claim)
    node = pod_json(k, pod)["spec"]["nodeName"]
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    volume = pvc["spec"]["volumeName"]
    row = rows(k("get", "pvc", claim).stdout)[1]
    assert row[:7] == [claim, "Bound", volume, "1Gi", "RWO", "standard", "<unset>"]
    assert rows(k("get", "pv", volume).stdout)[1][:7] == [volume, "1Gi", "RWO", "Delete", "Bound", f"default/{claim}",
                                                         "standard"]
    described = k("describe", "pvc", claim).stdout
    assert "ProvisioningSucceeded" in described and f"Successfully provisioned volume {volume}" in described
    drivers = k("get", "csidrivers").stdout
    assert _header(drivers) == ["NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS",
                                "REQUIRESREPUBLISH", "MODES", "AGE"]
    assert rows(drivers)[1][:7] == ["pilothouse.csi.k8s.io", "true", "false", "false", "<unset>", "false", "Persistent"]
    csinode = rows(k("get", "csinode", node).stdout)
    assert csinode[0][:2] == ["NAME", "DRIVERS"] and csinode[1][:2] == [node, "1"]
    attachments = [r for r in rows(k("get", "volumeattachments").stdout)[1:] if r[2] == volume]
    assert attachments and attachments[0][1:5] == ["pilothouse.csi.k8s.io", volume, node, "true"]
    # Deleting the claim and its pod deletes the provisioned volume (reclaimPolicy Delete).
    k("delete", "pod", pod, "--wait=true", timeout=90)
    k("delete", "pvc", claim, "--wait=true", timeout=90)
    wait_until(lambda: k("get", "pv", volume, check=False).returncode != 0, 60, 0.5, f"{volume} deleted")
