"""Fan-out: one channel-layer subscription per watched cluster per process, its frames handed
to every local WebSocket as the same pre-encoded text.

A class is one cluster and hundreds of pages.  Were each page's consumer a member of the
cluster's group (`cluster.<name>`), the channel layer would copy every frame once per page (the
in-memory layer deep-copies each message it queues; channels_redis sends one per member) and
each consumer would encode it to JSON again.  Instead each process keeps a Room per cluster:
ONE channel of its own in the group, a task reading it and one delivering, and the set of this
process's consumers watching that cluster.  The worker encodes a frame once (cluster/worker/frames.py,
group_message); the room passes that text to each consumer, which writes it to its socket
unchanged.  Scaled out (channels_redis, several front ends), the group holds one channel per
front-end process, not per page.

A consumer joins before it reads the cluster's state (so no frame after that state is missed)
and the frames that arrive meanwhile wait in its backlog until it has sent the state
(cluster/consumers.py).  When a delivery took longer than a frame's interval, the frames that
arrived meanwhile go to each socket as one message (`cluster.frames`, their texts joined), so a
room that fell behind catches up instead of falling further behind.  The room yields to the
event loop every YIELD_EVERY sockets, so a big room never holds HTTP up for long, and while it
delivers a frame the simulation's advance steps aside (cluster/worker/foreground.py), so the
simulation never starves the sockets.
"""
from __future__ import annotations

import asyncio
import json
import logging
import weakref

from cluster.worker.channels import group_for
from cluster.worker.foreground import FOREGROUND, Foreground

log = logging.getLogger("cluster.fanout")

# Sockets written between two turns of the event loop.
YIELD_EVERY = 64
# A room renews its channel's membership of the cluster's group this often.
GROUP_REFRESH_SECONDS = 3600.0


class Room:
    """This process's pages of one cluster, fed by one channel in the cluster's group."""

    def __init__(self, layer, cluster: str, foreground: Foreground = FOREGROUND) -> None:
        self.layer, self.cluster, self.foreground = layer, cluster, foreground
        self.group = group_for(cluster)
        self.members: dict = {}  # consumer -> None: insertion-ordered set
        self.channel: str | None = None
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.sender: asyncio.Task | None = None
        self.keeper: asyncio.Task | None = None
        self.pending: list[str] = []  # frames received, not yet delivered
        self.follow: str | None = None  # the presenter's latest view, not yet delivered
        self.arrived = asyncio.Event()
        self.closed = False

    async def open(self) -> None:
        try:
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, self.channel)
            self.task = asyncio.ensure_future(self._pump())
            self.sender = asyncio.ensure_future(self._send())
            self.keeper = asyncio.ensure_future(self._keep_membership())
        finally:
            self.ready.set()

    async def close(self) -> None:
        self.closed = True
        tasks = [t for t in (self.task, self.sender, self.keeper) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.channel is not None:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception:  # the layer is gone (Redis down, loop closing): the group expires
                log.warning("could not leave %s", self.group, exc_info=True)

    async def _pump(self) -> None:
        """Take frames off the channel as they come (the channel's capacity is never the
        limit), for the sender."""
        while not self.closed:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup: try again shortly, the pages resync on the gap
                log.warning("receiving frames of %s failed; retrying", self.cluster, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if message.get("type") == "cluster.follow":
                # The presenter's view (cluster/consumers.py): the latest one, sent on its own.
                self.follow = json.dumps({"type": "cluster.follow", "view": message.get("view"),
                                          "selection": message.get("selection")}, separators=(",", ":"))
                self.arrived.set()
                continue
            text = message.get("text")
            if message.get("type") != "cluster.frame" or not isinstance(text, str):
                continue
            self.pending.append(text)
            self.arrived.set()

    async def _keep_membership(self) -> None:
        """Join the group again every GROUP_REFRESH_SECONDS: channel layers drop a member after
        their group_expiry (a day by default), and a room lives as long as anyone watches."""
        while not self.closed:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            try:
                await self.layer.group_add(self.group, self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup: the next round tries again, well within the expiry
                log.warning("could not renew %s's membership of %s", self.channel, self.group, exc_info=True)

    async def _send(self) -> None:
        """Deliver what arrived: one frame as it is; several (the delivery of one took longer
        than a frame's interval) as one message, so a room that falls behind catches up with
        one write per socket instead of one per frame."""
        while not self.closed:
            await self.arrived.wait()
            self.arrived.clear()
            follow, self.follow = self.follow, None
            if follow:
                await self.deliver(follow)
            texts, self.pending = self.pending, []
            if texts:
                await self.deliver(texts[0] if len(texts) == 1 else batch_text(texts))

    async def deliver(self, text: str) -> None:
        """Hand `text` to every member, yielding every YIELD_EVERY of them.  Meanwhile the
        simulation's advance steps aside (foreground work, as a request is): a room of
        hundreds would otherwise share the loop with it and every frame reach the last page
        late; the cluster's clock falls behind instead, and the page says so."""
        self.foreground.enter()
        try:
            for i, consumer in enumerate(list(self.members)):
                if i and i % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                if consumer not in self.members:
                    continue  # left meanwhile
                try:
                    await consumer.deliver_frame(text)
                except Exception:  # one broken socket must not cost the others their frame
                    log.warning("could not send a frame of %s to a page", self.cluster, exc_info=True)
        finally:
            self.foreground.leave()


def batch_text(texts: list[str]) -> str:
    """Several frames' texts as one message, {"type": "cluster.frames", "frames": [...]}, made
    by joining the texts (each already JSON): nothing is encoded again."""
    return '{"type":"cluster.frames","frames":[' + ",".join(texts) + "]}"


class FrameFanout:
    """The process's rooms, per channel layer (tests make a layer per test) and cluster."""

    def __init__(self) -> None:
        self._rooms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _rooms_of(self, layer) -> dict[str, Room]:
        rooms = self._rooms.get(layer)
        if rooms is None:
            rooms = self._rooms[layer] = {}
        return rooms

    async def join(self, layer, cluster: str, consumer) -> Room:
        """Add `consumer` to the cluster's room (opening it: joining the group) and return it
        once this process receives the cluster's frames.  `consumer.deliver_frame(text)` is
        awaited for each frame from then on."""
        rooms = self._rooms_of(layer)
        room = rooms.get(cluster)
        if room is None or room.closed:
            room = rooms[cluster] = Room(layer, cluster)
            room.members[consumer] = None
            try:
                await room.open()
            except BaseException:
                room.closed = True
                if rooms.get(cluster) is room:
                    del rooms[cluster]
                raise
        else:
            room.members[consumer] = None
            await room.ready.wait()
            if room.task is None:
                room.members.pop(consumer, None)
                raise ConnectionError(f"could not subscribe to the frames of {cluster}")
        return room

    async def leave(self, layer, cluster: str, consumer) -> None:
        """Remove `consumer`; the last one out closes the room (leaves the group)."""
        rooms = self._rooms_of(layer)
        room = rooms.get(cluster)
        if room is None:
            return
        room.members.pop(consumer, None)
        if not room.members and not room.closed:
            room.closed = True
            if rooms.get(cluster) is room:
                del rooms[cluster]
            await room.close()

    def watchers(self, layer, cluster: str) -> int:
        room = self._rooms_of(layer).get(cluster)
        return len(room.members) if room is not None else 0


FANOUT = FrameFanout()
