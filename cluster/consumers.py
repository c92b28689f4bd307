"""WebSocket consumer: streams a cluster's frames to a browser as JSON text.

/clusters/<name>/ws.  On connect the consumer joins its process's room of the cluster
(cluster/fanout.py: one subscription to the group `cluster.<name>` per process) first and only
then reads the worker's state, so no frame after that state can be missed.  It sends

    {"type": "cluster.state", "frame": n, "time", "speed", "paused", "snapshot", "log"}

and then every frame the worker sends from then on, as the worker encoded it (the same text
for every socket):

    {"type": "cluster.frame", "cluster", "frame": k, "sentAt", "time", "speed", "paused",
     "events": [...], "omitted": <message events left out of this frame>,
     "snapshot": {...} or null, "snapshotDelta": [...] (when the snapshot changed, as a delta)}

When this process's delivery of a frame to all its pages took longer than a frame's interval,
the frames that arrived meanwhile come as one message, in order (cluster/fanout.py):

    {"type": "cluster.frames", "frames": [{"type": "cluster.frame", ...}, ...]}

Frames are numbered consecutively per cluster.  A client starts from a state at frame n (this
one, or the page's own) and applies only frames numbered above the last it applied: frames the
state already covers may still arrive and must be skipped; a gap (the channel layer drops
messages silently) means re-fetching the state instead of drifting.  A frame's
`snapshotDelta` applies to the snapshot of the frame before (cluster/worker/snapdelta.py), so
a client that holds no snapshot, or missed a frame, re-fetches the state too.

A page also counts as watching the cluster while its socket is open (the worker suspends
clusters nobody watches: cluster/worker/suspension.py), and the presenter's page tells the others
what it shows ("follow the teacher", issue 13):

    client -> {"type": "follow", "view": "workloads", "selection": {"kind": "pod", "name": "default/web-1"} | null}
              (kind pod | node | member | drawer: "deployments.apps:default/web", the drawer's object)
              (from the presenter only: cluster/access.py; others' are ignored)
    server -> {"type": "cluster.follow", "view", "selection"}   to every page of the cluster (the room)

Close codes: 4404 no such cluster, 4503 the simulation worker does not answer.
"""
from __future__ import annotations

import json
import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from cluster import access, services
from cluster.fanout import FANOUT

log = logging.getLogger("cluster.consumers")

CLOSE_NOT_FOUND = 4404
CLOSE_UNAVAILABLE = 4503
# Frames kept for a socket while it sends its state (the worker answers within a frame or two).
MAX_BACKLOG = 200
# The views a presenter can be followed to (the cluster page's, by URL and key).
FOLLOW_VIEWS = frozenset({"architecture", "workloads", "network", "etcd", "scheduler", "objects", "lessons"})
# a pod, a node, an etcd member, the object drawer's object ("<resource>.<group>:<ns>/<name>")
FOLLOW_KINDS = frozenset({"pod", "node", "member", "drawer"})
MAX_FOLLOW_NAME = 320   # namespace/name, each a DNS subdomain at most
MAX_FOLLOW_RESOURCE = 320   # the drawer's "<resource>.<group>:" before it
MAX_FOLLOW_MESSAGE = 4096


class ClusterFramesConsumer(AsyncWebsocketConsumer):
    # No channel per socket: the process's room (cluster/fanout.py) is the group's member and
    # hands this consumer each frame (channels makes no channel for a layer it cannot find).
    channel_layer_alias = None

    async def connect(self) -> None:
        self.cluster = self.scope["url_route"]["kwargs"]["cluster"]
        self.layer = get_channel_layer()
        self.live = False
        self.backlog: list[str] = []
        self.joined = False
        self.watching = False
        self.presenter = False
        # Join before reading the state: frames sent meanwhile wait in the backlog.
        await FANOUT.join(self.layer, self.cluster, self)
        self.joined = True
        try:
            state = await services.cluster_state_json(self.cluster)
        except services.SimulationError as e:
            # Accept, then close with a code the page can read (a refused handshake is opaque).
            await self._leave()
            await self.accept()
            await self.close(code=CLOSE_NOT_FOUND if isinstance(e, services.ClusterNotFound) else CLOSE_UNAVAILABLE)
            return
        except BaseException:  # anything else: this socket must not stay in the room
            await self._leave()
            raise
        await self.accept()
        await self._send_state(state)
        # The frames that arrived meanwhile, then live; more may arrive while these are sent.
        while self.backlog:
            await self.send(text_data=self.backlog.pop(0))
        self.live = True
        try:
            await services.watch_cluster(self.cluster, +1)
            self.watching = True
            # Only a page that brings a token may be the presenter's (a room of viewers costs
            # no look-up).
            token = access.token_of_scope(self.scope, self.cluster)
            self.presenter = bool(token) and (await access.resolve(self.cluster, token)).role == access.PRESENTER
        except services.SimulationError:
            pass

    async def deliver_frame(self, text: str) -> None:
        """A frame (or the presenter's view) for this socket, as encoded once for every page
        (called by the room)."""
        if self.live:
            await self.send(text_data=text)
        elif len(self.backlog) < MAX_BACKLOG:
            self.backlog.append(text)
        # else: dropped - a gap the client notices by the numbers and resyncs, rather than
        # unbounded memory for a socket whose state never comes.

    async def _send_state(self, state: bytes) -> None:
        # The worker's JSON object with "type" put first: nothing decoded or encoded again.
        await self.send(text_data='{"type":"cluster.state",' + state.decode()[1:])

    async def _leave(self) -> None:
        if self.joined:
            self.joined = False
            await FANOUT.leave(self.layer, self.cluster, self)

    async def disconnect(self, code: int) -> None:
        await self._leave()
        if self.watching:
            self.watching = False
            try:
                await services.watch_cluster(self.cluster, -1)
            except services.SimulationError:
                pass

    async def receive(self, text_data=None, bytes_data=None) -> None:
        # The frames are read-only; actions go through the HTTP APIs.  The one message taken is
        # the presenter's "follow": what they show, for the pages that follow them.
        if not self.presenter or not text_data or len(text_data) > MAX_FOLLOW_MESSAGE:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(content, dict) or content.get("type") != "follow":
            return
        view, selection = content.get("view"), content.get("selection")
        if view not in FOLLOW_VIEWS:
            return
        if selection is not None:
            if not (isinstance(selection, dict) and selection.get("kind") in FOLLOW_KINDS
                    and isinstance(selection.get("name"), str) and 0 < len(selection["name"])
                    <= MAX_FOLLOW_NAME + (MAX_FOLLOW_RESOURCE if selection["kind"] == "drawer" else 0)):
                selection = None
            else:
                selection = {"kind": selection["kind"], "name": selection["name"]}
        try:
            await services.follow_presenter(self.cluster, view, selection)
        except services.SimulationError:
            log.warning("could not pass the presenter's view of %s on", self.cluster)
