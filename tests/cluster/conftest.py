"""Fixtures for in-process tests of the worker and consumers (no HTTP server)."""
from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from channels.layers import channel_layers, get_channel_layer


@pytest.fixture
def fresh_layer(settings):
    """A new in-memory channel layer per test: its queues bind to the test's event loop."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000, "expiry": 30}}
    }
    channel_layers._reset_backends("CHANNEL_LAYERS")
    yield get_channel_layer()
    channel_layers._reset_backends("CHANNEL_LAYERS")


@pytest_asyncio.fixture
async def bare_worker(transactional_db, fresh_layer):
    """A started SimulationWorker with no cluster (no demo seeded); stopped afterwards."""
    from cluster.worker import SimulationWorker

    w = SimulationWorker(channel_layer=fresh_layer, frame_rate=20, seed_demo=False)
    await w.start()
    yield w
    await w.stop()


async def call(client, method: str, path: str, body=None, expect: int = 200) -> dict:
    """One request of the control API (GET, or POST with a JSON body) through Django's
    AsyncClient; asserts its status and answers the decoded body."""
    import json

    if method == "GET":
        resp = await client.get(path)
    else:
        resp = await client.post(path, data=json.dumps(body or {}), content_type="application/json")
    data = json.loads(resp.content)
    assert resp.status_code == expect, json.dumps(data)[:2000]
    return data


@pytest_asyncio.fixture
async def worker(transactional_db, fresh_layer):
    """A started SimulationWorker (demo seeded) on the test's loop; stopped afterwards."""
    from cluster.worker import SimulationWorker

    w = SimulationWorker(channel_layer=fresh_layer, frame_rate=20)
    await w.start()
    await wait_bootstrapped("demo")
    yield w
    await w.stop()


async def wait_bootstrapped(cluster: str, timeout: float = 10.0) -> None:
    """Wait (bounded) until the `default` namespace and its `default` ServiceAccount exist, as
    in a fresh cluster a moment after start; before that, creating pods in it is a 404 (no
    namespace) or, after the ServiceAccount admission plugin's retries, a 403, as upstream."""
    from cluster import services

    async with asyncio.timeout(timeout):
        for resource, namespace in (("namespaces", None), ("serviceaccounts", "default")):
            req = {"verb": "get", "group": "", "version": "v1", "resource": resource, "namespace": namespace,
                   "name": "default", "subresource": None, "body": None, "patch_type": None, "query": {}}
            while (await services.cluster_api(cluster, req))["code"] != 200:
                await asyncio.sleep(0.02)


class FrameReader:
    """Reads a cluster's frames from the channel layer as a page does: decoded from the text the
    worker encoded once (cluster/worker/frames.py, group_message), each frame's snapshot rebuilt
    from its delta (cluster/worker/snapdelta.py).  Make one with `subscribe`."""

    def __init__(self, layer, channel: str, state: dict) -> None:
        from cluster.worker.snapdelta import SnapshotFollower

        self.layer, self.channel = layer, channel
        self.state_frame, self.state_time = state["frame"], state["time"]
        self.follower = SnapshotFollower(state["snapshot"])

    async def receive(self) -> dict:
        """The next frame a page applies (numbered above the state's; those the state covered
        are skipped), with its whole snapshot when it carried one or a delta."""
        from cluster.worker.frames import decode_group_message

        while True:
            frame = decode_group_message(await self.layer.receive(self.channel))
            if frame["frame"] > self.state_frame:
                return self.follower.follow(frame)


async def subscribe(layer, cluster: str) -> FrameReader:
    """Join the cluster's group, then read its state (the order a page keeps: no frame missed)."""
    from cluster import services
    from cluster.worker import group_for

    channel = await layer.new_channel()
    await layer.group_add(group_for(cluster), channel)
    return FrameReader(layer, channel, await services.cluster_state(cluster))
