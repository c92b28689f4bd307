"""Snapshot deltas: a frame carries what changed in the cluster's snapshot, not the snapshot.

A 500-pod snapshot is about 140 KB of JSON and a frame goes out ten times a second, while
between two frames a few pods change phase and the clock moves.  So the worker sends a frame's
snapshot as a list of changes against the snapshot the pages already hold (the last one it
sent), and a whole snapshot only every KEYFRAME_FRAMES snapshots, after a reset or restore (a
new engine), or when a frame had to be cut down to fit (cluster/worker/frames.py, fit).

    {"snapshot": null, "snapshotDelta": [op, ...]}

An op changes one place, named by a path of keys (objects) and indices (arrays) from the
snapshot's root, in order:

    ["set", path, value]                      put value there (a new key, or a list index in range)
    ["del", path]                             remove that key of an object
    ["splice", path, start, deleteCount, items]   Array.prototype.splice on the list at path

Applying a frame's ops to the snapshot of the frame before gives exactly the new snapshot (as
JSON).  Frames are numbered without gaps, and a page applies them in order; a page that missed
one (a gap) or holds no snapshot reloads the state (frame n and its snapshot) as it always did,
so a delta is never applied to the wrong base.  static/js/frames.js (applySnapshotDelta) is the
page's side of this; `apply` below the same in Python (the tests, and any Python client).

Lists are compared as a common head and tail around a changed middle.  When the middle's
items are named objects (pods, nodes, ReplicaSets) and the names differ, they are matched by
name (difflib's longest common subsequence): the matched ones compared in turn, the runs
added or removed spliced.  Otherwise a middle of the same length on both sides is compared
item by item (pods changing phase), and one that changed length is spliced whole.  The comparison is Python's own `==`, which
skips an unchanged subtree at C speed, so a diff costs little more than walking what changed.
"""
from __future__ import annotations

import copy
import difflib
from typing import Any

# A whole snapshot at least this often (in frames that carry one): a page never drifts for
# long even if a delta were ever wrong, and a capture of the stream finds a starting point.
KEYFRAME_FRAMES = 100


class DeltaError(ValueError):
    """An op that does not fit the document: the client must reload the state."""


def diff(old: Any, new: Any) -> list[list]:
    """The ops that turn `old` into `new` (both JSON-shaped; the roots are objects)."""
    ops: list[list] = []
    _diff(old, new, [], ops)
    return ops


def _diff(old: Any, new: Any, path: list, ops: list[list]) -> None:
    if old is new or (type(old) is type(new) and old == new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            if key in old:
                _diff(old[key], value, [*path, str(key)], ops)
            else:
                ops.append(["set", [*path, str(key)], value])
        for key in old:
            if key not in new:
                ops.append(["del", [*path, str(key)]])
    elif isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        _diff_list(old, new, path, ops)
    else:
        if not path:
            raise DeltaError("a snapshot's root must stay an object")
        ops.append(["set", path, new])


def _diff_list(old, new, path: list, ops: list[list]) -> None:
    n, m = len(old), len(new)
    head = 0
    while head < n and head < m and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < n - head and tail < m - head and old[n - 1 - tail] == new[m - 1 - tail]:
        tail += 1
    old_mid, new_mid = old[head:n - tail], new[head:m - tail]
    old_keys, new_keys = _keys(old_mid), _keys(new_mid)
    if old_keys is not None and new_keys is not None and old_keys != new_keys:
        # Named objects (pods, nodes) came and went: match them by name, so a pod added at
        # one end of a node's list and another gone at the other cost two small splices, not
        # everything in between.  From the end backwards, so each op's index is still right
        # when it is applied.
        matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                for k in range(i2 - i1):
                    _diff(old_mid[i1 + k], new_mid[j1 + k], [*path, head + i1 + k], ops)
            else:
                ops.append(["splice", path, head + i1, i2 - i1, list(new_mid[j1:j2])])
    elif len(old_mid) == len(new_mid):
        for i in range(len(new_mid)):
            _diff(old_mid[i], new_mid[i], [*path, head + i], ops)
    else:
        ops.append(["splice", path, head, len(old_mid), list(new_mid)])


def _keys(items) -> list | None:
    """Each item's identity when every one is an object with a name (namespace, name), else None."""
    keys = []
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            return None
        keys.append((item.get("namespace"), item["name"]))
    return keys if len(set(keys)) == len(keys) else None


def apply(doc: Any, ops: list) -> Any:
    """`doc` with `ops` applied, `doc` itself untouched (the containers along each changed
    path are copied, everything else shared).  DeltaError when an op does not fit."""
    if not isinstance(ops, list):
        raise DeltaError("ops must be a list")
    root = _copy(doc)
    copied = {id(root)}
    for op in ops:
        if not isinstance(op, list) or not op or op[0] not in ("set", "del", "splice") or \
                len(op) < 2 or not isinstance(op[1], list):
            raise DeltaError(f"not an op: {op!r}")
        kind, path = op[0], op[1]
        if kind in ("set", "del") and not path:
            raise DeltaError(f"{kind} needs a path: {op!r}")
        target_path = path if kind == "splice" else path[:-1]
        parent = root
        for step in target_path:
            child = _child(parent, step, op)
            if id(child) not in copied:
                child = _copy(child)
                copied.add(id(child))
                parent[step] = child
            parent = child
        if kind == "splice":
            if not isinstance(parent, list) or len(op) != 5:
                raise DeltaError(f"splice needs a list: {op!r}")
            start, count, items = op[2], op[3], op[4]
            if not (isinstance(start, int) and isinstance(count, int) and 0 <= start <= len(parent)
                    and 0 <= count <= len(parent) - start and isinstance(items, list)):
                raise DeltaError(f"splice out of range: {op[:4]!r}")
            parent[start:start + count] = items
            continue
        key = path[-1]
        if isinstance(parent, dict):
            if not isinstance(key, str):
                raise DeltaError(f"an object's key must be a string: {op!r}")
            if kind == "set":
                parent[key] = op[2]
            elif key in parent:
                del parent[key]
            else:
                raise DeltaError(f"no such key: {op!r}")
        elif isinstance(parent, list) and kind == "set" and isinstance(key, int) and 0 <= key < len(parent):
            parent[key] = op[2]
        else:
            raise DeltaError(f"op does not fit the document: {op!r}")
    return root


def _child(parent, step, op):
    if isinstance(parent, dict) and isinstance(step, str) and step in parent:
        child = parent[step]
    elif isinstance(parent, list) and isinstance(step, int) and 0 <= step < len(parent):
        child = parent[step]
    else:
        raise DeltaError(f"no such path: {op!r}")
    if not isinstance(child, (dict, list)):
        raise DeltaError(f"path goes through a scalar: {op!r}")
    return child


def _copy(value):
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise DeltaError("a snapshot must be an object")


class DeltaEncoder:
    """Per cluster: turns each frame's snapshot into a delta against the one sent before.

    `base` is the snapshot the pages hold after the last frame sent - the one the worker's
    `state` command must hand out with that frame's number (RunningCluster.last_snapshot)."""

    def __init__(self, keyframe_frames: int = KEYFRAME_FRAMES) -> None:
        self.keyframe_frames = keyframe_frames
        self.base: dict | None = None
        self.since_keyframe = 0

    def encode(self, frame: dict) -> dict:
        """The frame to send: unchanged when it has no snapshot or its snapshot goes whole
        (a keyframe); else with "snapshot": null and "snapshotDelta"."""
        snapshot = frame.get("snapshot")
        if snapshot is None:
            return frame
        if self.base is None or self.since_keyframe + 1 >= self.keyframe_frames or frame.get("truncated"):
            self.base, self.since_keyframe = snapshot, 0
            return frame
        ops = diff(self.base, snapshot)
        self.base = snapshot
        self.since_keyframe += 1
        if not ops:  # the same snapshot: nothing for the page to redraw
            return {**frame, "snapshot": None}
        return {**frame, "snapshot": None, "snapshotDelta": ops}

    def keyframe(self) -> None:
        """Send the next snapshot whole."""
        self.base = None


class SnapshotFollower:
    """A client's side, in Python: follows decoded frames in order and fills each frame's
    "snapshot" with the whole snapshot it stands for (None when the frame carried none).
    Start it from a state's snapshot (or from None, then the first keyframe)."""

    def __init__(self, snapshot: dict | None = None) -> None:
        self.snapshot = copy.deepcopy(snapshot)

    def follow(self, frame: dict) -> dict:
        ops = frame.get("snapshotDelta")
        if ops is not None:
            if self.snapshot is None:
                raise DeltaError(f"frame {frame.get('frame')}: a delta, but no snapshot to apply it to")
            frame = {**frame, "snapshot": apply(self.snapshot, ops)}
        if frame.get("snapshot") is not None:
            self.snapshot = frame["snapshot"]
        return frame
