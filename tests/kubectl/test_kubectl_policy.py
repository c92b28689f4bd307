"""PodDisruptionBudgets, ResourceQuotas and LimitRanges with the machine's real kubectl (the
dispatcher and every kubectl 1.27-1.33), against one cluster at 50x: `kubectl create pdb` /
`create quota` (protobuf bodies from 1.32), `get pdb` / `get quota` / `describe quota`, a drain
that a budget blocks (kubectl retries every 5 s on the 429 until its --timeout) and that goes
through once the budget is relaxed, and a pod refused for exceeding a quota."""
from __future__ import annotations

import json
import re

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def _json(kubectl, *args) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def _running(kubectl, app: str) -> dict[str, str]:
    pods = _json(kubectl, "get", "pods", "-l", f"app={app}")["items"]
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])}


def _budget(kubectl, name: str) -> dict:
    return _json(kubectl, "get", "pdb", name).get("status") or {}


def test_drain_blocked_by_a_budget_then_relaxed(kubectl_some, tmp_path):
    # Its 7 s drain timeout is wall time: run on the oldest kubectl, the Cloud SDK's newest and the
    # newest (JSON and protobuf evictions); the others' eviction bodies are checked in test_kubectl_drain.
    kubectl = kubectl_some
    app = f"guarded-{kubectl.suffix}"
    (tmp_path / "rs.yaml").write_text(
        "apiVersion: apps/v1\nkind: ReplicaSet\n"
        f"metadata: {{name: {app}}}\n"
        f"spec:\n  replicas: 3\n  selector: {{matchLabels: {{app: {app}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {app}}}}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n")
    kubectl("apply", "-f", str(tmp_path / "rs.yaml"))
    out = kubectl("create", "pdb", app, f"--selector=app={app}", "--min-available=3")
    assert f"poddisruptionbudget.policy/{app} created" in out.stdout
    placed = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(_running(kubectl, app)),
                        timeout=60, message="3 pods ready")
    wait_until(lambda: _budget(kubectl, app).get("currentHealthy") == 3, timeout=30, message="budget observed")
    node = sorted(placed.values())[0]
    try:
        blocked = kubectl("drain", node, "--ignore-daemonsets", "--timeout=7s", check=False, timeout=60)
        assert blocked.returncode != 0
        text = blocked.stdout + blocked.stderr
        assert f"node/{node} cordoned" in text
        assert re.search(rf'error when evicting pods/"{app}-\w+" -n "default" \(will retry after 5s\): '
                         rf"{re.escape(VIOLATION)}", text), text
        assert "global timeout reached: 7s" in text
        assert f'unable to drain node "{node}"' in text
        # Nothing was evicted: the budget still has its three pods.
        assert set(_running(kubectl, app)) == set(placed)

        kubectl("patch", "pdb", app, "--type=merge", "-p", '{"spec":{"minAvailable":2}}')
        wait_until(lambda: _budget(kubectl, app).get("disruptionsAllowed") == 1
                   and _budget(kubectl, app).get("observedGeneration") == 2, timeout=30, message="budget relaxed")
        victims = sorted(name for name, n in placed.items() if n == node)
        if len(victims) > 1:  # two of them there: the budget allows one at a time, drain retries
            timeout = "120s"
        else:
            timeout = "60s"
        out = kubectl("drain", node, "--ignore-daemonsets", f"--timeout={timeout}", timeout=150)
        text = out.stdout + out.stderr
        for pod in victims:
            assert f"evicting pod default/{pod}" in text and f"pod/{pod} evicted" in text
        assert f"node/{node} drained" in text
    finally:
        kubectl("uncordon", node, check=False)
        kubectl("delete", "pdb", app, check=False)
        kubectl("delete", "replicaset", app, "--wait=false", check=False)


def test_get_and_describe_pdb(kubectl):
    name = f"columns-{kubectl.suffix}"
    kubectl("create", "pdb", name, "--selector=app=nothing-here", "--max-unavailable=25%")
    try:
        out = kubectl("get", "pdb", name)
        header, row = rows(out.stdout)
        assert header == ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
        assert row[:4] == [name, "N/A", "25%", "0"]
        wait_until(lambda: _budget(kubectl, name).get("observedGeneration") == 1, timeout=30,
                   message="budget observed")
        described = kubectl("describe", "pdb", name).stdout
        assert re.search(r"Max unavailable:\s+25%", described) and re.search(r"Selector:\s+app=nothing-here", described)
        assert re.search(r"Allowed disruptions:\s+0", described)
    finally:
        kubectl("delete", "pdb", name, check=False)


def test_quota_refuses_a_pod_over_it(kubectl, tmp_path):
    ns = f"quota-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    try:
        out = kubectl("-n", ns, "create", "quota", "q", "--hard=pods=2,requests.cpu=1")
        assert "resourcequota/q created" in out.stdout
        # LimitRanger gives the pods a cpu request (the quota on requests.cpu asks for one).
        (tmp_path / "limits.yaml").write_text(
            "apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\n"
            "spec:\n  limits:\n  - type: Container\n    defaultRequest: {cpu: 300m}\n    max: {cpu: '1'}\n")
        kubectl("-n", ns, "apply", "-f", str(tmp_path / "limits.yaml"))
        wait_until(lambda: "used" in (_json(kubectl, "-n", ns, "get", "quota", "q").get("status") or {}),
                   timeout=30, message="quota status")
        for pod in ("one", "two"):
            kubectl("-n", ns, "run", pod, "--image=nginx")
        refused = kubectl("-n", ns, "run", "three", "--image=nginx", check=False)
        assert refused.returncode != 0
        assert ('Error from server (Forbidden): pods "three" is forbidden: exceeded quota: q, requested: pods=1, '
                'used: pods=2, limited: pods=2') in refused.stderr
        pod = _json(kubectl, "-n", ns, "get", "pod", "one")
        assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "300m"}
        assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == \
            "LimitRanger plugin set: cpu request for container one; cpu limit for container one"
        too_big = kubectl("-n", ns, "run", "big", "--image=nginx", "--overrides",
                          '{"spec":{"containers":[{"name":"big","image":"nginx",'
                          '"resources":{"limits":{"cpu":"2"}}}]}}', check=False)
        assert 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' in too_big.stderr

        header, row = rows(kubectl("-n", ns, "get", "quota").stdout)
        assert header == ["NAME", "AGE", "REQUEST", "LIMIT"]
        assert row[0] == "q" and row[2] == "pods: 2/2, requests.cpu: 600m/1"
        described = kubectl("-n", ns, "describe", "quota", "q").stdout
        assert re.search(r"pods\s+2\s+2", described) and re.search(r"requests\.cpu\s+600m\s+1", described), described
        header, row = rows(kubectl("-n", ns, "get", "limits").stdout)
        assert header == ["NAME", "CREATED AT"] and row[0] == "defaults"
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
