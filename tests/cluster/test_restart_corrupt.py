"""A restart always comes back (issue 8): a value that does not decode, planted in the persisted
etcd keyspace while the server is down, is reported as kube-apiserver reports a corrupt object,
the rest of the cluster serves, the object can be deleted through the API; and a cluster whose
stored state cannot be restored at all is served broken beside the others, then reset."""
from __future__ import annotations

import json
import sqlite3
import urllib.request

import pytest

from tests.robustness import create_pod_request, wait_bootstrapped

KEY = "/registry/pods/default/hello"


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("corrupt")


def plant(db_path, sql: str, *params) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute(sql, params)


def warnings_of(server, path: str) -> str:
    with urllib.request.urlopen(server.base + path, timeout=20) as r:
        return r.headers.get("Warning", "")


def test_a_corrupt_key_planted_while_down_is_reported_and_deletable_after_a_restart(server):
    wait_bootstrapped(server)
    status, body = create_pod_request(server, "kept", {"app": "kept"})
    assert status == 201, body
    server.stop()
    cluster_id = sqlite3.connect(server.db_path).execute(
        "SELECT id, persisted_revision FROM cluster_simcluster WHERE name='demo'").fetchone()
    # Raw bytes, not what the worker writes: etcd hands back whatever a disk holds.
    plant(server.db_path, "INSERT INTO cluster_etcdentry (cluster_id, revision, key, value) VALUES (?, ?, ?, ?)",
          cluster_id[0], cluster_id[1] + 1, KEY, "garbage")
    plant(server.db_path, "UPDATE cluster_simcluster SET persisted_revision=? WHERE id=?", cluster_id[1] + 1,
          cluster_id[0])
    server.start()
    wait_bootstrapped(server)
    status, state = server.request("GET", "/sim/v1/clusters/demo")
    assert status == 200 and state["broken"] is None, state
    # The list serves the others and names the corrupt one in a warning.
    status, pods = server.request("GET", "/clusters/demo/api/v1/namespaces/default/pods")
    assert status == 200 and [p["metadata"]["name"] for p in pods["items"]] == ["kept"]
    assert KEY in warnings_of(server, "/clusters/demo/api/v1/namespaces/default/pods")
    # A read of it is the storage layer's error, naming the key, as a Status.
    status, body = server.request("GET", "/clusters/demo/api/v1/namespaces/default/pods/hello")
    assert status == 500 and body["kind"] == "Status" and KEY in body["message"], body
    # The unsafe delete of AllowUnsafeMalformedObjectDeletion removes it; the cluster is whole.
    status, body = server.request(
        "DELETE", "/clusters/demo/api/v1/namespaces/default/pods/hello",
        {"kind": "DeleteOptions", "apiVersion": "v1", "ignoreStoreReadErrorWithClusterBreakingPotential": True})
    assert status == 200, body
    assert KEY not in warnings_of(server, "/clusters/demo/api/v1/namespaces/default/pods")
    status, body = create_pod_request(server, "after", {"app": "after"})
    assert status == 201, body


def test_a_cluster_that_cannot_be_restored_is_served_broken_beside_the_others(server):
    status, body = server.request("POST", "/sim/v1/clusters", {"name": "wrecked", "seed": 2})
    assert status == 201, body
    wait_bootstrapped(server, "wrecked")
    server.stop()
    plant(server.db_path, "UPDATE cluster_simcluster SET topology=? WHERE name='wrecked'", json.dumps([1, 2, 3]))
    server.start()
    wait_bootstrapped(server)  # demo serves
    status, state = server.request("GET", "/sim/v1/clusters/wrecked")
    assert status == 200 and "topology" in state["broken"], state
    status, body = server.request("GET", "/clusters/wrecked/api/v1/namespaces")
    assert status == 409 and body["kind"] == "Status" and "could not be restored" in body["message"], body
    status, body = server.request("POST", "/clusters/wrecked/sim/v1/reset", {})
    assert status == 200, body
    wait_bootstrapped(server, "wrecked")
    status, state = server.request("GET", "/sim/v1/clusters/wrecked")
    assert state["broken"] is None
    status, body = server.request("DELETE", "/sim/v1/clusters/wrecked")
    assert status == 200 and body == {"cluster": "wrecked", "deleted": True}
    status, body = server.request("GET", "/sim/v1/clusters")
    assert "wrecked" not in body["clusters"]
