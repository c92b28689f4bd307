"""`manage.py demo` end to end after an etcd snapshot restore (issue 3): the restore replaces
the persisted etcd log, so a restart of Pilothouse comes back with the restored keyspace (and the
writes made after the restore), not with what the restore threw away."""
from __future__ import annotations

import sqlite3

import requests

from tests.builders import MakePod
from tests.conftest import wait_until


def persisted_pod_keys(db_path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT e.key FROM cluster_etcdentry e JOIN cluster_simcluster c ON e.cluster_id = c.id "
                          "WHERE c.name = 'demo' AND e.key LIKE '/registry/pods/%'").fetchall()
    return {k for (k,) in rows}


def test_a_restart_after_a_snapshot_restore_comes_back_with_the_restored_keyspace(start_server):
    server = start_server("restore-restart")
    base = server.cluster_url("demo")
    pods = f"{base}/api/v1/namespaces/default/pods"
    wait_until(lambda: requests.get(f"{base}/api/v1/namespaces/default/serviceaccounts/default", timeout=5).status_code == 200,
               timeout=20, message="default namespace")
    r = requests.post(pods, json=MakePod().name("kept").container("nginx", name="main").manifest(), timeout=30)
    assert r.status_code == 201, r.text
    kept_uid = r.json()["metadata"]["uid"]
    status, snap = server.request("GET", "/clusters/demo/sim/v1/etcd/snapshot")
    assert status == 200, snap
    assert requests.post(pods, json=MakePod().name("dropped")
                                    .container("nginx", name="main").manifest(), timeout=30).status_code == 201
    wait_until(lambda: "/registry/pods/default/dropped" in persisted_pod_keys(server.db_path),
               timeout=10, interval=0.1, message="the pod made after the save persisted")

    status, out = server.request("POST", "/clusters/demo/sim/v1/etcd/snapshot/restore", snap)
    assert status == 200, out
    assert requests.get(f"{pods}/dropped", timeout=30).status_code == 404
    # A write after the restore: the restored keyspace numbers it from the snapshot's revision,
    # reusing revisions the thrown-away writes had.
    r = requests.post(pods, json=MakePod().name("after").container("nginx", name="main").manifest(), timeout=30)
    assert r.status_code == 201, r.text
    after_uid = r.json()["metadata"]["uid"]

    # The frame after the restore replaced the persisted log.
    def persisted():
        keys = persisted_pod_keys(server.db_path)
        return "/registry/pods/default/dropped" not in keys and \
            {"/registry/pods/default/kept", "/registry/pods/default/after"} <= keys
    wait_until(persisted, timeout=10, interval=0.1, message="the restored keyspace persisted")

    assert server.stop() == 0, f"Ctrl-C must stop the server cleanly:\n{server.log()}"
    server.start()
    got = requests.get(f"{pods}/kept", timeout=30)
    assert got.status_code == 200 and got.json()["metadata"]["uid"] == kept_uid, got.text
    got = requests.get(f"{pods}/after", timeout=30)
    assert got.status_code == 200 and got.json()["metadata"]["uid"] == after_uid, got.text
    assert requests.get(f"{pods}/dropped", timeout=30).status_code == 404
    names = sorted(p["metadata"]["name"] for p in requests.get(pods, timeout=30).json()["items"])
    assert names == ["after", "kept"]
