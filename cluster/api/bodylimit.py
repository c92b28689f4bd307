"""The largest request body the server takes at all, enforced as the body arrives (ASGI, in
front of Django): Django's ASGI handler reads a whole body into a spooled file before any view
or middleware sees it, so without this a chunked upload of any size would fill the disk.  Each
API still has its own, smaller, limit (cluster/api/guard.py, the views); this one is the
largest of them (the etcd snapshot restore's) and answers the same 413 Status.
"""
from __future__ import annotations

import json

from cluster.api.simcontrol import MAX_SNAPSHOT_BYTES
from cluster.api.status import status

MAX_BODY_BYTES = MAX_SNAPSHOT_BYTES


class _TooLarge(Exception):
    pass


async def _refuse(send, limit: int) -> None:
    body = json.dumps(status(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}"),
                      separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _refuse(send, self.limit)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _refuse(send, self.limit)  # Django reads the body before it answers anything
