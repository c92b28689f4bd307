"""A stacked HA control plane installed by hand through the control API (kubeadm init
--upload-certs, the pod network, kubeadm join --control-plane on two hosts, a worker join), then
the real kubectl: `kubectl get nodes` lists three control-plane nodes."""
from __future__ import annotations

import pytest

from tests.conftest import wait_nodes_ready, wait_until
from tests.kubectl.conftest import SOME, binary_id, kube_env_for, kubectl_runner, rows

NAME = "kubeadm-ha"
SPEC = {"install": "kubeadm", "seed": 3, "nodes": [
    {"name": "cp-1", "role": "control-plane"}, {"name": "cp-2"}, {"name": "cp-3"}, {"name": "worker-1"}]}


def _finish(server, node: str) -> dict:
    found = {}

    def done() -> bool:
        status, body = server.request("GET", f"/clusters/{NAME}/sim/v1/kubeadm")
        run = next((r for r in body.get("runs", []) if r["node"] == node), None) if status == 200 else None
        found["run"] = run
        return run is not None and run["state"] != "running"
    wait_until(done, timeout=90, interval=0.2, message=f"kubeadm on {node}")
    return found["run"]


@pytest.fixture(scope="module")
def ha_env(pilothouse_server, tmp_path_factory):
    server = pilothouse_server
    status, body = server.request("POST", "/sim/v1/clusters", {"name": NAME, **SPEC})
    assert status == 201, body
    server.request("POST", f"/clusters/{NAME}/sim/v1/clock", {"speed": 20})
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/init", {"node": "cp-1", "uploadCerts": True})
    assert status == 200, body
    assert _finish(server, "cp-1")["state"] == "succeeded"
    status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/pod-network", {})
    assert status == 200, body
    command = body["controlPlaneJoinCommand"]
    token, key = command.split("--token ")[1].split()[0], command.split("--certificate-key ")[1]
    for host in ("cp-2", "cp-3", "worker-1"):
        join = {"node": host, "token": token}
        if host.startswith("cp-"):
            join.update(controlPlane=True, certificateKey=key)
        status, body = server.request("POST", f"/clusters/{NAME}/sim/v1/kubeadm/join", join)
        assert status == 200, body
        run = _finish(server, host)
        assert run["state"] == "succeeded", run
    wait_nodes_ready(server, NAME)
    yield kube_env_for(server, NAME, tmp_path_factory.mktemp(f"{NAME}-home"))
    server.request("POST", f"/clusters/{NAME}/sim/v1/clock", {"paused": True})


@pytest.fixture(params=SOME or [None], ids=binary_id)
def kubectl(request, ha_env):
    return kubectl_runner(request.param, ha_env)


def test_get_nodes_lists_three_control_plane_nodes(kubectl):
    table = rows(kubectl("get", "nodes").stdout)
    nodes = {r[0]: r for r in table[1:]}
    assert set(nodes) == {"cp-1", "cp-2", "cp-3", "worker-1"}
    for name in ("cp-1", "cp-2", "cp-3"):
        assert nodes[name][1] == "Ready" and nodes[name][2] == "control-plane", nodes[name]
    assert nodes["worker-1"][2] == "<none>"
    pods = kubectl("get", "pods", "-n", "kube-system", "-l", "component=kube-apiserver", "-o", "name").stdout.split()
    assert sorted(pods) == [f"pod/kube-apiserver-{h}" for h in ("cp-1", "cp-2", "cp-3")]
