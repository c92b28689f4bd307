"""A process's standard streams as `kubectl exec -i/-t` and `kubectl attach` see them.

stdin: the bytes a client sends, cut into the lines a program reads (process.Read).  With a
terminal (`tty: true`, `-t`) they first pass the pty's line discipline, with the termios
defaults a container's /dev/console or an exec's pty has (ICANON, ECHO, ICRNL, ONLCR): the
characters typed are echoed, Backspace (DEL or ^H) erases, Enter (\\r) ends the line, ^C
discards the line (echoed `^C`), ^U the whole line, and ^D on an empty line is end of file.
Without a terminal the bytes are the lines as they come, and closing stdin (v5's close of
channel 0, the end of a piped file) is end of file.

Output: what the process writes, kept for the attached clients as numbered chunks, bounded:
an exec's process waits while half the bound is unread (`full`), as a writer to a full pipe
does; a container's main process does not wait for clients attached to it (its log has every
line), and a client that falls that far behind misses the oldest chunks.  With a terminal,
stdout and stderr are one stream and each newline goes out as \\r\\n (ONLCR), as kubectl's
raw-mode terminal expects.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Optional

# A blocked read: the caller parks the process until `on_input` is called.
WOULD_BLOCK = object()
# How many output chunks stay for a client to read; how long a typed line may grow (N_TTY's
# 4096-byte line buffer).
MAX_CHUNKS = 2000
MAX_OUTPUT_CHARS = 1024 * 1024
MAX_READ_CHARS = 256 * 1024   # answered to a client at once; the rest at its next read
MAX_LINE = 4096
MAX_PENDING = 256 * 1024  # unread stdin kept, beyond which input is dropped

ERASE = ("\x7f", "\x08")
INTR, KILL, EOF_CHAR = "\x03", "\x15", "\x04"


class Stdio:
    def __init__(self, stdin: bool = False, tty: bool = False):
        self.stdin_open = stdin        # False: reads see end of file (/dev/null)
        self.tty = tty
        self.lines: deque[str] = deque()  # complete lines not yet read (None = an end of file)
        self.pending_chars = 0
        self.edit = ""                 # the terminal's line being typed
        self.interrupt = False         # a ^C not yet delivered
        self.chunks: deque[tuple[int, str, str]] = deque()
        self.kept_chars = 0
        self.written = 0               # chunks ever written: the next one's number
        self.on_input: Optional[Callable[[], None]] = None  # wakes a process blocked reading
        # Output is kept only for a process a client can attach to with stdin, or once one did:
        # a container's log already has the rest.
        self.recording = stdin or tty

    # -- stdin --------------------------------------------------------------------------
    def read_line(self):
        """The next line, None at end of file, or WOULD_BLOCK."""
        if self.interrupt:
            self.interrupt = False
            return "\n"
        if self.lines:
            line = self.lines.popleft()
            if line is not None:
                self.pending_chars -= len(line)
            return line
        return None if not self.stdin_open else WOULD_BLOCK

    def feed(self, data: str) -> None:
        """Bytes from the client's stdin."""
        if not self.stdin_open or not data:
            return
        if not self.tty:
            self.edit += data
            *done, self.edit = self.edit.split("\n")
            for line in done:
                self._queue(line + "\n")
            if len(self.edit) > MAX_LINE:
                self._queue(self.edit)
                self.edit = ""
        else:
            for ch in data:
                self._discipline(ch)
        self._wake()

    def _discipline(self, ch: str) -> None:
        # n_tty's canonical mode (drivers/tty/n_tty.c): ICRNL, ECHO, ECHOE, ECHOCTL, ISIG.
        if ch == "\r":
            ch = "\n"
        if ch == "\n":
            self.echo("\n")
            self._queue(self.edit + "\n")
            self.edit = ""
        elif ch in ERASE:
            if self.edit:
                self.edit = self.edit[:-1]
                self.echo("\b \b")
        elif ch == KILL:
            self.echo("\b \b" * len(self.edit))
            self.edit = ""
        elif ch == INTR:
            # ISIG: SIGINT to the foreground process.  A process waiting for input gets an
            # empty line (an interactive shell drops what was typed and prompts again); one that
            # is busy is interrupted by its driver (`take_interrupt`).
            self.echo("^C\n")
            self.edit = ""
            self.interrupt = True
        elif ch == EOF_CHAR:
            if self.edit:
                self._queue(self.edit)
                self.edit = ""
            else:
                self.lines.append(None)
        elif ch >= " " or ch == "\t":
            if len(self.edit) < MAX_LINE:
                self.edit += ch
                self.echo(ch)

    def take_interrupt(self) -> bool:
        """A ^C for a process that is not reading: its driver raises SIGINT in it."""
        pending, self.interrupt = self.interrupt, False
        return pending

    def _queue(self, line: str) -> None:
        if self.pending_chars + len(line) > MAX_PENDING:
            return
        self.lines.append(line)
        self.pending_chars += len(line)

    def close_stdin(self) -> None:
        """The client closed stdin (v5 close of channel 0; a detach with stdinOnce): what was
        typed and not ended is the last line, then end of file."""
        if not self.stdin_open:
            return
        if self.edit and not self.tty:
            self._queue(self.edit)
        self.edit = ""
        self.stdin_open = False
        self._wake()

    def _wake(self) -> None:
        if self.on_input is not None:
            self.on_input()

    # -- output -------------------------------------------------------------------------
    def echo(self, text: str) -> None:
        self.write(text, "stdout")

    def write(self, text: str, stream: str = "stdout") -> None:
        if not self.recording:
            return
        if self.tty:
            stream, text = "stdout", text.replace("\r\n", "\n").replace("\n", "\r\n")
        if text:
            self.chunks.append((self.written, stream, text))
            self.kept_chars += len(text)
            self.written += 1
            while len(self.chunks) > MAX_CHUNKS or self.kept_chars > MAX_OUTPUT_CHARS:
                self.kept_chars -= len(self.chunks.popleft()[2])

    def discard_read(self, cursor: int) -> None:
        """Forget the chunks before `cursor` (an exec's output has one reader)."""
        while self.chunks and self.chunks[0][0] < cursor:
            self.kept_chars -= len(self.chunks.popleft()[2])

    def full(self) -> bool:
        """Half the bounds are unread: a writer with a single reader waits (a full pipe)."""
        return len(self.chunks) >= MAX_CHUNKS // 2 or self.kept_chars >= MAX_OUTPUT_CHARS // 2

    def read_output(self, cursor: int, limit: int = MAX_READ_CHARS) -> tuple[list[tuple[str, str]], int]:
        """The chunks from number `cursor` on (those still kept), at most about `limit`
        characters of them, and the cursor after what was read."""
        out: list[tuple[str, str]] = []
        size, after = 0, max(cursor, self.written - len(self.chunks))
        for n, stream, text in self.chunks:
            if n < cursor:
                continue
            if size >= limit:
                break
            size += len(text)
            after = n + 1
            if out and out[-1][0] == stream:
                out[-1] = (stream, out[-1][1] + text)   # one message for what one stream wrote
            else:
                out.append((stream, text))
        return out, after
