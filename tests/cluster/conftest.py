"""Fixtures for in-process tests of the worker and consumers (no HTTP server)."""
from __future__ import annotations

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
async def worker(transactional_db, fresh_layer):
    """A started SimulationWorker (demo seeded) on the test's loop; stopped afterwards."""
    from cluster.worker import SimulationWorker

    w = SimulationWorker(channel_layer=fresh_layer, frame_rate=20)
    await w.start()
    yield w
    await w.stop()
