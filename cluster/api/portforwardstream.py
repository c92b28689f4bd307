"""`kubectl port-forward` over WebSocket: SPDY/3.1 tunnelled in WebSocket binary messages, the
protocol kubectl speaks by default since 1.31 (KEP-4006, PortForwardWebsockets; client-go
tools/portforward/tunneling_dialer.go offers the subprotocol `SPDY/3.1+portforward.k8s.io`,
tunneling_connection.go carries the SPDY bytes in binary messages that need not align with
frames).  The SPDY frames themselves are cluster/api/spdy.py.

Each connection kubectl accepts on its local port opens two SPDY streams with the headers
`streamType` (error, data), `port` and `requestID` (client-go tools/portforward/portforward.go
handleConnection).  As the kubelet's streaming server does
(pkg/kubelet/cri/streaming/portforward/httpstream.go), the server answers every stream with
SYN_REPLY, pairs the two by requestID, then forwards: the bytes kubectl sends on the data stream
go through the cluster (pods/portforward: kube-apiserver, the kubelet of the pod's node, the
runtime: sim/apiserver/podportforward.py, sim/kubelet/portforward.py) to the program listening
on the port, and its reply comes back on the data stream.  When either side is done both streams
are closed (FIN); a failure (nothing listens, the node does not answer) is written on the error
stream first, which kubectl prints as "an error occurred forwarding 18080 -> 80: ...".

Bounds: every buffer has a limit (a frame, a header block, the bytes a connection has not yet
had consumed, the streams open at once); a tunnel that is silent for TUNNEL_SILENCE_SECONDS
(kubectl pings every 10 s) or carries nothing for IDLE_SECONDS (the kubelet's
--streaming-connection-idle-timeout, 4 h) is closed; anything malformed is answered with GOAWAY
and a close.  An older kubectl that speaks only SPDY is told which kubectl to use
(cluster/api/views.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.generic.websocket import AsyncWebsocketConsumer

from cluster import services
from cluster.api import credentials, spdy

log = logging.getLogger(__name__)

PROTOCOL = "SPDY/3.1+portforward.k8s.io"
# k8s.io/api/core/v1 constants: the stream headers (lower case on the SPDY wire).
STREAM_TYPE, PORT, REQUEST_ID = "streamtype", "port", "requestid"
TUNNEL_SILENCE_SECONDS = 60.0
IDLE_SECONDS = 4 * 3600.0
WATCH_PERIOD_SECONDS = 5.0
MAX_STREAMS = 64                     # open at once (two per forwarded connection)
MAX_PENDING_BYTES = 256 * 1024       # what a connection sent that its program has not yet used
CALL_TIMEOUT_SECONDS = 60.0          # wall time for one round trip through the cluster
# How long the first stream of a pair waits for the other (the kubelet's streamCreationTimeout,
# pkg/kubelet/server: DefaultStreamCreationTimeout, 30 s).
STREAM_CREATION_TIMEOUT_SECONDS = 30.0


class _Forwarded:
    """One forwarded connection: its two streams and the bytes not yet consumed."""

    def __init__(self, request_id: str, port: int, created: float) -> None:
        self.request_id, self.port, self.created = request_id, port, created
        self.data_id = self.error_id = 0
        self.inbox = bytearray()
        self.client_done = False        # kubectl sent FIN on the data stream
        self.reset = False              # a stream was reset: nothing more is sent
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None


class PortForwardConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        if PROTOCOL not in (self.scope.get("subprotocols") or []):
            await self.close(code=4400)
            return
        await self.accept(subprotocol=PROTOCOL)
        kw = self.scope["url_route"]["kwargs"]
        self.cluster, self.namespace, self.pod = kw["cluster"], kw["namespace"], kw["pod"]
        self.codec = spdy.HeaderCodec()
        self.reader = spdy.FrameReader(self.codec)
        self.streams: dict[int, _Forwarded] = {}
        self.forwarded: dict[str, _Forwarded] = {}
        self.last_stream_id = 0
        self.closing = False
        self.write_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        self.last_frame = self.last_activity = loop.time()
        self.watchdog = asyncio.create_task(self._watch())

    async def disconnect(self, code):
        self.closing = True
        for task in [getattr(self, "watchdog", None), *[f.task for f in getattr(self, "forwarded", {}).values()]]:
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        if bytes_data is None:
            return await self._go_away(spdy.GOAWAY_PROTOCOL_ERROR, "a text message in a SPDY tunnel")
        try:
            frames = self.reader.feed(bytes_data)
        except spdy.ProtocolError as e:
            return await self._go_away(spdy.GOAWAY_PROTOCOL_ERROR, str(e))
        self.last_frame = asyncio.get_running_loop().time()
        for frame in frames:
            await self._frame(frame)
            if self.closing:
                return

    # -- frames from kubectl ----------------------------------------------------------------
    async def _frame(self, f: spdy.Frame) -> None:
        if f.type == spdy.SYN_STREAM:
            await self._syn_stream(f)
        elif f.type == spdy.DATA:
            fwd = self.streams.get(f.stream_id)
            if fwd is None:
                return  # a stream already closed (or reset): spdystream drops such frames too
            if f.stream_id == fwd.data_id:
                self.last_activity = asyncio.get_running_loop().time()
                fwd.inbox += f.data
                if len(fwd.inbox) > MAX_PENDING_BYTES:
                    fwd.reset = True
                    await self._reset(fwd, spdy.RST_CANCEL)
                if f.fin:
                    fwd.client_done = True
                fwd.wake.set()
        elif f.type == spdy.RST_STREAM:
            fwd = self.streams.get(f.stream_id)
            if fwd is not None:
                fwd.reset = fwd.client_done = True
                fwd.wake.set()
                self._forget(fwd)
        elif f.type == spdy.PING:
            # spdystream answers a ping it did not send with the same frame.
            await self._send(spdy.Frame(spdy.PING, ping_id=f.ping_id))
        elif f.type == spdy.GOAWAY:
            self.closing = True
            await self.close()
        # SETTINGS, WINDOW_UPDATE, HEADERS, NOOP: nothing to do (spdystream sends no flow
        # control that a server must honour for these few bytes).

    async def _syn_stream(self, f: spdy.Frame) -> None:
        sid = f.stream_id
        if sid % 2 == 0 or sid <= self.last_stream_id:
            # Client streams are odd and increasing (SPDY/3 2.3.2).
            return await self._go_away(spdy.GOAWAY_PROTOCOL_ERROR, f"stream id {sid}")
        self.last_stream_id = sid
        if len(self.streams) >= MAX_STREAMS:
            return await self._send(spdy.Frame(spdy.RST_STREAM, stream_id=sid, status=spdy.RST_REFUSED_STREAM))
        # httpstream.go httpStreamReceived: the port and stream type headers are checked
        # first; a stream that fails is reset.
        port_text, kind = f.header(PORT), f.header(STREAM_TYPE)
        port = int(port_text) if port_text.isdigit() and len(port_text) <= 5 else -1
        request_id = f.header(REQUEST_ID) or f"stream-{sid}"
        fwd = self.forwarded.get(request_id)
        if not 0 < port < 65536 or kind not in ("data", "error") or (fwd is not None and (
                fwd.port != port or (fwd.data_id if kind == "data" else fwd.error_id))):
            log.info("port-forward stream %d refused: port %r, streamType %r", sid, port_text, kind)
            return await self._send(spdy.Frame(spdy.RST_STREAM, stream_id=sid, status=spdy.RST_CANCEL))
        if fwd is None:
            fwd = self.forwarded[request_id] = _Forwarded(request_id, port, asyncio.get_running_loop().time())
        if kind == "data":
            fwd.data_id = sid
            fwd.client_done = f.fin
        else:
            fwd.error_id = sid
        self.streams[sid] = fwd
        self.last_activity = asyncio.get_running_loop().time()
        await self._send(spdy.Frame(spdy.SYN_REPLY, stream_id=sid))
        if fwd.data_id and fwd.error_id and fwd.task is None:
            fwd.task = asyncio.create_task(self._forward(fwd))

    # -- one forwarded connection ------------------------------------------------------------
    async def _forward(self, fwd: _Forwarded) -> None:
        try:
            answer = await self._call(fwd.port, b"")       # the runtime's dial
            if "error" in answer:
                return await self._fail(fwd, answer["error"])
            stalled = False                                 # what is in the inbox is not yet enough
            while not fwd.reset and not self.closing:
                if fwd.inbox and not stalled:
                    answer = await self._call(fwd.port, bytes(fwd.inbox))
                    if "error" in answer:
                        return await self._fail(fwd, answer["error"])
                    consumed = max(0, min(int(answer.get("consumed") or 0), len(fwd.inbox)))
                    del fwd.inbox[:consumed]
                    reply = answer.get("data", "").encode("latin-1", "replace")
                    for at in range(0, len(reply), spdy.MAX_DATA_LENGTH):
                        await self._send(spdy.Frame(spdy.DATA, stream_id=fwd.data_id,
                                                    data=reply[at:at + spdy.MAX_DATA_LENGTH]))
                    if answer.get("close"):
                        break
                    stalled = consumed == 0
                    continue
                if fwd.client_done:
                    break
                fwd.wake.clear()
                try:
                    await asyncio.wait_for(fwd.wake.wait(), IDLE_SECONDS)
                except asyncio.TimeoutError:
                    break
                stalled = False
            await self._finish(fwd)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one connection's failure must not take the tunnel down
            log.exception("port-forward connection %s failed", fwd.request_id)
            await self._fail(fwd, "an internal error occurred forwarding the connection")

    async def _call(self, port: int, data: bytes) -> dict:
        """One round trip through the cluster: {"consumed", "data", "close"} or {"error"}."""
        request = {"verb": "create", "group": "", "version": "v1", "resource": "pods", "namespace": self.namespace,
                   "name": self.pod, "subresource": "portforward", "body": None, "patch_type": None, "query": {},
                   "portforward": {"port": port, "data": data.decode("latin-1")},
                   "credentials": credentials.of_scope(self.scope)}
        try:
            resp = await asyncio.wait_for(services.cluster_api(self.cluster, request), CALL_TIMEOUT_SECONDS)
        except services.SimulationError as e:
            return {"error": str(e)}
        except asyncio.TimeoutError:
            return {"error": f"timed out after {CALL_TIMEOUT_SECONDS:.0f}s waiting for the cluster"}
        if resp.get("code") != 200:
            return {"error": (resp.get("body") or {}).get("message", "port forward failed")}
        return resp.get("portforward") or {"error": "port forward failed"}

    async def _fail(self, fwd: _Forwarded, message: str) -> None:
        if not fwd.reset and not self.closing and fwd.error_id:
            await self._send(spdy.Frame(spdy.DATA, stream_id=fwd.error_id, data=message.encode()[:4096]))
        await self._finish(fwd)

    async def _finish(self, fwd: _Forwarded) -> None:
        """Both streams closed from our side (httpstream.go portForward's deferred Closes)."""
        if not fwd.reset and not self.closing:
            await self._send(*[spdy.Frame(spdy.DATA, flags=spdy.FLAG_FIN, stream_id=sid)
                               for sid in (fwd.data_id, fwd.error_id) if sid])
        self._forget(fwd)

    async def _reset(self, fwd: _Forwarded, status: int) -> None:
        await self._send(*[spdy.Frame(spdy.RST_STREAM, stream_id=sid, status=status)
                           for sid in (fwd.data_id, fwd.error_id) if sid])
        self._forget(fwd)

    def _forget(self, fwd: _Forwarded) -> None:
        for sid in (fwd.data_id, fwd.error_id):
            self.streams.pop(sid, None)
        if self.forwarded.get(fwd.request_id) is fwd and (fwd.task is None or fwd.task.done()
                                                          or fwd.reset or fwd.task is asyncio.current_task()):
            self.forwarded.pop(fwd.request_id, None)

    # -- the tunnel -------------------------------------------------------------------------
    async def _send(self, *frames: spdy.Frame) -> None:
        """Frames in one message; encoding and sending under one lock, because header blocks
        share one compressor and must reach kubectl in the order they were compressed."""
        if self.closing:
            return
        async with self.write_lock:
            payload = b"".join(spdy.encode(f, self.codec) for f in frames)
            with contextlib.suppress(Exception):   # the client went away mid-write
                await self.send(bytes_data=payload)

    async def _go_away(self, status: int, why: str) -> None:
        log.info("port-forward tunnel closed: %s", why)
        await self._send(spdy.Frame(spdy.GOAWAY, stream_id=self.last_stream_id, status=status))
        self.closing = True
        await self.close()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closing:
            await asyncio.sleep(WATCH_PERIOD_SECONDS)
            now = loop.time()
            if now - self.last_frame > TUNNEL_SILENCE_SECONDS:
                self.closing = True
                await self.close()
            elif now - self.last_activity > IDLE_SECONDS:
                await self._go_away(spdy.GOAWAY_OK, "idle")
            for fwd in [f for f in self.forwarded.values() if f.task is None]:
                if now - fwd.created > STREAM_CREATION_TIMEOUT_SECONDS:
                    # httpstream.go monitorStreamPair: the error goes on the error stream, if any.
                    await self._fail(fwd, f"(request={fwd.request_id}) timed out waiting for streams")
