"""SPDY/3.1 framing (cluster/api/spdy.py): every frame kubectl's port-forward exchanges survives
encode and decode, header blocks share one zlib stream per direction primed with SPDY/3's
dictionary, frames may arrive split anywhere, and malformed input is a ProtocolError."""
from __future__ import annotations

import struct
import zlib

import pytest

from cluster.api import spdy
from cluster.api.spdy import Frame


def _pair():
    """A sender's codec and a receiver's reader (each side compresses with its own stream)."""
    return spdy.HeaderCodec(), spdy.FrameReader(spdy.HeaderCodec())


def test_the_dictionary_is_spdy3_s():
    # draft-mbelshe-httpbis-spdy-00 2.6.10.1: 1423 bytes; zlib names it by its Adler-32.
    assert len(spdy.DICTIONARY) == 1423 and zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b"charset=iso-8859-1,utf-,*,enq=0.")


def test_every_frame_type_round_trips():
    sender, reader = _pair()
    frames = [
        Frame(spdy.SYN_STREAM, stream_id=1, priority=0,
              headers={"streamtype": ["error"], "port": ["80"], "requestid": ["0"]}),
        Frame(spdy.SYN_STREAM, flags=spdy.FLAG_FIN, stream_id=3, associated_id=1, priority=2,
              headers={"streamtype": ["data"], "port": ["80"], "requestid": ["0"]}),
        Frame(spdy.SYN_REPLY, stream_id=1),
        Frame(spdy.HEADERS, stream_id=3, headers={"x": ["a", "b"]}),
        Frame(spdy.DATA, stream_id=3, data=b"GET / HTTP/1.1\r\n\r\n"),
        Frame(spdy.DATA, flags=spdy.FLAG_FIN, stream_id=1),
        Frame(spdy.RST_STREAM, stream_id=5, status=spdy.RST_CANCEL),
        Frame(spdy.SETTINGS, settings=[(0, 4, 100), (1, 7, 65536)]),
        Frame(spdy.PING, ping_id=1),
        Frame(spdy.WINDOW_UPDATE, stream_id=3, delta=65536),
        Frame(spdy.GOAWAY, stream_id=3, status=spdy.GOAWAY_PROTOCOL_ERROR),
    ]
    wire = b"".join(spdy.encode(f, sender) for f in frames)
    assert reader.feed(wire) == frames
    assert reader.buffer == b""


def test_header_blocks_share_one_compression_stream_and_repeat_cheaply():
    sender, reader = _pair()
    headers = {"streamtype": ["data"], "port": ["8080"], "requestid": ["7"]}
    first = spdy.encode(Frame(spdy.SYN_STREAM, stream_id=1, headers=headers), sender)
    second = spdy.encode(Frame(spdy.SYN_STREAM, stream_id=3, headers=headers), sender)
    assert len(second) < len(first)  # the second block refers back into the first
    # The stream's zlib header names SPDY/3's dictionary, as Go's zlib.NewWriterLevelDict writes it.
    block = first[18:]
    assert block[0] == 0x78 and block[1] & 0x20 and struct.unpack(">I", block[2:6])[0] == 0xE3C6A7C2
    assert [f.headers for f in reader.feed(first + second)] == [headers, headers]
    # A reader that missed the first block cannot read the second: the stream is per connection.
    with pytest.raises(spdy.ProtocolError):
        spdy.FrameReader(spdy.HeaderCodec()).feed(second)


def test_frames_split_anywhere_arrive_whole():
    sender, reader = _pair()
    wire = spdy.encode(Frame(spdy.SYN_STREAM, stream_id=1, headers={"port": ["80"]}), sender) + \
        spdy.encode(Frame(spdy.DATA, stream_id=1, data=b"x" * 1000), sender) + \
        spdy.encode(Frame(spdy.PING, ping_id=9), sender)
    got = []
    for i in range(len(wire)):
        got += reader.feed(wire[i:i + 1])
    assert [f.type for f in got] == [spdy.SYN_STREAM, spdy.DATA, spdy.PING]
    assert got[1].data == b"x" * 1000 and got[2].ping_id == 9


@pytest.mark.parametrize("wire, why", [
    (struct.pack(">HHI", 0x8002, spdy.PING, 4) + b"\0\0\0\1", "SPDY version 2"),
    (struct.pack(">II", 1, spdy.MAX_FRAME_LENGTH + 1), "frame of"),
    (struct.pack(">HHI", 0x8003, spdy.RST_STREAM, 2) + b"\0\0", "control frame 3 of 2 bytes"),
    (struct.pack(">HHI", 0x8003, spdy.SYN_STREAM, 14) + b"\0\0\0\1\0\0\0\0\0\0garb", "header block"),
    (struct.pack(">HHI", 0x8003, 99, 0), "unknown control frame type 99"),
    (struct.pack(">HHI", 0x8003, spdy.SETTINGS, 4) + b"\0\0\0\x09", "control frame 4"),
])
def test_malformed_input_is_a_protocol_error(wire, why):
    with pytest.raises(spdy.ProtocolError, match=why):
        spdy.FrameReader(spdy.HeaderCodec()).feed(wire)


def test_a_header_block_that_inflates_beyond_the_limit_is_refused():
    sender = spdy.HeaderCodec()
    huge = spdy.encode(Frame(spdy.SYN_STREAM, stream_id=1, headers={"x": ["a" * (spdy.MAX_HEADER_BLOCK + 1)]}), sender)
    assert len(huge) < 2000  # zlib makes it small on the wire
    with pytest.raises(spdy.ProtocolError, match="too large"):
        spdy.FrameReader(spdy.HeaderCodec()).feed(huge)
    many = spdy.encode(Frame(spdy.SYN_STREAM, stream_id=1,
                             headers={f"h{i}": ["v"] for i in range(spdy.MAX_HEADERS + 1)}), spdy.HeaderCodec())
    with pytest.raises(spdy.ProtocolError, match="too many headers"):
        spdy.FrameReader(spdy.HeaderCodec()).feed(many)
