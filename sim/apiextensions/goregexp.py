"""Go's regexp, through RE2 (google-re2), which Go's syntax follows: a schema `pattern` is
compiled and matched as kube-openapi does (regexp.MatchString: unanchored), and a pattern that
does not compile is refused in Go's words ("error parsing regexp: missing closing ): `(a`")."""
from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False   # RE2 would print every bad pattern on stderr

# RE2's error texts and Go's regexp/syntax ErrorCode strings for the same mistakes.
_GO_CODES = (("missing )", "missing closing )"), ("missing ]", "missing closing ]"),
             ("unexpected )", "unexpected )"), ("invalid escape sequence", "invalid escape sequence"),
             ("bad repetition operator", "invalid nested repetition operator"),
             ("no argument for repetition operator", "missing argument to repetition operator"),
             ("bad repetition argument", "invalid repeat count"),
             ("bad character class range", "invalid character class range"),
             ("invalid character class range", "invalid character class range"),
             ("invalid character class", "invalid character class"),
             ("invalid perl operator", "invalid or unsupported Perl syntax"),
             ("invalid named capture group", "invalid named capture"))


class PatternError(ValueError):
    pass


@functools.lru_cache(maxsize=1024)
def compile(pattern: str):
    """The compiled pattern, or PatternError with Go's message."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except Exception as e:   # re2.error
        raw = e.args[0] if e.args else str(e)
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        code = next((go for r2, go in _GO_CODES if text.startswith(r2)), text.split(":")[0])
        raise PatternError(f"error parsing regexp: {code}: `{pattern}`") from None


def search(pattern: str, value: str) -> bool:
    return compile(pattern).search(value) is not None
