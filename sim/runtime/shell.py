"""sh/ash/bash in a container: a small POSIX-shell interpreter as a simulated program.

Introductory Kubernetes material runs busybox, alpine and ubuntu images with commands such as
`sh -c 'i=0; while true; do echo "$i: $(date)"; i=$((i+1)); sleep 1; done'`.  This module runs
such scripts over the process protocol (sim/runtime/process.py): the interpreter is a generator
that yields Sleep/Write system calls, so an endless loop is an endless *generator* the kubelet
steps in virtual time, never a computation done eagerly.

Layout: a lexer (words keep their raw text, quotes included; they are expanded when run), a
recursive-descent parser to a small AST of dataclasses, and an interpreter whose methods are
generators joined with `yield from`.  Redirections and pipes work by *routing* the Write calls a
command yields (`_route`): to a file, to a capture buffer, to /dev/null, or up to the caller.

Deliberate simplifications (documented, not accidental):
  * `cmd &` runs in the foreground, sequentially (there is one process and no job control);
  * a pipeline runs its left side to completion (its output capped) and gives that text as
    stdin to the right side; a left side that overflows the cap is stopped (as SIGPIPE would);
  * no `set -x`, no arrays, no `${var/pat/rep}`, no `exec >file`, no process substitution;
  * `tail -f` prints then sleeps forever (it does not follow later writes).
Error messages follow busybox ash (`sh: X: not found`, `sh: syntax error: unexpected "done"`).
"""
from __future__ import annotations

import copy
import dataclasses
import fnmatch
import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Optional

from sim.runtime.process import NOT_FOUND_EXIT, Interrupted, ProcessContext, ProgramGen, Read, Sleep, Write

# Bounds, so that no script can grow the simulator's memory or hold its CPU.
MAX_VALUE_CHARS = 1024 * 1024      # one variable, one command substitution, one pipe's text
MAX_FILE_CHARS = 1024 * 1024       # a file written by redirection is cut here
YIELD_EVERY = 1000                 # interpreted commands between forced yields ...
BUSY_SLEEP = 0.001                 # ... of this long, so `while :; do :; done` cannot hang
FILE_FLUSH_CHARS = 64 * 1024       # redirected output is buffered up to this before fs.write
SYNTAX_EXIT = 2
PIPE_EXIT = 141                    # 128 + SIGPIPE: a pipe's reader stopped reading
PID = 1                            # $$: a container's shell is usually PID 1


# ----------------------------------------------------------------------------------------------
# Lexer
# ----------------------------------------------------------------------------------------------

class ShellSyntaxError(Exception):
    """A parse error; the message is what follows `sh: syntax error: `."""


@dataclass
class Token:
    kind: str                 # WORD, OP, NL, REDIR, EOF
    value: str = ""
    fd: Optional[int] = None  # REDIR: the explicit descriptor (2 in 2>&1)
    body: Optional[str] = None    # REDIR <<: the here-document's text
    quoted: bool = False          # REDIR <<: a quoted delimiter (no expansion of the body)


_OPS = ("&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", ";", "&", "|", "(", ")", "<", ">")
_REDIR_OPS = {"<<-", "<<", ">>", ">&", "<&", ">|", "<", ">"}
_WORD_END = set(" \t\n;&|()<>")


def _scan_bt(s: str, i: int) -> int:
    """s[i] is a backtick: the index after its closing backtick."""
    j = i + 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
        elif s[j] == "`":
            return j + 1
        else:
            j += 1
    raise ShellSyntaxError('unexpected end of file (expecting "`")')


def _scan_dq(s: str, i: int) -> int:
    """i is just after an opening double quote: the index after the closing one."""
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "$":
            i = _scan_dollar(s, i)
        elif c == "`":
            i = _scan_bt(s, i)
        else:
            i += 1
    raise ShellSyntaxError("unterminated quoted string")


def _scan_paren(s: str, i: int) -> int:
    """s[i] is '(': the index after its matching ')', skipping quotes and nested parens."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = s.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            i = j + 1
            continue
        if c == '"':
            i = _scan_dq(s, i + 1)
            continue
        if c == "`":
            i = _scan_bt(s, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError('unexpected end of file (expecting ")")')


def _scan_brace(s: str, i: int) -> int:
    """s[i] is '{' of ${...}: the index after the matching '}'."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = s.find("'", i + 1)
            i = (j + 1) if j >= 0 else len(s)
            continue
        if c == '"':
            i = _scan_dq(s, i + 1)
            continue
        if c == "$" and s.startswith("$(", i):
            i = _scan_paren(s, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError('unexpected end of file (expecting "}")')


def _scan_dollar(s: str, i: int) -> int:
    """s[i] is '$': the index after a $(...), $((...)) or ${...}; else after the '$'."""
    if s.startswith("$(", i):
        return _scan_paren(s, i + 1)
    if s.startswith("${", i):
        return _scan_brace(s, i + 1)
    return i + 1


def _scan_word(s: str, i: int) -> int:
    while i < len(s) and s[i] not in _WORD_END:
        c = s[i]
        if c == "\\":
            i += 2
        elif c == "'":
            j = s.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            i = j + 1
        elif c == '"':
            i = _scan_dq(s, i + 1)
        elif c == "$":
            i = _scan_dollar(s, i)
        elif c == "`":
            i = _scan_bt(s, i)
        else:
            i += 1
    return min(i, len(s))


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    heredocs: list[tuple[Token, str, bool]] = []   # waiting for the next newline
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
        elif c == "\\" and src.startswith("\\\n", i):     # line continuation
            i += 2
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c == "\n":
            tokens.append(Token("NL"))
            i += 1
            # Here-documents' bodies start on the line after their operator.
            for tok, delim, strip in heredocs:
                body: list[str] = []
                while i < n:
                    end = src.find("\n", i)
                    end = n if end < 0 else end
                    line = src[i:end]
                    i = end + 1
                    if strip:
                        line = line.lstrip("\t")
                    if line == delim:
                        break
                    body.append(line + "\n")
                tok.body = "".join(body)
            heredocs.clear()
        else:
            op = next((o for o in _OPS if src.startswith(o, i)), None)
            fd = None
            if op is None:
                j = _scan_word(src, i)
                raw = src[i:j]
                if raw.isdigit() and j < n and src[j] in "<>":
                    fd, i = int(raw), j          # an IO number: the 2 of 2>&1
                    op = next(o for o in _OPS if src.startswith(o, i))
                else:
                    tokens.append(Token("WORD", raw))
                    i = j
                    continue
            i += len(op)
            if op in _REDIR_OPS:
                tok = Token("REDIR", op, fd=fd)
                if op.startswith("<<"):
                    while i < n and src[i] in " \t":
                        i += 1
                    j = _scan_word(src, i)
                    raw = src[i:j]
                    if not raw:
                        raise ShellSyntaxError("unexpected newline" if j >= n or src[j] == "\n"
                                               else f'unexpected "{src[j]}"')
                    i = j
                    tok.quoted = any(q in raw for q in "'\"\\")
                    heredocs.append((tok, re.sub(r"[\"'\\]", "", raw), op == "<<-"))
                    tok.body = ""
                tokens.append(tok)
            else:
                tokens.append(Token("OP", op))
    tokens.append(Token("EOF"))
    return tokens


# ----------------------------------------------------------------------------------------------
# AST and parser
# ----------------------------------------------------------------------------------------------

@dataclass
class Redir:
    op: str
    target: str                # raw word (for <<: the delimiter)
    fd: Optional[int] = None
    body: Optional[str] = None
    quoted: bool = False


@dataclass
class Simple:
    assigns: list[tuple[str, str]]
    words: list[str]
    redirs: list[Redir]


@dataclass
class Pipeline:
    cmds: list
    negate: bool = False


@dataclass
class AndOr:
    first: object
    rest: list[tuple[str, object]]


@dataclass
class Seq:
    items: list


@dataclass
class If:
    branches: list[tuple[object, object]]
    else_: object = None


@dataclass
class Loop:
    cond: object
    body: object
    until: bool = False


@dataclass
class For:
    name: str
    words: Optional[list[str]]
    body: object


@dataclass
class Case:
    word: str
    items: list[tuple[list[str], object]]


@dataclass
class Group:
    body: object
    subshell: bool = False


@dataclass
class Redirected:
    node: object
    redirs: list[Redir]


@dataclass
class FuncDef:
    name: str
    body: object


_RESERVED_NOT_START = {"then", "else", "elif", "fi", "do", "done", "esac", "}", "in"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


class Parser:
    """Recursive descent over tokens.  `next_command` returns one top-level line at a time, so a
    script runs line by line as ash does (`echo hi` then a bad line: hi is printed first)."""

    def __init__(self, src: str):
        self.toks = tokenize(src)
        self.p = 0

    def peek(self) -> Token:
        return self.toks[self.p]

    def next(self) -> Token:
        tok = self.toks[self.p]
        if tok.kind != "EOF":
            self.p += 1
        return tok

    def is_(self, kind: str, *values: str) -> bool:
        tok = self.peek()
        return tok.kind == kind and (not values or tok.value in values)

    def unexpected(self, tok: Token | None = None) -> ShellSyntaxError:
        tok = tok or self.peek()
        if tok.kind == "EOF":
            return ShellSyntaxError("unexpected end of file")
        if tok.kind == "NL":
            return ShellSyntaxError("unexpected newline")
        return ShellSyntaxError(f'unexpected "{tok.value}"')

    def expect(self, kind: str, value: str) -> None:
        tok = self.peek()
        if tok.kind == kind and tok.value == value:
            self.next()
        elif tok.kind == "EOF":
            raise ShellSyntaxError(f'unexpected end of file (expecting "{value}")')
        else:
            raise self.unexpected(tok)

    def skip_nl(self) -> None:
        while self.is_("NL"):
            self.next()

    def next_command(self):
        self.skip_nl()
        if self.is_("EOF"):
            return None
        items = [self.and_or()]
        while self.is_("OP", ";", "&"):       # `&`: run in the foreground (see module doc)
            self.next()
            if self.is_("NL") or self.is_("EOF"):
                break
            items.append(self.and_or())
        if not (self.is_("NL") or self.is_("EOF")):
            raise self.unexpected()
        return items[0] if len(items) == 1 else Seq(items)

    def compound_list(self, ends: set[str]) -> Seq:
        items = []
        self.skip_nl()
        while True:
            tok = self.peek()
            if tok.kind == "EOF" or (tok.kind in ("WORD", "OP") and tok.value in ends):
                break
            items.append(self.and_or())
            if self.is_("OP", ";", "&") or self.is_("NL"):
                self.next()
                self.skip_nl()
            else:
                break
        if not items:
            raise self.unexpected()
        return Seq(items)

    def and_or(self):
        first = self.pipeline()
        rest = []
        while self.is_("OP", "&&", "||"):
            op = self.next().value
            self.skip_nl()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest) if rest else first

    def pipeline(self):
        negate = False
        if self.is_("WORD", "!"):
            self.next()
            negate = True
        cmds = [self.command()]
        while self.is_("OP", "|"):
            self.next()
            self.skip_nl()
            cmds.append(self.command())
        return Pipeline(cmds, negate) if negate or len(cmds) > 1 else cmds[0]

    def command(self):
        tok = self.peek()
        node = None
        if tok.kind == "WORD":
            if tok.value in _RESERVED_NOT_START:
                raise self.unexpected(tok)
            parse = {"if": self.parse_if, "while": self.parse_loop, "until": self.parse_loop,
                     "for": self.parse_for, "case": self.parse_case, "{": self.parse_group}.get(tok.value)
            if parse:
                node = parse()
            elif (_NAME.match(tok.value) and self.toks[self.p + 1].kind == "OP"
                  and self.toks[self.p + 1].value == "("):
                self.next(); self.next()
                self.expect("OP", ")")
                self.skip_nl()
                return FuncDef(tok.value, self.command())
        elif tok.kind == "OP" and tok.value == "(":
            self.next()
            body = self.compound_list({")"})
            self.expect("OP", ")")
            node = Group(body, subshell=True)
        if node is None:
            return self.simple()
        redirs = self.redirs()
        return Redirected(node, redirs) if redirs else node

    def redirs(self) -> list[Redir]:
        out = []
        while self.is_("REDIR"):
            out.append(self.redir())
        return out

    def redir(self) -> Redir:
        tok = self.next()
        if tok.value.startswith("<<"):
            return Redir(tok.value, "", tok.fd, tok.body, tok.quoted)
        target = self.peek()
        if target.kind != "WORD":
            raise self.unexpected(target)
        self.next()
        return Redir(tok.value, target.value, tok.fd)

    def simple(self) -> Simple:
        assigns, words, redirs = [], [], []
        while True:
            tok = self.peek()
            if tok.kind == "REDIR":
                redirs.append(self.redir())
            elif tok.kind == "WORD":
                m = _ASSIGN.match(tok.value)
                if not words and m:
                    assigns.append((m.group(1), tok.value[m.end():]))
                else:
                    words.append(tok.value)
                self.next()
            else:
                break
        if not (assigns or words or redirs):
            raise self.unexpected()
        return Simple(assigns, words, redirs)

    def parse_if(self) -> If:
        self.next()
        branches = []
        while True:
            cond = self.compound_list({"then"})
            self.expect("WORD", "then")
            body = self.compound_list({"elif", "else", "fi"})
            branches.append((cond, body))
            if self.is_("WORD", "elif"):
                self.next()
                continue
            break
        else_ = None
        if self.is_("WORD", "else"):
            self.next()
            else_ = self.compound_list({"fi"})
        self.expect("WORD", "fi")
        return If(branches, else_)

    def parse_loop(self) -> Loop:
        until = self.next().value == "until"
        cond = self.compound_list({"do"})
        self.expect("WORD", "do")
        body = self.compound_list({"done"})
        self.expect("WORD", "done")
        return Loop(cond, body, until)

    def parse_for(self) -> For:
        self.next()
        name = self.next()
        if name.kind != "WORD" or not _NAME.match(name.value):
            raise ShellSyntaxError("bad for loop variable")
        words = None
        self.skip_nl()
        if self.is_("WORD", "in"):
            self.next()
            words = []
            while self.is_("WORD"):
                words.append(self.next().value)
        if self.is_("OP", ";"):
            self.next()
        self.skip_nl()
        self.expect("WORD", "do")
        body = self.compound_list({"done"})
        self.expect("WORD", "done")
        return For(name.value, words, body)

    def parse_case(self) -> Case:
        self.next()
        word = self.next()
        if word.kind != "WORD":
            raise self.unexpected(word)
        self.skip_nl()
        self.expect("WORD", "in")
        self.skip_nl()
        items = []
        while not self.is_("WORD", "esac"):
            if self.is_("EOF"):
                raise ShellSyntaxError('unexpected end of file (expecting "esac")')
            if self.is_("OP", "("):
                self.next()
            patterns = []
            while True:
                tok = self.next()
                if tok.kind != "WORD":
                    raise self.unexpected(tok)
                patterns.append(tok.value)
                if not self.is_("OP", "|"):
                    break
                self.next()
            self.expect("OP", ")")
            self.skip_nl()
            body = None
            if not (self.is_("OP", ";;") or self.is_("WORD", "esac")):
                body = self.compound_list({";;", "esac"})
            items.append((patterns, body))
            if self.is_("OP", ";;"):
                self.next()
            self.skip_nl()
        self.next()
        return Case(word.value, items)

    def parse_group(self) -> Group:
        self.next()
        body = self.compound_list({"}"})
        self.expect("WORD", "}")
        return Group(body)


# ----------------------------------------------------------------------------------------------
# Arithmetic $(( ))
# ----------------------------------------------------------------------------------------------

class ShellFatal(Exception):
    """An error that ends a non-interactive shell (ash: arithmetic errors, bad substitution)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.message, self.code = message, code


_ARITH_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)"
    r"|(\*\*|<<=|>>=|\+\+|--|&&|\|\||<<|>>|[-+*/%<>&|^!=]=|[-+*/%<>=!~&|^?:()]))")
_BINARY = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7,
           ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10, "**": 11}
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="}


def _wrap64(x: int) -> int:
    # The shell's arithmetic is C's 64-bit signed arithmetic; wrapping also bounds memory.
    return ((x + 2 ** 63) % 2 ** 64) - 2 ** 63


class Arith:
    """Parse to tuples, then evaluate (so && || ?: evaluate only the branch taken)."""

    def __init__(self, text: str, get: Callable[[str], str], set_: Callable[[str, str], None]):
        self.toks: list[tuple[str, object]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            m = _ARITH_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ShellFatal("arithmetic syntax error")
            num, name, op = m.groups()
            if num is not None:
                try:
                    value = int(num, 16) if num[:2].lower() == "0x" else int(num, 8) if len(num) > 1 and num[0] == "0" else int(num)
                except ValueError:
                    raise ShellFatal("arithmetic syntax error")
                self.toks.append(("num", value))
            elif name is not None:
                self.toks.append(("name", name))
            else:
                self.toks.append(("op", op))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0
        self.get, self.set = get, set_

    def value(self) -> int:
        if not self.toks:
            return 0
        tree = self.assign()
        if self.i != len(self.toks):
            raise ShellFatal("arithmetic syntax error")
        return self.eval(tree)

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", None)

    def take(self):
        tok = self.peek()
        if tok[0] == "end":
            raise ShellFatal("arithmetic syntax error")
        self.i += 1
        return tok

    def assign(self):
        if (self.peek()[0] == "name" and self.i + 1 < len(self.toks)
                and self.toks[self.i + 1] in [("op", o) for o in _ASSIGN_OPS]):
            name = self.take()[1]
            op = self.take()[1]
            return ("assign", op, name, self.assign())
        return self.ternary()

    def ternary(self):
        cond = self.binary(1)
        if self.peek() == ("op", "?"):
            self.take()
            a = self.assign()
            if self.take() != ("op", ":"):
                raise ShellFatal("arithmetic syntax error")
            return ("tern", cond, a, self.assign())
        return cond

    def binary(self, min_prec: int):
        left = self.unary()
        while self.peek()[0] == "op" and _BINARY.get(self.peek()[1], 0) >= min_prec:
            op = self.take()[1]
            prec = _BINARY[op]
            left = ("bin", op, left, self.binary(prec if op == "**" else prec + 1))
        return left

    def unary(self):
        kind, v = self.peek()
        if kind == "op" and v in ("-", "+", "!", "~"):
            self.take()
            return ("un", v, self.unary())
        if kind == "op" and v in ("++", "--"):
            self.take()
            name = self.take()
            if name[0] != "name":
                raise ShellFatal("arithmetic syntax error")
            return ("pre", v, name[1])
        kind, v = self.take()
        if kind == "num":
            return ("num", v)
        if kind == "name":
            if self.peek() in (("op", "++"), ("op", "--")):
                return ("post", self.take()[1], v)
            return ("var", v)
        if (kind, v) == ("op", "("):
            inner = self.assign()
            if self.take() != ("op", ")"):
                raise ShellFatal("arithmetic syntax error")
            return inner
        raise ShellFatal("arithmetic syntax error")

    def var(self, name: str) -> int:
        text = self.get(name).strip()
        if not text:
            return 0
        if re.fullmatch(r"[-+]?\d+", text):
            return _wrap64(int(text))
        raise ShellFatal("arithmetic syntax error")

    def eval(self, t) -> int:
        kind = t[0]
        if kind == "num":
            return _wrap64(t[1])
        if kind == "var":
            return self.var(t[1])
        if kind == "un":
            x = self.eval(t[2])
            return _wrap64({"-": -x, "+": x, "!": int(not x), "~": ~x}[t[1]])
        if kind in ("pre", "post"):
            old = self.var(t[2])
            new = _wrap64(old + (1 if t[1] == "++" else -1))
            self.set(t[2], str(new))
            return new if kind == "pre" else old
        if kind == "tern":
            return self.eval(t[2]) if self.eval(t[1]) else self.eval(t[3])
        if kind == "assign":
            _, op, name, expr = t
            value = self.eval(expr)
            if op != "=":
                value = self.binop(op[:-1], self.var(name), value)
            self.set(name, str(value))
            return value
        op = t[1]
        if op == "&&":
            return int(bool(self.eval(t[2])) and bool(self.eval(t[3])))
        if op == "||":
            return int(bool(self.eval(t[2])) or bool(self.eval(t[3])))
        return self.binop(op, self.eval(t[2]), self.eval(t[3]))

    @staticmethod
    def binop(op: str, a: int, b: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise ShellFatal("divide by zero")
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C truncates toward 0
            return _wrap64(q if op == "/" else a - b * q)
        if op == "**":
            if b < 0:
                raise ShellFatal("exponent less than 0")
            return _wrap64(pow(a, b, 2 ** 64))
        if op in ("<<", ">>"):
            return _wrap64(a << (b & 63) if op == "<<" else a >> (b & 63))
        return _wrap64({"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b,
                        "==": int(a == b), "!=": int(a != b), "<": int(a < b), ">": int(a > b),
                        "<=": int(a <= b), ">=": int(a >= b)}[op])


# ----------------------------------------------------------------------------------------------
# Output routing (redirections, pipes, command substitution)
# ----------------------------------------------------------------------------------------------

class _Null:
    pass


_NULL = _Null()


class _Capture:
    """Output kept in memory (a pipe's text, a command substitution), bounded."""

    def __init__(self, cap: int = MAX_VALUE_CHARS):
        self.parts: list[str] = []
        self.size, self.cap, self.full = 0, cap, False

    def add(self, text: str) -> None:
        room = self.cap - self.size
        if len(text) >= room:
            text, self.full = text[:room], True
        self.parts.append(text)
        self.size += len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts)


class _FileSink:
    """Output appended to a file in the container's fs; buffered (a loop of small writes would
    otherwise copy the file each time) and flushed before the program blocks or at the end."""

    def __init__(self, fs, path: str):
        self.fs, self.path = fs, path
        self.parts: list[str] = []
        self.size = 0
        self.full = False

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= FILE_FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        old = self.fs.read(self.path) or ""
        if len(old) < MAX_FILE_CHARS:
            self.fs.write(self.path, (old + "".join(self.parts))[:MAX_FILE_CHARS])
        self.parts, self.size = [], 0


def _route(gen: ProgramGen, table: dict, sinks=(), stop: Optional[_Capture] = None) -> ProgramGen:
    """Drive `gen`, sending each Write where `table` says for its descriptor (1 stdout, 2
    stderr): "stdout"/"stderr" = up to the caller as that stream, _NULL = dropped, a sink = kept.
    A descriptor missing from the table passes through unchanged."""
    sent = None
    try:
        while True:
            try:
                call = gen.send(sent)
            except StopIteration as stopped:
                return stopped.value
            sent = None
            if isinstance(call, Write):
                target = table.get(1 if call.stream == "stdout" else 2)
                if target is None:
                    yield call
                elif target is _NULL:
                    continue
                elif isinstance(target, str):
                    yield call if call.stream == target else Write(call.text, target)
                else:
                    target.add(call.text)
                    if stop is not None and stop.full:
                        gen.close()          # the reader has all it takes: stop the writer
                        return PIPE_EXIT
            else:
                for sink in sinks:
                    sink.flush()
                sent = yield call        # a Read's line goes back down
    finally:
        for sink in sinks:
            sink.flush()


class _Stdin:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def read_all(self) -> str:
        rest, self.pos = self.text[self.pos:], len(self.text)
        return rest

    def readline(self) -> Optional[str]:
        if self.pos >= len(self.text):
            return None
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end + 1
        line, self.pos = self.text[self.pos:end], end
        return line.rstrip("\n")


# ----------------------------------------------------------------------------------------------
# The interpreter
# ----------------------------------------------------------------------------------------------

class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


class _Break(Exception):
    def __init__(self, n: int):
        self.n = n


class _Continue(_Break):
    pass


class _Return(Exception):
    def __init__(self, code: int):
        self.code = code


_IFS_SPLIT = re.compile(r"[ \t\n]+")
_GLOB_CHARS = re.compile(r"[*?\[]")
# Utilities that read stdin (a pipe's text or a < file); others leave it for the next command,
# as `while read l; do echo "$l"; done` needs.
STDIN_READERS = {"cat", "grep", "wc", "head", "tail", "sort", "uniq", "sh", "ash", "bash", "tr"}
_BIN_DIRS = {"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin"}


def _glob_escape(s: str) -> str:
    return _GLOB_CHARS.sub(lambda m: f"[{m.group(0)}]", s)


class _Proc:
    """What a shell shares with its subshells: the process's context and its command counter."""

    def __init__(self, ctx: ProcessContext, name: str):
        self.ctx, self.name, self.commands = ctx, name, 0


class Shell:
    def __init__(self, ctx: ProcessContext, name: str = "sh", arg0: str = "sh",
                 args: list[str] | None = None):
        self.proc = _Proc(ctx, name)
        self.fs = ctx.fs
        self.vars: dict[str, str] = {k: v[:MAX_VALUE_CHARS] for k, v in ctx.env.items()}
        self.exported: set[str] = set(ctx.env)
        self.arg0, self.args = arg0, list(args or [])
        self.status = 0
        self.errexit = False
        self.cwd = ctx.cwd
        self.funcs: dict[str, object] = {}
        self.stdin: Optional[_Stdin] = None
        self.cond = 0          # >0 inside an if/while condition or before && ||: `set -e` waits
        self.loops = 0
        self.subst_status = 0

    def subshell(self) -> "Shell":
        sub = copy.copy(self)
        sub.vars, sub.exported = dict(self.vars), set(self.exported)
        sub.args, sub.funcs = list(self.args), dict(self.funcs)
        sub.loops = 0
        return sub

    def _msg(self, text: str) -> Write:
        return Write(f"{self.proc.name}: {text}\n", "stderr")

    # -- running source ------------------------------------------------------------------------

    def run_source(self, src: str) -> ProgramGen:
        """Run a whole script as a shell process does: exit, fatal errors and syntax errors end
        it here.  Returns the exit status."""
        try:
            parser = Parser(src)
            while True:
                node = parser.next_command()
                if node is None:
                    break
                yield from self.execute(node)
        except _Exit as e:
            self.status = e.code
        except ShellSyntaxError as e:
            yield self._msg(f"syntax error: {e}")
            self.status = SYNTAX_EXIT
        except ShellFatal as e:
            yield self._msg(e.message)
            self.status = e.code
        except _Return as e:           # `return` outside a function ends a sourced script
            self.status = e.code
        except _Break:
            pass
        return self.status & 255

    def prompt(self, continued: bool) -> str:
        """PS1 / PS2: busybox ash's default for root is `\\w \\$ ` ("/ # "; busybox and
        alpine), bash's in the Debian-based images `\\u@\\h:\\w\\$ ` ("root@web:/# "), and
        their `sh`, dash, prompts `# `."""
        if continued:
            return self.vars.get("PS2", "> ")
        home = self.vars.get("HOME", "/root")
        cwd = "~" + self.cwd[len(home):] if home not in ("", "/") and (self.cwd == home or self.cwd.startswith(
            home + "/")) else self.cwd
        if "PS1" in self.vars:  # the escapes ash and bash both expand
            escapes = {"w": cwd, "W": posixpath.basename(cwd) or "/", "u": "root", "h": self.proc.ctx.hostname,
                       "$": "#", "\\": "\\"}
            return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), self.vars["PS1"])
        if self.proc.name == "bash":
            return f"root@{self.proc.ctx.hostname}:{cwd}# "
        release = self.fs.read("/etc/os-release") or ""
        if self.proc.name == "dash" or re.search(r"^(ID|ID_LIKE)=(debian|ubuntu)$", release, re.M):
            return "# "
        return f"{cwd} # "

    def read_commands(self, interactive: bool) -> ProgramGen:
        """The shell reading its commands from stdin (`sh` with no -c and no file): each line as it
        comes, a command left open (`if ...`, a quote) continued on the next.  Interactive:
        a prompt before each (on stderr, as ash writes it), a syntax error or a failed command
        leaves the shell running; end of file (^D) or `exit N` ends it with that status."""
        text = ""
        while True:
            if interactive:
                yield Write(self.prompt(bool(text)), "stderr")
            line = yield Read()
            if line is None:
                if interactive and self.proc.name == "bash":
                    yield Write("exit\n", "stderr")
                if text and not interactive:
                    yield self._msg("syntax error: unexpected end of file")
                    return SYNTAX_EXIT
                return self.status & 255
            text += line if line.endswith("\n") else line + "\n"
            try:
                parser, nodes = Parser(text), []
                while (node := parser.next_command()) is not None:
                    nodes.append(node)
            except ShellSyntaxError as e:
                if str(e).startswith(("unexpected end of file", "unterminated quoted string")):
                    continue  # PS2: the command goes on on the next line
                text = ""
                yield self._msg(f"syntax error: {e}")
                self.status = SYNTAX_EXIT
                if not interactive:
                    return SYNTAX_EXIT
                continue
            text = ""
            try:
                for node in nodes:
                    yield from self.execute(node)
            except _Exit as e:
                if interactive and self.proc.name == "bash":
                    yield Write("exit\n", "stderr")
                return e.code & 255
            except ShellFatal as e:
                yield self._msg(e.message)
                self.status = e.code
                if not interactive:
                    return e.code & 255
            except (_Return, _Break):
                pass
            except Interrupted:
                # ^C: the command is dropped and the shell prompts again (ash: status 130).
                self.status = 130
                if not interactive:
                    return 130

    def run_nested(self, src: str) -> ProgramGen:
        """eval / `.`: parse all of src and run it in this shell; errors are fatal."""
        try:
            parser = Parser(src)
            nodes = []
            while (node := parser.next_command()) is not None:
                nodes.append(node)
        except ShellSyntaxError as e:
            raise ShellFatal(f"syntax error: {e}")
        status = 0
        for node in nodes:
            status = yield from self.execute(node)
        return status

    def run_sub(self, node) -> ProgramGen:
        """Run node in this (sub)shell as a separate process: exit ends only it."""
        try:
            return (yield from self.execute(node))
        except _Exit as e:
            return e.code
        except ShellFatal as e:
            yield self._msg(e.message)
            return e.code
        except (_Break, _Return):
            return self.status

    def execute(self, node) -> ProgramGen:
        kind = type(node)
        if kind is Simple:
            status = yield from self.simple(node)
        elif kind is Pipeline:
            status = yield from self.pipeline(node)
        elif kind is AndOr:
            status = yield from self.and_or(node)
        elif kind is Seq:
            status = 0
            for item in node.items:
                status = yield from self.execute(item)
        elif kind is If:
            status = yield from self.if_(node)
        elif kind is Loop:
            status = yield from self.loop(node)
        elif kind is For:
            status = yield from self.for_(node)
        elif kind is Case:
            status = yield from self.case(node)
        elif kind is Group:
            if node.subshell:
                status = yield from self.subshell().run_sub(node.body)
            else:
                status = yield from self.execute(node.body)
        elif kind is Redirected:
            redir = yield from self.open_redirs(node.redirs)
            status = 1 if redir is None else (yield from self.with_redirs(lambda: self.execute(node.node), redir))
        elif kind is FuncDef:
            self.funcs[node.name] = node.body
            status = 0
        else:  # pragma: no cover
            raise TypeError(kind)
        self.status = status
        # set -e: a failed command ends the shell, unless it is tested (if/while condition, not
        # last in && ||, negated by !).  Compound commands pass on a status whose command was
        # already checked, so only commands and subshells are checked here.
        if (status and self.errexit and self.cond == 0
                and (kind is Simple or (kind is Group and node.subshell)
                     or (kind is Pipeline and not node.negate))):
            raise _Exit(status)
        return status

    def conditional(self, node) -> ProgramGen:
        self.cond += 1
        try:
            return (yield from self.execute(node))
        finally:
            self.cond -= 1

    def and_or(self, node: AndOr) -> ProgramGen:
        status = yield from self.conditional(node.first)
        for k, (op, right) in enumerate(node.rest):
            if (op == "&&") == (status == 0):
                last = k == len(node.rest) - 1
                status = yield from (self.execute(right) if last else self.conditional(right))
        return status

    def pipeline(self, node: Pipeline) -> ProgramGen:
        if node.negate:
            self.cond += 1
        try:
            if len(node.cmds) == 1:
                status = yield from self.execute(node.cmds[0])
            else:
                # Each part runs in a subshell (as in ash); the left sides to completion.
                stdin = self.stdin
                for cmd in node.cmds[:-1]:
                    sub = self.subshell()
                    sub.stdin = stdin
                    pipe = _Capture()
                    yield from _route(sub.run_sub(cmd), {1: pipe}, stop=pipe)
                    stdin = _Stdin(pipe.text())
                sub = self.subshell()
                sub.stdin = stdin
                status = yield from sub.run_sub(node.cmds[-1])
        finally:
            if node.negate:
                self.cond -= 1
        return int(status == 0) if node.negate else status

    def if_(self, node: If) -> ProgramGen:
        for cond, body in node.branches:
            if (yield from self.conditional(cond)) == 0:
                return (yield from self.execute(body))
        if node.else_ is not None:
            return (yield from self.execute(node.else_))
        return 0

    def run_body(self, body) -> ProgramGen:
        """A loop's body; returns (status, 'break'|'continue'|None)."""
        try:
            return (yield from self.execute(body)), None
        except _Break as b:
            if b.n > 1:
                b.n -= 1
                raise
            return self.status, "continue" if isinstance(b, _Continue) else "break"

    def loop(self, node: Loop) -> ProgramGen:
        status = 0
        self.loops += 1
        try:
            while True:
                if ((yield from self.conditional(node.cond)) == 0) == node.until:
                    break
                status, jump = yield from self.run_body(node.body)
                if jump == "break":
                    break
        finally:
            self.loops -= 1
        return status

    def for_(self, node: For) -> ProgramGen:
        words = list(self.args) if node.words is None else (yield from self.expand_words(node.words))
        status = 0
        self.loops += 1
        try:
            for word in words:
                self.set_var(node.name, word)
                status, jump = yield from self.run_body(node.body)
                if jump == "break":
                    break
        finally:
            self.loops -= 1
        return status

    def case(self, node: Case) -> ProgramGen:
        word = yield from self.expand(node.word, split=False)
        for patterns, body in node.items:
            for raw in patterns:
                pattern = yield from self.expand(raw, split=False, pattern=True)
                if fnmatch.fnmatchcase(word, pattern):
                    return 0 if body is None else (yield from self.execute(body))
        return 0

    # -- simple commands -------------------------------------------------------------------------

    def simple(self, node: Simple) -> ProgramGen:
        self.proc.commands += 1
        if self.proc.commands % YIELD_EVERY == 0:
            yield Sleep(BUSY_SLEEP)     # a loop with no sleep still hands control back
        self.subst_status = 0
        argv = yield from self.expand_words(node.words)
        assigns = []
        for name, raw in node.assigns:
            assigns.append((name, (yield from self.expand(raw, split=False))))
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            if node.redirs:
                redir = yield from self.open_redirs(node.redirs)
                if redir is None:
                    return 1
                for sink in redir[1]:
                    sink.flush()
            return self.subst_status
        redir = ({}, [], None)
        if node.redirs:
            redir = yield from self.open_redirs(node.redirs)
        if redir is None:
            return 1
        return (yield from self.with_redirs(lambda: self.command(argv, assigns), redir))

    def with_redirs(self, make_gen, redir) -> ProgramGen:
        table, sinks, stdin = redir
        saved = self.stdin
        if stdin is not None:
            self.stdin = _Stdin(stdin)
        try:
            if not table and not sinks:
                return (yield from make_gen())
            return (yield from _route(make_gen(), table, sinks))
        finally:
            self.stdin = saved

    def command(self, argv: list[str], assigns: list[tuple[str, str]]) -> ProgramGen:
        name = argv[0]
        builtin = BUILTINS.get(name)
        if builtin is not None:
            for var, value in assigns:
                self.set_var(var, value)
            return (yield from builtin(self, argv))
        if name in self.funcs:
            return (yield from self.call_function(name, argv, assigns))
        return (yield from self.external(argv, assigns))

    def call_function(self, name, argv, assigns) -> ProgramGen:
        for var, value in assigns:
            self.set_var(var, value)
        saved, self.args = self.args, argv[1:]
        try:
            return (yield from self.execute(self.funcs[name]))
        except _Return as r:
            return r.code
        finally:
            self.args = saved

    def external(self, argv: list[str], assigns) -> ProgramGen:
        name = argv[0]
        util = find_program(name, self.fs, self.cwd) or _image_program(name, self.proc.ctx.binaries)
        if util is None:
            if self.proc.name == "bash":
                yield self._msg(f"{name}: command not found")
            else:
                yield self._msg(f"{name}: not found")
            return NOT_FOUND_EXIT
        env = {k: self.vars[k] for k in self.vars if k in self.exported}
        env.update(assigns)
        ctx = dataclasses.replace(self.proc.ctx, argv=list(argv), env=env, cwd=self.cwd)
        stdin = None
        if self.stdin is not None and posixpath.basename(name) in STDIN_READERS:
            stdin = self.stdin.read_all()
        elif self.stdin is None and self.proc.ctx.stdin and posixpath.basename(name) == "cat" and \
                all(a == "-" or a.startswith("-") and a != "--" for a in argv[1:]):
            # `cat > /tmp/notes` typed at the prompt: cat reads the shell's own stdin (the
            # terminal) to its end (^D), as from a pipe the rest of it.
            if all(a == "-" for a in argv[1:]):
                return (yield from copy_stdin())
            lines = []
            while (line := (yield Read())) is not None and sum(map(len, lines)) < MAX_VALUE_CHARS:
                lines.append(line)
            stdin = "".join(lines)
        return ((yield from util(ctx, list(argv), stdin=stdin)) or 0) & 255

    # -- redirections ----------------------------------------------------------------------------

    def open_redirs(self, redirs: list[Redir]) -> ProgramGen:
        """(table, sinks, stdin text) for _route, or None after writing the error."""
        table: dict = {}
        sinks: list[_FileSink] = []
        stdin = None
        for r in redirs:
            fd = r.fd if r.fd is not None else (0 if r.op.startswith("<") else 1)
            if r.op.startswith("<<"):
                stdin = r.body if r.quoted else (yield from self.expand_text(r.body or ""))
                continue
            target = yield from self.expand(r.target, split=False)
            if r.op in (">&", "<&"):
                if target == "-":
                    table[fd] = _NULL
                elif target in ("1", "2"):
                    table[fd] = table.get(int(target), "stdout" if target == "1" else "stderr")
                elif target != "0":
                    yield self._msg(f"{target}: bad file descriptor" if target.isdigit()
                                    else f"{target}: ambiguous redirect")
                    return None
                continue
            path = self.fs.normalize(target, self.cwd)
            if r.op == "<":
                content = self.fs.read(path)
                if content is None:
                    yield self._msg(f"can't open '{target}': No such file or directory")
                    return None
                stdin = content
                continue
            if path == "/dev/null":
                table[fd] = _NULL
                continue
            if path in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/1/fd/1"):
                table[fd] = table.get(1, "stdout")
                continue
            if path in ("/dev/stderr", "/dev/fd/2", "/proc/self/fd/2", "/proc/1/fd/2"):
                table[fd] = table.get(2, "stderr")
                continue
            if path not in self.fs.files and self.fs.is_dir(path):
                yield self._msg(f"can't create {target}: Is a directory")
                return None
            if not self.fs.writable(path):
                yield self._msg(f"can't create {target}: Read-only file system")
                return None
            if r.op != ">>" or self.fs.read(path) is None:
                self.fs.write(path, "")
            sink = _FileSink(self.fs, path)
            sinks.append(sink)
            table[fd] = sink
        return table, sinks, stdin

    # -- variables -------------------------------------------------------------------------------

    def set_var(self, name: str, value: str) -> None:
        self.vars[name] = value[:MAX_VALUE_CHARS]

    def get_var(self, name: str) -> str:
        value = self.param(name)
        return "" if value is None else value

    def param(self, name: str) -> Optional[str]:
        if name.isdigit():
            k = int(name)
            if k == 0:
                return self.arg0
            return self.args[k - 1] if k <= len(self.args) else None
        special = {"?": lambda: str(self.status), "$": lambda: str(PID), "#": lambda: str(len(self.args)),
                   "@": lambda: " ".join(self.args), "*": lambda: " ".join(self.args), "!": lambda: "",
                   "-": lambda: "e" if self.errexit else ""}.get(name)
        if special:
            return special()
        return self.vars.get(name)

    # -- expansion ------------------------------------------------------------------------------

    def expand_words(self, raws: list[str]) -> ProgramGen:
        out: list[str] = []
        for raw in raws:
            out.extend((yield from self.expand(raw)))
        return out

    def expand(self, raw: str, split: bool = True, pattern: bool = False) -> ProgramGen:
        """A word's fields (split=True: a list) or its single string (split=False).  pattern=True:
        the string is an fnmatch pattern with quoted characters escaped (case patterns)."""
        pieces = yield from self.pieces(raw)
        if not split:
            return "".join(
                " ".join(v) if k == "at" else (_glob_escape(v) if pattern and k == "q" else v)
                for k, v in pieces)
        return self.fields(pieces)

    def expand_text(self, text: str) -> ProgramGen:
        """Expand as inside double quotes, but a " is an ordinary character (here-documents,
        the inside of $(( )))."""
        pieces: list = []
        yield from self.double_quoted(text, 0, pieces, heredoc=True)
        return "".join(" ".join(v) if k == "at" else v for k, v in pieces)

    def pieces(self, raw: str) -> ProgramGen:
        """The word as (kind, value) pieces: 'lit' unquoted text (globbed, not split), 'q' quoted
        text (neither), 'exp' an unquoted expansion (split and globbed), 'at' a quoted "$@"."""
        pieces: list = []
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "'":
                j = raw.find("'", i + 1)
                j = n if j < 0 else j
                pieces.append(("q", raw[i + 1:j]))
                i = j + 1
            elif c == '"':
                i = yield from self.double_quoted(raw, i + 1, pieces)
            elif c == "\\":
                pieces.append(("q", raw[i + 1:i + 2]))
                i += 2
            elif c == "$":
                value, i = yield from self.dollar(raw, i, quoted=False)
                pieces.append(("exp", " ".join(value) if isinstance(value, list) else value))
            elif c == "`":
                j = _scan_bt(raw, i)
                pieces.append(("exp", (yield from self.backtick(raw[i + 1:j - 1]))))
                i = j
            elif c == "~" and i == 0 and (n == 1 or raw[1] == "/"):
                pieces.append(("q", self.vars.get("HOME", "/root")))
                i += 1
            else:
                j = i + 1
                while j < n and raw[j] not in "'\"\\$`":
                    j += 1
                pieces.append(("lit", raw[i:j]))
                i = j
        return pieces

    def double_quoted(self, raw: str, i: int, pieces: list, heredoc: bool = False) -> ProgramGen:
        buf: list[str] = []
        added = False
        n = len(raw)
        while i < n:
            c = raw[i]
            if c == '"' and not heredoc:
                i += 1
                break
            if c == "\\":
                nxt = raw[i + 1:i + 2]
                if nxt == "\n":
                    i += 2
                elif nxt and nxt in ("$`\\" if heredoc else "$`\"\\"):
                    buf.append(nxt)
                    i += 2
                else:
                    buf.append("\\")
                    i += 1
            elif c == "$":
                value, i = yield from self.dollar(raw, i, quoted=True)
                if isinstance(value, list):       # "$@": one field per argument
                    if buf:
                        pieces.append(("q", "".join(buf)))
                        buf = []
                    pieces.append(("at", value))
                    added = True
                else:
                    buf.append(value)
            elif c == "`":
                j = _scan_bt(raw, i)
                buf.append((yield from self.backtick(raw[i + 1:j - 1])))
                i = j
            else:
                buf.append(c)
                i += 1
        if buf or not added:
            pieces.append(("q", "".join(buf)))
        return i

    def dollar(self, raw: str, i: int, quoted: bool) -> ProgramGen:
        """Expand the $-thing at raw[i]: (value, index after it).  value is a list for "$@"."""
        nxt = raw[i + 1:i + 2]
        if raw.startswith("$((", i):
            j = _scan_paren(raw, i + 1)
            if raw[j - 2:j] == "))":
                text = yield from self.expand_text(raw[i + 3:j - 2])
                return str(Arith(text, self.get_var, self.set_var).value()), j
        if nxt == "(":
            j = _scan_paren(raw, i + 1)
            return (yield from self.substitute(raw[i + 2:j - 1])), j
        if nxt == "{":
            j = _scan_brace(raw, i + 1)
            return (yield from self.braced(raw[i + 2:j - 1])), j
        if nxt and (nxt.isalpha() or nxt == "_"):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", raw[i + 1:])
            return self.get_var(m.group(0)), i + 1 + m.end()
        if nxt == "@" and quoted:
            return list(self.args), i + 2
        if nxt and (nxt.isdigit() or nxt in "?$#!-@*"):
            return self.get_var(nxt), i + 2
        return "$", i + 1

    def braced(self, expr: str) -> ProgramGen:
        if expr.startswith("#") and len(expr) > 1:
            return str(len(self.get_var(expr[1:])))
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[?$#@*!-])(.*)\Z", expr, re.S)
        if not m:
            raise ShellFatal("syntax error: bad substitution")
        name, rest = m.groups()
        value = self.param(name)
        if not rest:
            return value or ""
        op = next((o for o in (":-", ":=", ":+", ":?", "-", "=", "+", "?", "%%", "##", "%", "#")
                   if rest.startswith(o)), None)
        if op is None:
            raise ShellFatal("syntax error: bad substitution")
        word = rest[len(op):]
        unset = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "-":
            return (yield from self.expand(word, split=False)) if unset else value
        if base == "=":
            if unset:
                value = yield from self.expand(word, split=False)
                self.set_var(name, value)
            return value
        if base == "+":
            return "" if unset else (yield from self.expand(word, split=False))
        if base == "?":
            if unset:
                msg = (yield from self.expand(word, split=False)) or "parameter not set"
                raise ShellFatal(f"{name}: {msg}")
            return value
        pat = yield from self.expand(word, split=False, pattern=True)
        v = value or ""
        n = len(v)
        if op in ("#", "##"):
            rng = range(0, n + 1) if op == "#" else range(n, -1, -1)
            return next((v[k:] for k in rng if fnmatch.fnmatchcase(v[:k], pat)), v)
        rng = range(n, -1, -1) if op == "%" else range(0, n + 1)
        return next((v[:k] for k in rng if fnmatch.fnmatchcase(v[k:], pat)), v)

    def backtick(self, inner: str) -> ProgramGen:
        # Inside backticks a backslash quotes only $ ` and \ (POSIX).
        return (yield from self.substitute(re.sub(r"\\([$`\\])", r"\1", inner)))

    def substitute(self, script: str) -> ProgramGen:
        """$(...): run in a subshell, capture its stdout (bounded), drop trailing newlines."""
        sub = self.subshell()
        out = _Capture()
        self.subst_status = yield from _route(sub.run_source(script), {1: out}, stop=out)
        return out.text().rstrip("\n")

    def fields(self, pieces: list) -> list[str]:
        fields: list[tuple[str, Optional[str]]] = []
        text: list[str] = []
        pat: list[str] = []
        started = globbing = False

        def push():
            nonlocal text, pat, started, globbing
            fields.append(("".join(text), "".join(pat) if globbing else None))
            text, pat, started, globbing = [], [], False, False

        for kind, value in pieces:
            if kind == "at":
                for k, arg in enumerate(value):
                    if k:
                        push()
                    text.append(arg)
                    pat.append(_glob_escape(arg))
                    started = True
            elif kind == "exp":
                for k, part in enumerate(_IFS_SPLIT.split(value) if value else ()):
                    if k and started:
                        push()
                    if part:
                        text.append(part)
                        pat.append(part)
                        started = True
                        globbing = globbing or bool(_GLOB_CHARS.search(part))
            elif kind == "lit":
                text.append(value)
                pat.append(value)
                started = True
                globbing = globbing or bool(_GLOB_CHARS.search(value))
            else:
                text.append(value)
                pat.append(_glob_escape(value))
                started = True
        if started:
            push()
        out: list[str] = []
        for word, pattern in fields:
            matches = self.glob(pattern) if pattern is not None else []
            out.extend(matches or [word])
        return out

    def glob(self, pattern: str) -> list[str]:
        bases = ["/" if pattern.startswith("/") else ""]
        for part in (p for p in pattern.split("/") if p):
            new = []
            for base in bases:
                if not _GLOB_CHARS.search(part):
                    new.append(posixpath.join(base, part))
                    continue
                directory = self.fs.normalize(base or ".", self.cwd)
                for name in self.fs.listdir(directory) if self.fs.is_dir(directory) else ():
                    if name.startswith(".") and not part.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(name, part):
                        new.append(posixpath.join(base, name))
            bases = new
        return sorted(b for b in bases if self.fs.exists(self.fs.normalize(b, self.cwd)))


# ----------------------------------------------------------------------------------------------
# Builtins (they act on the shell itself)
# ----------------------------------------------------------------------------------------------

def _b_colon(sh: Shell, argv):
    return 0
    yield  # pragma: no cover


def _b_exit(sh: Shell, argv):
    code = sh.status
    if len(argv) > 1:
        if not re.fullmatch(r"-?\d+", argv[1]):
            yield sh._msg(f"exit: Illegal number: {argv[1]}")
            raise _Exit(2)
        code = int(argv[1])
    raise _Exit(code & 255)


def _b_break(sh: Shell, argv):
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() and int(argv[1]) > 0 else 1
    if sh.loops == 0:
        return 0
    raise (_Continue if argv[0] == "continue" else _Break)(min(n, sh.loops))
    yield  # pragma: no cover


def _b_return(sh: Shell, argv):
    raise _Return(int(argv[1]) & 255 if len(argv) > 1 and re.fullmatch(r"-?\d+", argv[1]) else sh.status)
    yield  # pragma: no cover


def _b_export(sh: Shell, argv):
    names = [a for a in argv[1:] if a != "-p"]
    if not names:
        for k in sorted(sh.exported):
            if k in sh.vars and argv[0] == "export":
                yield Write(f"export {k}='{sh.vars[k]}'\n")
        return 0
    for a in names:
        name, eq, value = a.partition("=")
        if not _NAME.match(name):
            yield sh._msg(f"{argv[0]}: {name}: bad variable name")
            return 2
        if eq:
            sh.set_var(name, value)
        if argv[0] == "export":
            sh.exported.add(name)
    return 0


def _b_unset(sh: Shell, argv):
    for name in argv[1:]:
        if name in ("-v", "-f"):
            continue
        sh.vars.pop(name, None)
        sh.exported.discard(name)
        sh.funcs.pop(name, None)
    return 0
    yield  # pragma: no cover


def _b_set(sh: Shell, argv):
    args = argv[1:]
    if not args:
        for k in sorted(sh.vars):
            yield Write(f"{k}='{sh.vars[k]}'\n")
        return 0
    while args and args[0][:1] in ("-", "+") and args[0] not in ("-", "--"):
        opt = args.pop(0)
        if "o" in opt[1:] and args:
            name = args.pop(0)
            if name == "errexit":
                sh.errexit = opt[0] == "-"
            continue
        if "e" in opt[1:]:
            sh.errexit = opt[0] == "-"   # other options (-x -u ...) are accepted and ignored
    if args and args[0] in ("-", "--"):
        args.pop(0)
        sh.args = args
    elif args:
        sh.args = args
    return 0


def _b_shift(sh: Shell, argv):
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.args):
        yield sh._msg("shift: can't shift that many")
        return 2
    sh.args = sh.args[n:]
    return 0


def _b_cd(sh: Shell, argv):
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/")
    path = sh.fs.normalize(target, sh.cwd)
    if not sh.fs.is_dir(path):
        yield sh._msg(f"cd: can't cd to {target}: No such file or directory")
        return 2
    sh.cwd = path
    sh.vars["OLDPWD"], sh.vars["PWD"] = sh.vars.get("PWD", ""), path
    return 0


def _b_eval(sh: Shell, argv):
    return (yield from sh.run_nested(" ".join(argv[1:])))


def _b_source(sh: Shell, argv):
    if len(argv) < 2:
        return 0
    content = sh.fs.read(sh.fs.normalize(argv[1], sh.cwd))
    if content is None:
        raise ShellFatal(f"{argv[0]}: can't open '{argv[1]}': No such file or directory")
    return (yield from sh.run_nested(content))


def _b_exec(sh: Shell, argv):
    if len(argv) < 2:
        return 0
    raise _Exit((yield from sh.command(argv[1:], [])))


def _b_read(sh: Shell, argv):
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    if sh.stdin is not None:
        line = sh.stdin.readline()
    elif sh.proc.ctx.stdin:
        # The process's own stdin (an interactive shell's terminal, `exec -i`): the next line.
        line = yield Read()
        line = line.rstrip("\n") if line is not None else None
    else:
        line = None
    parts = (line or "").split(None, len(names) - 1)
    for k, name in enumerate(names):
        sh.set_var(name, parts[k] if k < len(parts) else "")
    return 1 if line is None else 0
    yield  # pragma: no cover


def _b_command(sh: Shell, argv):
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        status = 1
        for name in args[1:]:
            if name in BUILTINS or name in sh.funcs:
                yield Write(f"{name}\n")
                status = 0
            elif find_program(name, sh.fs, sh.cwd):
                yield Write(f"{name if '/' in name else '/bin/' + name}\n")
                status = 0
        return status
    if not args:
        return 0
    if args[0] in BUILTINS:
        return (yield from BUILTINS[args[0]](sh, args))
    return (yield from sh.external(args, []))


def _b_type(sh: Shell, argv):
    status = 0
    for name in argv[1:]:
        if name in BUILTINS:
            yield Write(f"{name} is a shell builtin\n")
        elif name in sh.funcs:
            yield Write(f"{name} is a function\n")
        elif find_program(name, sh.fs, sh.cwd):
            yield Write(f"{name} is {name if '/' in name else '/bin/' + name}\n")
        else:
            yield Write(f"{name}: not found\n")
            status = 127
    return status


def _b_double_bracket(sh: Shell, argv):
    """`[[ expr ]]`: busybox ash (with its bash compatibility, as the busybox image builds it)
    runs it as `test` closed by `]]`; the docs' downward API examples use it."""
    if argv[-1] != "]]":
        yield Write(f"{sh.proc.name}: [[: missing ]]\n", stream="stderr")
        return 2
    argv = ["test", *argv[1:-1]]
    return (yield from UTILITIES["test"](dataclasses.replace(sh.proc.ctx, argv=argv, cwd=sh.cwd), argv))


def _b_noop(sh: Shell, argv):
    # trap, wait, ulimit, umask...: accepted; there are no signals to trap from a script here,
    # no background jobs to wait for (`&` runs in the foreground).
    return 0
    yield  # pragma: no cover


BUILTINS: dict[str, Callable] = {
    ":": _b_colon, "exit": _b_exit, "break": _b_break, "continue": _b_break, "return": _b_return,
    "export": _b_export, "readonly": _b_export, "local": _b_export, "unset": _b_unset,
    "set": _b_set, "shift": _b_shift, "cd": _b_cd, "eval": _b_eval, ".": _b_source,
    "source": _b_source, "exec": _b_exec, "read": _b_read, "command": _b_command,
    "type": _b_type, "[[": _b_double_bracket, "trap": _b_noop, "wait": _b_noop, "ulimit": _b_noop, "umask": _b_noop,
}


# ----------------------------------------------------------------------------------------------
# Programs
# ----------------------------------------------------------------------------------------------

def shell_program(ctx: ProcessContext, stdin: str | None = None) -> ProgramGen:
    """sh / ash / bash: `sh -c SCRIPT [ARG0 ARG...]`, `sh FILE [ARG...]`, or plain `sh`, which
    with no stdin (a container without `-i`) reads end-of-file and exits 0 at once; that is why
    `kubectl run b --image=busybox` ends in CrashLoopBackOff."""
    argv = list(ctx.argv) or ["sh"]
    name = posixpath.basename(argv[0])
    name = name if name in ("sh", "ash", "bash", "dash") else "sh"
    args = argv[1:]
    script = None
    errexit = interactive = False
    while args and args[0].startswith(("-", "+")) and args[0] not in ("-", "--", "+"):
        opt = args.pop(0)
        if "e" in opt[1:] and opt[0] == "-":
            errexit = True
        if "i" in opt[1:] and opt[0] == "-":
            interactive = True
        if "o" in opt[1:] and args:
            args.pop(0)
        if "c" in opt[1:]:
            if not args:
                yield Write(f"{name}: -c requires an argument\n", "stderr")
                return SYNTAX_EXIT
            script = args.pop(0)
    if args and args[0] == "--":
        args.pop(0)
    if script is not None:
        arg0, positional = (args[0], args[1:]) if args else (argv[0], [])
    elif args:
        path = args[0]
        script = ctx.fs.read(ctx.fs.normalize(path, ctx.cwd))
        if script is None:
            yield Write(f"{name}: can't open '{path}': No such file or directory\n", "stderr")
            return SYNTAX_EXIT
        arg0, positional = path, args[1:]
    elif stdin is not None:
        script, arg0, positional = stdin, argv[0], []
    elif ctx.stdin:
        # Commands from the process's stdin, line by line (kubectl exec -i, attach): with a
        # terminal, interactively (a prompt, errors do not end it), as ash's `iflag` is set
        # when stdin is a tty or -i is given.
        shell = Shell(ctx, name, argv[0], [])
        shell.errexit = errexit
        return (yield from shell.read_commands(interactive or ctx.tty))
    else:
        return 0
    shell = Shell(ctx, name, arg0, positional)
    shell.errexit = errexit
    return (yield from shell.run_source(script))


def copy_stdin() -> ProgramGen:
    """Plain `cat` reading a live stdin: each line out as it comes (on a terminal, after Enter),
    to the end of file (^D)."""
    while (line := (yield Read())) is not None:
        yield Write(line)
    return 0


def run_script(ctx: ProcessContext, script: str) -> ProgramGen:
    """Run `script` as `sh -c script` would, with ctx's env, fs and cwd."""
    return Shell(ctx, "sh", "sh", []).run_source(script)


def find_program(name: str, fs, cwd: str = "/"):
    """The utility an exec of `name` runs, or None.  /bin/echo and echo are the same utility; a
    file in the container's fs runs as a shell script (the simulation tracks no exec bits)."""
    if "/" not in name:
        return UTILITIES.get(name)
    if posixpath.dirname(name) in _BIN_DIRS and posixpath.basename(name) in UTILITIES:
        return UTILITIES[posixpath.basename(name)]
    path = fs.normalize(name, cwd)
    if fs.read(path) is not None:
        return lambda ctx, argv, stdin=None: shell_program(
            dataclasses.replace(ctx, argv=["sh", path, *argv[1:]]), stdin)
    return None


def _image_program(name: str, binaries: frozenset):
    """Another program of the container's image (nginx, redis-cli ...), run as a utility is."""
    from sim.runtime.programs import program_for   # programs.py imports this module
    program = program_for([name], binaries) if posixpath.basename(name) not in UTILITIES else None
    if program is None or program.name in ("sh", "ash", "bash", "dash"):
        return None
    return lambda ctx, argv, stdin=None: program.run(ctx)


def run_command(ctx: ProcessContext, argv: list[str]) -> ProgramGen:
    """Run argv as an exec would (no shell): a utility, sh, or a script file.  A name that is
    not found returns NOT_FOUND_EXIT having written nothing: the caller words runtime errors."""
    util = find_program(argv[0], ctx.fs, ctx.cwd) if argv else None
    if util is None:
        return NOT_FOUND_EXIT
    return ((yield from util(dataclasses.replace(ctx, argv=list(argv)), list(argv))) or 0) & 255


def _no_http(ctx: ProcessContext, url: str) -> tuple[int, str] | None:
    return None


# The hook wget and curl fetch through once the name resolved: (status, body), or None for a
# refused connection.  The cluster's network replaces it (set `shell.HTTP_GET = ...`); it is
# read at each call, so replacing the module attribute is enough.
HTTP_GET: Callable[[ProcessContext, str], tuple[int, str] | None] = _no_http

# The utilities live in shell_utils.py to keep each module readable; imported last because
# `sh` and `busybox` there call back into this module.
from sim.runtime.shell_utils import UTILITIES  # noqa: E402
