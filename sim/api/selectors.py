"""Label and field selectors (k8s.io/apimachinery/pkg/labels and pkg/fields).

Label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
comma-separated (AND).  Field selectors support `=`, `==`, `!=` on the fields each resource
allows (each kind's `selectable_fields`, sim/registry).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from sim.api.nested import get_path
from sim.api.gofmt import aggregate, go_quote, go_strings
from sim.api.validation import label_value_errors, qualified_name_errors


class SelectorError(ValueError):
    """A selector that does not parse; for label_selector_as_selector, str() is upstream's text."""


Requirement = tuple[str, str, tuple[str, ...]]  # (key, op, values)

# metav1.LabelSelectorOperator -> the labels.Selector operator it becomes.
LABEL_SELECTOR_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQ_RE = re.compile(r"^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$")
_KEY_RE = re.compile(r"^(!?)\s*([^\s!=(),]+)$")


def parse_label_selector(s: str | None) -> list[Requirement]:
    if not s:
        return []
    reqs: list[Requirement] = []
    for part in _split_top(s):
        m = _SET_RE.match(part)
        if m:
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = _EQ_RE.match(part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, (m.group(3),)))
            continue
        m = _KEY_RE.match(part)
        if m:
            reqs.append((m.group(2), "!" if m.group(1) else "exists", ()))
            continue
        raise SelectorError(f"unable to parse requirement: {part!r}")
    return reqs


def labels_match(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for key, op, values in reqs:
        has = key in labels
        if op == "=":
            if not has or labels[key] != values[0]:
                return False
        elif op == "!=":
            if has and labels[key] == values[0]:
                return False
        elif op == "in":
            if not has or labels[key] not in values:
                return False
        elif op == "notin":
            if has and labels[key] in values:
                return False
        elif op == "exists":
            if not has:
                return False
        elif op == "!":
            if has:
                return False
    return True


def selector_from_label_selector(sel: dict | None) -> list[Requirement] | None:
    """metav1.LabelSelector (matchLabels + matchExpressions) -> requirements.

    None means "matches nothing" (a nil selector), [] means "matches everything"."""
    if sel is None:
        return None
    reqs: list[Requirement] = [(k, "=", (v,)) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op = LABEL_SELECTOR_OPERATORS.get(expr.get("operator"))
        if op is None:
            raise SelectorError(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append((expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return reqs


# -- the scheduler's label selectors (metav1.LabelSelectorAsSelector, labels.NewRequirement) ------
# A selector is None (a nil selector: labels.Nothing(), matches no pod), () (an empty one:
# labels.Everything()) or a sorted tuple of requirements; unlike selector_from_label_selector
# above (the API server's lenient form), parsing validates as upstream does, with its errors.
EVERYTHING: tuple = ()
NOTHING = None


def new_requirement(key: str, op: str, values: list[str]) -> tuple[str, str, tuple[str, ...]]:
    """labels.NewRequirement for a LabelSelector's Equals/In/NotIn/Exists/DoesNotExist; raises
    SelectorError with the aggregated field errors."""
    errs = []
    if not isinstance(key, str):
        errs.append(f"key: Invalid value: {key!r}: must be a string")
    elif kerrs := qualified_name_errors(key):
        errs.append(f"key: Invalid value: {go_quote(key)}: " + "; ".join(kerrs))
    if op in ("in", "notin") and not values:
        errs.append(f"values: Invalid value: {go_strings(values)}: for 'in', 'notin' operators, values set can't be empty")
    elif op == "=" and len(values) != 1:
        errs.append(f"values: Invalid value: {go_strings(values)}: exact-match compatibility requires one single value")
    elif op in ("exists", "!") and values:
        errs.append(f"values: Invalid value: {go_strings(values)}: values set must be empty for exists and does not exist")
    for i, v in enumerate(values):
        if not isinstance(v, str):
            errs.append(f"values[{i}][{key}]: Invalid value: {v!r}: must be a string")
        elif verrs := label_value_errors(v):
            errs.append(f"values[{i}][{key}]: Invalid value: {go_quote(v)}: " + "; ".join(verrs))
    if errs:
        raise SelectorError(aggregate(errs))
    return (key, op, tuple(values))


def label_selector_as_selector(sel: dict | None) -> tuple | None:
    """metav1.LabelSelectorAsSelector: None for a nil selector (nothing), () for an empty one
    (everything), else the sorted requirements.  Raises SelectorError."""
    if sel is None:
        return NOTHING
    if not isinstance(sel, dict):
        raise SelectorError(f"invalid label selector: {sel!r}")
    match_labels = sel.get("matchLabels") or {}
    exprs = sel.get("matchExpressions") or []
    if not match_labels and not exprs:
        return EVERYTHING
    reqs = [new_requirement(k, "=", [v]) for k, v in sorted(match_labels.items())]
    for e in exprs:
        op = LABEL_SELECTOR_OPERATORS.get(e.get("operator"))
        if op is None:
            raise SelectorError(f"{go_quote(str(e.get('operator') or ''))} is not a valid label selector operator")
        reqs.append(new_requirement(e.get("key") or "", op, list(e.get("values") or [])))
    return tuple(sorted(reqs))


def selector_matches(sel: tuple | None, labels: dict | None) -> bool:
    return sel is not None and labels_match(sel, labels or {})


def selector_from_set(labels: dict[str, str]) -> tuple:
    """labels.SelectorFromSet, in the form metav1.LabelSelectorAsSelector's callers use: sorted
    requirements; None is labels.Nothing(), () labels.Everything()."""
    return tuple(sorted((k, "=", (v,)) for k, v in labels.items()))


def selector_add(selector: tuple | None, other: tuple | None) -> tuple | None:
    """selector.Add(other.Requirements()...): Nothing stays Nothing, and a Nothing `other` has
    no requirements to add."""
    if selector is None or other is None:
        return selector
    return tuple(sorted(selector + other))


def _get_path(obj: dict, path: str) -> str:
    """A field selector's value: the field as a string ("" when absent)."""
    cur = get_path(obj, path)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


FieldRequirement = tuple[str, bool, str]  # (field, equal?, value)


def parse_field_selector(s: str | None, res) -> list[FieldRequirement]:
    """A fieldSelector over the fields the kind `res` (a sim.registry Resource) allows
    (its strategy's <Kind>ToSelectableFields)."""
    if not s:
        return []
    allowed = res.selectable_fields
    reqs = []
    for part in _split_top(s):
        m = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise SelectorError(f"invalid selector: '{s}'; can't understand '{part}'")
        field = m.group(1)
        if field not in allowed:
            raise SelectorError(f'field label not supported: {field}')
        reqs.append((field, m.group(2) != "!=", m.group(3)))
    return reqs


def fields_match(reqs: list[FieldRequirement], obj: dict, res=None) -> bool:
    for field, equal, value in reqs:
        getter = res.field_getter(field) if res is not None else None
        actual = getter(obj) if getter is not None else _get_path(obj, field)
        if (actual == value) != equal:
            return False
    return True


def field_value(reqs: list[FieldRequirement], field: str) -> str | None:
    """The exact value a selector requires of `field`, for watch indexing (or None)."""
    for f, equal, value in reqs:
        if f == field and equal:
            return value
    return None


def make_filter(res, namespace: str | None, label_selector: str | None,
                field_selector: str | None) -> Callable[[dict], bool]:
    """The predicate of a list or watch of kind `res` (a sim.registry Resource)."""
    lreqs = parse_label_selector(label_selector)
    freqs = parse_field_selector(field_selector, res)

    def match(obj: dict) -> bool:
        md = obj.get("metadata") or {}
        if namespace and md.get("namespace") != namespace:
            return False
        if lreqs and not labels_match(lreqs, md.get("labels")):
            return False
        if freqs and not fields_match(freqs, obj, res):
            return False
        return True

    return match


def format_label_selector(sel: dict) -> str:
    """metav1.FormatLabelSelector: the string form of a LabelSelector, e.g. "app=web"."""
    reqs = selector_from_label_selector(sel) or []
    parts = []
    for key, op, values in sorted(reqs):
        if op == "=":
            parts.append(f"{key}={values[0]}")
        elif op == "exists":
            parts.append(key)
        elif op == "!":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {op} ({','.join(sorted(values))})")
    return ",".join(parts) if parts else "<none>"
