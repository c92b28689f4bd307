"""A controller's history as ControllerRevisions (pkg/controller/history/controller_history.go),
shared by the DaemonSet and StatefulSet controllers.

A ControllerRevision is an immutable snapshot of the part of a workload a rollout changes (its
`data`: the patch that puts the pod template back), numbered by `revision`, owned by the
workload through a controller reference.  Rolling back is re-applying an old revision's data;
the revision then gets the next number, so the history reads in the order things happened.

Here `data` is JSON data (a dict); Go's Data.Raw is the bytes json.Marshal wrote for it, which
`raw_data` reproduces, so hashes and equality are over the same bytes upstream compares.

Requests are asynchronous, as every client in the engine: `History`'s writes take a callback
`cb(revision | None, error | None)` called with the answer (the error an API Status body).
"""
from __future__ import annotations

import re
from typing import Callable

from sim.api.hashing import fnv32, go_json, safe_encode_string
from sim.api.meta import deep_copy
from sim.api.podutil import controller_ref
from sim.api.selectors import labels_match
from sim.controllers.controllerref import ControllerRefManager, owner_reference

# history.ControllerRevisionHashLabel: the hash of a revision's data, on revisions made by
# NewControllerRevision (the StatefulSet controller's).
CONTROLLER_REVISION_HASH_LABEL = "controller.kubernetes.io/hash"
# apps.ControllerRevisionHashLabelKey: the label naming the revision a pod was made from
# (DefaultDaemonSetUniqueLabelKey, StatefulSetRevisionLabel).
CONTROLLER_REVISION_HASH_LABEL_KEY = "controller-revision-hash"

MAX_PREFIX_LENGTH = 223  # a name of at most 253 bytes: prefix + "-" + a hash of at most 10 + room
# retry.DefaultBackoff: 4 steps, from 10 ms, x5 each time (jitter 0.1 left out: no randomness
# is needed where nothing else competes in virtual time).
RETRY_STEPS, RETRY_DURATION, RETRY_FACTOR = 4, 0.010, 5.0
MAX_COLLISIONS = 100  # CreateControllerRevision loops until it succeeds; a bound keeps a bug finite

_DECIMAL = re.compile(r"^[+-]?[0-9]+$")

Callback = Callable[[dict | None, dict | None], None]


# -- names, hashes, equality, order -------------------------------------------------------------
def controller_revision_name(prefix: str, hash_: str) -> str:
    """ControllerRevisionName: "<prefix>-<hash>", the prefix cut to 223 bytes."""
    return f"{prefix[:MAX_PREFIX_LENGTH]}-{hash_}"


def raw_data(revision: dict) -> bytes:
    """The revision's Data.Raw: its data as json.Marshal writes it (b"" for none)."""
    data = revision.get("data")
    return b"" if data is None else go_json(data)


def hash_controller_revision(revision: dict, probe: int | None = None) -> str:
    """HashControllerRevision: FNV-1 (fnv.New32) over Data.Raw, then the decimal text of the
    collision count `probe` when there is one, encoded by rand.SafeEncodeString."""
    h = fnv32(raw_data(revision))
    if probe is not None:
        h = fnv32(str(probe).encode(), h)
    return safe_encode_string(str(h))


def new_controller_revision(parent: dict, api_version: str, kind: str, template_labels: dict | None,
                            data: dict, revision: int, collision_count: int | None) -> dict:
    """NewControllerRevision: owned by `parent`, labelled as its template is plus the hash
    label, named "<parent name>-<hash>"."""
    cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
          "metadata": {"namespace": parent["metadata"].get("namespace"), "labels": dict(template_labels or {}),
                       "ownerReferences": [owner_reference(parent, api_version, kind)]},
          "data": deep_copy(data), "revision": revision}
    hash_ = hash_controller_revision(cr, collision_count)
    cr["metadata"]["name"] = controller_revision_name(parent["metadata"]["name"], hash_)
    cr["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] = hash_
    return cr


def _hash_label_as_uint32(revision: dict) -> int | None:
    """strconv.ParseInt(label, 10, 32) of the hash label, as EqualRevision reads it (a
    SafeEncodeString hash never parses as a number, so this is almost always None)."""
    hs = ((revision.get("metadata") or {}).get("labels") or {}).get(CONTROLLER_REVISION_HASH_LABEL)
    if hs is None or not _DECIMAL.match(hs):
        return None
    n = int(hs)
    return n & 0xFFFFFFFF if -(1 << 31) <= n < (1 << 31) else None


def equal_revision(lhs: dict | None, rhs: dict | None) -> bool:
    """EqualRevision: both absent, or the same Data (hash labels that both parse and differ
    say no at once)."""
    if lhs is None or rhs is None:
        return lhs is rhs
    lh, rh = _hash_label_as_uint32(lhs), _hash_label_as_uint32(rhs)
    if lh is not None and rh is not None and lh != rh:
        return False
    return raw_data(lhs) == raw_data(rhs)


def find_equal_revisions(revisions: list[dict], needle: dict) -> list[dict]:
    """FindEqualRevisions: the revisions equal to `needle`, in their order."""
    return [r for r in revisions if equal_revision(r, needle)]


def sort_controller_revisions(revisions: list[dict]) -> list[dict]:
    """SortControllerRevisions (byRevision, stable): by revision, ties by creation time, then
    by name.  Returns a new list."""
    return sorted(revisions, key=lambda r: (r.get("revision") or 0, r["metadata"].get("creationTimestamp") or "",
                                            r["metadata"]["name"]))


def max_revision(revisions: list[dict]) -> int:
    """The largest revision number among `revisions` (0 for none): maxRevision in both the
    DaemonSet and StatefulSet controllers."""
    return max((r.get("revision") or 0 for r in revisions), default=0)


# -- the Interface, over the controller-manager's informer and a controller's client ------------
class History:
    """history.Interface (realHistory): lists from the shared ControllerRevision informer,
    writes through the controller's client."""

    def __init__(self, cm, api, informer):
        self.cm = cm            # for call_later (retries)
        self.api = api          # the controller's clientset
        self.informer = informer  # cm.shared_informer("controllerrevisions", group="apps")

    def _in_namespace(self, namespace: str) -> list[dict]:
        return [r for r in self.informer.list() if r["metadata"].get("namespace") == namespace]

    def list_controller_revisions(self, parent: dict, selector: list) -> list[dict]:
        """ListControllerRevisions: the revisions in the parent's namespace matching `selector`
        (parsed requirements) and owned by the parent or by no controller."""
        uid = parent["metadata"]["uid"]
        out = []
        for r in self._in_namespace(parent["metadata"].get("namespace")):
            if not labels_match(selector, r["metadata"].get("labels")):
                continue
            ref = controller_ref(r)
            if ref is None or ref.get("uid") == uid:
                out.append(r)
        return out

    def claim_controller_revisions(self, parent: dict, api_version: str, kind: str, selector: list) -> list[dict]:
        """ControllerRefManager.ClaimControllerRevisions over every revision of the namespace
        (labels.Everything(), so owned revisions that stopped matching are released): matching
        orphans are adopted, owned ones that no longer match released; returns the owned."""
        refs = ControllerRefManager(parent, api_version, kind, selector, self._patch)
        return refs.claim(self._in_namespace(parent["metadata"].get("namespace")))

    def _patch(self, obj: dict, patch: dict) -> None:
        md = obj["metadata"]
        self.api.patch("controllerrevisions", md["namespace"], md["name"], patch, group="apps")

    def create_controller_revision(self, parent: dict, revision: dict, collision_count: int,
                                   cb: Callable[[dict | None, dict | None, int], None]) -> None:
        """CreateControllerRevision: create `revision` named by its hash with the collision
        count; when the name is taken by a revision with other data, count a collision and try
        the next name.  `cb(created, error, collision_count)`: the count as it ends, for the
        caller to store in its status (Go's *int32 it increments)."""
        clone = deep_copy(revision)
        ns = parent["metadata"].get("namespace")
        clone["metadata"]["namespace"] = ns
        state = {"count": collision_count, "tries": 0}

        def attempt() -> None:
            hash_ = hash_controller_revision(revision, state["count"])
            clone["metadata"]["name"] = controller_revision_name(parent["metadata"]["name"], hash_)
            self.api.create("controllerrevisions", deep_copy(clone), created, group="apps")

        def created(resp: dict) -> None:
            if resp["code"] < 400:
                return cb(resp["body"], None, state["count"])
            if resp["code"] == 409 and (resp.get("body") or {}).get("reason") == "AlreadyExists":
                name = clone["metadata"]["name"]
                self.api.request({"verb": "get", "group": "apps", "resource": "controllerrevisions",
                                  "namespace": ns, "name": name}, got)
                return
            cb(None, resp.get("body") or {}, state["count"])

        def got(resp: dict) -> None:
            if resp["code"] >= 400:
                return cb(None, resp.get("body") or {}, state["count"])
            exists = resp["body"]
            if raw_data(exists) == raw_data(clone):
                return cb(exists, None, state["count"])
            state["count"] += 1
            state["tries"] += 1
            if state["tries"] > MAX_COLLISIONS:
                return cb(None, {"reason": "InternalError", "message": "too many ControllerRevision name collisions"},
                          state["count"])
            attempt()

        attempt()

    def update_controller_revision(self, revision: dict, new_revision: int, cb: Callback | None = None) -> None:
        """UpdateControllerRevision: set its revision number, retrying on conflict with the
        informer's newer copy (retry.RetryOnConflict with DefaultBackoff)."""
        state = {"clone": deep_copy(revision), "step": 0}

        def attempt() -> None:
            clone = state["clone"]
            if clone.get("revision") == new_revision:
                return cb and cb(clone, None)
            clone["revision"] = new_revision
            self.api.update("controllerrevisions", deep_copy(clone), updated, group="apps")

        def updated(resp: dict) -> None:
            if resp["code"] < 400:
                return cb and cb(resp["body"], None)
            md = state["clone"]["metadata"]
            latest = self.informer.get(md.get("namespace"), md["name"])
            if latest is not None:
                state["clone"] = deep_copy(latest)  # never the cached object itself
            state["step"] += 1
            if resp["code"] != 409 or state["step"] >= RETRY_STEPS:
                return cb and cb(None, resp.get("body") or {})
            self.cm.call_later(RETRY_DURATION * RETRY_FACTOR ** (state["step"] - 1), attempt)

        attempt()

    def delete_controller_revision(self, revision: dict, cb: Callback | None = None) -> None:
        """DeleteControllerRevision."""
        md = revision["metadata"]
        self.api.delete("controllerrevisions", md["namespace"], md["name"],
                        lambda resp: cb and cb(revision if resp["code"] < 400 else None,
                                               None if resp["code"] < 400 else resp.get("body") or {}),
                        group="apps")

    def adopt_controller_revision(self, parent: dict, api_version: str, kind: str, revision: dict,
                                  cb: Callback | None = None) -> None:
        """AdoptControllerRevision: add the parent's controller reference (an error if another
        controller already owns it)."""
        owner = controller_ref(revision)
        if owner is not None:
            return cb and cb(None, {"reason": "Conflict", "message": f"attempt to adopt revision owned by {owner}"})
        md = revision["metadata"]
        refs = list(md.get("ownerReferences") or []) + [owner_reference(parent, api_version, kind)]
        self.api.patch("controllerrevisions", md["namespace"], md["name"],
                       {"metadata": {"ownerReferences": refs, "uid": md["uid"]}},
                       lambda resp: cb and cb(resp["body"] if resp["code"] < 400 else None,
                                              None if resp["code"] < 400 else resp.get("body") or {}),
                       group="apps")

    def release_controller_revision(self, parent: dict, revision: dict, cb: Callback | None = None) -> None:
        """ReleaseControllerRevision: drop the parent's reference; a revision already gone or
        no longer the parent's is no error."""
        md = revision["metadata"]
        uid = parent["metadata"]["uid"]
        refs = [r for r in md.get("ownerReferences") or [] if r.get("uid") != uid]

        def released(resp: dict) -> None:
            if cb is None:
                return
            if resp["code"] < 400:
                return cb(resp["body"], None)
            if resp["code"] in (404, 422):
                return cb(None, None)
            cb(None, resp.get("body") or {})

        self.api.patch("controllerrevisions", md["namespace"], md["name"],
                       {"metadata": {"ownerReferences": refs or None, "uid": md["uid"]}}, released, group="apps")
