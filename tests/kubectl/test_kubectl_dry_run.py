"""Nothing is written on a dry run (issue 9), with the machine's real kubectl (the dispatcher,
1.27-1.33 and the newest from PyPI): `kubectl diff` and `--dry-run=server` on create, apply,
patch, label, scale and delete print what they print against a real cluster and leave the live
object exactly as it was (same resourceVersion, same spec)."""
from __future__ import annotations

import json
import uuid

from tests.conftest import wait_until

RS = """apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: {image}
"""


def _live(kubectl, name) -> dict:
    return json.loads(kubectl("get", "rs", name, "-o", "json").stdout)


def test_diff_and_server_dry_runs_change_nothing(kubectl_some, tmp_path):
    # Not version-dependent: the oldest, a middle and the newest kubectl (the suite's time).
    kubectl = kubectl_some
    name = f"dry-{uuid.uuid4().hex[:6]}"
    manifest = tmp_path / "rs.yaml"
    # Zero replicas: no pods, so no controller writes move the resourceVersion meanwhile.
    manifest.write_text(RS.format(name=name, replicas=0, image="nginx:1.27"))
    kubectl("apply", "-f", str(manifest))
    wait_until(lambda: _live(kubectl, name).get("status", {}).get("observedGeneration") == 1,
               timeout=30, interval=0.3, message="the ReplicaSet controller has synced it")
    before = _live(kubectl, name)

    changed = tmp_path / "rs2.yaml"
    changed.write_text(RS.format(name=name, replicas=0, image="nginx:1.28"))
    diff = kubectl("diff", "-f", str(changed), check=False)
    assert diff.returncode == 1, diff.stderr  # 1: there are differences
    assert "-      - image: nginx:1.27" in diff.stdout and "+      - image: nginx:1.28" in diff.stdout

    out = kubectl("apply", "-f", str(changed), "--dry-run=server").stdout.strip()
    assert out == f"replicaset.apps/{name} configured (server dry run)"
    out = kubectl("patch", "rs", name, "-p", '{"spec":{"minReadySeconds":5}}', "--dry-run=server").stdout.strip()
    # (`patch` leaves the dry-run suffix off in some kubectl releases: kubectl's own printing)
    assert out.startswith(f"replicaset.apps/{name} patched") and "no change" not in out
    out = kubectl("label", "rs", name, "tier=web", "--dry-run=server").stdout.strip()
    assert out == f"replicaset.apps/{name} labeled (server dry run)"
    out = kubectl("scale", "rs", name, "--replicas=5", "--dry-run=server").stdout.strip()
    assert out == f"replicaset.apps/{name} scaled (server dry run)"
    out = kubectl("delete", "rs", name, "--dry-run=server").stdout.strip()
    assert out.startswith(f'replicaset.apps "{name}" deleted') and out.endswith("(server dry run)")

    other = tmp_path / "other.yaml"
    other.write_text(RS.format(name=name + "-new", replicas=0, image="nginx:1.27"))
    out = kubectl("create", "-f", str(other), "--dry-run=server").stdout.strip()
    assert out == f"replicaset.apps/{name}-new created (server dry run)"
    assert kubectl("get", "rs", name + "-new", check=False).returncode != 0

    after = _live(kubectl, name)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"] == before["spec"] and after["metadata"].get("labels") == before["metadata"].get("labels")
    kubectl("delete", "rs", name)
