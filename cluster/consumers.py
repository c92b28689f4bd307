"""WebSocket consumer: streams a cluster's frames to a browser as JSON text.

/clusters/<name>/ws.  On connect the consumer joins the group `cluster.<name>` first and only
then reads the worker's state, so no frame after that state can be missed.  It sends

    {"type": "cluster.state", "frame": n, "time", "speed", "paused", "snapshot", "log"}

and then every frame the worker sends from then on, unchanged:

    {"type": "cluster.frame", "cluster", "frame": k, "time", "speed", "paused",
     "events": [...], "omitted": <message events left out of this frame>, "snapshot": {...}}

Frames are numbered consecutively per cluster.  A client starts from a state at frame n (this
one, or the page's own) and applies only frames numbered above the last it applied: frames the
state already covers may still arrive and must be skipped; a gap (the channel layer drops
messages silently) means re-fetching the state instead of drifting.

Close codes: 4404 no such cluster, 4503 the simulation worker does not answer.
"""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cluster import services

CLOSE_NOT_FOUND = 4404
CLOSE_UNAVAILABLE = 4503


class ClusterFramesConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.cluster = self.scope["url_route"]["kwargs"]["cluster"]
        self.group = services.group_for(self.cluster)
        self.joined = False
        # Join before reading the state: frames sent meanwhile wait in our channel.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        try:
            state = await services.cluster_state(self.cluster)
        except services.SimulationError as e:
            # Accept, then close with a code the page can read (a refused handshake is opaque).
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.joined = False
            await self.accept()
            await self.close(code=CLOSE_NOT_FOUND if isinstance(e, services.ClusterNotFound) else CLOSE_UNAVAILABLE)
            return
        await self.accept()
        await self.send_json({**state, "type": "cluster.state"})

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # A read-only stream: actions go through the HTTP APIs.
        pass

    async def cluster_frame(self, message: dict) -> None:
        await self.send_json(message)
