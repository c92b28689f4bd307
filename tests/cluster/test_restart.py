"""`manage.py demo` end to end: Ctrl-C stops it cleanly and a restart brings the same cluster
back, objects and clock included."""
from __future__ import annotations

import requests

from tests.conftest import wait_until

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "survivor", "labels": {"app": "survivor"}},
       "spec": {"containers": [{"name": "main", "image": "nginx"}]}}


def test_objects_and_clock_survive_a_restart(start_server):
    server = start_server("restart")
    base = server.cluster_url("demo")
    wait_until(lambda: requests.get(f"{base}/api/v1/namespaces/default", timeout=5).status_code == 200,
               timeout=20, message="default namespace")
    assert server.request("POST", "/clusters/demo/sim/v1/clock", {"speed": 50})[0] == 200
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", json=POD, timeout=10)
    assert r.status_code == 201, r.text
    uid = r.json()["metadata"]["uid"]

    def running():
        pod = requests.get(f"{base}/api/v1/namespaces/default/pods/survivor", timeout=5).json()
        return pod if pod.get("status", {}).get("phase") == "Running" else None

    before = wait_until(running, timeout=30, interval=0.2, message="pod survivor Running")
    clock_before = server.request("GET", "/clusters/demo/sim/v1/clock")[1]

    assert server.stop() == 0, f"Ctrl-C must stop the server cleanly:\n{server.log()}"
    assert "Pilothouse stopped." in server.log()

    server.start()
    status, clock_after = server.request("GET", "/clusters/demo/sim/v1/clock")
    assert status == 200
    assert clock_after["speed"] == 50.0
    assert clock_after["time"] >= clock_before["time"]
    after = requests.get(f"{base}/api/v1/namespaces/default/pods/survivor", timeout=5)
    assert after.status_code == 200, after.text
    pod = after.json()
    assert pod["metadata"]["uid"] == uid
    assert pod["spec"]["nodeName"] == before["spec"]["nodeName"]
    assert int(pod["metadata"]["resourceVersion"]) >= int(before["metadata"]["resourceVersion"])
    nodes = requests.get(f"{base}/api/v1/nodes", timeout=5).json()["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
    # Restored, not re-seeded: still one cluster.
    assert server.request("GET", "/sim/v1/clusters")[1] == {"clusters": ["demo"]}
    # The restored pod keeps running (the engine reconciles, it does not restart it).
    wait_until(running, timeout=20, interval=0.2, message="pod survivor Running after restart")
