"""Resource use with the machine's real kubectl: `kubectl top pods|nodes` through the aggregated
metrics.k8s.io API (sim/metricsserver.py), `describe pod` of an OOMKilled container, and the
control API's pod faults (POST /clusters/<c>/sim/v1/pods/<ns>/<pod>/fault) that drive them."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import pod_json as _pod, rows


@pytest.fixture(scope="module")
def fault(pilothouse_server, kube_cluster):
    def post(name: str, body: dict, namespace: str = "default"):
        return pilothouse_server.request("POST", f"/clusters/{kube_cluster}/sim/v1/pods/{namespace}/{name}/fault", body)
    return post


def _apply_pod(kubectl, tmp_path, name: str, limits: str, labels: str = "{}") -> None:
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {labels}}}\n"
                        f"spec:\n  containers:\n  - name: {name}\n    image: nginx:1.27\n"
                        f"    resources: {{limits: {limits}}}\n")
    kubectl("apply", "-f", str(manifest))
    _running(kubectl, name)


def _running(kubectl, name: str) -> None:
    wait_until(lambda: _pod(kubectl, name)["status"].get("phase") == "Running", 60, 0.3, f"{name} Running")


def test_top_pods_and_nodes(kubectl_some, fault, tmp_path):
    name = f"top-{kubectl_some.suffix}"
    _apply_pod(kubectl_some, tmp_path, name, "{cpu: 200m}", "{app: top}")
    status, body = fault(name, {"fault": "burn-cpu"})
    assert status == 200 and body["faults"] == ["burn-cpu"], body
    # metrics-server has a rate from its second scrape of the node (every 15 virtual seconds).
    def top_row():
        out = kubectl_some("top", "pods", "-l", "app=top", check=False)
        found = [r for r in rows(out.stdout) if r and r[0] == name]
        return found and found[0][1] == "200m" and found[0]
    row = wait_until(top_row, 60, 0.5, f"kubectl top pods lists {name} at its CPU limit")
    assert row == [name, "200m", "3Mi"]
    containers = rows(kubectl_some("top", "pods", name, "--containers").stdout)
    assert containers[0][:2] == ["POD", "NAME"] and [name, name, "200m", "3Mi"] in containers
    everywhere = rows(kubectl_some("top", "pods", "-A").stdout)
    assert everywhere[0][0] == "NAMESPACE" and ["default", name, "200m", "3Mi"] in everywhere
    nodes = rows(kubectl_some("top", "nodes").stdout)
    assert nodes[0][:2] == ["NAME", "CPU(cores)"] and {r[0] for r in nodes[1:]} >= {"worker-1", "worker-2", "worker-3"}
    fault(name, {"fault": "recover"})


def test_describe_shows_an_oomkilled_container(kubectl_some, fault, tmp_path):
    name = f"oom-{kubectl_some.suffix}"
    _apply_pod(kubectl_some, tmp_path, name, "{memory: 32Mi}")
    assert fault(name, {"fault": "leak-memory", "rate": "20Mi"})[0] == 200
    wait_until(lambda: _pod(kubectl_some, name)["status"]["containerStatuses"][0]["restartCount"] >= 1,
               60, 0.3, f"{name} OOMKilled and restarted")
    described = kubectl_some("describe", "pod", name).stdout
    assert "Reason:       OOMKilled" in described and "Exit Code:    137" in described


def test_fault_requests_are_checked(pilothouse_server, kube_cluster, fault):
    status, body = fault("nobody", {"fault": "crash"})
    assert status == 404 and body["kind"] == "Status" and body["message"] == 'pods "nobody" not found'
    name = "fault-target"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
    created = pilothouse_server.request("POST", f"/clusters/{kube_cluster}/api/v1/namespaces/default/pods", pod)
    assert created[0] == 201, created
    status, body = fault(name, {"fault": "explode"})
    assert status == 400 and body["reason"] == "BadRequest" and "unknown fault 'explode'" in body["message"]
    status, body = fault(name, {"fault": "crash", "container": "db"})
    assert status == 400 and body["message"] == f"container db is not valid for pod {name}"


def test_the_control_api_lists_the_cri_calls_made_for_a_pod(pilothouse_server, kube_cluster):
    base = f"/clusters/{kube_cluster}/sim/v1/pods/default"
    status, body = pilothouse_server.request("GET", f"{base}/nobody/cri")
    assert status == 404 and body["kind"] == "Status" and body["message"] == 'pods "nobody" not found'
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cri-journal"},
           "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
    created = pilothouse_server.request("POST", f"/clusters/{kube_cluster}/api/v1/namespaces/default/pods", pod)
    assert created[0] == 201, created

    def methods():
        code, got = pilothouse_server.request("GET", f"{base}/cri-journal/cri")
        return [c["method"] for c in got.get("calls", [])] if code == 200 else []
    wait_until(lambda: "StartContainer" in methods(), 60, 0.3, "cri-journal started")
    # (PullImage only if the node did not hold nginx:1.27 yet: IfNotPresent)
    assert [m for m in methods() if m != "PullImage"][:3] == ["RunPodSandbox", "CreateContainer", "StartContainer"]
