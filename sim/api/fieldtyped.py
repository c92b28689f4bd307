"""The walks server-side apply makes over an object and its schema (sigs.k8s.io/structured-merge-diff
typed/: tofieldset.go, compare.go, merge.go, remove.go, and fieldpath's
EnsureNamedFieldsAreMembers).  Values are plain JSON (dicts, lists, scalars); MISSING is a field
that is absent, distinct from null, as upstream's nil Value is distinct from a null one.
"""
from __future__ import annotations

import copy
from typing import Any

from sim.api.fieldpath import FieldSet, Path, hashable, path_string, with_prefix
from sim.api.fieldtypes import TypeInfo


class _Missing:
    def __repr__(self):
        return "MISSING"

    def __bool__(self):
        return False


MISSING: Any = _Missing()


class SchemaError(ValueError):
    """A value the schema rejects (upstream's ValidationErrors, e.g. a duplicate key in an
    associative list of an apply configuration)."""


def equal(a: Any, b: Any) -> bool:
    """value.Equals: deep equality where an int equals the same float but never a bool."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return not isinstance(b, (dict, list)) and a == b


def _names(fpath: Path) -> tuple:
    """The schema path of a field path: its field names, list items left out."""
    return tuple(body for kind, body in fpath if kind == "f")


def item_element(ti: TypeInfo, tpath: tuple, list_type, index: int, item: Any) -> tuple:
    """listItemToPathElement: a set's item by value, an associative list's by its keys (with
    their defaults), any other by index."""
    if list_type == "set":
        return ("v", hashable(item))
    if isinstance(list_type, tuple) and list_type[0] == "map":
        keys = list_type[1]
        if not isinstance(item, dict):
            raise SchemaError(f"associative list with keys may only have map elements, got: {item!r}")
        defaults = ti.key_defaults(tpath)
        fields = [(k, hashable(item[k] if k in item else defaults[k])) for k in keys if k in item or k in defaults]
        if not fields:
            raise SchemaError("associative list with keys has an element that omits all key fields "
                              f"{list(keys)!r} (and doesn't have default values for any key fields)")
        return ("k", tuple(sorted(fields)))
    return ("i", index)


def _items(ti: TypeInfo, tpath: tuple, lt, value: Any, fpath: Path, strict: bool) -> list[tuple]:
    out, seen = [], set()
    for i, item in enumerate(value if isinstance(value, list) else []):
        try:
            pe = item_element(ti, tpath, lt, i, item)
        except SchemaError as e:
            raise SchemaError(f"{path_string(fpath)}: element {i}: {e}") from None
        if pe in seen:
            if strict:
                raise SchemaError(f"{path_string(fpath)}: duplicate entries for key {path_string((pe,))}")
            continue          # AllowDuplicates on live objects: the first one stands for the key
        seen.add(pe)
        out.append((pe, item))
    return out


def to_field_set(ti: TypeInfo, value: Any, strict: bool = False) -> FieldSet:
    """TypedValue.ToFieldSet (tofieldset.go): every leaf, every list item, every atomic list or
    map, and every map key that is not a struct field (labels' keys)."""
    out: set = set()

    def walk(v: Any, fpath: Path) -> None:
        tpath = _names(fpath)
        if isinstance(v, dict):
            if fpath and ti.map_type(tpath) == "atomic":
                out.add(fpath)
                return
            for key, sub in v.items():
                child = fpath + (("f", key),)
                walk(sub, child)
                if not ti.is_field(tpath + (key,)):
                    out.add(child)
        elif isinstance(v, list):
            lt = ti.list_type(tpath)
            if lt == "atomic":
                out.add(fpath)
                return
            for pe, item in _items(ti, tpath, lt, v, fpath, strict):
                walk(item, fpath + (pe,))
                out.add(fpath + (pe,))
        else:
            out.add(fpath)

    walk(value, ())
    return frozenset(out)


def _is_leaf(ti: TypeInfo, tpath: tuple, lhs: Any, rhs: Any) -> bool:
    """A scalar, an atomic map or list, two values of different shapes, or (emptyPromoteToLeaf)
    a map or list empty or null on both sides."""
    lc, rc = isinstance(lhs, (dict, list)), isinstance(rhs, (dict, list))
    if not lc and not rc:
        return True                      # scalars, nulls, absent
    if lc and rc:
        if type(lhs) is not type(rhs):
            return True                  # a map against a list
    elif (lhs if rc else rhs) is not MISSING and (lhs if rc else rhs) is not None:
        return True                      # a container against a scalar
    if isinstance(lhs if lc else rhs, dict):
        if tpath and ti.map_type(tpath) == "atomic":
            return True
    elif ti.list_type(tpath) == "atomic":
        return True
    return not lhs and not rhs   # MISSING, null and empty are all falsy


def compare(ti: TypeInfo, lhs: Any, rhs: Any) -> tuple[FieldSet, FieldSet, FieldSet]:
    """TypedValue.Compare: (added, modified, removed).  A leaf is added, removed or modified; a
    map, list or list item is itself added or removed only when absent on one side (a null or
    empty one counts as present), which is why a create's `f:labels` carries ".": {} and its
    `f:spec` does not (the zero object has a spec)."""
    added, modified, removed = set(), set(), set()

    def add_all(rv: Any, fpath: Path, tpath: tuple) -> None:
        """walk(MISSING, rv): everything in rv is added (a create's whole object), cheaply."""
        if isinstance(rv, dict):
            if rv and not (tpath and ti.map_type(tpath) == "atomic"):
                for key, sub in rv.items():
                    add_all(sub, fpath + (("f", key),), tpath + (key,))
        elif isinstance(rv, list) and rv:
            lt = ti.list_type(tpath)
            if lt != "atomic":
                for pe, item in _items(ti, tpath, lt, rv, fpath, False):
                    add_all(item, fpath + (pe,), tpath)
        added.add(fpath)

    def walk(lv: Any, rv: Any, fpath: Path, tpath: tuple) -> None:
        if lv is MISSING and fpath:
            return add_all(rv, fpath, tpath)
        if lv is rv or (type(lv) is type(rv) and isinstance(lv, (dict, list)) and lv == rv):
            # An equal subtree (C-speed ==; a bool never meets an int at one typed path): nothing
            # added, modified or removed - a write costs what it changed, not the object's size.
            return
        if _is_leaf(ti, tpath, lv, rv):
            if lv is MISSING:
                added.add(fpath)
            elif rv is MISSING:
                removed.add(fpath)
            elif not equal(lv, rv):
                modified.add(fpath)
            return
        if isinstance(lv, dict) or isinstance(rv, dict):
            lm, rm = lv if isinstance(lv, dict) else {}, rv if isinstance(rv, dict) else {}
            for key in list(lm) + [k for k in rm if k not in lm]:
                walk(lm.get(key, MISSING), rm.get(key, MISSING), fpath + (("f", key),), tpath + (key,))
        else:
            lt = ti.list_type(tpath)
            li = dict(_items(ti, tpath, lt, lv, fpath, False))
            ri = dict(_items(ti, tpath, lt, rv, fpath, False))
            for pe in list(li) + [p for p in ri if p not in li]:
                walk(li.get(pe, MISSING), ri.get(pe, MISSING), fpath + (pe,), tpath)
        if fpath and lv is MISSING:           # the postItemHook
            added.add(fpath)
        elif fpath and rv is MISSING:
            removed.add(fpath)

    walk(lhs, rhs, (), ())
    return frozenset(added), frozenset(modified), frozenset(removed)


def merge(ti: TypeInfo, lhs: Any, rhs: Any, fpath: Path = ()) -> Any:
    """TypedValue.Merge (merge.go with ruleKeepRHS): the applied configuration (rhs) wins at every
    leaf; maps merge key by key; associative and set lists merge item by item, in the order
    visitListItems gives (the configuration's order for its items, the live object's other
    items kept where they were)."""
    if rhs is MISSING:
        return copy.deepcopy(lhs)
    tpath = _names(fpath)
    if lhs is MISSING or _is_leaf(ti, tpath, lhs, rhs):
        return copy.deepcopy(rhs)
    if isinstance(lhs, dict) or isinstance(rhs, dict):
        # A null configuration for a granular map merges as no items (the live ones stay).
        out = copy.deepcopy(lhs) if isinstance(lhs, dict) else {}
        for key, value in (rhs or {}).items():
            out[key] = merge(ti, out.get(key, MISSING), value, fpath + (("f", key),))
        return out
    lt = ti.list_type(tpath)
    lpes = _items(ti, tpath, lt, lhs, fpath, False)
    rpes = _items(ti, tpath, lt, rhs, fpath, True)
    lmap, rmap = dict(lpes), dict(rpes)
    shared = [pe for pe, _ in rpes if pe in lmap]
    next_shared = shared.pop(0) if shared else None
    merged_rhs, out = set(), []
    li = ri = 0
    while li < len(lpes) or ri < len(rpes):
        if li < len(lpes) and ri < len(rpes):
            pe = lpes[li][0]
            if pe == rpes[ri][0]:
                merged_rhs.add(pe)
                out.append(merge(ti, lmap[pe], rmap[pe], fpath + (pe,)))
                li, ri = li + 1, ri + 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in rmap and next_shared is not None and next_shared != pe:
                li += 1                       # a shared item, but not the one due now
                continue
        if li < len(lpes):
            pe = lpes[li][0]
            if pe not in rmap:
                out.append(copy.deepcopy(lmap[pe]))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
                continue
        if ri < len(rpes):
            pe = rpes[ri][0]
            merged_rhs.add(pe)
            out.append(merge(ti, lmap.get(pe, MISSING), rmap[pe], fpath + (pe,)))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return out


def remove_items(ti: TypeInfo, value: Any, to_remove: FieldSet, fpath: Path = ()) -> Any:
    """TypedValue.RemoveItems (remove.go): drop every map key and list item whose path is in the
    set, recursing where the set holds paths below.  A map or list left empty becomes MISSING
    (upstream's nil, which the Go object drops); atomic ones are never entered."""
    tpath = _names(fpath)
    if isinstance(value, dict):
        if not value or (fpath and ti.map_type(tpath) == "atomic"):
            return MISSING
        out = {}
        for key, sub in value.items():
            pe = ("f", key)
            if (pe,) in to_remove:
                continue
            subset = with_prefix(to_remove, pe)
            kept = remove_items(ti, sub, subset, fpath + (pe,)) if subset else sub
            if kept is not MISSING:
                out[key] = kept
        return out or MISSING
    if isinstance(value, list):
        lt = ti.list_type(tpath)
        if not value or lt == "atomic":
            return MISSING
        out = []
        for i, item in enumerate(value):
            pe = item_element(ti, tpath, lt, i, item)
            if (pe,) in to_remove:
                continue
            subset = with_prefix(to_remove, pe)
            kept = remove_items(ti, item, subset, fpath + (pe,)) if subset else item
            out.append(None if kept is MISSING else kept)
        return out or MISSING
    return value


def ensure_named_fields_are_members(ti: TypeInfo, s: FieldSet) -> FieldSet:
    """Set.EnsureNamedFieldsAreMembers: a struct field with owned fields below it counts as owned
    itself (so pruning it removes it whole), a map key does not."""
    out = set(s)
    for p in s:
        for i in range(1, len(p)):
            if p[i - 1][0] == "f" and ti.is_field(_names(p[:i])):
                out.add(p[:i])
    return frozenset(out)
