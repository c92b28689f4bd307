"""The worker under bad input and heavy work (issue 8), in process: bounded slices and pace,
long advances that let other commands through, acknowledged writes persisted before the
answer, and clusters that cannot be restored served broken for repair."""
from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from cluster import services
from cluster.models import EtcdEntry, SimCluster
from cluster.worker import SimulationWorker
from tests.cluster.conftest import subscribe, wait_bootstrapped
from tests.cluster.test_worker import POD, frames_until, pod_request

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def row_of(name: str) -> SimCluster | None:
    return SimCluster.objects.filter(name=name).first()


async def test_an_acknowledged_write_is_persisted_before_its_answer(worker, monkeypatch):
    # No frame persists anything during this test: only the command's own persist can.
    async def no_frames():
        return None

    monkeypatch.setattr(worker, "tick", no_frames)
    created = await services.cluster_api("demo", pod_request("create", body=POD))
    assert created["code"] == 201
    row = await row_of("demo")
    assert row.persisted_revision >= int(created["body"]["metadata"]["resourceVersion"])
    # A read is not a write: it does not wait for (or cause) a persist.
    assert not services_is_durable("api", {"request": pod_request("get", "web")})


def services_is_durable(op, args):
    from cluster.worker.commands import is_durable
    return is_durable(op, args)


async def test_an_advance_longer_than_an_hour_is_refused_and_nothing_moves(worker):
    before = await services.set_clock("demo", paused=True)
    with pytest.raises(services.BadCommand, match="at most 1h at once"):
        await services.set_clock("demo", advance="168h")
    with pytest.raises(services.BadCommand, match="at most 1h at once"):
        await services.sim_command("demo", {"op": "clock", "advance": 1e30})
    assert (await services.get_clock("demo"))["time"] == before["time"]


async def test_a_long_advance_runs_in_slices_and_other_commands_answer_meanwhile(worker):
    await services.set_clock("demo", paused=True)
    advancing = asyncio.ensure_future(services.set_clock("demo", advance="20m"))
    answered_during = 0
    while not advancing.done():
        t = time.monotonic()
        await services.get_clock("demo")
        assert time.monotonic() - t < 1.0
        answered_during += not advancing.done()
        await asyncio.sleep(0.01)
    clock = await advancing
    assert answered_during > 0, "the advance finished before any other command could be answered"
    assert clock["time"] >= 20 * 60


async def test_a_cluster_that_cannot_keep_up_falls_behind_and_says_so(worker, fresh_layer, monkeypatch):
    from cluster.worker import pacing
    from cluster.worker import worker as worker_module

    # A slice far too short for the HA demo at 50x: its clock must fall behind, not the server.
    monkeypatch.setattr(pacing, "CHUNK_EVENTS", 5)
    monkeypatch.setattr(worker_module, "ENGINE_SHARE", 0.0001)
    monkeypatch.setattr(worker_module, "MIN_SLICE_SECONDS", 0.0005)
    channel = await subscribe(fresh_layer, "demo")
    await services.set_clock("demo", speed=50)
    # A frame built at the new speed: one already on its way carries the pace measured before
    # the speed change, which resets it.
    frames = await frames_until(fresh_layer, channel, lambda m: m["speed"] == 50 and m.get("pace", 1) < 0.95,
                                timeout=20)
    assert frames[-1]["pace"] < 0.95
    t = time.monotonic()
    clock = await services.get_clock("demo")
    assert time.monotonic() - t < 1.0 and clock["pace"] < 0.95


# -- clusters that cannot be restored ----------------------------------------------------------

@database_sync_to_async
def break_topology(name: str) -> None:
    SimCluster.objects.filter(name=name).update(topology={"not": "a topology"})


async def restarted(fresh_layer) -> SimulationWorker:
    again = SimulationWorker(channel_layer=fresh_layer, frame_rate=20)
    await again.start()
    return again


async def test_a_cluster_that_cannot_be_restored_is_served_broken_and_repaired_by_a_reset(worker, fresh_layer):
    await services.create_cluster("lab-broken", seed=3)
    await wait_bootstrapped("lab-broken")
    await worker.stop()
    await break_topology("lab-broken")
    again = await restarted(fresh_layer)
    try:
        # The worker started; the other cluster runs; the broken one says why.
        await wait_bootstrapped("demo")
        state = await services.cluster_state("lab-broken")
        assert "not a cluster's topology" in state["broken"] and state["snapshot"] is None
        assert any(k.startswith("/registry/") for k in state["storedKeys"])
        with pytest.raises(services.ClusterBroken, match="could not be restored"):
            await services.cluster_api("lab-broken", pod_request("list"))
        with pytest.raises(services.Conflict):
            await services.delete_stored_key("demo", "/registry/pods/default/x")  # demo runs
        # Reset to its template: running again, with the template's nodes, persisted.
        await services.reset_cluster("lab-broken")
        await wait_bootstrapped("lab-broken")
        assert (await services.cluster_api("lab-broken", pod_request("create", body=POD)))["code"] == 201
        assert "broken" not in await services.cluster_state("lab-broken")
        row = await row_of("lab-broken")
        assert row.topology["config"]["seed"] == 3 and row.template["seed"] == 3
    finally:
        await again.stop()


async def test_a_broken_cluster_is_repaired_by_deleting_the_stored_key_that_breaks_it(worker, fresh_layer, monkeypatch):
    from sim.cluster import Cluster

    await services.create_cluster("lab-key", seed=4)
    await wait_bootstrapped("lab-key")
    assert (await services.cluster_api("lab-key", pod_request("create", body=POD)))["code"] == 201
    await worker.stop()
    restore = Cluster.restore.__func__

    def fragile_restore(cls, name, topology, etcd_log, *args, **kwargs):
        # Stands for any value the engine cannot take: this one fails while the pod is stored.
        if name == "lab-key" and any(e["key"] == "/registry/pods/default/web" for e in etcd_log):
            raise ValueError("cannot decode /registry/pods/default/web")
        return restore(cls, name, topology, etcd_log, *args, **kwargs)

    monkeypatch.setattr(Cluster, "restore", classmethod(fragile_restore))
    again = await restarted(fresh_layer)
    try:
        assert "cannot decode" in (await services.cluster_state("lab-key"))["broken"]
        with pytest.raises(services.NotFound):
            await services.delete_stored_key("lab-key", "/registry/pods/default/nope")
        result = await services.delete_stored_key("lab-key", "/registry/pods/default/web")
        assert result["removed"] >= 1 and result["broken"] is None
        await wait_bootstrapped("lab-key")
        assert (await services.cluster_api("lab-key", pod_request("get", "web")))["code"] == 404
    finally:
        await again.stop()


async def test_delete_cluster_forgets_it_and_tells_its_pages(worker, fresh_layer):
    await services.create_cluster("lab-gone", seed=5)
    channel = await subscribe(fresh_layer, "lab-gone")
    assert (await services.delete_cluster("lab-gone")) == {"cluster": "lab-gone", "deleted": True}
    last = await frames_until(fresh_layer, channel, lambda m: m.get("deleted"))
    assert last[-1]["deleted"] is True
    assert "lab-gone" not in await services.list_clusters()
    assert await row_of("lab-gone") is None
    assert not await database_sync_to_async(EtcdEntry.objects.filter(cluster__name="lab-gone").exists)()
    with pytest.raises(services.ClusterNotFound):
        await services.get_clock("lab-gone")
