"""SPDY/3.1 framing, the server's half: what kubectl's port-forward speaks inside its WebSocket
(k8s.io/apimachinery/pkg/util/httpstream/spdy over github.com/moby/spdystream, whose framer
is spdystream/spdy: read.go, write.go, types.go; the protocol is draft-mbelshe-httpbis-spdy-00
with SPDY/3.1's WINDOW_UPDATE).

A frame is 8 bytes of header and a body.  A control frame's first bit is 1, then the version
(3) and its type; a data frame's first bit is 0, then its stream id.  Both carry 8 bits of flags
and a 24-bit length.  Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are compressed with one
zlib stream per direction for the whole connection, primed with SPDY/3's dictionary and
flushed (Z_SYNC_FLUSH) after each block, so each side keeps one compressor and one
decompressor for the connection's life.

No Django here: `FrameReader.feed` takes bytes as they arrive and hands back whole frames;
`encode` makes the bytes of one.  Anything malformed, too large or of another version raises
ProtocolError, which the caller answers with GOAWAY and a close.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3

# Control frame types (types.go).
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, NOOP, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 5, 6, 7, 8, 9
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02  # SYN_STREAM only

# RST_STREAM status codes and GOAWAY status codes.
RST_PROTOCOL_ERROR, RST_INVALID_STREAM, RST_REFUSED_STREAM, RST_CANCEL = 1, 2, 3, 5
RST_INTERNAL_ERROR, RST_STREAM_IN_USE, RST_STREAM_ALREADY_CLOSED, RST_FRAME_TOO_LARGE = 6, 8, 9, 11
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR, GOAWAY_INTERNAL_ERROR = 0, 1, 2

# Bounds: a frame's body (the 24-bit length allows 16 MiB; spdystream writes data frames of at
# most 32 KiB - MAX_DATA_LENGTH - and header blocks of a few dozen bytes) and a decompressed
# header block (spdystream's own limit on a name or value is defaultBufferSize, 32 KiB).
MAX_FRAME_LENGTH = 1 << 20
MAX_DATA_LENGTH = 32 * 1024
MAX_HEADER_BLOCK = 64 * 1024
MAX_HEADERS = 100


def _dictionary() -> bytes:
    """SPDY/3's zlib dictionary (draft-mbelshe-httpbis-spdy-00 section 2.6.10.1; spdystream's
    headerDictionaryV3): length-prefixed header names and values, then common value text."""
    words = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
             "accept-ranges age allow authorization cache-control connection content-base content-encoding "
             "content-language content-length content-location content-md5 content-range content-type date etag "
             "expect expires from host if-match if-modified-since if-none-match if-range if-unmodified-since "
             "last-modified location max-forwards pragma proxy-authenticate proxy-authorization range referer "
             "retry-after server te trailer transfer-encoding upgrade user-agent vary via warning www-authenticate "
             "method get status").split() + ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
                                              "keep-alive", "origin"]
    tail = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
            "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
            "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
            "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
            "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + tail.encode()


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3 as spdystream writes it."""


@dataclass
class Frame:
    type: int                     # a control frame type, or 0 for DATA
    flags: int = 0
    stream_id: int = 0
    headers: dict[str, list[str]] = field(default_factory=dict)  # SYN_STREAM, SYN_REPLY, HEADERS
    data: bytes = b""             # DATA
    associated_id: int = 0        # SYN_STREAM
    priority: int = 0             # SYN_STREAM
    status: int = 0               # RST_STREAM, GOAWAY
    ping_id: int = 0              # PING
    delta: int = 0                # WINDOW_UPDATE
    settings: list[tuple[int, int, int]] = field(default_factory=list)  # SETTINGS: (flags, id, value)

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)

    def header(self, name: str) -> str:
        """A header's first value (names are lower case on the wire)."""
        values = self.headers.get(name.lower()) or [""]
        return values[0]


DATA = 0


class HeaderCodec:
    """One direction's header compression: the compressor for what we send, the decompressor
    for what we receive; each lives as long as the connection."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 8,
                                            zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
        self._decompressor = zlib.decompressobj(zdict=DICTIONARY)

    def compress(self, headers: dict[str, list[str]]) -> bytes:
        block = [struct.pack(">I", len(headers))]
        for name, values in headers.items():
            key, value = name.lower().encode(), "\x00".join(values).encode()
            block += [struct.pack(">I", len(key)), key, struct.pack(">I", len(value)), value]
        return self._compressor.compress(b"".join(block)) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def decompress(self, data: bytes) -> dict[str, list[str]]:
        try:
            block = self._decompressor.decompress(data, MAX_HEADER_BLOCK)
        except zlib.error as e:
            raise ProtocolError(f"header block: {e}") from None
        if self._decompressor.unconsumed_tail:
            raise ProtocolError("header block too large")
        return _parse_header_block(block)


def _parse_header_block(block: bytes) -> dict[str, list[str]]:
    def take(at: int, n: int) -> bytes:
        if at + n > len(block):
            raise ProtocolError("truncated header block")
        return block[at:at + n]

    count = struct.unpack(">I", take(0, 4))[0]
    if count > MAX_HEADERS:
        raise ProtocolError(f"too many headers ({count})")
    at, headers = 4, {}
    for _ in range(count):
        n = struct.unpack(">I", take(at, 4))[0]
        name = take(at + 4, n).decode("latin-1").lower()
        at += 4 + n
        n = struct.unpack(">I", take(at, 4))[0]
        value = take(at + 4, n).decode("latin-1")
        at += 4 + n
        headers.setdefault(name, []).extend(value.split("\x00"))
    return headers


class FrameReader:
    """Whole frames out of a byte stream that arrives in pieces (WebSocket messages need not
    align with frames).  Holds at most one frame's bytes."""

    def __init__(self, codec: HeaderCodec) -> None:
        self.codec = codec
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= 8:
            length = int.from_bytes(self.buffer[5:8], "big")
            if length > MAX_FRAME_LENGTH:
                raise ProtocolError(f"frame of {length} bytes")
            if len(self.buffer) < 8 + length:
                break
            head, body = bytes(self.buffer[:8]), bytes(self.buffer[8:8 + length])
            del self.buffer[:8 + length]
            frames.append(self._frame(head, body))
        return frames

    def _frame(self, head: bytes, body: bytes) -> Frame:
        word, flags = struct.unpack(">I", head[:4])[0], head[4]
        if not word & 0x80000000:
            return Frame(DATA, flags, stream_id=word & 0x7FFFFFFF, data=body)
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"SPDY version {version}")

        def need(n: int) -> None:
            if len(body) < n:
                raise ProtocolError(f"control frame {kind} of {len(body)} bytes")

        if kind == SYN_STREAM:
            need(10)
            sid, assoc = struct.unpack(">II", body[:8])
            return Frame(kind, flags, stream_id=sid & 0x7FFFFFFF, associated_id=assoc & 0x7FFFFFFF,
                         priority=body[8] >> 5, headers=self.codec.decompress(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            need(4)
            return Frame(kind, flags, stream_id=struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF,
                         headers=self.codec.decompress(body[4:]))
        if kind == RST_STREAM:
            need(8)
            sid, status = struct.unpack(">II", body[:8])
            return Frame(kind, flags, stream_id=sid & 0x7FFFFFFF, status=status)
        if kind == SETTINGS:
            need(4)
            count = struct.unpack(">I", body[:4])[0]
            need(4 + 8 * count)
            entries = []
            for i in range(count):
                word2, value = struct.unpack(">II", body[4 + 8 * i:12 + 8 * i])
                entries.append((word2 >> 24, word2 & 0xFFFFFF, value))
            return Frame(kind, flags, settings=entries)
        if kind == PING:
            need(4)
            return Frame(kind, flags, ping_id=struct.unpack(">I", body[:4])[0])
        if kind == GOAWAY:
            need(8)
            last, status = struct.unpack(">II", body[:8])
            return Frame(kind, flags, stream_id=last & 0x7FFFFFFF, status=status)
        if kind == WINDOW_UPDATE:
            need(8)
            sid, delta = struct.unpack(">II", body[:8])
            return Frame(kind, flags, stream_id=sid & 0x7FFFFFFF, delta=delta & 0x7FFFFFFF)
        if kind == NOOP:
            return Frame(kind, flags)
        raise ProtocolError(f"unknown control frame type {kind}")


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def encode(frame: Frame, codec: HeaderCodec) -> bytes:
    """The bytes of one frame; header blocks go through `codec`'s compressor, so frames must be
    sent in the order they were encoded."""
    kind, flags = frame.type, frame.flags
    if kind == DATA:
        if len(frame.data) > 0xFFFFFF:
            raise ValueError("data frame too long")
        return struct.pack(">II", frame.stream_id & 0x7FFFFFFF, (flags << 24) | len(frame.data)) + frame.data
    if kind == SYN_STREAM:
        body = struct.pack(">IIBB", frame.stream_id, frame.associated_id, (frame.priority & 7) << 5, 0)
        return _control(kind, flags, body + codec.compress(frame.headers))
    if kind in (SYN_REPLY, HEADERS):
        return _control(kind, flags, struct.pack(">I", frame.stream_id) + codec.compress(frame.headers))
    if kind == RST_STREAM:
        return _control(kind, flags, struct.pack(">II", frame.stream_id, frame.status))
    if kind == SETTINGS:
        body = struct.pack(">I", len(frame.settings)) + b"".join(
            struct.pack(">II", (f << 24) | (i & 0xFFFFFF), v) for f, i, v in frame.settings)
        return _control(kind, flags, body)
    if kind == PING:
        return _control(kind, flags, struct.pack(">I", frame.ping_id))
    if kind == GOAWAY:
        return _control(kind, flags, struct.pack(">II", frame.stream_id, frame.status))
    if kind == WINDOW_UPDATE:
        return _control(kind, flags, struct.pack(">II", frame.stream_id, frame.delta))
    raise ValueError(f"cannot encode frame type {kind}")
