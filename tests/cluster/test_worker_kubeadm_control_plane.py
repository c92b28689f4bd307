"""`kubeadm join --control-plane` through the control API, in process with Django's AsyncClient:
init with "uploadCerts" prints the certificate key, a join with a wrong key is refused with
kubeadm's message, two control-plane joins make three etcd voters and three apiservers, the
runs are journaled so an exported run replays to the same control plane, and a restart of
Pilothouse finds it."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from cluster import persistence
from sim.cluster import Cluster
from tests.cluster.conftest import call

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SPEC = {"seed": 5, "install": "kubeadm", "nodes": [
    {"name": "cp-1", "role": "control-plane"}, {"name": "cp-2"}, {"name": "cp-3"}, {"name": "worker-1"}]}


async def finish(client: AsyncClient, base: str, node: str) -> dict:
    for _ in range(200):
        status = await call(client, "GET", f"{base}/kubeadm")
        run = next((r for r in status["runs"] if r["node"] == node), None)
        if run is not None and run["state"] != "running":
            return run
        await call(client, "POST", f"{base}/clock", {"advance": "2s"})
    raise AssertionError(f"kubeadm on {node} did not finish")


async def test_join_control_plane_over_http_a_replay_and_a_restart(bare_worker):
    client = AsyncClient()
    base = "/clusters/ha-hand/sim/v1"
    await call(client, "POST", "/sim/v1/clusters", {"name": "ha-hand", **SPEC}, expect=201)
    await call(client, "POST", f"{base}/clock", {"paused": True})
    await call(client, "POST", f"{base}/clock", {"advance": "2s"})
    resp = await call(client, "POST", f"{base}/kubeadm/init", {"node": "cp-1", "uploadCerts": "yes"}, expect=400)
    assert resp["message"] == "uploadCerts must be true or false"
    await call(client, "POST", f"{base}/kubeadm/init", {"node": "cp-1", "uploadCerts": True})
    init = await finish(client, base, "cp-1")
    assert init["state"] == "succeeded" and init["command"] == "kubeadm init --upload-certs"
    status = await call(client, "POST", f"{base}/kubeadm/pod-network", {})
    cp_join = status["controlPlaneJoinCommand"]
    assert cp_join in [line.strip() for line in init["output"]]
    token = cp_join.split("--token ")[1].split()[0]
    key = cp_join.split("--certificate-key ")[1]

    await call(client, "POST", f"{base}/kubeadm/join",
               {"node": "cp-2", "token": token, "controlPlane": True, "certificateKey": "0" * 64})
    run = await finish(client, base, "cp-2")
    assert run["state"] == "failed" and run["error"].endswith("cipher: message authentication failed")
    resp = await call(client, "POST", f"{base}/kubeadm/join",
                      {"node": "cp-2", "token": token, "controlPlane": "true"}, expect=400)
    assert resp["message"] == "controlPlane must be true or false"

    for host in ("cp-2", "cp-3"):
        await call(client, "POST", f"{base}/kubeadm/join",
                   {"node": host, "token": token, "controlPlane": True, "certificateKey": key})
        run = await finish(client, base, host)
        assert run["state"] == "succeeded", run
        assert run["command"] == f"kubeadm join --token {token} --control-plane --certificate-key {key}"
    await call(client, "POST", f"{base}/clock", {"advance": "10s"})
    members = (await call(client, "GET", f"{base}/etcd/members"))["members"]
    assert sorted(m["host"] for m in members) == ["cp-1", "cp-2", "cp-3"] and not any(m["isLearner"] for m in members)
    status = await call(client, "GET", f"{base}/kubeadm")
    assert [h["role"] for h in status["hosts"]] == ["control-plane", "control-plane", "control-plane", "worker"]
    original = bare_worker.clusters["ha-hand"].engine
    assert [a.host for a in original.apiservers if a.running] == ["cp-1", "cp-2", "cp-3"]

    # Journaled: an exported run replays to the same control plane.
    export = await call(client, "GET", f"{base}/export")
    ops = [(e["op"], e["args"].get("controlPlane")) for e in export["journal"] if e["op"].startswith("kubeadm.")]
    assert ops.count(("kubeadm.join", True)) == 3
    made = await call(client, "POST", "/sim/v1/clusters", {"name": "ha-copy", "import": export}, expect=201)
    assert made["verified"] is True
    copy = bare_worker.clusters["ha-copy"].engine
    assert copy.etcd_member_list() == original.etcd_member_list() and copy.cp_hosts == original.cp_hosts

    # What a restart of Pilothouse loads: three control-plane nodes, three voters.
    saved = {p.name: p for p in await database_sync_to_async(persistence.load_all)()}
    p = saved["ha-hand"]
    back = Cluster.restore(p.name, p.topology, p.etcd_log, p.time, compacted_revision=p.compacted_revision,
                           etcd_disks=p.etcd_disks)
    assert back.cp_hosts == ["cp-1", "cp-2", "cp-3"]
    assert sorted((m["host"], m["isLearner"]) for m in back.etcd_status()) == \
        [("cp-1", False), ("cp-2", False), ("cp-3", False)]
    back.advance(20)
    assert [a.host for a in back.apiservers if a.running] == ["cp-1", "cp-2", "cp-3"]
