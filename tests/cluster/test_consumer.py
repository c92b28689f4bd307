"""The WebSocket consumer at /clusters/<name>/ws, through the real ASGI application."""
from __future__ import annotations

import asyncio
import json
import weakref

import pytest
from channels.testing import WebsocketCommunicator

from cluster import services
from config.asgi import application
from tests.builders import MakePod

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


def connect(path: str = "/clusters/demo/ws") -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=ORIGIN)


async def receive(comm: WebsocketCommunicator, timeout: float = 10.0) -> dict:
    """The next state or frame (frames sent together as one `cluster.frames` message one by one)."""
    queue = _pending.setdefault(comm, [])
    if not queue:
        msg = await comm.receive_json_from(timeout=timeout)
        queue.extend(msg["frames"] if msg.get("type") == "cluster.frames" else [msg])
    return queue.pop(0)


_pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def test_sends_state_then_consecutive_frames(worker):
    comm = connect()
    connected, _ = await comm.connect()
    assert connected
    state = await receive(comm)
    assert state["type"] == "cluster.state"
    assert state["cluster"] == "demo" and isinstance(state["frame"], int)
    assert {"snapshot", "log", "time", "speed", "paused"} <= set(state)
    frames = [await receive(comm) for _ in range(6)]
    assert all(f["type"] == "cluster.frame" for f in frames)
    numbers = [f["frame"] for f in frames]
    assert numbers == list(range(numbers[0], numbers[0] + 6)), numbers
    # Frames the state already covers may arrive (we joined the group first), never a gap.
    assert numbers[0] <= state["frame"] + 1
    await comm.disconnect()


async def test_unknown_cluster_closes_with_4404(worker):
    comm = connect("/clusters/nope/ws")
    connected, _ = await comm.connect()
    assert connected  # accepted so the page can read the close code
    out = await comm.receive_output(timeout=5)
    assert out == {"type": "websocket.close", "code": 4404}


async def test_foreign_origin_is_refused(worker):
    comm = WebsocketCommunicator(application, "/clusters/demo/ws", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await comm.connect()
    assert not connected


def log_events(frames: list[dict]) -> list[tuple]:
    """The log-worthy events of frames, as comparable tuples."""
    out = []
    for f in frames:
        for e in f["events"]:
            if e["kind"] in ("action", "k8s-event", "node"):
                out.append((f["frame"], e["kind"], e["t"], repr(sorted(e.items()))))
    return out


async def test_late_client_sees_no_gap_and_no_double_counting(worker):
    """Client A watches from the start; B joins later.  B's state (frame n, log) plus the frames
    above n that B then receives must show exactly A's events: none missing, none twice."""
    a = connect()
    assert (await a.connect())[0]
    state_a = await receive(a)
    a_frames: list[dict] = []

    async def drain_a(until_frame: int):
        while not a_frames or a_frames[-1]["frame"] < until_frame:
            a_frames.append(await receive(a))

    # Make log-worthy events happen while A watches: a node dies, pods get created.
    await services.kill_node("demo", "worker-3")
    for i in range(3):
        pod = MakePod().name(f"p{i}").container("nginx", name="c").manifest()
        resp = await services.cluster_api("demo", {"verb": "create", "group": "", "version": "v1", "resource": "pods",
                                                   "namespace": "default", "name": None, "subresource": None,
                                                   "body": pod, "patch_type": None, "query": {}})
        assert resp["code"] == 201
    await drain_a(state_a["frame"] + 3)

    b = connect()
    assert (await b.connect())[0]
    state_b = await receive(b)
    n = state_b["frame"]
    # More events after B joined.
    await services.restore_node("demo", "worker-3")
    b_frames = []
    while not b_frames or b_frames[-1]["frame"] < n + 5:
        b_frames.append(await receive(b))
    await drain_a(b_frames[-1]["frame"])

    a_by_number = {f["frame"]: f for f in a_frames}
    applied_b = [f for f in b_frames if f["frame"] > n]  # what a correct client applies
    numbers = [f["frame"] for f in applied_b]
    assert numbers == list(range(n + 1, n + 1 + len(numbers))), "no gap after the state"
    for f in applied_b:
        assert log_events([f]) == log_events([a_by_number[f["frame"]]])

    # B's log covers frames <= n; for the window A saw, it matches A's frames exactly.
    window = [f for f in a_frames if state_a["frame"] < f["frame"] <= n]
    assert [f["frame"] for f in window] == list(range(state_a["frame"] + 1, n + 1))
    expected = log_events(window)
    got = [(e["frame"], e["kind"], e["t"], repr(sorted({k: v for k, v in e.items() if k != "frame"}.items())))
           for e in state_b["log"] if e["frame"] > state_a["frame"]]
    assert got == expected
    assert any(k == "node" for _, k, _, _ in expected), "the kill happened inside the window"
    await a.disconnect()
    await b.disconnect()


async def test_many_sockets_get_the_same_frames_through_one_subscription(worker, fresh_layer):
    """Twelve pages of one cluster: the process's room is the group's only member (one copy of
    each frame on the channel layer, not twelve), each socket gets every frame after its state
    with no gap, the same as the others, and a page that applies the snapshot deltas holds
    exactly the snapshot the worker's state then hands out."""
    from cluster.fanout import FANOUT
    from cluster.worker import group_for
    from cluster.worker.snapdelta import SnapshotFollower

    comms = [connect() for _ in range(12)]
    states = []
    for comm in comms:
        assert (await comm.connect())[0]
        states.append(await receive(comm))
    assert len(fresh_layer.groups[group_for("demo")]) == 1
    assert FANOUT.watchers(fresh_layer, "demo") == 12
    await services.kill_node("demo", "worker-2")  # the snapshot changes: deltas carry it
    start = max(s["frame"] for s in states) + 1
    followers = [SnapshotFollower(state["snapshot"]) for state in states]
    lasts = [state["frame"] for state in states]

    async def read(i: int, until: int) -> dict[int, dict]:
        """Socket i's frames up to number `until`: consecutive after its state, applied."""
        got = {}
        while lasts[i] < until:
            frame = await receive(comms[i])
            if frame["frame"] <= lasts[i]:
                continue  # covered by the state
            assert frame["frame"] == lasts[i] + 1, "no gap"
            lasts[i] = frame["frame"]
            got[lasts[i]] = frame
            followers[i].follow(frame)
        return got

    got = [{n: f for n, f in (await read(i, start + 8)).items() if n >= start} for i in range(len(comms))]
    assert all(g == got[0] for g in got), "every socket gets the same frames"
    assert any(f.get("snapshotDelta") for f in got[0].values()), "changes travel as deltas"
    # Paused, the frames stop: the deltas applied give the very snapshot of the last frame.
    await services.set_clock("demo", paused=True)
    async with asyncio.timeout(10):
        while True:
            state = await services.cluster_state("demo")
            await read(0, state["frame"])
            if lasts[0] == state["frame"] and state["paused"]:
                break
    assert followers[0].snapshot == json.loads(json.dumps(state["snapshot"]))
    dead = [n for n in followers[0].snapshot["nodes"] if n["name"] == "worker-2"]
    assert dead and dead[0]["alive"] is False
    for comm in comms:
        await comm.disconnect()
    await wait_left(fresh_layer)


async def wait_left(layer) -> None:
    """Until the last page's leaving has closed the room (bounded)."""
    from cluster.fanout import FANOUT
    from cluster.worker import group_for

    async with asyncio.timeout(5):
        while FANOUT.watchers(layer, "demo") or layer.groups.get(group_for("demo")):
            await asyncio.sleep(0.01)
