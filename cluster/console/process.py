"""One kubectl command, bounded: run without a shell (asyncio.create_subprocess_exec), its
stdout and stderr handed on chunk by chunk as they come, stopped when it runs too long or
prints too much, or when the student presses Ctrl-C: SIGINT first, as a terminal sends it (so
`kubectl get -w` ends as it would), then SIGKILL after a grace period."""
from __future__ import annotations

import asyncio
import codecs
import os
import signal
from dataclasses import dataclass
from typing import Awaitable, Callable

READ_CHUNK = 16 * 1024

Output = Callable[[str, str], Awaitable[None]]   # (stream "stdout" | "stderr", text)


@dataclass
class Bounds:
    seconds: float
    max_output: int     # bytes of stdout and stderr together
    grace: float = 2.0  # between SIGINT and SIGKILL


@dataclass
class Ended:
    exit_code: int | None
    reason: str = ""    # "", "interrupted", "timeout", "output-limit"
    message: str = ""


# The terminal an interactive `kubectl exec -it` gets: what the pane shows comfortably.
TERMINAL_SIZE = (30, 120)   # rows, columns


class KubectlProcess:
    """`interactive` keeps stdin open for write_stdin (exec/attach/run -i); `tty` runs kubectl on
    a pty of its own (-t), so it puts that terminal in raw mode and the container's terminal does
    the echo and line editing, as with a real terminal."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, bounds: Bounds,
                 interactive: bool = False, tty: bool = False):
        self.argv, self.env, self.cwd, self.bounds = argv, env, cwd, bounds
        self.interactive, self.tty = interactive or tty, tty
        self.proc: asyncio.subprocess.Process | None = None
        self.reason = ""
        self.written = 0
        self._stopping: asyncio.Task | None = None
        self._master: int | None = None   # the pty's master side, with tty

    async def _spawn_on_pty(self) -> asyncio.StreamReader:
        """Start kubectl with a new pty as its stdin and stdout; the reader of its master side."""
        import fcntl
        import struct
        import termios
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *TERMINAL_SIZE, 0, 0))
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, env=self.env, cwd=self.cwd, stdin=slave, stdout=slave,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)   # kubectl holds it now; its exit ends the master's reads (EIO)
        # Writes go to a duplicate: the reader's transport closes its own descriptor at EIO, and
        # a number closed there could be reused by another file before run() ends.
        self._master = os.dup(master)
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", 0))
        return reader

    async def run(self, output: Output, stdin: str | None = None) -> Ended:
        try:
            if self.tty:
                stdout = await self._spawn_on_pty()
            else:
                self.proc = await asyncio.create_subprocess_exec(
                    *self.argv, env=self.env, cwd=self.cwd, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                    start_new_session=True)   # its own session: no signal of the server's reaches it
                stdout = self.proc.stdout
        except OSError as e:
            return Ended(None, "failed", f"kubectl could not be started: {e.strerror or e}")
        if self.reason:   # stopped (Ctrl-C) while it was being started: stop it now
            reason, self.reason = self.reason, ""
            self.stop(reason)
        feeder = asyncio.ensure_future(self._feed(stdin or ""))
        readers = [asyncio.ensure_future(self._pump(stdout, "stdout", output)),
                   asyncio.ensure_future(self._pump(self.proc.stderr, "stderr", output))]
        try:
            await asyncio.wait_for(asyncio.gather(*readers), self.bounds.seconds)
        except asyncio.TimeoutError:
            self.stop("timeout")
        finally:
            # A reader may have stopped early (the output limit); the process is stopped then.
            code = await self.proc.wait()
            for task in (feeder, *readers):
                task.cancel()
            if self._stopping:
                self._stopping.cancel()
            if self._master is not None:
                os.close(self._master)
                self._master = None
        messages = {"timeout": f"stopped: the command ran longer than {self.bounds.seconds:g} s",
                    "output-limit": f"stopped: the command printed more than {self.bounds.max_output} bytes",
                    "interrupted": "^C"}
        return Ended(code, self.reason, messages.get(self.reason, ""))

    async def _feed(self, text: str) -> None:
        """The pasted input (`apply -f -`), then end of file, so kubectl never waits for more;
        an interactive command's stdin stays open for write_stdin."""
        if text:
            await self.write_stdin(text)
        if not self.interactive:
            await self.close_stdin()

    async def write_stdin(self, text: str) -> bool:
        """Send what the student typed to kubectl (and so to the container); False when it has
        no open stdin (not interactive, or ended)."""
        data = text.encode()
        try:
            if self._master is not None:
                # A line at a time from the pane: far below a pty's buffer; a flood is refused.
                os.write(self._master, data)
                return True
            if self.proc is None or self.proc.stdin is None or self.proc.stdin.is_closing():
                return False
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
            return True
        except (BrokenPipeError, ConnectionResetError, BlockingIOError, OSError):
            return False

    async def close_stdin(self) -> None:
        """End of input: Ctrl-D on a terminal (the container's line discipline turns it into end
        of file), closing the pipe otherwise."""
        if self._master is not None:
            await self.write_stdin("\x04")
            return
        try:
            if self.proc is not None and self.proc.stdin is not None:
                self.proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def _pump(self, stream: asyncio.StreamReader, name: str, output: Output) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                data = await stream.read(READ_CHUNK)
            except OSError:
                data = b""   # a pty's master reads EIO once kubectl, its last user, has exited
            if not data:
                tail = decoder.decode(b"", final=True)
                if tail:
                    await output(name, tail)
                return
            room = self.bounds.max_output - self.written
            if room <= 0:
                continue   # stopping: drain what is left without sending it
            self.written += len(data)
            text = decoder.decode(data[:room])
            if text:
                await output(name, text)
            if self.written > self.bounds.max_output:
                self.stop("output-limit")

    def stop(self, reason: str) -> None:
        """SIGINT now, SIGKILL after the grace period if it still runs.  Before the process is
        started, the stop is remembered and run() carries it out as soon as it is."""
        if self.proc is None:
            self.reason = self.reason or reason
            return
        if self.proc.returncode is not None:
            # Reaped already, but its output may still be in the pipe: the limit is still why
            # what is shown was cut (a fast command on a loaded machine exits before we read).
            if reason == "output-limit":
                self.reason = self.reason or reason
            return
        if self._stopping:
            return
        self.reason = reason
        self._signal(signal.SIGINT)
        self._stopping = asyncio.ensure_future(self._kill_after(self.bounds.grace))

    async def _kill_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.kill()

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
