"""etcd's membership through the control API (`POST /clusters/<c>/sim/v1/etcd/members` ...), in
process with Django's AsyncClient: member list / add / promote / remove, etcd's refusals as
Kubernetes Status bodies, the changes journaled so an exported run replays to the same
membership and keyspace, and the membership as a restart of Pilothouse loads it."""
from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from cluster import persistence
from cluster.worker.timeline import etcd_store, keyspace_digest
from sim.cluster import Cluster
from tests.cluster.conftest import call

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SPEC = {"seed": 4, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}],
        "etcd": {"members": 3, "topology": "external"}}




def refusal(data: dict, code: int, reason: str) -> str:
    """A Kubernetes Status (with the control API's "error" object beside it): its message."""
    assert (data["kind"], data["status"], data["code"], data["reason"]) == ("Status", "Failure", code, reason), data
    assert data["error"]["code"] == code
    return data["message"]


async def test_member_add_promote_remove_over_http_and_a_replay(bare_worker):
    client = AsyncClient()
    base = "/clusters/mem-1/sim/v1"
    await call(client, "POST", "/sim/v1/clusters", {"name": "mem-1", **SPEC}, expect=201)
    await call(client, "POST", f"{base}/clock", {"paused": True})
    await call(client, "POST", f"{base}/clock", {"advance": "20s"})

    listed = (await call(client, "GET", f"{base}/etcd/members"))["members"]
    assert sorted(m["name"] for m in listed) == ["etcd-1", "etcd-2", "etcd-3"]
    assert all(not m["isLearner"] and m["started"] for m in listed)

    added = await call(client, "POST", f"{base}/etcd/members", {"host": "etcd-4", "learner": True}, expect=201)
    assert added["member"]["name"] == "etcd-4" and added["member"]["isLearner"]
    assert added["initialClusterState"] == "existing"
    assert next(m for m in added["status"] if m["name"] == "etcd-4")["isLearner"]

    # etcd's refusals, as Kubernetes Status bodies.
    msg = refusal(await call(client, "POST", f"{base}/etcd/members", {"host": "etcd-5", "learner": True},
                             expect=409), 409, "Conflict")
    assert msg == "etcdserver: too many learner members in cluster"
    refusal(await call(client, "POST", f"{base}/etcd/members", {"learner": True}, expect=400), 400, "BadRequest")
    refusal(await call(client, "POST", f"{base}/etcd/members", {"host": "etcd-6", "learner": "yes"}, expect=400),
            400, "BadRequest")
    refusal(await call(client, "POST", f"{base}/etcd/members/etcd-9/promote", expect=404), 404, "NotFound")
    refusal(await call(client, "POST", f"{base}/etcd/members/etcd-9/remove", expect=404), 404, "NotFound")
    resp = await client.get(f"{base}/etcd/members/etcd-4/promote")
    assert resp.status_code == 405

    await call(client, "POST", f"{base}/clock", {"advance": "2s"})
    promoted = await call(client, "POST", f"{base}/etcd/members/{added['member']['ID']}/promote")  # by hex ID
    assert promoted["member"] == "etcd-4" and not next(m for m in promoted["members"] if m["name"] == "etcd-4")["isLearner"]
    msg = refusal(await call(client, "POST", f"{base}/etcd/members/etcd-4/promote", expect=409), 409, "Conflict")
    assert msg == "etcdserver: can only promote a learner member"

    state = (await call(client, "GET", f"{base}/etcd"))["members"]
    leader = next(m["name"] for m in state if m["role"] == "leader")
    removed = await call(client, "POST", f"{base}/etcd/members/{leader}/remove")
    assert leader not in {m["name"] for m in removed["members"]}
    await call(client, "POST", f"{base}/clock", {"advance": "5s"})
    state = (await call(client, "GET", f"{base}/etcd"))["members"]
    assert leader not in {m["name"] for m in state} and len(state) == 3
    assert sum(m["role"] == "leader" for m in state) == 1

    # The changes are journaled: an exported run imported elsewhere ends with the same members
    # and the same keyspace.
    export = await call(client, "GET", f"{base}/export")
    ops = [e["op"] for e in export["journal"] if e["op"].startswith("etcd.member")]
    assert ops[0] == "etcd.member.add" and "etcd.member.promote" in ops and ops[-1] == "etcd.member.remove"
    made = await call(client, "POST", "/sim/v1/clusters", {"name": "mem-copy", "import": export}, expect=201)
    assert made["verified"] is True
    original, copy = bare_worker.clusters["mem-1"].engine, bare_worker.clusters["mem-copy"].engine
    assert copy.etcd_member_list() == original.etcd_member_list()
    assert keyspace_digest(etcd_store(copy).current.items()) == keyspace_digest(etcd_store(original).current.items())
    stores = {json.dumps(m.store.to_snapshot(), sort_keys=True) for m in original.etcd_members}
    assert len(stores) == 1

    # What a restart of Pilothouse loads: the added member back, the removed one gone.
    saved = {p.name: p for p in await database_sync_to_async(persistence.load_all)()}
    p = saved["mem-1"]
    assert sorted(p.etcd_disks) == sorted(m["name"] for m in state)
    back = Cluster.restore(p.name, p.topology, p.etcd_log, p.time, compacted_revision=p.compacted_revision,
                           etcd_disks=p.etcd_disks)
    assert sorted(m["name"] for m in back.etcd_status()) == sorted(m["name"] for m in state)
    assert {m["name"]: m["isLearner"] for m in back.etcd_status()} == {m["name"]: False for m in state}
