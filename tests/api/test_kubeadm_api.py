"""A student's kubeadm install through the control API (POST …/sim/v1/kubeadm/init, /pod-network,
/join; GET …/sim/v1/kubeadm), then the real kubectl: the joined nodes are Ready, the one that
did not join is absent, and kube-public/cluster-info is readable without credentials, as
`kubeadm join`'s discovery reads it."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from cluster.console.kubeconfig import kubectl_binary
from tests.conftest import require_service, wait_until

pytestmark = pytest.mark.services

NAME = "api-kubeadm"


def _run(server, host: str) -> dict:
    status, body = server.request("GET", f"/clusters/{NAME}/sim/v1/kubeadm")
    assert status == 200, body
    return next((r for r in body["runs"] if r["node"] == host), {"state": "none"})


def _finished(server, host: str) -> dict:
    wait_until(lambda: _run(server, host)["state"] != "running", timeout=60, interval=0.2,
               message=f"kubeadm on {host} to finish")
    return _run(server, host)


@pytest.fixture(scope="module")
def kubeadm_cluster(pilothouse_server):
    status, body = pilothouse_server.request("POST", "/sim/v1/clusters", {"name": NAME, "install": "kubeadm"})
    assert status == 201, body
    pilothouse_server.request("POST", f"/clusters/{NAME}/sim/v1/clock", {"speed": 20})
    yield pilothouse_server
    pilothouse_server.request("DELETE", f"/sim/v1/clusters/{NAME}")


def test_init_pod_network_and_join_then_kubectl_sees_the_nodes(kubeadm_cluster, tmp_path):
    server = kubeadm_cluster
    status, body = server.request("GET", f"/clusters/{NAME}/api/v1/nodes")
    assert status == 503, "no API server before kubeadm init"
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/init", {"node": "cp-1"})
    assert status == 200, body
    run = _finished(server, "cp-1")
    assert run["state"] == "succeeded", run
    join = run["output"][-1]
    token = join.split("--token ")[1].split()[0]
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/pod-network", {})
    assert status == 200 and body["podNetwork"], body
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/join", {"node": "worker-1", "token": token})
    assert status == 200, body
    assert _finished(server, "worker-1")["state"] == "succeeded"

    require_service("kubectl", kubectl_binary().exists(), f"{kubectl_binary()} is missing (run `make venv`)")
    config = tmp_path / "config"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": NAME,
        "clusters": [{"name": NAME, "cluster": {"server": server.cluster_url(NAME)}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": NAME, "context": {"cluster": NAME, "user": "u"}}]}))
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(config), "PATH": os.environ.get("PATH", "")}

    def kubectl(*args) -> str:
        done = subprocess.run([str(kubectl_binary()), *args], env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def ready_nodes() -> set[str]:
        items = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
        return {n["metadata"]["name"] for n in items
                if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])}
    wait_until(lambda: ready_nodes() == {"cp-1", "worker-1"}, timeout=60, interval=0.5,
               message="cp-1 and worker-1 Ready")
    assert "worker-2" not in kubectl("get", "nodes")
    info = json.loads(kubectl("-n", "kube-public", "get", "configmap", "cluster-info", "-o", "json"))
    assert any(k.startswith("jws-kubeconfig-") for k in info["data"])


def test_bad_requests_say_why(kubeadm_cluster):
    server = kubeadm_cluster
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/join", {"node": "worker-2"})
    assert status == 400 and "token: Required value" in body["error"]["message"], body
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/init", {"node": "nope"})
    assert status == 404, body
    status, body = server.request("POST", "/clusters/demo/sim/v1/kubeadm/init", {"node": "cp-1"})
    assert status == 409 and '"install": "kubeadm"' in body["error"]["message"], body
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/reset", {})
    assert status == 404
