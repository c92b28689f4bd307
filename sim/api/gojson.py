"""JSON text read as kube-apiserver's decoder reads it (Go's encoding/json, as forked in
sigs.k8s.io/json), not as Python's json module does.

- NaN, Infinity and -Infinity are not JSON: Go refuses them with a syntax error, where
  Python's json would read them as floats.
- A number keeps its literal (`Number.literal`): Go decodes a number into an int32 from its
  text ("1.5", "1e3" and "99999999999" are refused as such, naming the literal), and a
  Quantity parses the text itself ("1e309" is a valid quantity but no float64).
- Nesting is bounded.  Go's scanner stops at 10000 levels ("exceeded max depth"); Python's
  recursion limit sits near 1000, and everything downstream walks objects recursively, so
  bodies deeper than MAX_DEPTH are refused here, with a message that says so.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 500  # far deeper than any Kubernetes object; far below Python's recursion limit


class Number(float):
    """A JSON number that is not a small integer, with its literal as written."""
    literal: str

    def __new__(cls, literal: str) -> "Number":
        self = super().__new__(cls, literal)
        self.literal = literal
        return self

    def __reduce__(self):  # pickling (the channel layer's deepcopy) keeps the literal
        return Number, (self.literal,)


def _int(literal: str) -> int | Number:
    # Integers beyond int64 stay literals: no Go integer holds them, and no big integer of
    # thousands of digits is ever made from a request.
    return int(literal) if len(literal) <= 19 else Number(literal)


class JSONSyntaxError(ValueError):
    """The body is not JSON; `message` is worded as Go's json.SyntaxError."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _refuse_constant(name: str):
    raise JSONSyntaxError(f"invalid character '{name.lstrip('-')[0]}' "
                          + ("in numeric literal" if name.startswith("-") else "looking for beginning of value"))


_CONTEXTS = {  # Python's wording -> Go's scanner step that fails there
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Extra data": "after top-level value",
}


def _go_syntax_error(e: json.JSONDecodeError) -> str:
    if e.pos >= len(e.doc.rstrip()):
        return "unexpected end of JSON input"
    char = e.doc[e.pos]
    shown = char if char.isprintable() else f"\\x{ord(char):02x}"
    for python, go in _CONTEXTS.items():
        if e.msg.startswith(python):
            if go == "after object key:value pair" and _in_array(e.doc, e.pos):
                go = "after array element"
            return f"invalid character '{shown}' {go}"
    return f"invalid character '{shown}' in string literal" if "control character" in e.msg or "escape" in e.msg \
        else f"invalid character '{shown}' looking for beginning of value"


def _in_array(doc: str, pos: int) -> bool:
    """Whether the innermost open bracket before `pos` is an array's (good enough for wording)."""
    depth = 0
    for ch in reversed(doc[:pos]):
        if ch in "]}":
            depth += 1
        elif ch in "[{":
            if depth == 0:
                return ch == "["
            depth -= 1
    return False


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            items = v.values()
        elif isinstance(v, list):
            items = v
        else:
            continue
        deepest = max(deepest, d)
        if d > MAX_DEPTH:
            return d
        stack.extend((item, d + 1) for item in items if isinstance(item, (dict, list)))
    return deepest


DEPTH_ERROR = f"exceeded max depth: objects and arrays may nest at most {MAX_DEPTH} levels deep"


def loads(raw: bytes | str) -> Any:
    """Parse a request body; JSONSyntaxError for anything Go's decoder would refuse as JSON."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Go replaces invalid UTF-8 inside strings with U+FFFD; outside them it is a syntax error.
            raw = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(raw, parse_float=Number, parse_int=_int, parse_constant=_refuse_constant)
    except JSONSyntaxError:
        raise
    except json.JSONDecodeError as e:
        raise JSONSyntaxError(_go_syntax_error(e)) from None
    except RecursionError:
        raise JSONSyntaxError(DEPTH_ERROR) from None
    except ValueError as e:  # e.g. an integer literal of more digits than int() takes
        raise JSONSyntaxError(f"invalid JSON: {e}") from None
    if depth(value) > MAX_DEPTH:
        raise JSONSyntaxError(DEPTH_ERROR)
    return value


def literal(number: int | float) -> str:
    """A number as its JSON literal (Go's error messages quote the literal)."""
    if isinstance(number, Number):
        return number.literal
    if isinstance(number, float):
        text = repr(number)
        return text[:-2] if text.endswith(".0") and "e" not in text else text.replace("e+", "e")
    return str(number)
