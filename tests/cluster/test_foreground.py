"""Requests come first: the simulation's background advance steps aside while one is answered
(cluster/worker/foreground.py), Django's stock middleware runs without thread hops
(cluster/inlinemiddleware.py), and responses are encoded once (sim/api/jsonserializer.py)."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import SyncToAsync
from django.test import AsyncClient

from cluster.worker import foreground as fg
from cluster.worker.pacing import run_sliced
from sim.api.jsonserializer import encode


@pytest.mark.asyncio
async def test_step_aside_waits_while_busy_and_no_longer():
    f = fg.Foreground()
    loop = asyncio.get_running_loop()
    t = loop.time()
    await f.step_aside(t + 10)  # idle: at once
    assert loop.time() - t < fg.MAX_PAUSE_SECONDS
    f.enter()
    loop.call_later(0.005, f.leave)
    t = loop.time()
    await f.step_aside(t + 10)  # until the request is answered
    assert 0.004 <= loop.time() - t < fg.MAX_PAUSE_SECONDS + 0.05
    f.enter()
    t = loop.time()
    await f.step_aside(t + 10)  # a request that never ends: at most MAX_PAUSE_SECONDS
    assert fg.MAX_PAUSE_SECONDS - 0.002 <= loop.time() - t < fg.MAX_PAUSE_SECONDS + 0.05


@pytest.mark.asyncio
async def test_background_work_stops_while_a_request_is_in_flight():
    """A slice of background work in progress runs no chunk while the foreground is busy (for
    up to MAX_PAUSE_SECONDS), and resumes when the request is answered."""
    f = fg.Foreground()
    chunks = []

    def step():
        chunks.append(time.monotonic())
        return None

    f.enter()
    background = asyncio.ensure_future(run_sliced(step, 0.2, f))
    await asyncio.sleep(0.01)
    during = len(chunks)
    await asyncio.sleep(0.005)
    assert len(chunks) == during, "chunks ran while the request was in flight"
    f.leave()
    await asyncio.sleep(0.02)
    assert len(chunks) > during + 10
    assert await background is None  # the slice ran out
    # Without a foreground, the same work never steps aside.
    busy = fg.Foreground()
    busy.enter()
    chunks.clear()
    await run_sliced(step, 0.03)
    assert len(chunks) > 100


@pytest.mark.asyncio
async def test_an_http_request_is_foreground_until_its_response_starts():
    seen = []

    async def app(scope, receive, send):
        seen.append(f.busy)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append(f.busy)
        await send({"type": "http.response.body", "body": b"ok"})

    f = fg.Foreground()
    sent = []

    async def send(message):
        sent.append(message["type"])

    await fg.TrackRequests(app, f)({"type": "http"}, None, send)
    assert seen == [True, False] and f.count == 0 and sent == ["http.response.start", "http.response.body"]

    async def failing(scope, receive, send):
        raise RuntimeError("view failed")
    with pytest.raises(RuntimeError):
        await fg.TrackRequests(failing, f)({"type": "http"}, None, send)
    assert f.count == 0, "a request that failed before answering is no longer counted"
    await fg.TrackRequests(app, f)({"type": "websocket"}, None, send)
    assert seen[-1] is False  # a WebSocket is not a request


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_stock_middleware_runs_without_a_thread_hop(monkeypatch, settings):
    """Security, common, CSRF and clickjacking headers still come, and the only sync_to_async
    calls are Django's own request signals and closing the response - none per middleware hook."""
    hops = []
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)
    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    response = await AsyncClient().get("/no-such-page/")
    assert response.status_code == 404
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert not [h for h in hops if "process_" in h], hops
    # Django's own classes would hop for each hook (what the inline versions are for).
    settings.MIDDLEWARE = [m.replace("cluster.inlinemiddleware.", "django.middleware.security.", 1)
                           if m.endswith(".SecurityMiddleware") else m for m in settings.MIDDLEWARE]
    hops.clear()
    await AsyncClient().get("/no-such-page/")
    assert [h for h in hops if "process_" in h]


def test_encoding_falls_back_for_what_orjson_refuses():
    assert encode({"a": 1, "b": [True, None, 1.5], "é": "ü"}) == json.dumps(
        {"a": 1, "b": [True, None, 1.5], "é": "ü"}, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(encode({"big": 2 ** 70})) == {"big": 2 ** 70}  # beyond 64 bits: the stdlib
    assert json.loads(encode({"s": "\ud800"})) == {"s": "\ud800"}  # a lone surrogate: the stdlib
