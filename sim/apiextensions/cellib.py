"""The CEL functions Kubernetes adds for x-kubernetes-validations that cel-python lacks: cel-go's
strings extension (lowerAscii, upperAscii, trim, replace, split, substring, indexOf,
lastIndexOf, charAt, join) and Kubernetes' lists and regex libraries (isSorted, sum, min, max,
indexOf / lastIndexOf on lists, find, findAll) (k8s.io/apiserver/pkg/cel/library/lists.go,
regex.go; github.com/google/cel-go/ext/strings.go).  Not here: quantity(), url(), ip(),
cidr(), format(), and the authz / optional libraries."""
from __future__ import annotations

from celpy import celtypes
from celpy.evaluation import CELEvalError

from sim.apiextensions import goregexp


def _s(v) -> celtypes.StringType:
    return celtypes.StringType(v)


def _i(v) -> celtypes.IntType:
    return celtypes.IntType(v)


def lower_ascii(s):
    return _s("".join(c.lower() if c.isascii() else c for c in s))


def upper_ascii(s):
    return _s("".join(c.upper() if c.isascii() else c for c in s))


def trim(s):
    return _s(s.strip())


def replace(s, old, new, n=None):
    return _s(s.replace(old, new) if n is None or int(n) < 0 else s.replace(old, new, int(n)))


def split(s, sep, n=None):
    if n is not None and int(n) == 0:
        return celtypes.ListType([])
    parts = s.split(sep) if n is None or int(n) < 0 else s.split(sep, int(n) - 1)
    return celtypes.ListType([_s(p) for p in parts])


def substring(s, start, end=None):
    start, end = int(start), (len(s) if end is None else int(end))
    if not 0 <= start <= end <= len(s):
        return CELEvalError(f"index out of range: {end if end > len(s) else start}")
    return _s(s[start:end])


def char_at(s, i):
    i = int(i)
    if not 0 <= i <= len(s):
        return CELEvalError(f"index out of range: {i}")
    return _s(s[i:i + 1])


def index_of(target, x, start=None):
    if isinstance(target, str):
        return _i(target.find(x, int(start or 0)))
    for i, v in enumerate(target):
        if v == x:
            return _i(i)
    return _i(-1)


def last_index_of(target, x, end=None):
    if isinstance(target, str):
        return _i(target.rfind(x, 0, None if end is None else int(end) + len(x)))
    for i in range(len(target) - 1, -1, -1):
        if target[i] == x:
            return _i(i)
    return _i(-1)


def join(lst, sep=""):
    return _s(str(sep).join(str(x) for x in lst))


def is_sorted(lst):
    return celtypes.BoolType(all(lst[i] <= lst[i + 1] for i in range(len(lst) - 1)))


def sum_(lst):
    total = celtypes.IntType(0)
    for x in lst:
        total = total + x
    return total


def min_(lst):
    return CELEvalError("min called on empty list") if not lst else min(lst)


def max_(lst):
    return CELEvalError("max called on empty list") if not lst else max(lst)


def find(s, pattern):
    m = goregexp.compile(pattern).search(s)
    return _s(m.group(0) if m else "")


def find_all(s, pattern, n=None):
    found = [_s(m.group(0)) for m in goregexp.compile(pattern).finditer(s)]
    if n is not None and int(n) >= 0:
        found = found[:int(n)]
    return celtypes.ListType(found)


FUNCTIONS = {"lowerAscii": lower_ascii, "upperAscii": upper_ascii, "trim": trim, "replace": replace,
             "split": split, "substring": substring, "charAt": char_at, "indexOf": index_of,
             "lastIndexOf": last_index_of, "join": join, "isSorted": is_sorted, "sum": sum_,
             "min": min_, "max": max_, "find": find, "findAll": find_all}
