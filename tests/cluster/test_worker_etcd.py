"""The worker's etcd commands (issue 3) in-process: a cluster created with its etcd topology,
member status and actions, client writes, the reasons errors come back with, and frames that
group Raft heartbeats and carry the tick length."""
from __future__ import annotations

import asyncio

import pytest

from cluster import services
from cluster.worker import GROUPED_MESSAGE_TYPES, MIN_SPEED
from tests.cluster.conftest import subscribe, wait_bootstrapped
from tests.cluster.test_worker import frames_until

EXTERNAL = {"members": 3, "topology": "external", "heartbeatInterval": "100ms", "electionTimeout": "1s"}


async def settled_leader(cluster: str, not_name: str | None = None, timeout: float = 10.0) -> dict:
    """Advance the paused cluster in small steps until one leader that every running member follows."""
    async with asyncio.timeout(timeout):
        while True:
            ms = (await services.etcd_status(cluster))["members"]
            lead = [m for m in ms if m["role"] == "leader"]
            if len(lead) == 1 and lead[0]["name"] != not_name and all(
                    m["leader"] == lead[0]["name"] for m in ms if m["role"] != "stopped"):
                return lead[0]
            await services.set_clock(cluster, advance="200ms")


@pytest.mark.asyncio
async def test_create_with_external_etcd_and_member_actions(worker):
    result = await services.create_cluster("raft-1", seed=4, etcd=EXTERNAL, nodeMonitorGracePeriod="40s",
                                           defaultTolerationSeconds=120)
    assert result["cluster"] == "raft-1"
    await wait_bootstrapped("raft-1")
    await services.set_clock("raft-1", paused=True)
    rc = worker.clusters["raft-1"]
    cfg = rc.engine.config
    assert (cfg.etcd_members, cfg.etcd_topology, cfg.etcd_heartbeat_interval, cfg.etcd_election_timeout) == \
        (3, "external", 0.1, 1.0)
    assert cfg.node_monitor_grace_period == 40.0 and cfg.default_toleration_seconds == 120

    old = await settled_leader("raft-1")
    out = await services.etcd_member_action("raft-1", old["name"], "kill")
    assert out["member"] == old["name"]
    assert next(m for m in out["members"] if m["name"] == old["name"])["role"] == "stopped"
    new = await settled_leader("raft-1", not_name=old["name"])
    assert new["term"] > old["term"]

    put = await services.etcd_put("raft-1", "/lesson/k", "v")
    assert put["key"] == "/lesson/k" and put["revision"] > 0

    with pytest.raises(services.Conflict):  # a stopped member's timer cannot fire
        await services.etcd_member_action("raft-1", old["name"], "timeout")
    with pytest.raises(services.MemberNotFound):
        await services.etcd_member_action("raft-1", "etcd-9", "kill")
    with pytest.raises(services.BadCommand):
        await services.etcd_member_action("raft-1", "etcd-1", "explode")
    await services.etcd_member_action("raft-1", old["name"], "restore")

    isolated = await services.etcd_member_action("raft-1", "etcd-2", "isolate")
    groups = isolated["network"]["partition"]
    assert ["etcd-2"] in groups and {"etcd-1", "etcd-3", "cp-1", "worker-1"} <= set(groups[1] + groups[0])
    await services.heal_network("raft-1")

    # Without a quorum a put times out as etcd's does; the clock went on from where it ran to.
    for name in ("etcd-1", "etcd-2"):
        await services.etcd_member_action("raft-1", name, "kill")
    before = rc.engine.now
    with pytest.raises(services.EtcdTimeout) as e:
        await services.etcd_put("raft-1", "/lesson/lost", "x")
    assert "request timed out" in e.value.message and e.value.status == 504
    assert rc.engine.now >= before + 7.0 and rc.anchor_virtual == rc.engine.now


@pytest.mark.asyncio
async def test_stacked_members_get_control_plane_nodes(worker):
    await services.create_cluster("raft-2", etcd={"members": 3})
    await services.set_clock("raft-2", paused=True)
    status = (await services.etcd_status("raft-2"))["members"]
    assert [m["host"] for m in status] == ["cp-1", "cp-2", "cp-3"]


@pytest.mark.asyncio
async def test_slowest_speed_is_a_hundredth(worker):
    assert MIN_SPEED == 0.01
    assert (await services.set_clock("demo", speed=0.01))["speed"] == 0.01
    with pytest.raises(services.BadCommand):
        await services.set_clock("demo", speed=0.005)


@pytest.mark.asyncio
async def test_frames_group_heartbeats_and_carry_the_tick(worker, fresh_layer):
    await services.create_cluster("raft-3", etcd=EXTERNAL)
    await services.set_clock("raft-3", paused=True)
    # Past the cluster's busy start (its DaemonSets' and CoreDNS's pods starting), whose frames
    # are full of other hops and may omit some of the grouped ones.
    await services.set_clock("raft-3", advance="60s")
    channel = await subscribe(fresh_layer, "raft-3")
    start = (await services.get_clock("raft-3"))["time"]
    # 30 heartbeats to each follower; the advance runs in slices, so frames may go out between
    # them, and each frame groups what happened since the one before.
    await services.set_clock("raft-3", advance="3s")
    frames = await frames_until(fresh_layer, channel, lambda m: m["time"] >= start + 3)
    assert {f["etcdTick"] for f in frames} == {0.1}
    totals: dict = {}
    for frame in frames:
        beats = [e for e in frame["events"] if e.get("type") in GROUPED_MESSAGE_TYPES]
        keys = [(e["kind"], e["src"], e["dst"], e["type"]) for e in beats]
        assert len(keys) == len(set(keys)), "one event per (src, dst, type) in a frame"
        for key, e in zip(keys, beats):
            totals[key] = totals.get(key, 0) + e["count"]
    assert max(totals.values()) >= 25, totals
    assert any(e["count"] > 1 for f in frames for e in f["events"] if e.get("type") in GROUPED_MESSAGE_TYPES), \
        "several heartbeats in one frame are one event with a count"
    state = await services.cluster_state("raft-3")
    assert state["etcdTick"] == 0.1 and len(state["snapshot"]["etcd"]) == 3
