"""Patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge patch follows the patchMergeKey annotations of the core types for the lists a
student meets (containers by name, a container's ports by containerPort, a Service's by port,
env by name, conditions by type, tolerations are replaced); `$patch: delete` / `replace`
directives are honoured on maps, `$deleteFromPrimitiveList/<list>` on lists of scalars.
"""
from __future__ import annotations

import copy
import json
from typing import Any

# staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: at most 10,000 operations in a
# JSON patch (a 413 beyond), and "copy" operations may add at most JSONPatchMaxCopyBytes (3 MiB,
# the request body limit) in all: each copy can double the document, so without a bound 30 of
# them would ask for a billion copies.
MAX_JSON_PATCH_OPERATIONS = 10000
MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024


class PatchError(ValueError):
    pass


class PatchTooLarge(PatchError):
    """errors.NewRequestEntityTooLargeError: a 413."""


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# field name -> merge key, for lists merged by key (k8s.io/api/core/v1/types.go patchMergeKey).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "ports": "containerPort", "volumeMounts": "mountPath", "volumes": "name",
    "conditions": "type", "containerStatuses": "name", "initContainerStatuses": "name",
    "imagePullSecrets": "name", "ownerReferences": "uid", "addresses": "type", "taints": "key",
}
# (parent field, field) -> merge key, where one field name has another key in another type:
# ServiceSpec.Ports is `patchStrategy:"merge" patchMergeKey:"port"` (a container's ports merge by
# containerPort).
MERGE_KEYS_IN = {("spec", "ports"): "port"}


def merge_key(field: str | None, parent: str | None) -> str | None:
    """The patchMergeKey of the list `field` inside the map that is `parent`'s value."""
    return MERGE_KEYS_IN.get((parent, field), MERGE_KEYS.get(field))  # type: ignore[arg-type]


def strategic_merge_patch(target: Any, patch: Any, field: str | None = None, parent: str | None = None) -> Any:
    """`field`: the name this value has in its map; `parent`: that map's own name (None for a
    list's item or the object), which tells the merge key of a list (`merge_key`)."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "delete":
            return None
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        result = dict(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$"):
                continue
            if value is None:
                result.pop(key, None)
                continue
            merged = strategic_merge_patch(result.get(key), value, key, field)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        for key, values in patch.items():
            # `$deleteFromPrimitiveList/<list>`: those values leave a list of scalars (the Job
            # controller's patch removing its tracking finalizer from a pod).
            if key.startswith("$deleteFromPrimitiveList/") and isinstance(result.get(key[25:]), list):
                drop = values if isinstance(values, list) else []
                kept = [x for x in result[key[25:]] if x not in drop]
                if kept:
                    result[key[25:]] = kept
                else:
                    result.pop(key[25:])
        for key, order in patch.items():
            if key.startswith("$setElementOrder/") and isinstance(result.get(key[17:]), list):
                result[key[17:]] = _set_element_order(result[key[17:]], order, merge_key(key[17:], field))
        return result
    if isinstance(patch, list) and merge_key(field, parent) and isinstance(target, list):
        key = merge_key(field, parent)
        result = [copy.deepcopy(x) for x in target]
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                result.append(copy.deepcopy(item))
                continue
            idx = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]), None)
            if item.get("$patch") == "delete":
                if idx is not None:
                    result.pop(idx)
            elif idx is None:
                result.append(strategic_merge_patch({}, item, None))
            else:
                result[idx] = strategic_merge_patch(result[idx], item, None)
        return result
    return _discard_nulls(patch)


def _discard_nulls(value: Any) -> Any:
    """A patch value taken whole (nothing in the object to merge it with), deep-copied without
    its null fields: the API server applies strategic merge patches with IgnoreUnmatchedNulls
    (discardNullValuesFromPatch), so `{"waiting": null, "running": {...}}` stores `{"running": {...}}`."""
    if isinstance(value, dict):
        return {k: _discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_discard_nulls(v) for v in value]
    return copy.deepcopy(value)


def _set_element_order(items: list, order: Any, key: str | None) -> list:
    """The `$setElementOrder/<list>` directive (kubectl apply and the kubelet's status patches
    send it): the merged list's items in the order given, by merge key; items it does not name
    keep their relative order after them."""
    if not key or not isinstance(order, list):
        return items
    wanted = [o[key] for o in order if isinstance(o, dict) and key in o]
    rank = {k: i for i, k in enumerate(wanted)}
    named = sorted((x for x in items if isinstance(x, dict) and x.get(key) in rank), key=lambda x: rank[x[key]])
    return named + [x for x in items if not (isinstance(x, dict) and x.get(key) in rank)]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchTooLarge(f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
                            f"got {len(ops)}")
    doc = copy.deepcopy(target)
    copied = 0
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("each JSON patch operation needs 'op' and 'path'")
        if not isinstance(op["path"], str) or not isinstance(op.get("from", ""), str):
            raise PatchError("a JSON patch operation's path and from must be strings")
        kind, parts = op["op"], _pointer(op["path"])
        if kind in ("move", "copy"):
            value = _get(doc, _pointer(op.get("from", "")))
            if kind == "copy":
                # evanphx/json-patch's AccumulatedCopySizeLimit, counted as it counts: the
                # copied value's JSON size.
                copied += len(json.dumps(value, separators=(",", ":"), default=str))
                if copied > MAX_JSON_PATCH_COPY_BYTES:
                    raise PatchError(f"Unable to copy, accumulated size increase of {copied} exceeds the limit "
                                     f"{MAX_JSON_PATCH_COPY_BYTES}")
            if kind == "move":
                doc = _remove(doc, _pointer(op["from"]))
            doc = _add(doc, parts, copy.deepcopy(value))
        elif kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            doc = _add(_remove(doc, parts), parts, copy.deepcopy(op.get("value")))
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise PatchError(f"testing value {op['path']} failed")
        else:
            raise PatchError(f"unexpected kind: {kind}")
    return doc


def _get(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError) as e:
                raise PatchError(f"path not found: /{'/'.join(parts)}") from e
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            raise PatchError(f"path not found: /{'/'.join(parts)}")
    return cur


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _get(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                parent.insert(int(last), value)
            except ValueError as e:
                raise PatchError(f"invalid index {last}") from e
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"cannot add at /{'/'.join(parts)}")
    return doc


def _remove(doc, parts):
    parent = _get(doc, parts[:-1])
    last = parts[-1]
    try:
        if isinstance(parent, list):
            parent.pop(int(last))
        else:
            del parent[last]
    except (KeyError, IndexError, ValueError) as e:
        raise PatchError(f"path not found: /{'/'.join(parts)}") from e
    return doc
