"""Watch streams: Kubernetes' long-running GET ?watch=true over the engine's polling watch.

The engine answers verb "watch" with the events after a resourceVersion (possibly none), so a
stream polls it every POLL_INTERVAL seconds from the last resourceVersion it saw and writes each
event as one line of JSON ({"type": "ADDED"|"MODIFIED"|"DELETED"|"ERROR", "object": {...}}),
which is the framing client-go's JSON watch decoder reads.

Semantics follow https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch:
resourceVersion unset or "0" starts with a synthetic ADDED event for every object that matches,
then continues from the list's resourceVersion; a resourceVersion older than etcd's compaction
ends the stream with an ERROR event carrying a 410 Expired Status.
"""
from __future__ import annotations

import asyncio
import random
from typing import AsyncIterator

from cluster import services
from cluster.api.requestinfo import ResourceRequest
from cluster.api.status import status
from sim.api.jsonserializer import encode
from sim.registry.tables import TableRequest, to_table

POLL_INTERVAL = 0.15
# kube-apiserver's --min-request-timeout is 1800 s; without timeoutSeconds a watch lasts a
# random time between it and twice it, so clients spread their reconnects.
MIN_REQUEST_TIMEOUT = 1800.0


# The annotation of the BOOKMARK that ends a WatchList's initial events (metav1.InitialEventsAnnotationKey).
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def watch_timeout(query: dict[str, str]) -> float:
    raw = query.get("timeoutSeconds")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    return MIN_REQUEST_TIMEOUT * (1 + random.random())


def _line(event: dict) -> bytes:
    return encode(event) + b"\n"


def _typed(obj: dict, rr: ResourceRequest) -> dict:
    # Items of a List carry no kind/apiVersion; a watch event's object must.
    if "kind" in obj and "apiVersion" in obj:
        return obj
    return {"kind": rr.kind, "apiVersion": rr.api_version, **obj}


class _TableEvents:
    """Turns watch events into Table events for `kubectl get -w` (server-side printing): each
    event's object is a one-row Table; only the first carries the column definitions, as
    upstream's watch encoder does (later ones have none, so kubectl prints no new header)."""

    def __init__(self, rr: ResourceRequest, table: TableRequest):
        self.rr, self.table = rr, table
        self.first = True

    def convert(self, event: dict, now: float) -> dict:
        obj = event["object"]
        if event["type"] in ("ERROR", "BOOKMARK") or self.rr.subresource is not None:
            return event
        table = to_table(self.rr.res, obj, is_list=False, now=now, api_version=self.rr.api_version, table=self.table)
        if not self.first:
            table["columnDefinitions"] = None
        self.first = False
        return {"type": event["type"], "object": table}


async def watch_events(cluster: str, rr: ResourceRequest, timeout: float,
                       table: TableRequest | None = None) -> AsyncIterator[bytes]:
    """Yield the watch stream's lines until `timeout` seconds pass or the watch expires.

    With `table` (the client asked for meta.k8s.io Tables), objects are printed rows."""
    as_table = _TableEvents(rr, table) if table is not None else None

    def out(event: dict, now: float) -> bytes:
        if as_table is not None:
            event = as_table.convert(event, now)
        return _line(event)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    base = rr.as_api_request()
    query = dict(base["query"])
    query.pop("watch", None)
    rv = query.get("resourceVersion", "")
    # Send the response headers now, as kube-apiserver flushes them when a watch starts: Twisted
    # (under Daphne) only writes headers with the first body bytes, and client-go blocks until
    # it has them.  kubectl's `delete` waits on a watch it cannot cancel, so a watch that stays
    # silent (the pod was already gone) would hang it until timeoutSeconds.
    yield b""
    # WatchList (KEP-3157; kubectl 1.35+ waits for deletions this way): the current objects as
    # ADDED events, then a BOOKMARK annotated k8s.io/initial-events-end, then the changes.
    send_initial = query.get("sendInitialEvents") in ("true", "1")
    try:
        if rv in ("", "0") or send_initial:
            listed = await services.cluster_api(cluster, {**base, "verb": "list", "query": {
                k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")}})
            if listed["code"] != 200:
                yield _line({"type": "ERROR", "object": listed["body"]})
                return
            for item in listed["body"].get("items", []):
                yield out({"type": "ADDED", "object": _typed(item, rr)}, listed.get("now", 0.0))
            rv = listed["body"].get("metadata", {}).get("resourceVersion", "")
            if send_initial:
                yield _line({"type": "BOOKMARK", "object": _typed(
                    {"metadata": {"resourceVersion": rv, "annotations": {INITIAL_EVENTS_END: "true"}}}, rr)})
        while loop.time() < deadline:
            resp = await services.cluster_api(cluster, {**base, "verb": "watch", "query": {**query, "resourceVersion": rv}})
            if resp["code"] != 200:
                yield _line({"type": "ERROR", "object": resp.get("body") or status(resp["code"], "InternalError", "watch failed")})
                return
            for event in resp.get("events", []):
                yield out({"type": event["type"], "object": _typed(event["object"], rr)}, resp.get("now", 0.0))
            rv = resp.get("resourceVersion") or rv
            await asyncio.sleep(min(POLL_INTERVAL, max(0.0, deadline - loop.time())))
    except services.SimulationError as e:
        # The cluster vanished or the worker stopped answering: end the stream the way the
        # apiserver ends a watch it cannot serve, so the client re-lists.
        yield _line({"type": "ERROR", "object": status(e.status, e.reason, e.message)})
