"""`manage.py demo` end to end: Ctrl-C stops it cleanly and a restart brings the same cluster
back, objects and clock included."""
from __future__ import annotations

import requests

from tests.builders import MakePod
from tests.conftest import wait_until

POD = MakePod().name("survivor").labels({"app": "survivor"}).container("nginx", name="main").manifest()


def test_objects_and_clock_survive_a_restart(start_server):
    server = start_server("restart")
    base = server.cluster_url("demo")
    wait_until(lambda: requests.get(f"{base}/api/v1/namespaces/default/serviceaccounts/default", timeout=5).status_code == 200,
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


def test_etcd_terms_and_indexes_survive_a_restart(start_server):
    """A member's term, vote and log survive its restart (issue 3) — the whole simulator's too:
    after Ctrl-C and a new start, the demo's Raft group continues at the term it had reached
    (here raised by forcing two elections) and its raft indexes go on from where they were,
    instead of a new group electing a leader at term 1."""
    server = start_server("restart-etcd")
    etcd = "/clusters/demo/sim/v1/etcd"

    def settled():
        status, body = server.request("GET", etcd)
        members = body["members"] if status == 200 else []
        leaders = [m for m in members if m["role"] == "leader"]
        return (leaders[0], members) if len(leaders) == 1 and all(m["role"] != "candidate" for m in members) else None

    leader, _ = wait_until(settled, timeout=30, interval=0.1, message="an etcd leader")
    for _ in range(2):  # two leadership transfers: each is an election at a higher term
        target = next(m["name"] for m in settled()[1] if m["role"] == "follower")
        assert server.request("POST", f"{etcd}/members/{target}/transfer-leadership")[0] == 200
        wait_until(lambda t=target: (s := settled()) and s[0]["name"] == t, timeout=30, interval=0.1,
                   message=f"{target} leads")
    assert server.request("POST", f"{etcd}/put", {"key": "/lesson", "value": "kept"})[0] == 200
    leader, before = settled()
    assert leader["term"] >= 3

    assert server.stop() == 0, f"Ctrl-C must stop the server cleanly:\n{server.log()}"
    server.start()
    leader_after, after = wait_until(settled, timeout=30, interval=0.1, message="an etcd leader after restart")
    assert leader_after["term"] >= leader["term"], (before, after)
    for b, a in zip(before, after):
        assert a["name"] == b["name"]
        assert a["term"] >= b["term"] and a["appliedIndex"] >= b["appliedIndex"], (b, a)
