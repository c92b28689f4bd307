"""What a program that listens on a port answers to the bytes of one TCP connection: the far
end of `kubectl port-forward` (the runtime's PortForward, sim/kubelet/runtime.py).

The connection's state is the bytes it has sent and the program has not yet used: the caller
keeps them and calls `serve` again when more arrive, and `serve` says how many it consumed.
An HTTP server (a program with `http`, sim/runtime/programs.py) answers each whole request in
the bytes - HTTP/1.1 with keep-alive unless the client or HTTP/1.0 says otherwise, as nginx and
httpd do - with the page its `http` handler gives, and logs the request in its access log
format (`access_log`: nginx's `main`, httpd's common format).  A program with `stream` (redis)
answers its own protocol.  Any other listener takes the bytes and says nothing, as a server of
a protocol not simulated would seem to.
"""
from __future__ import annotations

import http
import time as _time
from dataclasses import dataclass, field

from sim.runtime.process import Program, ProcessContext

# nginx's large_client_header_buffers (4 x 8k): a request head longer than this is refused.
MAX_REQUEST_HEAD = 32 * 1024
# A request body beyond this is refused (nginx's client_max_body_size, 1m).
MAX_REQUEST_BODY = 1024 * 1024
# Requests answered per call, pipelined or not (the rest wait for the next call).
MAX_REQUESTS_PER_CALL = 100


@dataclass
class AccessRecord:
    """One answered request, for the server's access log."""
    client: str
    time: float          # Unix seconds (the cluster's clock)
    method: str
    target: str
    version: str
    status: int
    size: int            # body bytes sent
    headers: dict[str, str] = field(default_factory=dict)  # the request's, names lower case

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.version}".strip()


@dataclass
class Exchange:
    consumed: int = 0
    reply: bytes = b""
    close: bool = False
    log: list[tuple[str, str]] = field(default_factory=list)  # (stream, line) the program logs


def serve(program: Program, ctx: ProcessContext, data: bytes, elapsed: float, client: str = "127.0.0.1") -> Exchange:
    """The program's answer to `data`, the bytes the connection sent that it has not consumed."""
    if program.stream is not None:
        consumed, reply, close = program.stream(ctx, data)
        return Exchange(consumed, reply, close)
    if program.http is not None:
        return _http(program, ctx, data, elapsed, client)
    return Exchange(consumed=len(data))


def _http(program: Program, ctx: ProcessContext, data: bytes, elapsed: float, client: str) -> Exchange:
    out = Exchange()
    for _ in range(MAX_REQUESTS_PER_CALL):
        rest = data[out.consumed:]
        if not rest:
            break
        # The head ends at the first empty line (nginx also takes bare LF line ends).
        end, sep = min(((i, n) for i, n in ((rest.find(b"\r\n\r\n"), 4), (rest.find(b"\n\n"), 2)) if i >= 0),
                       default=(-1, 0))
        if end < 0:
            if len(rest) > MAX_REQUEST_HEAD:
                out.consumed = len(data)
                _answer(program, ctx, out, client, ("", "", ""), {}, 400, close=True)
            break
        head = rest[:end].decode("latin-1")
        lines = head.replace("\r\n", "\n").split("\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith(("/", "http")):
            # Not HTTP/1.x: nginx answers 400 and closes.
            out.consumed = len(data)
            _answer(program, ctx, out, client, (lines[0], "", ""), headers, 400, close=True)
            break
        method, target, version = parts
        length = headers.get("content-length", "0")
        if not length.isdigit() or len(length) > 9 or int(length) > MAX_REQUEST_BODY or "transfer-encoding" in headers:
            # A chunked or oversized body is not simulated: 400 (or nginx's 413) and close.
            out.consumed = len(data)
            _answer(program, ctx, out, client, (method, target, version), headers,
                    413 if length.isdigit() else 400, close=True)
            break
        total = end + sep + int(length)
        if len(rest) < total:
            break                                   # the body is still coming
        out.consumed += total
        connection = headers.get("connection", "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        if method in ("GET", "HEAD"):
            # An absolute URI (RFC 9112 3.2.2, as a proxy-minded client sends it) names the path after its host.
            path = "/" + target.split("://", 1)[1].partition("/")[2] if "://" in target else target
            status, body = program.http(ctx, path, elapsed)
        else:
            status, body = 405, ""  # a static site: nginx's "405 Not Allowed" for POST and the rest
        _answer(program, ctx, out, client, (method, target, version), headers, status, body=body,
                head_only=method == "HEAD", close=close)
        if close:
            break
    return out


def _error_page(status: int, program: Program) -> str:
    title = f"{status} {_phrase(status)}"
    server = program.server_header.split(" ")[0]
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            f"<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _answer(program: Program, ctx: ProcessContext, out: Exchange, client: str, request: tuple[str, str, str],
            headers: dict, status: int, body: str | None = None, head_only: bool = False, close: bool = False) -> None:
    if body is None or (not body and status >= 400):
        body = _error_page(status, program)
    payload = body.encode()
    now = ctx.clock()
    lines = [f"HTTP/1.1 {status} {_phrase(status)}"]
    if program.server_header:
        lines.append(f"Server: {program.server_header}")
    lines += [f"Date: {_time.strftime('%a, %d %b %Y %H:%M:%S GMT', _time.gmtime(now))}",
              "Content-Type: text/html", f"Content-Length: {len(payload)}",
              f"Connection: {'close' if close else 'keep-alive'}", "", ""]
    out.reply += "\r\n".join(lines).encode() + (b"" if head_only else payload)
    out.close = out.close or close
    if program.access_log is not None:
        method, target, version = request
        out.log.append(program.access_log(ctx, AccessRecord(client, now, method, target, version, status,
                                                            0 if head_only else len(payload), headers)))


# -- access log formats ---------------------------------------------------------------------
def _clf_time(t: float) -> str:
    return _time.strftime("%d/%b/%Y:%H:%M:%S +0000", _time.gmtime(t))


def nginx_access_log(ctx: ProcessContext, r: AccessRecord) -> tuple[str, str]:
    """The official image's `log_format main` (/etc/nginx/nginx.conf), to stdout (the image
    links /var/log/nginx/access.log to /dev/stdout)."""
    referer, agent = r.headers.get("referer") or "-", r.headers.get("user-agent") or "-"
    forwarded = r.headers.get("x-forwarded-for") or "-"
    return "stdout", (f'{r.client} - - [{_clf_time(r.time)}] "{r.request_line}" {r.status} {r.size} '
                      f'"{referer}" "{agent}" "{forwarded}"')


def httpd_access_log(ctx: ProcessContext, r: AccessRecord) -> tuple[str, str]:
    """httpd's `common` LogFormat (the official image's CustomLog /proc/self/fd/1 common)."""
    return "stdout", f'{r.client} - - [{_clf_time(r.time)}] "{r.request_line}" {r.status} {r.size if r.size else "-"}'


def python_http_server_log(ctx: ProcessContext, r: AccessRecord) -> tuple[str, str]:
    """http.server's log_message (BaseHTTPRequestHandler.log_request), to stderr."""
    stamp = _time.strftime("%d/%b/%Y %H:%M:%S", _time.gmtime(r.time))
    return "stderr", f'{r.client} - - [{stamp}] "{r.request_line}" {r.status} -'


# -- redis (RESP, https://redis.io/docs/latest/develop/reference/protocol-spec/) ----------------
def redis_stream(ctx: ProcessContext, data: bytes) -> tuple[int, bytes, bool]:
    """PING, ECHO and QUIT, inline or as RESP arrays; any other command is answered with
    redis's unknown-command error (the simulated redis keeps no data)."""
    consumed, reply = 0, b""
    while consumed < len(data):
        command, used = _resp_command(data[consumed:])
        if command is None:
            if used < 0:               # not RESP: redis answers the protocol error and closes
                return len(data), reply + b"-ERR Protocol error: invalid multibulk length\r\n", True
            break
        consumed += used
        if not command:
            continue
        name = command[0].upper()
        if name == "PING":
            reply += b"+PONG\r\n" if len(command) == 1 else _bulk(command[1])
        elif name == "ECHO" and len(command) == 2:
            reply += _bulk(command[1])
        elif name == "QUIT":
            return consumed, reply + b"+OK\r\n", True
        else:
            args = " ".join(f"'{a}'" for a in command[1:])
            reply += f"-ERR unknown command '{command[0]}', with args beginning with: {args}\r\n".encode()
    return consumed, reply, False


def _bulk(text: str) -> bytes:
    raw = text.encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def _resp_command(data: bytes) -> tuple[list[str] | None, int]:
    """One command from the front of `data`: (args, bytes used); (None, 0) while incomplete,
    (None, -1) when malformed."""
    end = data.find(b"\r\n")
    if end < 0:
        return (None, -1) if len(data) > MAX_REQUEST_HEAD else (None, 0)
    if not data.startswith(b"*"):
        return data[:end].decode("latin-1").split(), end + 2
    if not data[1:end].isdigit() or end > 6 or int(data[1:end]) > 1024:
        return None, -1
    args, at = [], end + 2
    for _ in range(int(data[1:end])):
        line_end = data.find(b"\r\n", at)
        if line_end < 0:
            return None, 0
        if data[at:at + 1] != b"$" or not data[at + 1:line_end].isdigit() or line_end - at > 10:
            return None, -1
        n = int(data[at + 1:line_end])
        if n > MAX_REQUEST_BODY:
            return None, -1
        if len(data) < line_end + 2 + n + 2:
            return None, 0
        args.append(data[line_end + 2:line_end + 2 + n].decode("latin-1"))
        at = line_end + 2 + n + 2
    return args, at
