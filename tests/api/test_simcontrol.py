"""The simulator control API (/clusters/<name>/sim/v1/...), as the README documents it."""
from __future__ import annotations

import pytest
import requests

from tests.conftest import wait_until


@pytest.fixture(scope="module")
def sim(pilothouse_server, module_cluster):
    name = module_cluster("simcontrol")

    def call(method: str, path: str, body: dict | None = None):
        return pilothouse_server.request(method, f"/clusters/{name}/sim/v1{path}", body)

    call.cluster_url = pilothouse_server.cluster_url(name)
    return call


def test_clock_get(sim):
    status, clock = sim("GET", "/clock")
    assert status == 200
    assert set(clock) == {"time", "speed", "paused", "pace"}
    assert clock["speed"] == 1.0 and clock["paused"] is False and clock["time"] >= 0
    assert 0 <= clock["pace"] <= 1  # the share of the asked speed the cluster really runs at


def test_clock_speed_pause_and_advance(sim):
    status, clock = sim("POST", "/clock", {"speed": 5})
    assert status == 200 and clock["speed"] == 5.0 and clock["paused"] is False
    status, paused = sim("POST", "/clock", {"paused": True})
    assert status == 200 and paused["paused"] is True
    status, after = sim("POST", "/clock", {"advance": "400s"})
    assert status == 200
    assert after["time"] == pytest.approx(paused["time"] + 400, abs=1.0)
    status, after2 = sim("POST", "/clock", {"advance": "1m30s"})
    assert after2["time"] == pytest.approx(after["time"] + 90, abs=1.0)
    status, after3 = sim("POST", "/clock", {"advance": 10})
    assert after3["time"] == pytest.approx(after2["time"] + 10, abs=1.0)
    status, stepped = sim("POST", "/clock", {"paused": False})
    status, stepped = sim("POST", "/clock", {"step": "2s"})
    assert status == 200 and stepped["paused"] is True, "a step pauses the clock"
    assert stepped["time"] >= after3["time"] + 2
    status, resumed = sim("POST", "/clock", {"paused": False, "speed": 1})
    assert resumed["paused"] is False and resumed["speed"] == 1.0
    # Running again: virtual time moves with the wall clock.
    wait_until(lambda: sim("GET", "/clock")[1]["time"] > resumed["time"] + 0.2, timeout=5, message="clock to move")


@pytest.mark.parametrize("body", [{"speed": 0.001}, {"speed": 100}, {"speed": "fast"}, {"paused": "yes"},
                                  {"advance": "soon"}, {"advance": "-5s"}, {"warp": 9}, {}])
def test_clock_bad_input_is_400_json(sim, body):
    status, err = sim("POST", "/clock", body)
    assert status == 400, err
    assert err["error"]["code"] == 400 and err["error"]["reason"] == "BadRequest" and err["error"]["message"]


def test_node_kill_restore_and_not_found(sim):
    status, body = sim("POST", "/nodes/worker-2/kill")
    assert (status, body) == (200, {"node": "worker-2", "alive": False})
    status, body = sim("POST", "/nodes/worker-2/restore")
    assert (status, body) == (200, {"node": "worker-2", "alive": True})
    status, err = sim("POST", "/nodes/worker-9/kill")
    assert status == 404 and err["error"]["reason"] == "NotFound" and "worker-9" in err["error"]["message"]
    status, err = sim("GET", "/nodes/worker-2/kill")
    assert status == 405


def test_add_node_registers_a_ready_node(sim):
    status, body = sim("POST", "/nodes", {"name": "worker-4", "cpu": "4", "memory": "8Gi"})
    assert (status, body) == (201, {"node": "worker-4", "alive": True})

    def registered():
        r = requests.get(sim.cluster_url + "/api/v1/nodes/worker-4", timeout=10)
        return r.status_code == 200 and r.json()

    node = wait_until(registered, timeout=20, interval=0.2, message="node worker-4 registered")
    assert node["status"]["capacity"]["cpu"] == "4"
    status, err = sim("POST", "/nodes", {"name": "worker-4"})
    assert status == 409 and err["error"]["reason"] == "AlreadyExists", err
    status, err = sim("POST", "/nodes", {"name": "worker-5", "cpu": "lots"})
    assert status == 400, err
    status, err = sim("POST", "/nodes", {"cpu": "4"})
    assert status == 400


def test_add_node_with_a_kubelet_version_and_labels(sim):
    body = {"name": "old-kubelet", "runtime": "cri-o", "kubeletVersion": "v1.34.1", "labels": {"disk": "ssd"}}
    status, added = sim("POST", "/nodes", body)
    assert (status, added) == (201, {"node": "old-kubelet", "alive": True})

    def registered():
        r = requests.get(sim.cluster_url + "/api/v1/nodes/old-kubelet", timeout=10)
        return r.status_code == 200 and r.json()

    node = wait_until(registered, timeout=20, interval=0.2, message="node old-kubelet registered")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.1"
    assert node["metadata"]["labels"]["disk"] == "ssd"
    for bad in ({"kubeletVersion": "1.34"}, {"kubeletVersion": 134}, {"labels": {"bad key!": "x"}}, {"labels": ["x"]}):
        status, err = sim("POST", "/nodes", {"name": "bad-node", **bad})
        assert status == 400 and err["error"]["reason"] == "BadRequest", (bad, err)


def test_killing_a_control_plane_component_restarts_its_static_pod(sim):
    def scheduler_pod():
        r = requests.get(sim.cluster_url + "/api/v1/namespaces/kube-system/pods/kube-scheduler-cp-1", timeout=10)
        return r.json() if r.status_code == 200 else None

    wait_until(lambda: (scheduler_pod() or {}).get("status", {}).get("phase") == "Running", timeout=20,
               message="the kube-scheduler-cp-1 mirror pod")
    before = scheduler_pod()["status"]["containerStatuses"][0]["restartCount"]
    status, body = sim("POST", "/nodes/cp-1/components/kube-scheduler/kill")
    assert status == 200 and body["component"] == "kube-scheduler" and body["running"] is False, body

    def restarted():
        cs = ((scheduler_pod() or {}).get("status", {}).get("containerStatuses") or [{}])[0]
        return cs.get("restartCount") == before + 1 and "running" in cs.get("state", {})
    wait_until(restarted, timeout=30, interval=0.2, message="kube-scheduler restarted")
    status, err = sim("POST", "/nodes/cp-1/components/coredns/kill")
    assert status == 404 and err["error"]["reason"] == "NotFound", err
    status, err = sim("POST", "/nodes/worker-1/components/kube-apiserver/kill")
    assert status == 404, err
    status, err = sim("POST", "/nodes/nowhere/components/kube-apiserver/kill")
    assert status == 404, err


def test_unknown_cluster_is_404_json(pilothouse_server):
    for method, path, body in (("GET", "/clock", None), ("POST", "/clock", {"speed": 2}),
                               ("POST", "/nodes/worker-1/kill", None), ("POST", "/nodes", {"name": "x"})):
        status, err = pilothouse_server.request(method, f"/clusters/nowhere/sim/v1{path}", body)
        assert status == 404, (path, err)
        assert err["error"]["reason"] == "NotFound" and "nowhere" in err["error"]["message"]


def test_bad_json_body_is_400(pilothouse_server, sim):
    r = requests.post(sim.cluster_url + "/sim/v1/clock", data="{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["reason"] == "BadRequest"


def test_network_partition_and_heal(sim):
    status, body = sim("GET", "/network")
    assert (status, body) == (200, {"partition": [], "links": []})
    rest = ["cp-1", "cp-2", "cp-3", "worker-2", "worker-3"]
    status, body = sim("POST", "/network/partition", {"groups": [["worker-1"], rest]})
    assert status == 200 and body["partition"] == [["worker-1"], rest]
    # The kubelet on worker-1 can reach no apiserver: its Lease stops being renewed.
    sim("POST", "/clock", {"advance": "70s"})
    r = requests.get(sim.cluster_url + "/api/v1/nodes/worker-1", timeout=10).json()
    ready = next(c for c in r["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown"
    status, body = sim("POST", "/network/heal")
    assert (status, body) == (200, {"partition": [], "links": []})
    sim("POST", "/clock", {"advance": "30s"})
    r = requests.get(sim.cluster_url + "/api/v1/nodes/worker-1", timeout=10).json()
    assert next(c for c in r["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    status, err = sim("POST", "/network/partition", {"groups": [["worker-9"], ["cp-1"]]})
    assert status == 404 and "worker-9" in err["error"]["message"]
    status, err = sim("POST", "/network/partition", {"groups": [["worker-1"]]})
    assert status == 400
    status, err = sim("POST", "/network/partition", {})
    assert status == 400


def test_network_link_latency_and_loss(sim):
    status, body = sim("POST", "/network/link", {"a": "worker-2", "b": "cp-1", "latencyMs": 250, "loss": 0.5})
    assert status == 200 and body["links"] == [{"hosts": ["cp-1", "worker-2"], "latencyMs": 250.0, "loss": 0.5}]
    status, err = sim("POST", "/network/link", {"a": "worker-2", "b": "cp-1", "loss": 2})
    assert status == 400 and "loss" in err["error"]["message"]
    status, err = sim("POST", "/network/link", {"a": "nowhere", "b": "cp-1"})
    assert status == 404
    status, body = sim("POST", "/network/heal")
    assert body["links"] == []
