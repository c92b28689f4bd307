"""`kubectl logs -f`: a container's log streamed as it is written (follow=true).

kube-apiserver proxies a follow to the kubelet, which keeps the connection open and writes
each line as the container writes it, until the container stops or the client goes.  Here the
front end reads the log through the worker (pods/log) and then asks again every
POLL_SECONDS for the lines after the last one it sent (the kubelet answers `next`, the
log's line count, and `running`).  The stream ends when the container is no longer running
(after its last lines), when the pod is gone, or after MAX_FOLLOW_SECONDS.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

from cluster import services

POLL_SECONDS = 0.5
MAX_FOLLOW_SECONDS = 4 * 3600.0
# Options that shape only the first read; the later ones are "what came after".
FIRST_READ_ONLY = ("tailLines", "sinceSeconds", "sinceTime", "limitBytes")


def wants_follow(rr) -> bool:
    return rr.verb == "get" and rr.resource == "pods" and rr.subresource == "log" and \
        str(rr.query.get("follow", "")).lower() == "true"


async def first_read(cluster: str, rr) -> dict:
    """The log so far: a 200 {"text", "next", "running"}, or the error to answer instead."""
    return await services.cluster_api(cluster, rr.as_api_request())


async def follow(cluster: str, rr, first: dict) -> AsyncIterator[bytes]:
    yield first.get("text", "").encode()
    base = rr.as_api_request()
    base["query"] = {k: v for k, v in base["query"].items() if k not in FIRST_READ_ONLY}
    cursor, running = first.get("next"), first.get("running")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_FOLLOW_SECONDS
    while running and loop.time() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        try:
            resp = await services.cluster_api(cluster, {**base, "log_after": cursor})
        except services.SimulationError:
            return  # the cluster is gone: the stream ends, as the connection would
        if resp.get("code") != 200:
            return  # the pod or its container is gone
        if resp.get("text"):
            yield resp["text"].encode()
        cursor, running = resp.get("next", cursor), resp.get("running")
