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


class KubectlProcess:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, bounds: Bounds):
        self.argv, self.env, self.cwd, self.bounds = argv, env, cwd, bounds
        self.proc: asyncio.subprocess.Process | None = None
        self.reason = ""
        self.written = 0
        self._stopping: asyncio.Task | None = None

    async def run(self, output: Output, stdin: str | None = None) -> Ended:
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, env=self.env, cwd=self.cwd, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True)   # its own session: no signal of the server's reaches it
        except OSError as e:
            return Ended(None, "failed", f"kubectl could not be started: {e.strerror or e}")
        if self.reason:   # stopped (Ctrl-C) while it was being started: stop it now
            reason, self.reason = self.reason, ""
            self.stop(reason)
        feeder = asyncio.ensure_future(self._feed(stdin or ""))
        readers = [asyncio.ensure_future(self._pump(self.proc.stdout, "stdout", output)),
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
        messages = {"timeout": f"stopped: the command ran longer than {self.bounds.seconds:g} s",
                    "output-limit": f"stopped: the command printed more than {self.bounds.max_output} bytes",
                    "interrupted": "^C"}
        return Ended(code, self.reason, messages.get(self.reason, ""))

    async def _feed(self, text: str) -> None:
        """The pasted input (`apply -f -`), then end of file, so kubectl never waits for more."""
        try:
            if text:
                self.proc.stdin.write(text.encode())
                await self.proc.stdin.drain()
            self.proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def _pump(self, stream: asyncio.StreamReader, name: str, output: Output) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            data = await stream.read(READ_CHUNK)
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
