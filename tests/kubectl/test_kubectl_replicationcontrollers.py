"""ReplicationControllers with the real kubectl: the documentation's replication.yaml
(https://k8s.io/examples/controllers/replication.yaml) applied, listed, described, scaled and
deleted (kubectl deletes with propagationPolicy=Background, so the pods go too, although the
kind's own default would orphan them)."""
from __future__ import annotations

import json

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

DOCS_EXAMPLE = """apiVersion: v1
kind: ReplicationController
metadata:
  name: {name}
spec:
  replicas: 3
  selector:
    app: {name}
  template:
    metadata:
      name: nginx
      labels:
        app: {name}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
"""


def _pods(kubectl, app: str) -> list[dict]:
    return json.loads(kubectl("get", "pods", "-l", f"app={app}", "-o", "json").stdout)["items"]


def test_the_docs_replication_controller(kubectl_some, tmp_path):
    kubectl = kubectl_some
    name = f"nginx-{kubectl.suffix}"
    manifest = tmp_path / "replication.yaml"
    manifest.write_text(DOCS_EXAMPLE.format(name=name))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == f"replicationcontroller/{name} created"

    def ready(n: int):
        table = rows(kubectl("get", "rc", name).stdout)
        return table if table[1][1:4] == [str(n), str(n), str(n)] else None

    table = wait_until(lambda: ready(3), timeout=60, message="3 ready replicas")
    assert table[0][:5] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    wide = rows(kubectl("get", "rc", name, "-o", "wide").stdout)
    assert wide[0][5:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and wide[1][5:] == ["nginx", "nginx", f"app={name}"]
    pods = _pods(kubectl, name)
    assert len(pods) == 3 and {p["metadata"]["ownerReferences"][0]["kind"] for p in pods} == {"ReplicationController"}
    described = kubectl("describe", "rc", name).stdout
    assert "Pods Status:  3 Running / 0 Waiting / 0 Succeeded / 0 Failed" in described
    assert "SuccessfulCreate" in described

    assert kubectl("scale", "rc", name, "--replicas=1").stdout.strip() == f"replicationcontroller/{name} scaled"
    wait_until(lambda: ready(1) and len([p for p in _pods(kubectl, name)
                                         if not p["metadata"].get("deletionTimestamp")]) == 1,
               timeout=60, message="scaled to 1")

    out = kubectl("delete", "rc", name).stdout.strip()
    assert out == kubectl.deleted(f'replicationcontroller "{name}"', "default")
    wait_until(lambda: not _pods(kubectl, name), timeout=60, message="its pods deleted with it")
