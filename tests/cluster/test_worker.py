"""The simulation worker, in process: seeding, frames, commands, persistence and restore."""
from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from cluster import services
from cluster.models import EtcdEntry, SimCluster
from cluster.worker import SimulationWorker
from cluster.worker.foreground import FOREGROUND
from cluster.worker.frames import MAX_SNAPSHOT_DEFER_SECONDS
from cluster.worker.worker import MAX_PERSIST_DEFER_SECONDS
from tests.builders import MakePod, MakeReplicaSet
from tests.cluster.conftest import FrameReader, subscribe, wait_bootstrapped

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
}


def pod_request(verb: str, name: str | None = None, body: dict | None = None, namespace: str = "default") -> dict:
    return {"verb": verb, "group": "", "version": "v1", "resource": "pods", "namespace": namespace,
            "name": name, "subresource": None, "body": body, "patch_type": None, "query": {}}


async def next_frames(layer, channel: FrameReader, count: int, timeout: float = 10.0) -> list[dict]:
    frames = []
    while len(frames) < count:
        msg = await asyncio.wait_for(channel.receive(), timeout)
        if msg["type"] == "cluster.frame":
            frames.append(msg)
    return frames


async def frames_until(layer, channel: FrameReader, predicate, timeout: float = 15.0) -> list[dict]:
    """Receive frames until one satisfies `predicate`; returns all of them (bounded wait)."""
    frames = []
    async with asyncio.timeout(timeout):
        while True:
            msg = await channel.receive()
            frames.append(msg)
            if predicate(msg):
                return frames


@database_sync_to_async
def persisted(name: str):
    row = SimCluster.objects.get(name=name)
    revs = list(EtcdEntry.objects.filter(cluster=row).values_list("revision", flat=True))
    return row, revs


async def test_seeds_demo_and_persists_its_etcd_log(worker):
    assert sorted(worker.clusters) == ["demo"]
    # A frame's persist may wait while requests are answered, but never longer than
    # MAX_PERSIST_DEFER_SECONDS: so the bootstrap writes are on disk within a bounded time.
    async with asyncio.timeout(MAX_PERSIST_DEFER_SECONDS + 5):
        while True:
            row, revs = await persisted("demo")
            if revs and row.persisted_revision == max(revs):
                break
            await asyncio.sleep(0.05)
    assert row.topology == worker.clusters["demo"].engine.topology()
    snapshot = worker.clusters["demo"].engine.snapshot()
    assert [n["name"] for n in snapshot["nodes"]] == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
    # The demo is kubeadm's HA shape with stacked etcd: a Raft group of 3, one member per
    # control-plane node, one of them leading.
    members = snapshot["etcd"]
    assert [(m["name"], m["host"]) for m in members] == [("etcd-1", "cp-1"), ("etcd-2", "cp-2"), ("etcd-3", "cp-3")]
    assert sum(m["role"] == "leader" for m in members) == 1


async def test_frames_are_numbered_consecutively_with_snapshot(worker, fresh_layer):
    channel = await subscribe(fresh_layer, "demo")
    frames = await next_frames(fresh_layer, channel, 5)
    numbers = [f["frame"] for f in frames]
    assert numbers == list(range(numbers[0], numbers[0] + 5))
    times = [f["time"] for f in frames]
    assert times == sorted(times) and times[-1] > times[0], "virtual time advances while running"
    for before, f in zip([{"time": channel.state_time}, *frames], frames):
        # Each frame's snapshot, but for one where nothing moved (a starved engine on a busy
        # machine): the encoder sends no delta for an unchanged snapshot, nothing to redraw.
        assert (f["snapshot"] or {}).get("cluster") == "demo" or before["time"] == f["time"], f
        assert f["speed"] == 1.0 and f["paused"] is False
        assert isinstance(f["events"], list)


async def test_api_requests_reach_the_engine(worker):
    created = await services.cluster_api("demo", pod_request("create", body=POD))
    assert created["code"] == 201, created
    got = await services.cluster_api("demo", pod_request("get", "web"))
    assert got["code"] == 200
    assert got["body"]["metadata"]["uid"] == created["body"]["metadata"]["uid"]
    missing = await services.cluster_api("demo", pod_request("get", "nope"))
    assert missing["code"] == 404 and missing["body"]["kind"] == "Status"
    with pytest.raises(services.ClusterNotFound):
        await services.cluster_api("no-such-cluster", pod_request("get", "web"))


async def test_clock_speed_pause_advance_and_validation(worker):
    clock = await services.get_clock("demo")
    assert clock["speed"] == 1.0 and clock["paused"] is False
    assert (await services.set_clock("demo", speed=5))["speed"] == 5.0
    paused = await services.set_clock("demo", paused=True)
    assert paused["paused"] is True
    advanced = await services.set_clock("demo", advance="400s")
    assert advanced["time"] >= paused["time"] + 400
    stepped = await services.set_clock("demo", step=True)
    assert stepped["time"] == pytest.approx(advanced["time"] + 1.0, abs=1e-6)
    await asyncio.sleep(0.3)  # paused: the worker must not move the clock on its own
    assert (await services.get_clock("demo"))["time"] == stepped["time"]
    for bad in ({"speed": 0}, {"speed": 51}, {"speed": "fast"}, {"paused": "yes"}):
        with pytest.raises(services.BadCommand):
            await services.sim_command("demo", {"op": "clock", **bad})
    with pytest.raises(services.BadCommand):
        await services.set_clock("demo", advance="soon")


async def test_node_kill_restore_add_are_reported_in_frames_and_log(worker, fresh_layer):
    channel = await subscribe(fresh_layer, "demo")
    assert await services.kill_node("demo", "worker-1") == {"node": "worker-1", "alive": False}

    def has_kill(msg):
        return any(e["kind"] == "node" and e["node"] == "worker-1" and e["alive"] is False for e in msg["events"])

    frames = await frames_until(fresh_layer, channel, has_kill)
    dead = [n for n in frames[-1]["snapshot"]["nodes"] if n["name"] == "worker-1"][0]
    assert dead["alive"] is False
    state = await services.cluster_state("demo")
    assert any(e["kind"] == "node" and e["node"] == "worker-1" and e["frame"] == frames[-1]["frame"] for e in state["log"])

    await services.restore_node("demo", "worker-1")
    await services.add_node("demo", "worker-4", cpu="2", memory="4Gi")
    frames = await frames_until(fresh_layer, channel, lambda m: any(n["name"] == "worker-4" for n in (m["snapshot"] or {}).get("nodes", [])))
    with pytest.raises(services.NodeNotFound):
        await services.kill_node("demo", "worker-9")
    with pytest.raises(services.AlreadyExists):
        await services.add_node("demo", "worker-4")
    with pytest.raises(services.BadCommand):
        await services.add_node("demo", "Worker_5")
    with pytest.raises(services.BadCommand):
        await services.add_node("demo", "worker-5", cpu="-1")


async def test_a_change_to_a_paused_cluster_is_drawn_even_when_its_snapshot_was_deferred(worker, fresh_layer):
    """While a request is being answered the frame's snapshot waits (SnapshotClock.due with
    defer): the frame of a node killed in a paused cluster then goes without one, and a later
    frame still brings it, although nothing else happens in a paused cluster to send one for."""
    channel = await subscribe(fresh_layer, "demo")
    await services.set_clock("demo", paused=True)
    await frames_until(fresh_layer, channel, lambda m: m["paused"])

    def killed(msg):
        return any(e["kind"] == "node" and e["node"] == "worker-1" for e in msg["events"])

    def drawn_down(msg):
        return any(n["name"] == "worker-1" and n["alive"] is False for n in (msg["snapshot"] or {}).get("nodes", []))

    worker.clusters["demo"].snapshots.taken = time.monotonic()  # a snapshot just taken: the next may wait
    FOREGROUND.enter()  # a page's request in flight
    try:
        await services.kill_node("demo", "worker-1")
        frames = await frames_until(fresh_layer, channel, killed, timeout=MAX_SNAPSHOT_DEFER_SECONDS * 0.8)
    finally:
        FOREGROUND.leave()
    assert frames[-1]["snapshot"] is None, "the kill's own frame went without its snapshot"
    await frames_until(fresh_layer, channel, drawn_down, timeout=10)


async def test_state_is_the_snapshot_of_its_frame(worker, fresh_layer):
    channel = await subscribe(fresh_layer, "demo")
    await next_frames(fresh_layer, channel, 2)
    state = await services.cluster_state("demo")
    assert state["frame"] >= 2
    assert set(state) >= {"cluster", "frame", "time", "speed", "paused", "snapshot", "log"}
    assert state["snapshot"]["time"] == pytest.approx(state["time"], abs=1e-3)


async def test_commands_time_out_without_a_worker(fresh_layer):
    with pytest.raises(services.WorkerUnavailable):
        await services.sim_command("demo", {"op": "clock"}, timeout=0.2)


async def test_restart_restores_objects_and_clock(worker, fresh_layer):
    created = await services.cluster_api("demo", pod_request("create", body=POD))
    assert created["code"] == 201
    await services.set_clock("demo", advance="30s")
    before = await services.get_clock("demo")
    await worker.stop()  # persists a last time

    again = SimulationWorker(channel_layer=fresh_layer, frame_rate=20)
    await again.start()
    try:
        assert sorted(again.clusters) == ["demo"], "restored, not re-seeded"
        clock = await services.get_clock("demo")
        assert clock["time"] >= before["time"]
        got = await services.cluster_api("demo", pod_request("get", "web"))
        assert got["code"] == 200
        assert got["body"]["metadata"]["uid"] == created["body"]["metadata"]["uid"]
    finally:
        await again.stop()


async def test_a_cluster_whose_frame_fails_does_not_stop_the_others_nor_persistence(worker, fresh_layer):
    await services.create_cluster("lab-3", seed=9)
    await wait_bootstrapped("lab-3")

    def broken():
        raise RuntimeError("a bug in one cluster's snapshot")

    worker.clusters["demo"].engine.snapshot = broken
    channel = await subscribe(fresh_layer, "lab-3")
    frames = await next_frames(fresh_layer, channel, 3)
    assert [f["snapshot"]["cluster"] for f in frames] == ["lab-3"] * 3
    created = await services.cluster_api("lab-3", pod_request("create", body=POD))
    assert created["code"] == 201
    async with asyncio.timeout(10):  # still persisted within a frame or two
        while (await persisted("lab-3"))[0].persisted_revision < int(created["body"]["metadata"]["resourceVersion"]):
            await asyncio.sleep(0.05)


async def test_create_cluster_validates_and_isolates(worker):
    result = await services.create_cluster("lab-2", seed=7)
    assert result["cluster"] == "lab-2"
    assert sorted(await services.list_clusters()) == ["demo", "lab-2"]
    with pytest.raises(services.AlreadyExists):
        await services.create_cluster("lab-2")
    with pytest.raises(services.BadCommand):
        await services.create_cluster("Not_A_Name")
    with pytest.raises(services.BadCommand):  # a cluster needs a control-plane node
        await services.create_cluster("headless", nodes=[{"name": "w-1", "role": "worker"}])
    assert "headless" not in await services.list_clusters()
    await wait_bootstrapped("lab-2")
    created = await services.cluster_api("lab-2", pod_request("create", body=POD))
    assert created["code"] == 201
    assert (await services.cluster_api("demo", pod_request("get", "web")))["code"] == 404
    pod_rv = int(created["body"]["metadata"]["resourceVersion"])
    async with asyncio.timeout(10):  # persisted within a frame or two
        while (await persisted("lab-2"))[0].persisted_revision < pod_rv:
            await asyncio.sleep(0.05)
    row, revs = await persisted("lab-2")
    assert pod_rv in revs and row.persisted_revision == max(revs)


@database_sync_to_async
def log_shape(name: str):
    row = SimCluster.objects.get(name=name)
    entries = list(EtcdEntry.objects.filter(cluster=row).values_list("revision", "key", "value"))
    return row, entries


async def test_compaction_prunes_the_persisted_log_and_restore_still_works(worker, fresh_layer):
    for i in range(3):
        body = {**POD, "metadata": {"name": f"c{i}"}}
        assert (await services.cluster_api("demo", pod_request("create", body=body)))["code"] == 201
    assert (await services.cluster_api("demo", pod_request("delete", "c0", None)))["code"] == 200
    # kube-apiserver compacts every 5 minutes to the revision it saw one interval earlier.
    await services.set_clock("demo", advance="12m")
    compacted = worker.clusters["demo"].engine.compacted_revision
    assert compacted > 0, "the engine compacted etcd"
    async with asyncio.timeout(10):
        while (await log_shape("demo"))[0].compacted_revision < compacted:
            await asyncio.sleep(0.05)
    row, entries = await log_shape("demo")
    old = [(rev, key, value) for rev, key, value in entries if rev <= row.compacted_revision]
    keys = [key for _, key, _ in old]
    assert len(keys) == len(set(keys)), "at most one entry per key at or below the compaction point"
    assert all(value is not None for _, _, value in old), "no tombstones at or below it"
    assert max(rev for rev, _, _ in entries) == row.persisted_revision

    expected = await services.cluster_api("demo", {**pod_request("list"), "namespace": None})
    await worker.stop()
    again = SimulationWorker(channel_layer=fresh_layer, frame_rate=20)
    await again.start()
    try:
        got = await services.cluster_api("demo", {**pod_request("list"), "namespace": None})
        names = lambda resp: sorted((p["metadata"]["name"], p["metadata"]["uid"]) for p in resp["body"]["items"])  # noqa: E731
        assert names(got) == names(expected)
        assert ("c0" not in {n for n, _ in names(got)})
        assert int(got["body"]["metadata"]["resourceVersion"]) >= int(expected["body"]["metadata"]["resourceVersion"])
    finally:
        await again.stop()


async def test_busy_frame_caps_network_events_but_keeps_every_log_event(worker, fresh_layer):
    from cluster.worker import LOG_KINDS, MAX_FRAME_EVENTS

    await services.set_clock("demo", paused=True)
    # Past the demo's busy start (its DaemonSets' and CoreDNS's pods starting), so that the 12
    # pods below are the frame's only burst.
    await services.set_clock("demo", advance="60s")
    rs = (MakeReplicaSet().name("busy").replicas(12).selector({"app": "busy"})
          .template(MakePod().labels({"app": "busy"}).container("nginx", name="c")).manifest())
    created = await services.cluster_api("demo", {"verb": "create", "group": "apps", "version": "v1",
                                                  "resource": "replicasets", "namespace": "default", "name": None,
                                                  "subresource": None, "body": rs, "patch_type": None, "query": {}})
    assert created["code"] == 201
    channel = await subscribe(fresh_layer, "demo")
    # 12 pods scheduled and started in one go, all in the next frame (the clock command would
    # run this in slices, frames between them; the engine is run directly here to get one
    # busy frame).
    engine = worker.clusters["demo"].engine
    engine.advance(60)
    # The advance's frame (a frame of the cluster's busy start may still be on its way).
    frames = await frames_until(fresh_layer, channel, lambda m: m["time"] >= engine.now)
    assert frames[-1]["omitted"] > 0
    frame = frames[-1]
    others = [e for e in frame["events"] if e["kind"] not in LOG_KINDS]
    logged = [e for e in frame["events"] if e["kind"] in LOG_KINDS]
    assert len(others) == MAX_FRAME_EVENTS
    assert sum(1 for e in logged if e["kind"] == "action" and "bound default/busy-" in e.get("text", "")) == 12
    # The scheduler's bind hops claim capped slots first: the dashboard draws every one.
    binds = [e for e in others if e["kind"] == "message" and e["type"] == "create pods/binding"]
    assert len(binds) == 12, binds
    # ... and so do the other hops of a pod's life: each kubelet hears of its pods by watch.
    to_kubelets = [e for e in others if e["kind"] == "message" and e["type"] == "watch pods"
                   and e["dst"].startswith("kubelet@")]
    assert len(to_kubelets) >= 12, to_kubelets
    state = await services.cluster_state("demo")
    ring = [{k: v for k, v in e.items() if k != "frame"} for e in state["log"] if e["frame"] == frame["frame"]]
    assert ring == logged[-len(ring):] and len(ring) == min(len(logged), 300)
