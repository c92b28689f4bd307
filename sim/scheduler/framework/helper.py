"""Helpers shared by plugins, scalar and vectorised (pkg/scheduler/framework/plugins/helper,
k8s.io/component-helpers/scheduling/corev1/nodeaffinity and v1helper taint functions)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.api.podutil import tolerates_taint
from sim.api.validation import _LABEL_VALUE_RE, is_qualified_name
from sim.scheduler.framework.nodetable import NodeTable, parse_int64

OBJECT_NAME_FIELD = "metadata.name"


# -- NormalizeScore (helper.DefaultNormalizeScore) ------------------------------------------
def default_normalize_score(max_priority: int, reverse: bool, scores: list[int]) -> list[int]:
    max_count = max([0] + [s for s in scores])
    if max_count == 0:
        return [max_priority] * len(scores) if reverse else list(scores)
    out = []
    for s in scores:
        s = max_priority * s // max_count
        out.append(max_priority - s if reverse else s)
    return out


def default_normalize_score_vec(max_priority: int, reverse: bool, scores: np.ndarray) -> np.ndarray:
    max_count = int(scores.max()) if len(scores) else 0
    if max_count <= 0:
        return np.full(len(scores), max_priority, np.int64) if reverse else scores
    s = max_priority * scores // max_count
    return max_priority - s if reverse else s


# -- helper.BuildBrokenLinearFunction ---------------------------------------------------------
def go_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def go_div_vec(a: np.ndarray, b: int) -> np.ndarray:
    q = np.abs(a) // abs(b)
    return np.where((a >= 0) == (b > 0), q, -q)


def broken_linear(shape: list[tuple[int, int]], p: int) -> int:
    """shape: (utilization, score) points, utilization ascending."""
    for i, (u, s) in enumerate(shape):
        if p <= u:
            if i == 0:
                return shape[0][1]
            pu, ps = shape[i - 1]
            return ps + go_div((s - ps) * (p - pu), u - pu)
    return shape[-1][1]


def broken_linear_vec(shape: list[tuple[int, int]], p: np.ndarray) -> np.ndarray:
    out = np.full(p.shape, shape[-1][1], np.int64)
    done = np.zeros(p.shape, bool)
    for i, (u, s) in enumerate(shape):
        here = ~done & (p <= u)
        if here.any():
            if i == 0:
                out[here] = shape[0][1]
            else:
                pu, ps = shape[i - 1]
                out[here] = ps + go_div_vec((s - ps) * (p[here] - pu), u - pu)
        done |= here
    return out


# -- Taints (v1helper.FindMatchingUntoleratedTaint, TolerationsTolerateTaint) ---------------
def do_not_schedule_taint(taint: dict) -> bool:
    """helper.DoNotScheduleTaintsFilterFunc: NoSchedule and NoExecute taints."""
    return taint.get("effect") in ("NoSchedule", "NoExecute")


def find_matching_untolerated_taint(taints: list[dict], tolerations: list[dict], keep=do_not_schedule_taint) -> dict | None:
    for taint in taints:
        if keep(taint) and not tolerates_taint(tolerations, taint):
            return taint
    return None


def taint_dict(t: tuple[str, str, str]) -> dict:
    return {"key": t[0], "value": t[1], "effect": t[2]}


# -- Node selectors (component-helpers nodeaffinity) ------------------------------------------
@dataclass
class Requirement:
    key: str
    op: str
    values: tuple[str, ...]
    number: int = 0          # Gt/Lt


@dataclass
class NodeSelectorTerm:
    labels: list[Requirement] | None = None   # None: no matchExpressions
    fields: list[Requirement] | None = None   # None: no matchFields
    errors: list[str] = field(default_factory=list)

    def match(self, labels: dict, name: str) -> bool:
        if self.errors or (self.labels is None and self.fields is None):
            return False
        if self.labels is not None and not all(_match_label(r, labels) for r in self.labels):
            return False
        if self.fields is not None:
            for r in self.fields:
                eq = name == r.values[0]
                if eq != (r.op == "In"):
                    return False
        return True

    def match_vec(self, table: NodeTable, rows: np.ndarray | None = None) -> np.ndarray:
        n = table.high if rows is None else len(rows)
        if self.errors or (self.labels is None and self.fields is None):
            return np.zeros(n, bool)
        mask = np.ones(n, bool)
        for r in self.labels or ():
            col = table.labels.get(r.key)
            codes = np.full(n, -1, np.int32) if col is None else (col.codes[:table.high] if rows is None else col.codes[rows])
            mask &= _match_label_vec(r, col, codes)
        for r in self.fields or ():
            codes = table.name_codes.codes[:table.high] if rows is None else table.name_codes.codes[rows]
            eq = codes == table.name_codes.code(r.values[0])
            mask &= eq if r.op == "In" else ~eq
        return mask


def _match_label(r: Requirement, labels: dict) -> bool:
    """labels.Requirement.Matches."""
    has = r.key in labels
    if r.op == "In":
        return has and labels[r.key] in r.values
    if r.op == "NotIn":
        return not has or labels[r.key] not in r.values
    if r.op == "Exists":
        return has
    if r.op == "DoesNotExist":
        return not has
    if not has:
        return False
    v = parse_int64(labels[r.key])
    if v is None:
        return False
    return v > r.number if r.op == "Gt" else v < r.number


def _match_label_vec(r: Requirement, col, codes: np.ndarray) -> np.ndarray:
    if r.op in ("In", "NotIn"):
        want = [c for c in (col.code(v) for v in r.values) if c >= 0] if col is not None else []
        if not want:
            found = np.zeros(len(codes), bool)
        elif len(want) == 1:
            found = codes == want[0]
        else:
            found = np.isin(codes, want)
        return found if r.op == "In" else ~found
    if r.op == "Exists":
        return codes >= 0
    if r.op == "DoesNotExist":
        return codes < 0
    if col is None:
        return np.zeros(len(codes), bool)
    nums = col.numeric()[codes]    # code -1 indexes the trailing NaN
    with np.errstate(invalid="ignore"):
        return nums > r.number if r.op == "Gt" else nums < r.number


def parse_node_selector_term(term: dict) -> NodeSelectorTerm:
    """newNodeSelectorTerm: requirements as selectors; a term with errors never matches."""
    t = NodeSelectorTerm()
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if exprs:
        t.labels = []
        for e in exprs:
            key, op, values = e.get("key") or "", e.get("operator"), tuple(e.get("values") or ())
            # labels.NewRequirement validates the key and every value as label syntax.
            if not is_qualified_name(key):
                t.errors.append(f"{key}: invalid label key")
            for v in values:
                if not isinstance(v, str) or len(v) > 63 or not _LABEL_VALUE_RE.match(v):
                    t.errors.append(f"{key}: invalid label value: {v!r}")
            if op in ("In", "NotIn"):
                if not values:
                    t.errors.append(f"{key}: for 'in', 'notin' operators, values set can't be empty")
            elif op in ("Exists", "DoesNotExist"):
                if values:
                    t.errors.append(f"{key}: values set must be empty for exists and does not exist")
            elif op in ("Gt", "Lt"):
                if len(values) != 1 or parse_int64(values[0]) is None:
                    t.errors.append(f"{key}: for 'Gt', 'Lt' operators, exactly one integer value is required")
            else:
                t.errors.append(f"{op!r} is not a valid node selector operator")
            number = (parse_int64(values[0]) or 0) if op in ("Gt", "Lt") and values else 0
            t.labels.append(Requirement(key, op, values, number))
    if fields:
        t.fields = []
        for e in fields:
            key, op, values = e.get("key") or "", e.get("operator"), tuple(e.get("values") or ())
            if op not in ("In", "NotIn"):
                t.errors.append(f"{op!r} is not a valid node field selector operator")
            elif len(values) != 1:
                t.errors.append(f"unexpected number of value ({len(values)}) for node field selector operator {op!r}")
            elif key != OBJECT_NAME_FIELD:
                t.errors.append(f"{key!r} is not a valid node field selector key")
            t.fields.append(Requirement(key, op, values or ("",)))
    return t


class NodeSelector:
    """nodeaffinity.LazyErrorNodeSelector: ORed terms (no terms: matches nothing)."""

    def __init__(self, node_selector: dict):
        self.terms = [parse_node_selector_term(t) for t in node_selector.get("nodeSelectorTerms") or []]

    def match(self, labels: dict, name: str) -> bool:
        return any(t.match(labels, name) for t in self.terms)

    def match_vec(self, table: NodeTable, rows: np.ndarray | None = None) -> np.ndarray:
        n = table.high if rows is None else len(rows)
        mask = np.zeros(n, bool)
        for t in self.terms:
            mask |= t.match_vec(table, rows)
        return mask


class RequiredNodeAffinity:
    """nodeaffinity.GetRequiredNodeAffinity: spec.nodeSelector AND required node affinity."""

    def __init__(self, pod: dict):
        spec = pod.get("spec") or {}
        self.label_selector = spec.get("nodeSelector")
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        self.node_selector = NodeSelector(required) if required is not None else None

    def match(self, labels: dict, name: str) -> bool:
        if self.label_selector and any(labels.get(k) != v or k not in labels for k, v in self.label_selector.items()):
            return False
        return self.node_selector is None or self.node_selector.match(labels, name)

    def match_vec(self, table: NodeTable, rows: np.ndarray | None = None) -> np.ndarray:
        n = table.high if rows is None else len(rows)
        mask = np.ones(n, bool)
        for k, v in (self.label_selector or {}).items():
            col = table.labels.get(k)
            if col is None:
                return np.zeros(n, bool)
            codes = col.codes[:table.high] if rows is None else col.codes[rows]
            mask &= codes == col.code(v)
        if self.node_selector is not None:
            mask &= self.node_selector.match_vec(table, rows)
        return mask


class PreferredSchedulingTerms:
    """nodeaffinity.PreferredSchedulingTerms: Score = the sum of the weights of the terms the
    node matches (terms with weight 0 or an empty preference are ignored; a term with errors
    never matches)."""

    def __init__(self, terms: list[dict]):
        self.terms: list[tuple[int, NodeSelectorTerm]] = []
        for t in terms or []:
            pref = t.get("preference") or {}
            w = int(t.get("weight") or 0)
            if w == 0 or not (pref.get("matchExpressions") or pref.get("matchFields")):
                continue
            self.terms.append((w, parse_node_selector_term(pref)))

    def score(self, labels: dict, name: str) -> int:
        return sum(w for w, t in self.terms if t.match(labels, name))

    def score_vec(self, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), np.int64)
        for w, t in self.terms:
            out += np.where(t.match_vec(table, rows), w, 0)
        return out
