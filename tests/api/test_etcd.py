"""etcd as a Raft group through the simulator control API (issue 3): a cluster created with
three external members via POST /sim/v1/clusters, its members' status, and what killing and
partitioning them does to the leader and to Kubernetes API writes; compaction, and a snapshot
saved and restored (the objects written after the save are gone, a bad snapshot is refused with
a Status and changes nothing)."""
from __future__ import annotations

import os
import subprocess

import pytest
import requests

from tests.builders import MakePod
from tests.conftest import kubectl_binaries, wait_until

NAME = "etcd-raft"


@pytest.fixture(scope="module")
def etcd(pilothouse_server):
    status, body = pilothouse_server.request("POST", "/sim/v1/clusters", {
        "name": NAME, "seed": 3,
        "etcd": {"members": 3, "topology": "external", "heartbeatInterval": "100ms", "electionTimeout": "1s"},
        "nodeMonitorGracePeriod": "50s", "defaultTolerationSeconds": 300})
    assert status in (201, 409), body
    wait_until(lambda: pilothouse_server.request(
        "GET", f"/clusters/{NAME}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {NAME} bootstrapped")
    status, body = pilothouse_server.request("POST", f"/clusters/{NAME}/sim/v1/clock", {"speed": 5})
    assert status == 200, body

    def call(method: str, path: str, body: dict | None = None):
        return pilothouse_server.request(method, f"/clusters/{NAME}/sim/v1{path}", body)

    call.cluster_url = pilothouse_server.cluster_url(NAME)
    yield call
    call("POST", "/network/heal")
    for m in ("etcd-1", "etcd-2", "etcd-3"):
        call("POST", f"/etcd/members/{m}/restore")
    call("POST", "/clock", {"paused": True})


def members(call) -> list[dict]:
    status, body = call("GET", "/etcd")
    assert status == 200, body
    return body["members"]


def leader(call) -> dict | None:
    leaders = [m for m in members(call) if m["role"] == "leader"]
    assert len(leaders) <= 1, leaders
    return leaders[0] if leaders else None


def settled_leader(call, timeout: float = 20, other_than: str | None = None, term_above: int = -1,
                   ignore: str | None = None) -> dict:
    """The leader once every running member (but `ignore`) follows it, and it is not
    `other_than`."""
    def ok():
        ms = members(call)
        lead = [m for m in ms if m["role"] == "leader"]
        if len(lead) != 1 or lead[0]["name"] == other_than or lead[0]["term"] <= term_above:
            return None
        running = [m for m in ms if m["role"] != "stopped" and m["name"] != ignore]
        if all(m["leader"] == lead[0]["name"] for m in running):
            return lead[0]
        return None
    return wait_until(ok, timeout=timeout, interval=0.1, message="a settled etcd leader")


def create_pod(call, name: str) -> requests.Response:
    pod = MakePod().name(name).container("nginx:1.27", name="app").manifest()
    return requests.post(call.cluster_url + "/api/v1/namespaces/default/pods", json=pod, timeout=60)


def test_status_lists_three_external_members(etcd):
    lead = settled_leader(etcd)
    ms = members(etcd)
    assert [m["name"] for m in ms] == ["etcd-1", "etcd-2", "etcd-3"]
    assert [m["host"] for m in ms] == ["etcd-1", "etcd-2", "etcd-3"], "external: hosts of their own"
    for m in ms:
        assert {"name", "role", "term", "vote", "commitIndex", "appliedIndex"} <= set(m)
        assert m["role"] in ("leader", "follower")
        assert m["term"] == lead["term"]
    # The architecture snapshot knows the topology too.
    status, state = etcd("GET", "/state")
    assert [m["name"] for m in state["snapshot"]["etcd"]] == ["etcd-1", "etcd-2", "etcd-3"]


def test_put_is_acknowledged_after_commit(etcd):
    settled_leader(etcd)
    status, body = etcd("POST", "/etcd/put", {"key": "/lesson/hello", "value": "world"})
    assert status == 200, body
    assert body["key"] == "/lesson/hello" and body["revision"] > 0
    committed = [m["commitIndex"] for m in body["members"]]
    assert max(committed) > 0


@pytest.mark.parametrize("path, body, code", [
    ("/etcd/put", {"value": "x"}, 400),
    ("/etcd/put", {"key": "k", "value": 5}, 400),
    ("/etcd/members/etcd-9/kill", None, 404),
    ("/etcd/members/etcd-1/explode", None, 404),
])
def test_bad_etcd_requests(etcd, path, body, code):
    status, err = etcd("POST", path, body)
    assert status == code, err
    if code != 404 or "etcd-9" in path:
        assert err["error"]["code"] == code and err["error"]["message"]


def test_etcd_status_is_get_only(etcd):
    status, err = etcd("POST", "/etcd")
    assert status == 405 and err["error"]["reason"] == "MethodNotAllowed"


def test_kill_the_leader_elects_a_new_one_with_a_higher_term(etcd):
    old = settled_leader(etcd)
    status, body = etcd("POST", f"/etcd/members/{old['name']}/kill")
    assert status == 200, body
    assert next(m for m in body["members"] if m["name"] == old["name"])["role"] == "stopped"
    new = settled_leader(etcd, other_than=old["name"], term_above=old["term"])
    assert new["name"] != old["name"] and new["term"] > old["term"]
    # Restored, the old leader rejoins as a follower of the new term and catches up.
    status, _ = etcd("POST", f"/etcd/members/{old['name']}/restore")
    assert status == 200

    def caught_up():
        ms = {m["name"]: m for m in members(etcd)}
        back, lead = ms[old["name"]], [m for m in ms.values() if m["role"] == "leader"]
        return (back["role"] == "follower" and lead and back["term"] == lead[0]["term"]
                and back["appliedIndex"] >= new["commitIndex"])
    wait_until(caught_up, timeout=20, interval=0.1, message=f"{old['name']} to rejoin and catch up")


def test_losing_quorum_fails_writes_with_504_and_restoring_it_heals(etcd):
    lead = settled_leader(etcd)
    victims = [m["name"] for m in members(etcd) if m["name"] != lead["name"]]
    for v in victims:
        status, body = etcd("POST", f"/etcd/members/{v}/kill")
        assert status == 200, body
    r = create_pod(etcd, "no-quorum")
    assert r.status_code == 504, r.text
    st = r.json()
    assert st["kind"] == "Status" and st["reason"] == "Timeout" and st["code"] == 504
    status, err = etcd("POST", "/etcd/put", {"key": "/lesson/lost", "value": "x"})
    assert status == 504 and err["error"]["reason"] == "Timeout"
    assert "request timed out" in err["error"]["message"]
    for v in victims:
        status, body = etcd("POST", f"/etcd/members/{v}/restore")
        assert status == 200, body
    settled_leader(etcd)

    def created():
        r = create_pod(etcd, "with-quorum")
        return r if r.status_code in (201, 409) else None
    r = wait_until(created, timeout=30, interval=0.5, message="a pod creation to succeed after restoring quorum")
    # A creation that timed out while etcd had no quorum may still commit once it is back (as in
    # etcd), so the answer may be 409.  The GET is served from kube-apiserver's watch cache, which
    # can trail the commit by a moment: wait for it, bounded.
    def fetched():
        got = requests.get(etcd.cluster_url + "/api/v1/namespaces/default/pods/with-quorum", timeout=10)
        return got.json() if got.status_code == 200 else None
    pod = wait_until(fetched, timeout=10, interval=0.1, message=f"the pod after {r.status_code} {r.text[:200]}")
    assert int(pod["metadata"]["resourceVersion"]) > 0


def test_partitioned_leader_steps_down(etcd):
    old = settled_leader(etcd)
    others = [m["name"] for m in members(etcd) if m["name"] != old["name"]]
    status, body = etcd("POST", "/network/partition", {"groups": [[old["name"]], others]})
    assert status == 200, body
    assert body["partition"] == [[old["name"]], sorted(others)]
    # The majority elects a new leader; the old one, hearing no quorum (check-quorum), steps down.
    new = settled_leader(etcd, other_than=old["name"], term_above=old["term"], ignore=old["name"])
    wait_until(lambda: next(m for m in members(etcd) if m["name"] == old["name"])["role"] != "leader",
               timeout=20, interval=0.1, message=f"{old['name']} to step down")
    status, body = etcd("POST", "/network/heal")
    assert status == 200 and body["partition"] == []
    wait_until(lambda: next(m for m in members(etcd) if m["name"] == old["name"])["term"] >= new["term"]
               and settled_leader(etcd), timeout=20, interval=0.1, message="the old leader to rejoin")


def test_isolate_cuts_a_member_off_from_every_host(etcd):
    settled_leader(etcd)
    status, body = etcd("POST", "/etcd/members/etcd-2/isolate")
    assert status == 200, body
    groups = body["network"]["partition"]
    assert ["etcd-2"] in groups
    rest = next(g for g in groups if g != ["etcd-2"])
    assert {"etcd-1", "etcd-3", "cp-1", "worker-1"} <= set(rest)
    status, body = etcd("POST", "/network/heal")
    assert status == 200


def test_transfer_leadership_and_timeout_now(etcd):
    lead = settled_leader(etcd)
    target = next(m["name"] for m in members(etcd) if m["name"] != lead["name"])
    status, body = etcd("POST", f"/etcd/members/{target}/transfer-leadership")
    assert status == 200, body
    new = settled_leader(etcd, other_than=lead["name"])
    assert new["name"] == target and new["term"] > lead["term"]
    # With pre-vote, a healthy cluster refuses a follower's early election: the term stays.
    follower = next(m["name"] for m in members(etcd) if m["role"] == "follower")
    status, body = etcd("POST", f"/etcd/members/{follower}/timeout")
    assert status == 200, body
    status, body = etcd("POST", "/etcd/members/etcd-3/kill")
    status, err = etcd("POST", "/etcd/members/etcd-3/timeout")
    assert status == 409 and err["error"]["reason"] == "Conflict", err
    etcd("POST", "/etcd/members/etcd-3/restore")


@pytest.mark.parametrize("body", [
    {"name": "bad-etcd-1", "etcd": {"members": 2}},
    {"name": "bad-etcd-2", "etcd": {"members": 3, "topology": "sideways"}},
    {"name": "bad-etcd-3", "etcd": {"members": 3, "topology": "external", "heartbeatInterval": "soon"}},
    {"name": "bad-etcd-4", "etcd": {"heartbeatInterval": "500ms", "electionTimeout": "1s"}},
    {"name": "bad-etcd-5", "etcd": {"replicas": 3}},
    {"name": "bad-etcd-6", "etcd": "three"},
    {"name": "bad-etcd-7", "nodeMonitorGracePeriod": "-5s"},
    {"name": "bad-etcd-8", "defaultTolerationSeconds": "300"},
    {"name": "bad-etcd-9", "colour": "blue"},
    {"name": "bad-etcd-11", "etcd": {"members": 5, "topology": "stacked"}},
    {"name": "bad-etcd-10", "etcd": {"members": 3, "topology": "stacked"},
     "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]},
])
def test_cluster_create_validates_topology(pilothouse_server, body):
    status, err = pilothouse_server.request("POST", "/sim/v1/clusters", body)
    assert status == 400, err
    assert err["error"]["reason"] == "BadRequest" and err["error"]["message"]
    assert body["name"] not in pilothouse_server.request("GET", "/sim/v1/clusters")[1]["clusters"]


def test_cluster_create_stacked_three_members_gets_three_control_plane_nodes(pilothouse_server):
    status, body = pilothouse_server.request("POST", "/sim/v1/clusters", {
        "name": "etcd-stacked", "etcd": {"members": 3}, "defaultTolerationSeconds": 60})
    assert status in (201, 409), body
    status, state = pilothouse_server.request("GET", "/clusters/etcd-stacked/sim/v1/state")
    snap = state["snapshot"]
    cps = [n["name"] for n in snap["nodes"] if n["role"] == "control-plane"]
    assert cps == ["cp-1", "cp-2", "cp-3"]
    assert [m["host"] for m in snap["etcd"]] == cps
    pilothouse_server.request("POST", "/clusters/etcd-stacked/sim/v1/clock", {"paused": True})


def test_compact_and_snapshot_save(etcd):
    settled_leader(etcd)
    status, put = etcd("POST", "/etcd/put", {"key": "/lesson/snap", "value": "kept"})
    assert status == 200, put
    status, snap = etcd("GET", "/etcd/snapshot")
    assert status == 200 and snap["revision"] >= put["revision"]
    assert ["/lesson/snap", "kept", put["revision"]] in snap["kvs"]
    status, body = etcd("POST", "/etcd/compact", {"revision": put["revision"]})
    assert status == 200 and body["compacted"] == put["revision"], body
    status, err = etcd("POST", "/etcd/compact", {"revision": put["revision"]})
    assert status == 400 and "compacted" in err["error"]["message"], err
    status, err = etcd("POST", "/etcd/compact", {"revision": "soon"})
    assert status == 400, err


# -- snapshot restore ---------------------------------------------------------------------
def snapshot(call) -> dict:
    status, snap = call("GET", "/etcd/snapshot")
    assert status == 200, snap
    return snap


def kubectl_get_pods(call, tmp_path) -> str | None:
    """`kubectl get pods -o name` against the cluster with the machine's kubectl (None without one)."""
    binaries = kubectl_binaries()
    if not binaries:
        return None
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster:\n    server: {call.cluster_url}\n"
        "users:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n")
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    out = subprocess.run([binaries[0], "get", "pods", "-o", "name"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, f"kubectl get pods: {out.stderr}"
    return out.stdout


def test_snapshot_restore_brings_back_the_saved_keyspace(etcd, tmp_path):
    settled_leader(etcd)
    status, kept = etcd("POST", "/etcd/put", {"key": "/lesson/before-save", "value": "kept"})
    assert status == 200, kept
    snap = snapshot(etcd)
    assert create_pod(etcd, "made-after-save").status_code == 201
    status, lost = etcd("POST", "/etcd/put", {"key": "/lesson/after-save", "value": "lost"})
    assert status == 200, lost
    listed = kubectl_get_pods(etcd, tmp_path)
    assert listed is None or "pod/made-after-save" in listed

    # The file a student saved is exactly what comes back: restore it.
    status, out = etcd("POST", "/etcd/snapshot/restore", snap)
    assert status == 200, out
    assert out["revision"] == snap["revision"] and out["keys"] == len(snap["kvs"])
    assert [m["name"] for m in out["members"]] == ["etcd-1", "etcd-2", "etcd-3"]

    r = requests.get(etcd.cluster_url + "/api/v1/namespaces/default/pods/made-after-save", timeout=60)
    assert r.status_code == 404, r.text
    items = requests.get(etcd.cluster_url + "/api/v1/namespaces/default/pods", timeout=60).json()["items"]
    assert "made-after-save" not in [p["metadata"]["name"] for p in items]
    listed = kubectl_get_pods(etcd, tmp_path)
    assert listed is None or "pod/made-after-save" not in listed
    keys = {kv[0] for kv in snapshot(etcd)["kvs"]}
    assert "/lesson/before-save" in keys and "/lesson/after-save" not in keys

    # The members restarted as a new cluster: they elect a leader and take writes again, from
    # the snapshot's revision on.
    settled_leader(etcd)
    r = create_pod(etcd, "made-after-restore")
    assert r.status_code == 201, r.text
    assert int(r.json()["metadata"]["resourceVersion"]) > snap["revision"]


@pytest.mark.parametrize("body, code, reason, field", [
    ({"revision": 5}, 422, "Invalid", "kvs"),
    ({"revision": "latest", "kvs": []}, 422, "Invalid", "revision"),
    ({"revision": 9, "kvs": [["/registry/pods/default/x", "not json", 3]]}, 422, "Invalid", "kvs[0][1]"),
    ({"revision": 9, "kvs": [["/a", "v", 12]]}, 422, "Invalid", "kvs[0][2]"),
    ({"revision": 9, "kvs": [["/a", "v", 2], ["/a", "w", 3]]}, 422, "Invalid", "kvs[1][0]"),
    ([["/a", "v", 2]], 422, "Invalid", "<body>"),
    (b"{not json", 400, "BadRequest", None),
    (b"", 400, "BadRequest", None),
])
def test_a_bad_snapshot_is_refused_with_a_status_and_changes_nothing(etcd, body, code, reason, field):
    settled_leader(etcd)
    status, kept = etcd("POST", "/etcd/put", {"key": "/lesson/still-here", "value": "yes"})
    assert status == 200, kept
    before = members(etcd)
    if isinstance(body, bytes):
        r = requests.post(etcd.cluster_url + "/sim/v1/etcd/snapshot/restore", data=body, timeout=30,
                          headers={"Content-Type": "application/json"})
        status, err = r.status_code, r.json()
    else:
        status, err = etcd("POST", "/etcd/snapshot/restore", body)
    assert status == code, err
    # Kubernetes' Status shape, and the control API's own "error" beside it.
    assert (err["kind"], err["apiVersion"], err["status"]) == ("Status", "v1", "Failure")
    assert err["code"] == code and err["reason"] == reason and err["message"]
    assert err["error"] == {"code": code, "reason": reason, "message": err["message"]}
    if field is not None:
        assert field in [c["field"] for c in err["details"]["causes"]], err
    # Nothing changed: no member restarted (a restore empties the Raft logs and restarts the
    # terms), and the keyspace still has what was written before.
    after = members(etcd)
    for b, a in zip(before, after):
        assert a["term"] >= b["term"] and a["raftIndex"] >= b["raftIndex"], (b, a)
    assert "/lesson/still-here" in {kv[0] for kv in snapshot(etcd)["kvs"]}


def test_snapshot_restore_is_post_only_and_needs_a_cluster(etcd, pilothouse_server):
    status, err = etcd("GET", "/etcd/snapshot/restore")
    assert status == 405 and err["error"]["reason"] == "MethodNotAllowed"
    status, err = pilothouse_server.request("POST", "/clusters/no-such-cluster/sim/v1/etcd/snapshot/restore",
                                            {"revision": 2, "kvs": []})
    assert status == 404 and err["reason"] == "NotFound" and err["kind"] == "Status", err
