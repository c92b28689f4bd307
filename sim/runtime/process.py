"""What a simulated program is, and the process that runs it.

A container runs a program picked by its image and its argv (command + args over the image's
ENTRYPOINT + CMD, as Kubernetes combines them).  A program is a Python generator function
`program(ctx)` that yields *system calls* and returns its exit code (None is 0):

    yield Sleep(2.5)              # block for 2.5 virtual seconds
    yield Write("hello\\n")        # append to stdout (Write(text, "stderr") for stderr)
    line = yield Read()           # the next line of stdin ("...\\n"), or None at end of file
    return 3                      # exit(3)

`ctx` (ProcessContext) is what the process sees: argv, environment, hostname, its files
(FileSystem), the virtual clock as Unix time, and `resolve(host)` for name lookups (None until
the cluster has DNS).  The generator never reads the wall clock or does I/O: the runtime drives
it on the kernel (sim/kernel.py), one system call at a time, like etcd's raft state machine the
program is pure, so a test can drive it with `run_to_exit` and no cluster at all.

Signals: the runtime delivers SIGTERM (a stop) and SIGKILL (the grace period ran out).  A
program that handles SIGTERM names the exit code it then exits with (`Program.on_sigterm`,
e.g. nginx's fast shutdown exits 0); otherwise SIGTERM does nothing, because a container's
program is PID 1 and the kernel ignores signals PID 1 installed no handler for - which is why
`sleep 3600` in a busybox container takes the whole grace period to stop, then exits 137.
"""
from __future__ import annotations

import posixpath
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterator, Optional

# Exit codes as a shell reports a death by signal: 128 + the signal's number.
SIGKILL_EXIT = 137   # 128 + 9
SIGTERM_EXIT = 143   # 128 + 15
NOT_FOUND_EXIT = 127  # command not found
# What an HTTP GET over the network answers when nothing does: the connection's SYN was dropped
# (a NetworkPolicy, a partition), so the client waits for its connect timeout.
TIMED_OUT = "timed out"
# Linux gives up a connect() whose SYNs go unanswered after tcp_syn_retries (6) retransmissions
# with exponential backoff from 1 s: 1+2+4+8+16+32+64 = 127 s (ETIMEDOUT).
TCP_CONNECT_TIMEOUT = 127.0
# How much output a container's log keeps (the kubelet rotates at containerLogMaxSize, 10 MiB;
# this is a simulation, so a smaller bound, counted in lines).
MAX_LOG_LINES = 5000
# A program's single Write is cut at this many characters: no program can grow memory unbounded.
MAX_WRITE_CHARS = 64 * 1024
# A runtime runs at most this many system calls of one program per kernel event (`step`); a
# busy loop that never sleeps is then continued a millisecond later, so no program holds the
# engine.
MAX_SYSCALLS_PER_EVENT = 200
BUSY_LOOP_DELAY = 0.001


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Write:
    text: str
    stream: str = "stdout"


@dataclass(frozen=True)
class Read:
    """Read one line of stdin: the driver sends back the line (with its newline; a last line
    may lack one) or None at end of file.  A process without stdin (a container without
    `stdin: true`, an exec without -i) reads end of file at once, as from /dev/null; one with
    an open stdin blocks until a line or the end comes (sim/runtime/stdio.py)."""


Syscall = Sleep | Write | Read


class Interrupted(BaseException):
    """SIGINT (^C on the process's terminal), raised where the program is blocked (a Sleep):
    an interactive shell drops the command and prompts again; a program that does not catch it
    dies of it (exit 130).  A BaseException, so that no `except Exception` swallows it."""


SIGINT_EXIT = 130    # 128 + 2
ProgramGen = Generator[Syscall, None, Optional[int]]


class Volume:
    """Files a pod's volume holds, by path relative to where it is mounted.  One object per
    volume and pod: every container that mounts it sees (and, unless read-only, changes) the
    same files - an emptyDir shared by two containers, a ConfigMap the kubelet refreshes."""

    def __init__(self, files: dict[str, str] | None = None):
        self.files: dict[str, str] = dict(files or {})


class MountedFiles(MutableMapping):
    """path -> content over a container's own files and the volumes mounted into it: a path
    under a mount point lives in that volume (the longest mount point wins)."""

    def __init__(self, own: dict[str, str], mounts: dict[str, Volume]):
        self.own = own
        self.mounts = {posixpath.normpath(p): v for p, v in mounts.items()}
        self._order = sorted(self.mounts, key=len, reverse=True)

    def _route(self, path: str) -> tuple[dict, str]:
        for point in self._order:
            if path.startswith(point + "/"):
                return self.mounts[point].files, path[len(point) + 1:]
        return self.own, path

    def __getitem__(self, path: str) -> str:
        store, key = self._route(path)
        return store[key]

    def __setitem__(self, path: str, content: str) -> None:
        store, key = self._route(path)
        store[key] = content

    def __delitem__(self, path: str) -> None:
        store, key = self._route(path)
        del store[key]

    def __iter__(self):
        for path in self.own:
            if self._route(path)[0] is self.own:
                yield path
        for point, volume in self.mounts.items():
            for rel in list(volume.files):
                yield f"{point}/{rel}"

    def __len__(self) -> int:
        return sum(1 for _ in self)


class FileSystem:
    """A container's files: path -> content (str).  Directories exist implicitly (a path is a
    directory when some file lies under it) or explicitly (`mkdir`).  Volumes (`mounts`: mount
    point -> Volume) are shared with the pod's other containers; `read_only` prefixes refuse
    writes as a read-only mount does."""

    def __init__(self, files: dict[str, str] | None = None, read_only: tuple[str, ...] = (),
                 mounts: dict[str, Volume] | None = None):
        self.files: MutableMapping[str, str] = MountedFiles({}, mounts or {})
        self.dirs: set[str] = {"/"}
        self.read_only = tuple(read_only)
        for point in mounts or {}:
            self.mkdir(posixpath.normpath(point))
        for path, content in (files or {}).items():
            if self.files._route(path)[0] is not self.files.own:
                continue  # a mount hides what the image has under its mount point
            self.write(path, content, force=True)

    @staticmethod
    def normalize(path: str, cwd: str = "/") -> str:
        return posixpath.normpath(posixpath.join(cwd, path)) if path else cwd

    def exists(self, path: str) -> bool:
        return path in self.files or self.is_dir(path)

    def is_dir(self, path: str) -> bool:
        if path in self.dirs:
            return True
        prefix = path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.files)

    def read(self, path: str) -> str | None:
        return self.files.get(path)

    def writable(self, path: str) -> bool:
        return not any(path == ro or path.startswith(ro.rstrip("/") + "/") for ro in self.read_only)

    def write(self, path: str, content: str, force: bool = False) -> bool:
        if not force and not self.writable(path):
            return False
        self.files[path] = content
        parent = posixpath.dirname(path)
        while parent not in self.dirs:
            self.dirs.add(parent)
            parent = posixpath.dirname(parent)
        return True

    def remove(self, path: str) -> bool:
        if path in self.files and self.writable(path):
            del self.files[path]
            return True
        return False

    def mkdir(self, path: str) -> None:
        self.write(path + "/.keep", "", force=True)
        self.files.pop(path + "/.keep", None)
        self.dirs.add(path)

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/", 1)[0] for p in (*self.files, *self.dirs) if p.startswith(prefix)}
        names.discard("")
        return sorted(names)


@dataclass
class ProcessContext:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    hostname: str = "localhost"
    fs: FileSystem = field(default_factory=FileSystem)
    # The virtual clock as Unix seconds (the cluster's API clock).
    clock: Callable[[], float] = lambda: 0.0
    # Name resolution: an IP address, or None (no DNS answer).
    resolve: Callable[[str], Optional[str]] = lambda host: None
    # One DNS query over the pod network (sim/clusterdns.py exchange): (server, qname, qtype) ->
    # the reply {"rcode", "aa", "answer": [records], ...} or {"rcode": "TIMEOUT"}, as a resolver
    # of its own (busybox's nslookup) sends it; None where no network is attached.
    dns_query: Optional[Callable[[str, str, str], dict]] = None
    # An HTTP GET over the pod network (sim/clusterdns.py http_get): (status, body), None
    # (refused) or TIMED_OUT (nothing answers: the SYN was dropped); None where no network is
    # attached (the module hook shell.HTTP_GET then).  An optional `host` argument sets the
    # request's Host header (`curl -H 'Host: foo.bar.com'`).
    http_get: Optional[Callable[..., Optional[tuple]]] = None
    cwd: str = "/"
    # For a command exec'd beside the container's main process: make that process exit with
    # this code, as `nginx -s quit` makes the running nginx quit.  A no-op elsewhere.
    signal_main: Callable[[int], None] = lambda code: None
    # The image's executables by basename (ImageConfig.binaries): what a shell in the container
    # can run beside its own utilities (`nginx -s quit` in a preStop hook's `sh -c`).
    binaries: frozenset = frozenset()
    # Whether stdin is open (`stdin: true`, `exec -i`): a plain `sh` then reads its commands
    # from it; and whether it is a terminal (`tty: true`, `-t`): the shell is interactive.
    stdin: bool = False
    tty: bool = False


@dataclass(frozen=True)
class Program:
    """A program an image can run: its name (argv[0]'s basename) and its behaviour."""
    name: str
    run: Callable[[ProcessContext], ProgramGen]
    # The exit code after SIGTERM, or None: SIGTERM is ignored (PID 1 without a handler).
    on_sigterm: int | None = None
    # The TCP ports it listens on once started, given its context (its argv may choose them).
    ports: Callable[[ProcessContext], frozenset[int]] = lambda ctx: frozenset()
    # Its answer to an HTTP GET on one of them: (status code, body), given the path and the
    # seconds since it started.  None: it speaks no HTTP (a probe's GET fails).
    http: Optional[Callable[[ProcessContext, str, float], tuple[int, str]]] = None
    # Its gRPC health service (grpc.health.v1.Health/Check): the status of a service name ("" is
    # the server's), "SERVING" or "NOT_SERVING", or None for a service it does not know.  None
    # here: it speaks no gRPC (a grpc probe cannot connect).
    grpc_health: Optional[Callable[[ProcessContext, str], Optional[str]]] = None
    # The paths whose answer's status never changes while it runs, whatever the time, its files
    # or its state (a static site's index): the kubelet's prober may stop asking once such a
    # probe has settled (sim/kubelet/prober.py, dormant probes).  None: every answer may change.
    http_steady: Optional[Callable[[str], bool]] = None
    # What an HTTP server says of itself (its `Server:` header) and what it logs for each request
    # it answers (sim/runtime/connection.py: AccessRecord -> (stream, line) in its format), or None.
    server_header: str = ""
    access_log: Optional[Callable[[ProcessContext, Any], str]] = None
    # A server that speaks something else over TCP (redis): its answer to the bytes a connection
    # has sent so far, as (bytes consumed, reply, close the connection).  None: HTTP, if `http`.
    stream: Optional[Callable[[ProcessContext, bytes], tuple[int, bytes, bool]]] = None


def run_to_exit(gen: ProgramGen, max_steps: int = 100_000, max_seconds: float | None = None) -> tuple[int, str, float]:
    """Drive a program with no runtime: (exit code, everything it wrote, virtual seconds it
    slept).  For tests and for exec's synchronous commands.  With `max_seconds`, stop once it
    has slept longer than that (the caller's timeout: the slept figure says so; the code is 0)."""
    code, stdout, stderr, slept = run_capture(gen, max_steps, max_seconds, merged=True)
    if code is None and (max_seconds is None or slept <= max_seconds):
        raise RuntimeError(f"program did not exit within {max_steps} system calls")
    return code or 0, stdout, slept


def run_capture(gen: ProgramGen, max_steps: int = 100_000, max_seconds: float | None = None,
                merged: bool = False, stdin: str = "") -> tuple[int | None, str, str, float]:
    """Drive a program with no runtime, stdout and stderr apart (`merged`: both in stdout, in
    the order written): (exit code, stdout, stderr, slept); the code is None when it slept past
    `max_seconds` (timed out) or did not exit within `max_steps` system calls.  Its reads get
    the lines of `stdin`, then end of file."""
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    slept = 0.0
    pending = stdin.splitlines(keepends=True)
    pending.reverse()
    sent = None
    try:
        for _ in range(max_steps):
            call = gen.send(sent)
            sent = None
            if isinstance(call, Read):
                sent = pending.pop() if pending else None
            if isinstance(call, Sleep):
                slept += call.seconds
                if max_seconds is not None and slept > max_seconds:
                    gen.close()
                    return None, "".join(out["stdout"]), "".join(out["stderr"]), slept
            elif isinstance(call, Write):
                stream = "stderr" if call.stream == "stderr" and not merged else "stdout"
                out[stream].append(call.text[:MAX_WRITE_CHARS])
        gen.close()
        return None, "".join(out["stdout"]), "".join(out["stderr"]), slept
    except StopIteration as stop:
        return (stop.value or 0), "".join(out["stdout"]), "".join(out["stderr"]), slept


def lines(text: str) -> Iterator[str]:
    """The log lines a write makes (a trailing partial line is still a line, as the CRI log
    format marks partial lines; simulated programs end their writes with newlines)."""
    for line in text.splitlines():
        yield line


def step(gen: ProgramGen, read: Callable[[], object], write: Callable[[str, str], None], max_calls: int,
         reading: bool = False, would_block: object = None,
         interrupt: bool = False) -> tuple[str, float | int | None]:
    """Run a program for at most `max_calls` system calls, as a runtime does between two of its
    events: ("exit", code), ("sleep", seconds) - call again when they passed -, ("read", None) -
    blocked on stdin: call again with `reading=True` once input came -, or ("busy", None).
    `read()` answers a line, None (end of file) or `would_block`; writes go to `write`.
    `interrupt`: deliver SIGINT first (Interrupted, raised at the system call it waits in).  An
    exception in the program propagates (the caller words its crash)."""
    sent = None
    if reading:
        sent = read()
        if sent is would_block:
            return "read", None
    for _ in range(max_calls):
        try:
            if interrupt:
                interrupt = False
                call = gen.throw(Interrupted())
            else:
                call = gen.send(sent)
        except StopIteration as stop:
            return "exit", (stop.value if isinstance(stop.value, int) else 0) & 0xFF
        except Interrupted:
            return "exit", SIGINT_EXIT
        sent = None
        if isinstance(call, Write):
            write(call.text[:MAX_WRITE_CHARS], call.stream)
        elif isinstance(call, Sleep):
            return "sleep", max(0.0, float(call.seconds))
        elif isinstance(call, Read):
            sent = read()
            if sent is would_block:
                return "read", None
    return "busy", None
