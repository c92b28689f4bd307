"""The port-forward WebSocket's SPDY server side on its own (no cluster behind it): it takes only
kubectl's tunnelling subprotocol, answers pings, replies to streams and refuses bad ones, and
answers anything malformed with GOAWAY and a close rather than an exception or a hang."""
from __future__ import annotations

import asyncio
import struct

import pytest
from channels.testing import WebsocketCommunicator

from cluster.api import portforwardstream, spdy
from cluster.api.spdy import Frame
from config.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PATH = "/clusters/demo/api/v1/namespaces/default/pods/web/portforward"


async def _open():
    ws = WebsocketCommunicator(application, PATH, headers=[(b"host", b"127.0.0.1")],
                               subprotocols=[portforwardstream.PROTOCOL])
    connected, protocol = await ws.connect()
    assert connected and protocol == portforwardstream.PROTOCOL
    return ws, spdy.HeaderCodec(), spdy.FrameReader(spdy.HeaderCodec())


async def _frames(ws, reader, n=1):
    got = []
    while len(got) < n:
        got += reader.feed(await ws.receive_from(timeout=5))
    return got


def _stream(codec, sid, kind="data", port="80", request_id="0"):
    return spdy.encode(Frame(spdy.SYN_STREAM, stream_id=sid,
                             headers={"streamtype": [kind], "port": [port], "requestid": [request_id]}), codec)


async def test_a_client_without_the_tunnelling_subprotocol_is_refused():
    ws = WebsocketCommunicator(application, PATH, headers=[(b"host", b"127.0.0.1")],
                               subprotocols=["v4.channel.k8s.io"])
    connected, _ = await ws.connect()
    assert not connected
    await ws.disconnect()


async def test_pings_are_answered_and_streams_replied_to_or_refused():
    ws, codec, reader = await _open()
    await ws.send_to(bytes_data=spdy.encode(Frame(spdy.PING, ping_id=1), codec))
    assert await _frames(ws, reader) == [Frame(spdy.PING, ping_id=1)]
    # An error stream alone: replied to, and nothing is forwarded until its data stream comes.
    await ws.send_to(bytes_data=_stream(codec, 1, "error"))
    assert await _frames(ws, reader) == [Frame(spdy.SYN_REPLY, stream_id=1)]
    # Bad headers (httpstream.go httpStreamReceived): the stream is reset.
    await ws.send_to(bytes_data=_stream(codec, 3, "data", port="0", request_id="1") +
                     _stream(codec, 5, "stdin", request_id="2") +
                     _stream(codec, 7, "error", request_id="0"))  # a second error stream for request 0
    assert [(f.type, f.stream_id, f.status) for f in await _frames(ws, reader, 3)] == \
        [(spdy.RST_STREAM, sid, spdy.RST_CANCEL) for sid in (3, 5, 7)]
    # Settings, window updates and data for a stream we do not know are dropped quietly.
    await ws.send_to(bytes_data=spdy.encode(Frame(spdy.SETTINGS, settings=[(0, 4, 1000)]), codec) +
                     spdy.encode(Frame(spdy.WINDOW_UPDATE, stream_id=1, delta=10), codec) +
                     spdy.encode(Frame(spdy.DATA, stream_id=99, data=b"x"), codec) +
                     spdy.encode(Frame(spdy.PING, ping_id=3), codec))
    assert await _frames(ws, reader) == [Frame(spdy.PING, ping_id=3)]
    await ws.disconnect()


async def test_streams_beyond_the_limit_are_refused():
    ws, codec, reader = await _open()
    wire = b"".join(_stream(codec, 2 * i + 1, "error", request_id=str(i))
                    for i in range(portforwardstream.MAX_STREAMS + 1))
    await ws.send_to(bytes_data=wire)
    frames = await _frames(ws, reader, portforwardstream.MAX_STREAMS + 1)
    assert [f.type for f in frames[:-1]] == [spdy.SYN_REPLY] * portforwardstream.MAX_STREAMS
    assert (frames[-1].type, frames[-1].status) == (spdy.RST_STREAM, spdy.RST_REFUSED_STREAM)
    await ws.disconnect()


@pytest.mark.parametrize("message", [
    {"bytes_data": struct.pack(">HHI", 0x8002, spdy.PING, 4) + b"\0\0\0\1"},      # SPDY/2
    {"bytes_data": struct.pack(">II", 1, spdy.MAX_FRAME_LENGTH + 1)},              # a 1 MiB+ frame announced
    {"bytes_data": struct.pack(">HHI", 0x8003, spdy.SYN_STREAM, 14) + b"\0\0\0\1\0\0\0\0\0\0junk"},
    {"text_data": "hello"},
    {"stream": 2},                                                                  # an even (server) stream id
])
async def test_malformed_input_is_answered_with_goaway_and_a_close(message):
    ws, codec, reader = await _open()
    if "stream" in message:
        await ws.send_to(bytes_data=_stream(codec, message["stream"]))
    else:
        await ws.send_to(**message)
    goaway = await _frames(ws, reader)
    assert (goaway[0].type, goaway[0].status) == (spdy.GOAWAY, spdy.GOAWAY_PROTOCOL_ERROR)
    closed = await ws.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    await ws.disconnect()


async def test_a_silent_tunnel_is_closed(monkeypatch):
    monkeypatch.setattr(portforwardstream, "TUNNEL_SILENCE_SECONDS", 0.2)
    monkeypatch.setattr(portforwardstream, "WATCH_PERIOD_SECONDS", 0.1)
    ws, _, _ = await _open()
    closed = await asyncio.wait_for(ws.receive_output(timeout=5), 5)
    assert closed["type"] == "websocket.close"
    await ws.disconnect()


async def test_a_stream_whose_pair_never_comes_is_closed_with_an_error(monkeypatch):
    monkeypatch.setattr(portforwardstream, "STREAM_CREATION_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(portforwardstream, "WATCH_PERIOD_SECONDS", 0.1)
    ws, codec, reader = await _open()
    await ws.send_to(bytes_data=_stream(codec, 1, "error", request_id="4"))
    reply, error, fin = await _frames(ws, reader, 3)
    assert reply == Frame(spdy.SYN_REPLY, stream_id=1)
    assert error == Frame(spdy.DATA, stream_id=1, data=b"(request=4) timed out waiting for streams")
    assert fin == Frame(spdy.DATA, flags=spdy.FLAG_FIN, stream_id=1)
    # The tunnel itself goes on.
    await ws.send_to(bytes_data=spdy.encode(Frame(spdy.PING, ping_id=5), codec))
    assert await _frames(ws, reader) == [Frame(spdy.PING, ping_id=5)]
    await ws.disconnect()
