"""`kubectl delete --cascade=orphan|foreground` with the machine's real kubectl (the dispatcher and
every kubectl 1.27-1.33, 1.36 and 1.37): the garbage collector orphans or deletes the
ReplicaSet's pods."""
from __future__ import annotations

import uuid


from tests.conftest import wait_until


def _replicaset(kubectl, tmp_path, replicas=2) -> str:
    name = f"gc-{uuid.uuid4().hex[:6]}"
    manifest = tmp_path / "rs.yaml"
    manifest.write_text(f"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\nspec:\n"
                        f"  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
                        f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
                        f"      - name: web\n        image: nginx\n")
    kubectl("create", "-f", str(manifest))
    wait_until(lambda: len(_pods(kubectl, name)) == replicas, timeout=30, interval=0.3, message="pods created")
    return name


def _pods(kubectl, name) -> list[str]:
    out = kubectl("get", "pods", "-l", f"app={name}", "-o", "jsonpath={.items[*].metadata.name}").stdout
    return out.split()


def test_cascade_orphan_leaves_the_pods(kubectl, tmp_path):
    name = _replicaset(kubectl, tmp_path)
    pods = _pods(kubectl, name)
    out = kubectl("delete", "rs", name, "--cascade=orphan", timeout=90).stdout.strip()
    assert out == kubectl.deleted(f'replicaset.apps "{name}"', "default")
    assert kubectl("get", "rs", name, check=False).returncode != 0

    def released():
        refs = kubectl("get", "pods", "-l", f"app={name}", "-o",
                       "jsonpath={.items[*].metadata.ownerReferences}").stdout
        return refs.strip() == ""

    wait_until(released, timeout=30, interval=0.3, message="ownerReferences removed")
    assert sorted(_pods(kubectl, name)) == sorted(pods)
    kubectl("delete", "pods", "-l", f"app={name}", "--wait=false")


def test_cascade_foreground_removes_the_pods_then_the_replicaset(kubectl, tmp_path):
    name = _replicaset(kubectl, tmp_path)
    # kubectl waits until the ReplicaSet is gone, which is after its pods are.
    out = kubectl("delete", "rs", name, "--cascade=foreground", timeout=120).stdout.strip()
    assert out == kubectl.deleted(f'replicaset.apps "{name}"', "default")
    assert _pods(kubectl, name) == []
    assert kubectl("get", "rs", name, check=False).returncode != 0
