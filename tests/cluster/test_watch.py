"""The watch stream over the engine's polling watch (cluster/api/watch.py), with the engine's
answers scripted so each upstream rule is checked on its own."""
from __future__ import annotations

import json

import pytest

from cluster import services
from cluster.api import watch
from cluster.api.requestinfo import parse
from sim.registry.tables import TableRequest



def request(query: dict):
    return parse("GET", "api/v1/namespaces/default/pods".split("/"), {"watch": "1", **query}, "", b"")


class ScriptedEngine:
    """Answers cluster_api calls from a script; records what it was asked."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.asked = []

    async def __call__(self, cluster, req):
        self.asked.append(req)
        if not self.answers:
            return {"code": 200, "events": [], "resourceVersion": req["query"].get("resourceVersion", "")}
        return self.answers.pop(0)


async def collect(cluster, rr, timeout):
    chunks = [chunk async for chunk in watch.watch_events(cluster, rr, timeout)]
    assert chunks[0] == b"", "the first chunk flushes the response headers"
    return [json.loads(chunk) for chunk in chunks[1:]]


@pytest.mark.asyncio
async def test_resource_version_unset_lists_first_then_watches_from_the_list(monkeypatch):
    engine = ScriptedEngine([
        {"code": 200, "body": {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "40"},
                               "items": [{"metadata": {"name": "a", "resourceVersion": "12"}}]}},
        {"code": 200, "events": [{"type": "MODIFIED", "object": {"kind": "Pod", "apiVersion": "v1",
                                                                  "metadata": {"name": "a", "resourceVersion": "41"}}}],
         "resourceVersion": "41"},
    ])
    monkeypatch.setattr(services, "cluster_api", engine)
    events = await collect("demo", request({"labelSelector": "app=a"}), timeout=0.5)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    # List items carry no kind; watch events must.
    assert events[0]["object"]["kind"] == "Pod" and events[0]["object"]["apiVersion"] == "v1"
    assert engine.asked[0]["verb"] == "list" and engine.asked[0]["query"] == {"labelSelector": "app=a"}
    assert engine.asked[1]["verb"] == "watch" and engine.asked[1]["query"]["resourceVersion"] == "40"
    assert engine.asked[2]["query"]["resourceVersion"] == "41", "polls resume from the last revision"


@pytest.mark.asyncio
async def test_given_resource_version_watches_without_listing(monkeypatch):
    engine = ScriptedEngine([])
    monkeypatch.setattr(services, "cluster_api", engine)
    events = await collect("demo", request({"resourceVersion": "17"}), timeout=0.3)
    assert events == []
    assert engine.asked and all(r["verb"] == "watch" for r in engine.asked)
    assert engine.asked[0]["query"]["resourceVersion"] == "17"


@pytest.mark.asyncio
async def test_expired_resource_version_ends_with_an_error_event(monkeypatch):
    gone = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "too old resource version: 1 (40)", "reason": "Expired", "code": 410}
    engine = ScriptedEngine([{"code": 410, "body": gone}])
    monkeypatch.setattr(services, "cluster_api", engine)
    events = await collect("demo", request({"resourceVersion": "1"}), timeout=5)
    assert events == [{"type": "ERROR", "object": gone}]
    assert len(engine.asked) == 1, "the stream ends at the error"


@pytest.mark.asyncio
async def test_timeout_bounds_the_stream(monkeypatch):
    engine = ScriptedEngine([])
    monkeypatch.setattr(services, "cluster_api", engine)
    import asyncio
    loop = asyncio.get_running_loop()
    started = loop.time()
    await collect("demo", request({"resourceVersion": "5"}), timeout=0.4)
    assert 0.35 <= loop.time() - started < 1.5


@pytest.mark.asyncio
async def test_worker_gone_mid_stream_is_an_error_event(monkeypatch):
    async def unavailable(cluster, req):
        raise services.WorkerUnavailable("the simulation worker did not answer within 10s")

    monkeypatch.setattr(services, "cluster_api", unavailable)
    events = await collect("demo", request({"resourceVersion": "5"}), timeout=5)
    assert events[0]["type"] == "ERROR"
    assert (events[0]["object"]["code"], events[0]["object"]["reason"]) == (503, "ServiceUnavailable")


def test_default_timeout_is_spread_like_the_apiserver():
    values = {watch.watch_timeout({}) for _ in range(20)}
    assert all(1800 <= v <= 3600 for v in values) and len(values) > 1
    assert watch.watch_timeout({"timeoutSeconds": "7"}) == 7.0


@pytest.mark.asyncio
async def test_table_watch_for_kubectl_get_w(monkeypatch):
    """`kubectl get pods -w` asks for Tables: each event is a one-row Table and only the first
    carries the column definitions."""
    from sim.api.meta import timestamp

    def pod(rv):
        return {"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": "a", "namespace": "default", "resourceVersion": rv, "creationTimestamp": timestamp(0)},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}, "status": {"phase": "Pending"}}

    engine = ScriptedEngine([
        {"code": 200, "events": [{"type": "ADDED", "object": pod("6")}, {"type": "MODIFIED", "object": pod("7")}],
         "resourceVersion": "7", "now": 90.0},
    ])
    monkeypatch.setattr(services, "cluster_api", engine)
    rr = request({"resourceVersion": "5"})
    chunks = [c async for c in watch.watch_events("demo", rr, 0.3, table=TableRequest())]
    events = [json.loads(c) for c in chunks[1:]]
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    first, second = events[0]["object"], events[1]["object"]
    assert first["kind"] == "Table" and first["columnDefinitions"][0]["name"] == "Name"
    assert second["columnDefinitions"] is None
    assert first["rows"][0]["cells"][:5] == ["a", "0/1", "Pending", "0", "90s"]
    assert second["rows"][0]["object"]["metadata"]["resourceVersion"] == "7"
