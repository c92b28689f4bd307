"""The pod registry's strategy steps on create that change what is stored
(pkg/registry/core/pod/strategy.go, PrepareForCreate)."""
from __future__ import annotations

from typing import Any


def apply_match_label_keys_and_mismatch_label_keys(pod: dict) -> None:
    """MatchLabelKeysInPodAffinity (beta, on by default since 1.31): for each pod (anti-)affinity
    term with a labelSelector, every matchLabelKeys key the pod has a label for is ANDed into
    the selector as `key In [value]`, every mismatchLabelKeys key as `key NotIn [value]`, so
    that the scheduler only reads the selector.  Keys the pod has no label for add nothing.

    Runs before validation, in place; a malformed spec is left for validation to reject."""
    spec = pod.get("spec")
    affinity = spec.get("affinity") if isinstance(spec, dict) else None
    if not isinstance(affinity, dict):
        return
    labels = (pod.get("metadata") or {}).get("labels")
    labels = labels if isinstance(labels, dict) else {}
    for kind in ("podAffinity", "podAntiAffinity"):
        block = affinity.get(kind)
        if not isinstance(block, dict):
            continue
        terms: list[Any] = []
        if isinstance(block.get("requiredDuringSchedulingIgnoredDuringExecution"), list):
            terms += block["requiredDuringSchedulingIgnoredDuringExecution"]
        if isinstance(block.get("preferredDuringSchedulingIgnoredDuringExecution"), list):
            terms += [w.get("podAffinityTerm") for w in block["preferredDuringSchedulingIgnoredDuringExecution"]
                      if isinstance(w, dict)]
        for term in terms:
            if isinstance(term, dict):
                _merge_into_selector(term, labels)


def _merge_into_selector(term: dict, labels: dict) -> None:
    selector = term.get("labelSelector")
    if not isinstance(selector, dict):
        return
    added = [{"key": key, "operator": op, "values": [labels[key]]}
             for field, op in (("matchLabelKeys", "In"), ("mismatchLabelKeys", "NotIn"))
             for key in (term.get(field) if isinstance(term.get(field), list) else [])
             if isinstance(key, str) and key in labels]
    if not added:
        return
    expressions = selector.get("matchExpressions")
    if expressions is not None and not isinstance(expressions, list):
        return
    selector["matchExpressions"] = (expressions or []) + added
