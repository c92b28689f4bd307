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

A page also counts as watching the cluster while its socket is open (the worker suspends
clusters nobody watches: cluster/worker/suspension.py), and the presenter's page tells the others
what it shows ("follow the teacher", issue 13):

    client -> {"type": "follow", "view": "workloads", "selection": {"kind": "pod", "name": "default/web-1"} | null}
              (from the presenter only: cluster/access.py; others' are ignored)
    server -> {"type": "cluster.follow", "view", "selection"}   to every page of the cluster

Close codes: 4404 no such cluster, 4503 the simulation worker does not answer.
"""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

import logging

from cluster import access, services

log = logging.getLogger("cluster.consumers")

CLOSE_NOT_FOUND = 4404
CLOSE_UNAVAILABLE = 4503
# The views a presenter can be followed to (the cluster page's, by URL and key).
FOLLOW_VIEWS = frozenset({"architecture", "workloads", "network", "etcd", "scheduler", "objects", "lessons"})
FOLLOW_KINDS = frozenset({"pod", "node", "member"})   # a pod, a node, an etcd member
MAX_FOLLOW_NAME = 320   # namespace/name, each a DNS subdomain at most


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
        self.watching = False
        self.presenter = False
        try:
            await services.watch_cluster(self.cluster, +1)
            self.watching = True
            # Only a page that brings a token may be the presenter's (a room of viewers costs
            # no look-up).
            token = access.token_of_scope(self.scope, self.cluster)
            self.presenter = bool(token) and (await access.resolve(self.cluster, token)).role == access.PRESENTER
        except services.SimulationError:
            pass

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "watching", False):
            self.watching = False
            try:
                await services.watch_cluster(self.cluster, -1)
            except services.SimulationError:
                pass

    async def receive_json(self, content, **kwargs) -> None:
        # The frames are read-only; actions go through the HTTP APIs.  The one message taken is
        # the presenter's "follow": what they show, for the pages that follow them.
        if not getattr(self, "presenter", False) or not isinstance(content, dict) or content.get("type") != "follow":
            return
        view, selection = content.get("view"), content.get("selection")
        if view not in FOLLOW_VIEWS:
            return
        if selection is not None:
            if not (isinstance(selection, dict) and selection.get("kind") in FOLLOW_KINDS
                    and isinstance(selection.get("name"), str) and 0 < len(selection["name"]) <= MAX_FOLLOW_NAME):
                selection = None
            else:
                selection = {"kind": selection["kind"], "name": selection["name"]}
        try:
            await services.follow_presenter(self.cluster, view, selection)
        except services.SimulationError:
            log.warning("could not pass the presenter's view of %s on", self.cluster)

    async def cluster_follow(self, message: dict) -> None:
        await self.send_json({"type": "cluster.follow", "view": message.get("view"),
                              "selection": message.get("selection")})

    async def cluster_frame(self, message: dict) -> None:
        await self.send_json(message)
