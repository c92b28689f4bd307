"""Field paths and sets of them, and their FieldsV1 encoding (sigs.k8s.io/structured-merge-diff
fieldpath: element.go, path.go, set.go, serialize.go, serialize-pe.go).

A path is a tuple of path elements; an element is a hashable tuple:

    ("f", "spec")                               a field of a map or struct     f:spec
    ("k", (("name", "nginx"),))                 an associative list's item     k:{"name":"nginx"}
    ("v", "example.com/finalizer")              a set list's item              v:"example.com/finalizer"
    ("i", 0)                                    a list item by index           i:0

A set of paths is a frozenset.  Upstream's Set is a tree of "members" (paths in the set) and
"children" (prefixes of longer paths); here a path is in the set or not, and the tree is only
rebuilt to serialize or iterate in upstream's order.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

Element = tuple
Path = tuple
FieldSet = frozenset

EMPTY: FieldSet = frozenset()
_KINDS = {"f": 0, "k": 1, "v": 2, "i": 3}


def field(name: str) -> Element:
    return ("f", name)


def path_of(*names: str) -> Path:
    """A path of field names: path_of("spec", "replicas") is .spec.replicas (MakePathOrDie)."""
    return tuple(("f", n) for n in names)


def _value_order(v: Any) -> tuple:
    """value.Compare's total order: numbers, then strings, bools, lists, maps, null."""
    if isinstance(v, bool):
        return (2, v)
    if isinstance(v, (int, float)):
        return (0, v)
    if isinstance(v, str):
        return (1, v)
    if v is None:
        return (5, 0)
    return (3 if isinstance(v, (list, tuple)) else 4, _json(v))


def element_order(pe: Element) -> tuple:
    """PathElement.Compare: field names < keys < values < indexes, then by content."""
    kind, body = pe
    if kind == "k":
        return (1, tuple((name, _value_order(v)) for name, v in body))
    if kind == "v":
        return (2, _value_order(body))
    return (_KINDS[kind], body)


def _json(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def encode_element(pe: Element) -> str:
    """serialize-pe.go: the key of one element in FieldsV1."""
    kind, body = pe
    if kind == "f":
        return "f:" + body
    if kind == "k":
        return "k:" + _json(dict(body))
    if kind == "v":
        return "v:" + _json(body)
    return f"i:{body}"


def decode_element(text: str) -> Element:
    """DeserializePathElement; a ValueError for what upstream rejects."""
    kind, sep, body = text.partition(":")
    if not sep or kind not in _KINDS:
        raise ValueError(f"unknown path element prefix in {text!r}")
    if kind == "f":
        return ("f", body)
    if kind == "i":
        return ("i", int(body))
    value = json.loads(body)
    if kind == "v":
        return ("v", hashable(value))
    if not isinstance(value, dict) or not value:
        raise ValueError(f"key element {text!r} is not a non-empty object")
    return ("k", tuple(sorted((k, hashable(v)) for k, v in value.items())))


def hashable(v: Any) -> Any:
    """A JSON value usable inside an element (key values and set items are nearly always scalars)."""
    if isinstance(v, (dict, list)):
        return _json(v)
    return v


def _go_string(v: Any) -> str:
    """value.ToString: strings quoted (%q), numbers and bools as Go prints them."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def path_string(path: Path) -> str:
    """Path.String(): .spec.containers[name="nginx"].image, .metadata.finalizers[="x"], .args[0]."""
    out = []
    for kind, body in path:
        if kind == "f":
            out.append("." + body)
        elif kind == "k":
            out.append("[" + ",".join(f"{n}={_go_string(v)}" for n, v in body) + "]")
        elif kind == "v":
            out.append(f"[={_go_string(body)}]")
        else:
            out.append(f"[{body}]")
    return "".join(out)


# -- set operations upstream names ----------------------------------------------------------

def recursive_difference(s: FieldSet, other: Iterable[Path]) -> FieldSet:
    """Set.RecursiveDifference: drop the paths in `other` and everything under them."""
    other = set(other)
    if not other or not s:
        return s
    lengths = sorted({len(q) for q in other})
    out = []
    for p in s:
        for n in lengths:
            if n <= len(p) and p[:n] in other:
                break
        else:
            out.append(p)
    return frozenset(out)


def with_prefix(s: FieldSet, pe: Element) -> FieldSet:
    """Set.WithPrefix: the paths under one element, without it."""
    return frozenset(p[1:] for p in s if len(p) > 1 and p[0] == pe)


def _tree(s: Iterable[Path]) -> tuple[set, dict]:
    members, children = set(), {}
    for p in s:
        if len(p) == 1:
            members.add(p[0])
        elif p:
            children.setdefault(p[0], []).append(p[1:])
    return members, children


def iterate(s: Iterable[Path], prefix: Path = ()) -> Iterator[Path]:
    """Set.Iterate's order: at each level the members (sorted), then each child's subtree."""
    members, children = _tree(s)
    for pe in sorted(members, key=element_order):
        yield prefix + (pe,)
    for pe in sorted(children, key=element_order):
        yield from iterate(children[pe], prefix + (pe,))


def to_fields_v1(s: Iterable[Path]) -> dict:
    """Set.ToJSON (emitContentsV1): nested objects keyed by encoded elements in element order; a
    path that is a member and also has children carries ".": {} first."""
    members, children = _tree(s)
    out: dict = {}
    for pe in sorted(members | set(children), key=element_order):
        if pe in children:
            inner = {".": {}} if pe in members else {}
            inner.update(to_fields_v1(children[pe]))
            out[encode_element(pe)] = inner
        else:
            out[encode_element(pe)] = {}
    return out


def from_fields_v1(doc: Any, prefix: Path = ()) -> FieldSet:
    """Set.FromJSON; a ValueError when the document is not a FieldsV1 tree."""
    if not isinstance(doc, dict):
        raise ValueError("expected an object")
    out = set()
    for key, sub in doc.items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        pe = decode_element(key)
        if not isinstance(sub, dict):
            raise ValueError(f"expected an object at {key!r}")
        if sub:
            out |= from_fields_v1(sub, prefix + (pe,))
        else:
            out.add(prefix + (pe,))
    return frozenset(out)
