"""The executables of a busybox / alpine / ubuntu image, as simulated programs.

Each utility is a generator `util(ctx, argv, stdin=None)` that yields Sleep/Write and returns
its exit code; it is called as `util(ctx, argv)` by an exec, and the shell passes `stdin` (a
pipe's text or a `<` file) to those that read it.  Messages are worded as busybox words them,
since busybox is what most introductory material runs.  sim/runtime/shell.py re-exports
UTILITIES; `sh` and `busybox` call back into it (imported lazily: shell.py imports this module).
"""
from __future__ import annotations

import http
import posixpath
import re
import time
from typing import Callable, Optional

from sim.runtime.nslookup import nslookup as busybox_nslookup
from sim.runtime.process import (MAX_WRITE_CHARS, TCP_CONNECT_TIMEOUT, TIMED_OUT, ProcessContext, ProgramGen, Sleep,
                                 Write)

LONG_SLEEP = 10.0 ** 9          # one step of `sleep infinity` / `tail -f`: forever, in steps
MAX_SEQ_LINES = 1_000_000       # seq writes lazily, in chunks; this bounds one call's work
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _out(text: str):
    """Writes of at most MAX_WRITE_CHARS each (a Write longer is cut by the runtime)."""
    for k in range(0, len(text), MAX_WRITE_CHARS):
        yield Write(text[k:k + MAX_WRITE_CHARS])


def _err(text: str) -> Write:
    return Write(text if text.endswith("\n") else text + "\n", "stderr")


def _path(ctx: ProcessContext, p: str) -> str:
    return ctx.fs.normalize(p, ctx.cwd)


def _flags(args: list[str], known: str, with_value: str = "") -> tuple[dict, list[str]]:
    """Short options (combined: -la), options taking a value (-n 3, -n3), then operands."""
    opts: dict = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1:])
            break
        if len(a) > 1 and a[0] == "-" and all(c in known + with_value for c in a[1:2]):
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_value:
                    value = a[j + 1:]
                    if not value and i + 1 < len(args):
                        i += 1
                        value = args[i]
                    opts[c] = value
                    break
                if c not in known:
                    break
                opts[c] = True
                j += 1
        else:
            rest.append(a)
        i += 1
    return opts, rest


# -- text ---------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "e": "\x1b", "0": "\0"}


def _unescape(text: str) -> tuple[str, bool]:
    """echo -e / printf escapes; the flag is True when \\c asked to stop output."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out), False


def echo(ctx, argv, stdin=None):
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        opt = args.pop(0)
        newline = newline and "n" not in opt
        escapes = "e" in opt or (escapes and "E" not in opt)
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        newline = newline and not stop
    yield from _out(text + ("\n" if newline else ""))
    return 0


_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([diouxXcsbfeEgG%])")


def printf(ctx, argv, stdin=None):
    if len(argv) < 2:
        yield _err("printf: usage: printf FORMAT [ARGUMENT...]")
        return 1
    fmt, args = argv[1], list(argv[2:])
    status = 0
    out: list[str] = []
    while True:
        consumed = False

        def one(m):
            nonlocal consumed, status
            flags, width, prec, conv = m.groups()
            if conv == "%":
                return "%"
            consumed = True
            arg = args.pop(0) if args else ""
            spec = "%" + flags + width + ("." + prec if prec else "")
            if conv in "diouxXc" and conv != "c":
                try:
                    n = int(arg, 0) if arg else 0
                except ValueError:
                    status = 1
                    out.append(f"printf: invalid number '{arg}'\n")
                    n = 0
                return (spec + ("d" if conv in "iu" else conv)) % n
            if conv in "feEgG":
                try:
                    return (spec + conv) % float(arg or 0)
                except ValueError:
                    status = 1
                    return (spec + conv) % 0.0
            if conv == "c":
                return (spec + "s") % arg[:1]
            if conv == "b":
                return (spec + "s") % _unescape(arg)[0]
            return (spec + "s") % arg

        text = _PRINTF_SPEC.sub(one, fmt)
        out.append(_unescape(text)[0])
        if not args or not consumed:
            break
    errors = [o for o in out if o.startswith("printf: invalid number")]
    for e in errors:
        yield _err(e)
    yield from _out("".join(o for o in out if o not in errors))
    return status


def _env(ctx, argv, stdin=None):
    args = argv[1:]
    env = dict(ctx.env)
    while args and "=" in args[0]:
        k, _, v = args.pop(0).partition("=")
        env[k] = v
    if args:          # env X=1 cmd: run cmd with that environment
        from sim.runtime.shell import find_program
        util = find_program(args[0], ctx.fs, ctx.cwd)
        if util is None:
            yield _err(f"env: can't execute '{args[0]}': No such file or directory")
            return 127
        import dataclasses
        return (yield from util(dataclasses.replace(ctx, argv=args, env=env), args, stdin=stdin))
    yield from _out("".join(f"{k}={v}\n" for k, v in env.items()))
    return 0


def printenv(ctx, argv, stdin=None):
    if len(argv) == 1:
        yield from _out("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
        return 0
    status = 0
    for name in argv[1:]:
        if name in ctx.env:
            yield from _out(ctx.env[name] + "\n")
        else:
            status = 1
    return status


def _read_inputs(ctx, name: str, files: list[str], stdin):
    """(label, text) for each input, or an error Write: busybox's can't-open / read-error."""
    if not files:
        yield "", stdin or ""
        return
    for f in files:
        if f == "-":
            yield "-", stdin or ""
            continue
        path = _path(ctx, f)
        text = ctx.fs.read(path)
        if text is None:
            if ctx.fs.is_dir(path):
                yield f, _err(f"{name}: read error: Is a directory")
            else:
                yield f, _err(f"{name}: can't open '{f}': No such file or directory")
        else:
            yield f, text


def cat(ctx, argv, stdin=None):
    status = 0
    for _, text in _read_inputs(ctx, "cat", [a for a in argv[1:] if not (a.startswith("-") and a != "-")], stdin):
        if isinstance(text, Write):
            yield text
            status = 1
        else:
            yield from _out(text)
    return status


def grep(ctx, argv, stdin=None):
    opts, rest = _flags(argv[1:], "ivcqnEFwlrsHh", "e")
    if "e" in opts:
        pattern = opts["e"]
    elif rest:
        pattern = rest.pop(0)
    else:
        yield _err("grep: usage: grep [-ivcqnEFw] PATTERN [FILE]...")
        return 2
    if opts.get("F"):
        pattern = re.escape(pattern)
    elif not opts.get("E"):
        # Basic regular expressions: \( \) \| \+ are the operators, bare ( ) | + are literals.
        pattern = re.sub(r"\\([()|+?{}])|([()|+?{}])",
                         lambda m: m.group(1) if m.group(1) else "\\" + m.group(2), pattern)
    if opts.get("w"):
        pattern = rf"\b(?:{pattern})\b"
    try:
        regex = re.compile(pattern, re.IGNORECASE if opts.get("i") else 0)
    except re.error:
        yield _err("grep: bad regex")
        return 2
    matched, status, out = False, 0, []
    inputs = list(_read_inputs(ctx, "grep", rest, stdin))
    for label, text in inputs:
        if isinstance(text, Write):
            if not opts.get("s"):
                yield _err(f"grep: {label}: No such file or directory")
            status = 2
            continue
        count = 0
        for n, line in enumerate(text.splitlines(), 1):
            if bool(regex.search(line)) != bool(opts.get("v")):
                count += 1
                if not opts.get("c") and not opts.get("l"):
                    prefix = f"{label}:" if len(rest) > 1 and not opts.get("h") else ""
                    out.append(f"{prefix}{n}:{line}\n" if opts.get("n") else f"{prefix}{line}\n")
        matched = matched or count > 0
        if opts.get("c"):
            out.append(f"{label}:{count}\n" if len(rest) > 1 else f"{count}\n")
        elif opts.get("l") and count:
            out.append(f"{label or '(standard input)'}\n")
    if not opts.get("q"):
        yield from _out("".join(out))
    return 0 if matched else (status or 1)


def wc(ctx, argv, stdin=None):
    opts, files = _flags(argv[1:], "lwc")
    which = [k for k in "lwc" if opts.get(k)] or ["l", "w", "c"]
    status = 0
    for label, text in _read_inputs(ctx, "wc", files, stdin):
        if isinstance(text, Write):
            yield text
            status = 1
            continue
        counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
        numbers = [str(counts[k]) for k in which]
        if len(numbers) > 1:
            numbers = [n.rjust(7) for n in numbers]
        yield from _out(" ".join(numbers) + (f" {label}" if label else "") + "\n")
    return status


def _count_arg(argv):
    """head/tail's -n N, -nN, -N; the operands."""
    n, files, args = 10, [], list(argv[1:])
    follow = False
    while args:
        a = args.pop(0)
        if a == "-n" and args:
            n = args.pop(0)
        elif a.startswith("-n"):
            n = a[2:]
        elif a in ("-f", "-F"):
            follow = True
        elif re.fullmatch(r"-\d+", a):
            n = a[1:]
        else:
            files.append(a)
    return str(n), files, follow


def head(ctx, argv, stdin=None):
    n, files, _ = _count_arg(argv)
    if not n.lstrip("+").isdigit():
        yield _err(f"head: invalid number '{n}'")
        return 1
    status = 0
    for _, text in _read_inputs(ctx, "head", files, stdin):
        if isinstance(text, Write):
            yield text
            status = 1
            continue
        yield from _out("".join(text.splitlines(keepends=True)[:int(n)]))
    return status


def tail(ctx, argv, stdin=None):
    n, files, follow = _count_arg(argv)
    if not n.lstrip("+").isdigit():
        yield _err(f"tail: invalid number '{n}'")
        return 1
    status = 0
    for label, text in _read_inputs(ctx, "tail", files, stdin):
        if isinstance(text, Write):
            if not (follow and label == "/dev/null"):
                yield text
                status = 1
            continue
        lines = text.splitlines(keepends=True)
        yield from _out("".join(lines[int(n) - 1:] if n.startswith("+") else lines[-int(n):] if int(n) else []))
    if follow:      # `tail -f /dev/null`, the classic keep-alive: wait forever
        while True:
            yield Sleep(LONG_SLEEP)
    return status


def sort(ctx, argv, stdin=None):
    opts, files = _flags(argv[1:], "rnu")
    lines: list[str] = []
    for _, text in _read_inputs(ctx, "sort", files, stdin):
        if isinstance(text, Write):
            yield text
            return 2
        lines.extend(text.splitlines())
    if opts.get("n"):
        def key(line):
            m = re.match(r"\s*(-?\d+(\.\d*)?)", line)
            return (float(m.group(1)) if m else 0.0, line)
        lines.sort(key=key, reverse=bool(opts.get("r")))
    else:
        lines.sort(reverse=bool(opts.get("r")))
    if opts.get("u"):
        lines = list(dict.fromkeys(lines))
    yield from _out("".join(line + "\n" for line in lines))
    return 0


def uniq(ctx, argv, stdin=None):
    opts, files = _flags(argv[1:], "c")
    text = "".join(t for _, t in _read_inputs(ctx, "uniq", files[:1], stdin) if isinstance(t, str))
    out, prev, count = [], None, 0
    for line in text.splitlines() + [None]:
        if line != prev and prev is not None:
            out.append(f"{count:7d} {prev}\n" if opts.get("c") else prev + "\n")
            count = 0
        prev, count = line, count + 1
    yield from _out("".join(out))
    return 0


def tr(ctx, argv, stdin=None):
    args = argv[1:]
    delete = bool(args) and args[0] == "-d"
    args = args[1:] if delete else args

    def expand(s):
        s = _unescape(s)[0]
        return re.sub(r"(.)-(.)", lambda m: "".join(chr(c) for c in range(ord(m.group(1)), ord(m.group(2)) + 1)), s)

    text = stdin or ""
    if delete and args:
        text = text.translate({ord(c): None for c in expand(args[0])})
    elif len(args) >= 2:
        src, dst = expand(args[0]), expand(args[1])
        dst = dst + dst[-1:] * max(0, len(src) - len(dst))
        text = text.translate({ord(a): b for a, b in zip(src, dst)})
    yield from _out(text)
    return 0


# -- files --------------------------------------------------------------------------------------

def _ls_long(name: str, is_dir: bool, size: int) -> str:
    mode = "drwxr-xr-x" if is_dir else "-rw-r--r--"
    return f"{mode}    {2 if is_dir else 1} root     root     {size:>10} Jan  1 00:00 {name}\n"


def ls(ctx, argv, stdin=None):
    opts, paths = _flags(argv[1:], "laA1hFR")
    status = 0
    out: list[str] = []
    targets = paths or ["."]
    for k, p in enumerate(targets):
        path = _path(ctx, p)
        if not ctx.fs.exists(path):
            yield _err(f"ls: {p}: No such file or directory")
            status = 1
            continue
        if not ctx.fs.is_dir(path) or path in ctx.fs.files:
            content = ctx.fs.read(path) or ""
            out.append(_ls_long(p, False, len(content)) if opts.get("l") else p + "\n")
            continue
        if len(targets) > 1:
            out.append(("\n" if k else "") + f"{p}:\n")
        names = ctx.fs.listdir(path)
        if not (opts.get("a") or opts.get("A")):
            names = [n for n in names if not n.startswith(".")]
        if opts.get("a"):
            names = [".", ".."] + names
        for name in names:
            full = posixpath.join(path, name)
            is_dir = name in (".", "..") or (full not in ctx.fs.files and ctx.fs.is_dir(full))
            if opts.get("l"):
                out.append(_ls_long(name, is_dir, 4096 if is_dir else len(ctx.fs.read(full) or "")))
            else:
                out.append(name + "\n")
    yield from _out("".join(out))
    return status


def touch(ctx, argv, stdin=None):
    status = 0
    for f in [a for a in argv[1:] if not a.startswith("-")]:
        path = _path(ctx, f)
        if ctx.fs.exists(path):
            continue
        if not ctx.fs.writable(path):
            yield _err(f"touch: {f}: Read-only file system")
            status = 1
            continue
        ctx.fs.write(path, "")
    return status


def rm(ctx, argv, stdin=None):
    opts, files = _flags(argv[1:], "frRv")
    force, recursive = bool(opts.get("f")), bool(opts.get("r") or opts.get("R"))
    status = 0
    fs = ctx.fs
    for f in files:
        path = _path(ctx, f)
        if not fs.exists(path):
            if not force:
                yield _err(f"rm: can't remove '{f}': No such file or directory")
                status = 1
            continue
        if not fs.writable(path):
            yield _err(f"rm: can't remove '{f}': Read-only file system")
            status = 1
            continue
        if path in fs.files:
            fs.remove(path)
            continue
        if not recursive:
            yield _err(f"rm: '{f}' is a directory")
            status = 1
            continue
        prefix = path.rstrip("/") + "/"
        for p in [p for p in fs.files if p.startswith(prefix)]:
            fs.remove(p)
        fs.dirs -= {d for d in fs.dirs if d == path or d.startswith(prefix)}
        fs.dirs.add("/")
    return status


def mkdir(ctx, argv, stdin=None):
    opts, dirs = _flags(argv[1:], "p", "m")
    status = 0
    for d in dirs:
        path = _path(ctx, d)
        if ctx.fs.exists(path):
            if not opts.get("p") or path in ctx.fs.files:
                yield _err(f"mkdir: can't create directory '{d}': File exists")
                status = 1
            continue
        if not ctx.fs.writable(path):
            yield _err(f"mkdir: can't create directory '{d}': Read-only file system")
            status = 1
            continue
        if not opts.get("p") and not ctx.fs.is_dir(posixpath.dirname(path)):
            yield _err(f"mkdir: can't create directory '{d}': No such file or directory")
            status = 1
            continue
        ctx.fs.mkdir(path)
    return status


def cp(ctx, argv, stdin=None):
    _, args = _flags(argv[1:], "rfpa")
    if len(args) != 2:
        yield _err("cp: need two arguments (this simulation copies one file)")
        return 1
    src, dst = _path(ctx, args[0]), _path(ctx, args[1])
    content = ctx.fs.read(src)
    if content is None:
        yield _err(f"cp: can't stat '{args[0]}': No such file or directory")
        return 1
    if dst not in ctx.fs.files and ctx.fs.is_dir(dst):
        dst = posixpath.join(dst, posixpath.basename(src))
    if not ctx.fs.write(dst, content):
        yield _err(f"cp: can't create '{args[1]}': Read-only file system")
        return 1
    return 0


def mv(ctx, argv, stdin=None):
    status = yield from cp(ctx, argv)
    if status == 0:
        ctx.fs.remove(_path(ctx, argv[-2]))
    return status


def pwd(ctx, argv, stdin=None):
    yield Write(ctx.cwd + "\n")
    return 0


def basename(ctx, argv, stdin=None):
    if len(argv) < 2:
        yield _err("basename: missing operand")
        return 1
    name = posixpath.basename(argv[1].rstrip("/")) or "/"
    if len(argv) > 2 and name.endswith(argv[2]) and name != argv[2]:
        name = name[:-len(argv[2])]
    yield Write(name + "\n")
    return 0


def dirname(ctx, argv, stdin=None):
    if len(argv) < 2:
        yield _err("dirname: missing operand")
        return 1
    yield Write((posixpath.dirname(argv[1].rstrip("/")) or ".") + "\n")
    return 0


# -- time and identity --------------------------------------------------------------------------

_SLEEP_ARG = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)\Z")


def sleep(ctx, argv, stdin=None):
    if len(argv) < 2:
        yield _err("sleep: missing operand")
        return 1
    total = 0.0
    for a in argv[1:]:
        if a in ("inf", "infinity"):
            total = float("inf")
            continue
        m = _SLEEP_ARG.match(a)
        if not m:
            yield _err(f"sleep: invalid number '{a}'")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if total == float("inf"):
        while True:             # forever, in finite steps the runtime can schedule
            yield Sleep(LONG_SLEEP)
    yield Sleep(total)
    return 0


def date(ctx, argv, stdin=None):
    t = ctx.clock()
    tm = time.gmtime(t)
    fmt = None
    for a in argv[1:]:
        if a.startswith("+"):
            fmt = a[1:]
        elif a in ("-u", "--utc", "-R"):
            if a == "-R":
                fmt = "%a, %d %b %Y %H:%M:%S +0000"
        elif a.startswith("-I") or a.startswith("--iso-8601"):
            fmt = "%Y-%m-%d" if a in ("-I", "-Idate", "--iso-8601", "--iso-8601=date") else "%Y-%m-%dT%H:%M:%S+00:00"
        else:
            yield _err(f"date: invalid date '{a}'")
            return 1
    if fmt is None:
        # busybox: `Thu Jan  1 00:00:00 UTC 2026` (the day padded to two columns).
        text = (f"{_DAYS[tm.tm_wday]} {_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} "
                f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} UTC {tm.tm_year}")
    else:
        def one(m):
            c = m.group(1)
            special = {"s": str(int(t)), "N": f"{int((t % 1) * 1e9):09d}", "e": f"{tm.tm_mday:2d}",
                       "Z": "UTC", "z": "+0000", "%": "%", "a": _DAYS[tm.tm_wday],
                       "b": _MONTHS[tm.tm_mon - 1], "h": _MONTHS[tm.tm_mon - 1]}
            return special.get(c) or time.strftime("%" + c, tm)
        text = re.sub(r"%(.)", one, fmt)
    yield Write(text + "\n")
    return 0


def hostname(ctx, argv, stdin=None):
    yield Write(ctx.hostname + "\n")
    return 0


def whoami(ctx, argv, stdin=None):
    yield Write("root\n")
    return 0


def id_(ctx, argv, stdin=None):
    if "-u" in argv or "-g" in argv:
        yield Write("0\n")
    elif "-un" in argv or "-nu" in argv:
        yield Write("root\n")
    else:
        yield Write("uid=0(root) gid=0(root) groups=0(root)\n")
    return 0


def uname(ctx, argv, stdin=None):
    fields = {"s": "Linux", "n": ctx.hostname, "r": "6.1.0", "v": "#1 SMP PREEMPT_DYNAMIC",
              "m": "x86_64", "o": "GNU/Linux"}
    opts, _ = _flags(argv[1:], "asnrvmo")
    keys = "snrvmo" if opts.get("a") else "".join(k for k in "snrvmo" if opts.get(k)) or "s"
    yield Write(" ".join(fields[k] for k in keys) + "\n")
    return 0


def true(ctx, argv, stdin=None):
    return 0
    yield  # pragma: no cover - a generator all the same


def false(ctx, argv, stdin=None):
    return 1
    yield  # pragma: no cover


def kill(ctx, argv, stdin=None):
    # No-op success: a script's only process is itself, and signals are the runtime's business.
    return 0
    yield  # pragma: no cover


def seq(ctx, argv, stdin=None):
    args = argv[1:]
    sep = "\n"
    if len(args) >= 2 and args[0] == "-s":
        sep, args = args[1], args[2:]
    try:
        nums = [float(a) if "." in a else int(a) for a in args]
    except ValueError:
        bad = next(a for a in args if not re.fullmatch(r"-?\d+(\.\d*)?", a))
        yield _err(f"seq: invalid number '{bad}'")
        return 1
    if not 1 <= len(nums) <= 3:
        yield _err("seq: usage: seq [-s SEP] [FIRST [INC]] LAST")
        return 1
    first, inc, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else nums
    if inc == 0:
        return 1
    out, x, count = [], first, 0
    while (x <= last if inc > 0 else x >= last) and count < MAX_SEQ_LINES:
        out.append(str(x))
        x, count = x + inc, count + 1
        if len(out) == 1000:          # lazily: a pipe's reader can stop us between chunks
            yield Write(sep.join(out) + sep)
            out = []
    if out:
        yield Write(sep.join(out) + "\n")
    return 0


def expr(ctx, argv, stdin=None):
    tokens = argv[1:]
    pos = 0

    class ExprError(Exception):
        pass

    def num(v):
        if not re.fullmatch(r"-?\d+", str(v)):
            raise ExprError("non-numeric argument")
        return int(v)

    def parse(level):
        nonlocal pos
        ops = [("|",), ("&",), ("=", "==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"), (":",)]
        if level == len(ops):
            if pos >= len(tokens):
                raise ExprError("syntax error")
            tok = tokens[pos]
            pos += 1
            if tok == "(":
                v = parse(0)
                if pos >= len(tokens) or tokens[pos] != ")":
                    raise ExprError("syntax error")
                pos += 1
                return v
            if tok == "length" and pos < len(tokens):
                pos += 1
                return len(tokens[pos - 1])
            return tok
        left = parse(level + 1)
        while pos < len(tokens) and tokens[pos] in ops[level]:
            op = tokens[pos]
            pos += 1
            right = parse(level + 1)
            if op == "|":
                left = left if str(left) not in ("", "0") else right
            elif op == "&":
                left = left if str(left) not in ("", "0") and str(right) not in ("", "0") else 0
            elif op in ("+", "-", "*", "/", "%"):
                a, b = num(left), num(right)
                if op in "/%" and b == 0:
                    raise ExprError("division by zero")
                q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1) if op in "/%" else 0
                left = {"+": a + b, "-": a - b, "*": a * b, "/": q, "%": a - b * q if b else 0}[op]
            elif op == ":":
                m = re.match(str(right), str(left))
                left = (m.group(1) if m.groups() else len(m.group(0))) if m else (
                    "" if re.compile(str(right)).groups else 0)
            else:
                try:
                    a, b = num(left), num(right)
                except ExprError:
                    a, b = str(left), str(right)
                left = int({"=": a == b, "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                            ">": a > b, ">=": a >= b}[op])
        return left

    try:
        result = parse(0)
        if pos != len(tokens):
            raise ExprError("syntax error")
    except ExprError as e:
        yield _err(f"expr: {e}")
        return 2
    except re.error:
        yield _err("expr: bad regex")
        return 2
    yield Write(f"{result}\n")
    return 1 if str(result) in ("", "0") else 0


def test(ctx, argv, stdin=None):
    args = list(argv[1:])
    if posixpath.basename(argv[0]) == "[":
        if not args or args[-1] != "]":
            yield _err("[: missing ]")
            return 2
        args.pop()
    fs = ctx.fs

    class TestError(Exception):
        pass

    def integer(v):
        if not re.fullmatch(r"\s*-?\d+\s*", v):
            raise TestError(f"invalid number '{v}'")
        return int(v)

    def unary(op, v):
        path = _path(ctx, v) if v else ""
        if op == "-z":
            return v == ""
        if op == "-n":
            return v != ""
        if op == "-e":
            return bool(v) and fs.exists(path)
        if op == "-f":
            return bool(v) and path in fs.files
        if op == "-d":
            return bool(v) and path not in fs.files and fs.is_dir(path)
        if op == "-s":
            return bool(fs.read(path) or "")
        if op in ("-r", "-x"):
            return bool(v) and fs.exists(path)
        if op == "-w":
            return bool(v) and fs.exists(path) and fs.writable(path)
        if op in ("-L", "-h", "-p", "-S", "-b", "-c", "-t"):
            return False
        raise TestError(f"{op}: unknown operand")

    def binary(a, op, b):
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        if op in ("<", ">"):
            return a < b if op == "<" else a > b
        x, y = integer(a), integer(b)
        return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]

    binops = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"}
    unops = {"-z", "-n", "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-p", "-S", "-b", "-c", "-t"}
    pos = 0

    def expr_or():
        nonlocal pos
        v = expr_and()
        while pos < len(args) and args[pos] == "-o":
            pos += 1
            v = expr_and() or v
        return v

    def expr_and():
        nonlocal pos
        v = expr_not()
        while pos < len(args) and args[pos] == "-a":
            pos += 1
            v = expr_not() and v
        return v

    def expr_not():
        nonlocal pos
        if pos < len(args) and args[pos] == "!" and pos + 1 < len(args):
            pos += 1
            return not expr_not()
        return primary()

    def primary():
        nonlocal pos
        if pos >= len(args):
            raise TestError("argument expected")
        a = args[pos]
        if a == "(" and pos + 1 < len(args):
            pos += 1
            v = expr_or()
            if pos >= len(args) or args[pos] != ")":
                raise TestError("')' expected")
            pos += 1
            return v
        if pos + 2 < len(args) + 0 and args[pos + 1] in binops:
            pos += 3
            return binary(a, args[pos - 2], args[pos - 1])
        if a in unops and pos + 1 < len(args):
            pos += 2
            return unary(a, args[pos - 1])
        pos += 1
        return a != ""

    name = "test" if argv[0] == "test" else "["
    try:
        n = len(args)
        # POSIX decides by the number of arguments first (so `[ -n ]` is true: one argument).
        if n == 0:
            result = False
        elif n == 1:
            result = args[0] != ""
        elif n == 2 and args[0] == "!":
            result = args[1] == ""
        elif n == 2:
            if args[0] not in unops:
                raise TestError(f"{args[0]}: unknown operand")
            result = unary(args[0], args[1])
        elif n == 3 and args[1] in binops:
            result = binary(*args)
        else:
            result = expr_or()
            if pos != len(args):
                raise TestError(f"{args[pos]}: unknown operand")
    except TestError as e:
        yield _err(f"sh: {name}: {e}" if "number" not in str(e) else f"sh: {e}")
        return 2
    return 0 if result else 1


# -- network ------------------------------------------------------------------------------------

_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}\Z")


def _split_url(url: str) -> tuple[str, str, int, str]:
    scheme = "http"
    if "://" in url:
        scheme, url = url.split("://", 1)
    hostport, _, path = url.partition("/")
    host, _, port = hostport.rpartition("@")[2].partition(":")
    default = 443 if scheme == "https" else 80
    return scheme, host, int(port) if port.isdigit() else default, "/" + path


def _lookup(ctx, host: str) -> Optional[str]:
    return host if _IPV4.match(host) else ctx.resolve(host)


def _host_header(header: str) -> str | None:
    """The host a `Host: foo.bar.com` request header names (curl -H, wget --header), or None."""
    name, sep, value = header.partition(":")
    return value.strip() or None if sep and name.strip().lower() == "host" else None


def _http_get(ctx, url: str, host: str | None = None):
    if ctx.http_get is not None:
        # the pod network (sim/clusterdns.py); a Host header only when one was given
        return ctx.http_get(url, host=host) if host else ctx.http_get(url)
    from sim.runtime import shell      # the hook is read at each call: tests and the network set it
    return shell.HTTP_GET(ctx, url)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _seconds(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value <= 86400 else None


def wget(ctx, argv, stdin=None):
    quiet, output, url, spider, host_header = False, None, None, False, None
    timeout = 900.0                         # busybox wget's default -T
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "--spider":
            spider = True
        elif a == "--header" or a.startswith("--header="):
            header = a.split("=", 1)[1] if "=" in a else (args.pop(0) if args else "")
            host_header = _host_header(header) or host_header
        elif a.startswith("--output-document="):
            output = a.split("=", 1)[1]
        elif a.startswith("--timeout="):
            timeout = _seconds(a.split("=", 1)[1]) or timeout
        elif a.startswith("--"):
            continue                        # --tries=...: accepted
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c == "q":
                    quiet = True
                elif c in "OTtYUP":
                    value = a[j + 1:] or (args.pop(0) if args else "")
                    if c == "O":
                        output = value
                    elif c == "T":
                        timeout = _seconds(value) or timeout
                    break
                j += 1
        else:
            url = a
    if url is None:
        yield _err("wget: missing URL")
        return 1
    scheme, host, port, path = _split_url(url)
    ip = _lookup(ctx, host)
    if ip is None:
        yield _err(f"wget: bad address '{host}'")
        return 1
    if not quiet:
        yield _err(f"Connecting to {host} ({ip}:{port})")
    reply = _http_get(ctx, f"{scheme}://{host}:{port}{path}", host_header)
    if reply == TIMED_OUT:
        # busybox wget arms alarm(-T) around connect(): it fires first, or the kernel gives up.
        if timeout and timeout < TCP_CONNECT_TIMEOUT:
            yield Sleep(timeout)
            yield _err("wget: download timed out")
        else:
            yield Sleep(TCP_CONNECT_TIMEOUT)
            yield _err(f"wget: can't connect to remote host ({ip}): Connection timed out")
        return 1
    if reply is None:
        yield _err(f"wget: can't connect to remote host ({ip}): Connection refused")
        return 1
    status, body = reply
    if status >= 400:
        yield _err(f"wget: server returned error: HTTP/1.1 {status} {_phrase(status)}")
        return 1
    if spider:
        if not quiet:
            yield _err("remote file exists")
        return 0
    if output == "-":
        if not quiet:
            yield _err("writing to stdout")
        yield from _out(body)
        if not quiet:
            yield _err("written to stdout")
        return 0
    target = output or posixpath.basename(path) or "index.html"
    full = _path(ctx, target)
    if not quiet:
        yield _err(f"saving to '{target}'")
    if full in ctx.fs.files and output is None:
        yield _err(f"wget: can't open '{target}': File exists")
        return 1
    if not ctx.fs.write(full, body):
        yield _err(f"wget: can't open '{target}': Read-only file system")
        return 1
    if not quiet:
        yield _err(f"{target[:20]:<20} 100% |********************************| {len(body):>5}  0:00:00 ETA")
        yield _err(f"'{target}' saved")
    return 0


def curl(ctx, argv, stdin=None):
    silent = show_errors = fail = include = head_only = False
    output, url, remote_name, timeout, host_header = None, None, False, None, None
    args = list(argv[1:])
    takes_value = {"-o", "-H", "-X", "-d", "-m", "-u", "-A", "-w", "-e", "-x", "--data",
                   "--header", "--request", "--max-time", "--connect-timeout", "--retry",
                   "--output", "--user", "--user-agent", "--write-out"}
    while args:
        a = args.pop(0)
        if a in takes_value:
            value = args.pop(0) if args else ""
            if a in ("-o", "--output"):
                output = value
            elif a in ("-H", "--header"):
                host_header = _host_header(value) or host_header
            elif a in ("-m", "--max-time", "--connect-timeout") and _seconds(value):
                timeout = min(timeout or TCP_CONNECT_TIMEOUT, _seconds(value))
        elif a.startswith("--"):
            silent = silent or a == "--silent"
            show_errors = show_errors or a == "--show-error"
            fail = fail or a == "--fail"
            include = include or a == "--include"
            head_only = head_only or a == "--head"
        elif a.startswith("-") and len(a) > 1:
            for c in a[1:]:
                silent = silent or c == "s"
                show_errors = show_errors or c == "S"
                fail = fail or c == "f"
                include = include or c == "i"
                head_only = head_only or c == "I"
                remote_name = remote_name or c == "O"
        else:
            url = a
    if url is None:
        yield _err("curl: try 'curl --help' or 'curl --manual' for more information")
        return 2
    errors = not silent or show_errors
    scheme, host, port, path = _split_url(url)
    ip = _lookup(ctx, host)
    if ip is None:
        if errors:
            yield _err(f"curl: (6) Could not resolve host: {host}")
        return 6
    reply = _http_get(ctx, f"{scheme}://{host}:{port}{path}", host_header)
    if reply == TIMED_OUT:
        # curl's own timer (--connect-timeout / -m) or the kernel's ETIMEDOUT, whichever is first.
        waited = timeout if timeout and timeout < TCP_CONNECT_TIMEOUT else TCP_CONNECT_TIMEOUT
        yield Sleep(waited)
        if errors:
            why = "Timeout was reached" if waited < TCP_CONNECT_TIMEOUT else "Couldn't connect to server"
            yield _err(f"curl: (28) Failed to connect to {host} port {port} after {int(waited * 1000)} ms: {why}")
        return 28
    if reply is None:
        if errors:
            yield _err(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server")
        return 7
    status, body = reply
    if fail and status >= 400:
        if errors:
            yield _err(f"curl: (22) The requested URL returned error: {status}")
        return 22
    headers = f"HTTP/1.1 {status} {_phrase(status)}\r\nContent-Length: {len(body)}\r\n\r\n"
    text = headers if head_only else (headers + body if include else body)
    if remote_name and output is None:
        output = posixpath.basename(path) or "index.html"
    if output is not None and output != "-":
        if not ctx.fs.write(_path(ctx, output), text):
            if errors:
                yield _err("curl: (23) Failure writing output to destination")
            return 23
        return 0
    yield from _out(text)
    return 0


# -- shells -------------------------------------------------------------------------------------

def sh(ctx, argv, stdin=None):
    import dataclasses
    from sim.runtime.shell import shell_program
    return (yield from shell_program(dataclasses.replace(ctx, argv=list(argv)), stdin))


def busybox(ctx, argv, stdin=None):
    if len(argv) < 2 or argv[1] not in UTILITIES or argv[1] == "busybox":
        yield Write("BusyBox v1.36.1 multi-call binary.\n")
        return 0 if len(argv) < 2 else 127
    return (yield from UTILITIES[argv[1]](ctx, argv[1:], stdin=stdin))


UTILITIES: dict[str, Callable[..., ProgramGen]] = {
    "echo": echo, "printf": printf, "env": _env, "printenv": printenv, "cat": cat, "ls": ls,
    "sleep": sleep, "date": date, "hostname": hostname, "true": true, "false": false,
    "touch": touch, "rm": rm, "mkdir": mkdir, "pwd": pwd, "whoami": whoami, "id": id_,
    "uname": uname, "wget": wget, "curl": curl, "nslookup": busybox_nslookup, "seq": seq, "expr": expr,
    "test": test, "[": test, "kill": kill, "grep": grep, "wc": wc, "head": head, "tail": tail,
    "sort": sort, "uniq": uniq, "tr": tr, "cp": cp, "mv": mv, "basename": basename,
    "dirname": dirname, "sh": sh, "ash": sh, "bash": sh, "busybox": busybox,
}
