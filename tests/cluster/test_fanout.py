"""The per-process fan-out (cluster/fanout.py): one group member per process and cluster, the
worker's text handed to every page, frames that pile up during a slow delivery sent as one."""
from __future__ import annotations

import asyncio
import json

import pytest

from cluster.fanout import FANOUT
from cluster.worker import group_for
from cluster.worker.foreground import FOREGROUND
from cluster.worker.frames import group_message

pytestmark = pytest.mark.asyncio


class Page:
    """A consumer's side of the room: records what it is handed; `hold` keeps a delivery open."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.hold: asyncio.Event | None = None

    async def deliver_frame(self, text: str) -> None:
        self.texts.append(text)
        if self.hold is not None:
            await self.hold.wait()

    def frames(self) -> list[int]:
        out = []
        for text in self.texts:
            msg = json.loads(text)
            out += [f["frame"] for f in msg["frames"]] if msg["type"] == "cluster.frames" else [msg["frame"]]
        return out


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def frame(n: int) -> dict:
    return group_message({"type": "cluster.frame", "cluster": "c", "frame": n, "sentAt": 0.0, "events": []})


async def test_one_member_for_many_pages_and_frames_that_pile_up_go_as_one(fresh_layer):
    slow, quick = Page(), Page()
    room = await FANOUT.join(fresh_layer, "c", slow)
    assert await FANOUT.join(fresh_layer, "c", quick) is room
    assert len(fresh_layer.groups[group_for("c")]) == 1
    slow.hold = asyncio.Event()
    await fresh_layer.group_send(group_for("c"), frame(1))
    await until(lambda: slow.texts)
    # While the room is still handing frame 1 out, frames 2 and 3 arrive ...
    await fresh_layer.group_send(group_for("c"), frame(2))
    await fresh_layer.group_send(group_for("c"), frame(3))
    await until(lambda: len(room.pending) == 2)
    # Handing a frame out is foreground work: the simulation's advance steps aside meanwhile.
    assert FOREGROUND.busy
    slow.hold.set()
    # ... and go to every page as one message, in order, the worker's texts unchanged.
    await until(lambda: quick.frames() == [1, 2, 3] and slow.frames() == [1, 2, 3])
    assert quick.texts == slow.texts and len(quick.texts) == 2
    await until(lambda: not FOREGROUND.busy)
    assert json.loads(quick.texts[1])["type"] == "cluster.frames"
    assert quick.texts[1] == '{"type":"cluster.frames","frames":[' + frame(2)["text"] + "," + frame(3)["text"] + "]}"
    await FANOUT.leave(fresh_layer, "c", slow)
    await fresh_layer.group_send(group_for("c"), frame(4))
    await until(lambda: quick.frames()[-1] == 4)
    assert slow.frames() == [1, 2, 3], "a page that left gets nothing more"
    await FANOUT.leave(fresh_layer, "c", quick)
    assert group_for("c") not in fresh_layer.groups and FANOUT.watchers(fresh_layer, "c") == 0


async def test_a_room_renews_its_group_membership(fresh_layer, monkeypatch):
    """Channel layers forget a group member after their group_expiry; a room that outlives it
    (a kiosk left watching) joins again in time."""
    from cluster import fanout

    monkeypatch.setattr(fanout, "GROUP_REFRESH_SECONDS", 0.05)
    page = Page()
    room = await FANOUT.join(fresh_layer, "k", page)
    joined = fresh_layer.groups[group_for("k")][room.channel]
    await until(lambda: fresh_layer.groups[group_for("k")][room.channel] > joined)
    await FANOUT.leave(fresh_layer, "k", page)
