"""The runtime's streaming server: `kubectl exec -i/-t` and `kubectl attach`.

Upstream (k8s.io/kubelet/pkg/cri/streaming/server.go): the kubelet asks the runtime for an
Exec or Attach (CRI `Exec`/`Attach`), which answers a URL on the runtime's streaming server
holding a one-time token; kube-apiserver then proxies the client's connection to that URL, and
from there the streams flow over the connection, not as API calls.  Here `open_exec` /
`open_attach` answer the token, and the HTTP front end carries the client's streams with `io`
(Cluster.stream): stdin in, output out from a cursor, the exit at the end.

An exec session runs its own process in the container (its files, environment, working
directory), in the runtime's virtual time like the main process - its sleeps take the cluster's
time, and it never holds the engine: it is stepped by the kernel in bounded slices and parks
while it waits for stdin.  An attach session reads the main process's stdio (sim/runtime/stdio.py);
with `stdinOnce` the container's stdin closes when the first attach ends (as the runtime does).

Sessions end with their process (exec), their container (attach), or the client; a session no
client asked about for ABANDONED_SECONDS, or with no traffic either way for
STREAMING_IDLE_TIMEOUT (the kubelet's streamingConnectionIdleTimeout, 4h), is closed, its exec
process killed as a hang-up would.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sim.runtime import programs
from sim.runtime.process import BUSY_LOOP_DELAY, MAX_SYSCALLS_PER_EVENT, step
from sim.runtime.stdio import WOULD_BLOCK, Stdio

ABANDONED_SECONDS = 120.0
STREAMING_IDLE_TIMEOUT = 4 * 3600.0
MAX_SESSIONS = 64               # per runtime: beyond this, the oldest sessions are closed
SIGHUP_EXIT = 129               # 128 + SIGHUP: a session's process when its client went


@dataclass
class Session:
    token: str
    kind: str                        # "exec" | "attach"
    container_id: str
    stdio: Stdio
    stdin: bool
    cursor: int = 0
    last_seen: float = 0.0
    last_traffic: float = 0.0
    # exec: its process
    gen: Any = None
    timer: int | None = None
    reading: bool = False
    exit_code: int | None = None
    error: str = ""
    blocked_on_write: bool = False   # exec: its output is unread up to the bound (a full pipe)
    stdin_once: bool = False         # attach: the container's stdinOnce


class StreamingServer:
    def __init__(self, runtime):
        self.runtime = runtime
        self.sessions: dict[str, Session] = {}
        self.janitor: int | None = None

    # -- opening ------------------------------------------------------------------------
    def _token(self) -> str:
        rt = self.runtime
        rt.next += 1
        return hashlib.sha256(f"{rt.host}-stream-{rt.next}-{rt.rng.random()}".encode()).hexdigest()[:32]

    def _add(self, session: Session) -> str:
        now = self.runtime.now
        session.last_seen = session.last_traffic = now
        while len(self.sessions) >= MAX_SESSIONS:
            self.close(next(iter(self.sessions)))
        self.sessions[session.token] = session
        if self.janitor is None:
            self.janitor = self.runtime.call_later(ABANDONED_SECONDS / 2, self._sweep)
        return session.token

    def open_exec(self, c, cmd: list[str], stdin: bool, tty: bool) -> dict:
        """CRI Exec with streams: {"token"} or {"error"} (the runtime's exec failure)."""
        argv = [str(a) for a in cmd]
        program = programs.program_for(argv, c.image.config.binaries)
        if program is None:
            return {"error": f'OCI runtime exec failed: exec failed: unable to start container process: exec: '
                             f'"{argv[0] if argv else ""}": executable file not found in $PATH: unknown'}
        stdio = Stdio(stdin=stdin, tty=tty)
        stdio.recording = True
        s = Session(self._token(), "exec", c.id, stdio, stdin)
        stdio.on_input = lambda: self._wake(s)
        s.gen = program.run(self.runtime.exec_context(c, argv, stdin, tty))
        self._add(s)
        s.timer = self.runtime.call_later(0.0, lambda: self._step(s))
        return {"token": s.token}

    def open_attach(self, c, stdin: bool) -> dict:
        """CRI Attach: the main process's streams from now on."""
        stdio = c.stdio or Stdio()
        c.stdio = stdio
        stdio.recording = True
        s = Session(self._token(), "attach", c.id, stdio, stdin and stdio.stdin_open, cursor=stdio.written)
        # stdinOnce: the first client attached *to stdin* closes it when it goes (core/v1 types.go).
        s.stdin_once = c.stdin_once and s.stdin
        return {"token": self._add(s), "tty": stdio.tty}

    # -- an exec's process --------------------------------------------------------------
    def _step(self, s: Session, interrupt: bool = False) -> None:
        s.timer = None
        if s.gen is None or s.exit_code is not None:
            return
        try:
            outcome, value = step(s.gen, s.stdio.read_line, s.stdio.write, MAX_SYSCALLS_PER_EVENT,
                                  reading=s.reading, would_block=WOULD_BLOCK, interrupt=interrupt)
        except Exception as e:  # noqa: BLE001 - a program's bug ends its exec, not the node
            s.stdio.write(f"panic: {type(e).__name__}: {e}\n", "stderr")
            outcome, value = "exit", 2
        s.reading = outcome == "read"
        if outcome == "exit":
            s.exit_code, s.gen = int(value or 0), None
        elif outcome == "sleep":
            s.timer = self.runtime.call_later(value, lambda: self._step(s))
        elif outcome == "busy":
            if s.stdio.full():
                s.blocked_on_write = True   # resumed once the client read (io)
            else:
                s.timer = self.runtime.call_later(BUSY_LOOP_DELAY, lambda: self._step(s))

    def _wake(self, s: Session) -> None:
        """Input for a process blocked reading: run it at once; a ^C for a busy one: SIGINT."""
        if s.gen is None:
            return
        if s.reading and s.timer is None:
            s.timer = self.runtime.call_later(0.0, lambda: self._step(s))
        elif not s.reading and s.stdio.take_interrupt():
            if s.timer is not None:
                self.runtime.cancel_timer(s.timer)
            s.timer = self.runtime.call_later(0.0, lambda: self._step(s, interrupt=True))

    def _kill(self, s: Session) -> None:
        if s.timer is not None:
            self.runtime.cancel_timer(s.timer)
            s.timer = None
        if s.gen is not None:
            s.gen.close()
            s.gen = None
            if s.exit_code is None:
                s.exit_code = SIGHUP_EXIT

    # -- the client's side --------------------------------------------------------------
    def io(self, token: str, stdin: str = "", close_stdin: bool = False) -> dict | None:
        """Deliver the client's stdin and answer what came out since the last call:
        {"output": [(stream, text)], "done": bool, "exit_code", "error"}; None: no such session."""
        s = self.sessions.get(token)
        if s is None:
            return None
        rt = self.runtime
        s.last_seen = rt.now
        if stdin and s.stdin:
            s.last_traffic = rt.now
            s.stdio.feed(stdin)
        if close_stdin and s.stdin:
            s.stdin = False
            if s.kind == "exec" or s.stdin_once:
                s.stdio.close_stdin()
        output, s.cursor = s.stdio.read_output(s.cursor)
        if output:
            s.last_traffic = rt.now
        if s.kind == "exec":
            s.stdio.discard_read(s.cursor)
            if s.blocked_on_write and not s.stdio.full() and s.gen is not None and s.timer is None:
                s.blocked_on_write = False
                s.timer = rt.call_later(0.0, lambda: self._step(s))
        done, code = False, None
        c = rt.containers.get(s.container_id)
        if s.kind == "exec":
            if s.exit_code is None and (c is None or c.state != "running"):
                self._kill(s)  # the container's processes die with it
                s.exit_code = 137
            done, code = s.exit_code is not None, s.exit_code
        else:
            if c is None or c.state != "running":
                done, code = True, (c.exit_code if c is not None else None)
        done = done and s.cursor >= s.stdio.written   # its last output first
        answer = {"output": output, "done": done, "exit_code": code, "error": s.error}
        if done:
            self.close(token)
        return answer

    def close(self, token: str) -> None:
        """The client went: an exec's process is hung up on; an attach with stdinOnce closes the
        container's stdin (the main process reads end of file)."""
        s = self.sessions.pop(token, None)
        if s is None:
            return
        if s.kind == "exec":
            self._kill(s)
            return
        c = self.runtime.containers.get(s.container_id)
        if c is None or c.stdio is None:
            return
        if s.stdin_once:
            c.stdio.close_stdin()
        if not c.stdio.tty and not c.stdio.stdin_open and \
                not any(o.container_id == c.id for o in self.sessions.values()):
            c.stdio.recording = False  # no one reads the output any more: the log has it
            c.stdio.chunks.clear()
            c.stdio.kept_chars = 0

    def _sweep(self) -> None:
        self.janitor = None
        now = self.runtime.now
        for token, s in list(self.sessions.items()):
            if now - s.last_seen > ABANDONED_SECONDS or now - s.last_traffic > STREAMING_IDLE_TIMEOUT:
                self.close(token)
        if self.sessions:
            self.janitor = self.runtime.call_later(ABANDONED_SECONDS / 2, self._sweep)

    def power_off(self) -> None:
        for s in self.sessions.values():
            s.timer = None
            s.gen = None
        self.sessions.clear()
        self.janitor = None
