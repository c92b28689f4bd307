"""Controller references (pkg/controller/controller_ref_manager.go), shared by every workload
controller: a controller owns the objects whose ownerReference names it with `controller:
true`; it adopts orphans its selector matches and releases owned objects that stopped matching,
by patching their ownerReferences (never by mutating the cached object).

`OwnedIndex` keeps the informer's objects by their controller's uid, and the orphans by
namespace, so a sync looks at its own objects and the orphans, not at the whole cluster."""
from __future__ import annotations

from typing import Callable

from sim.api.podutil import controller_ref, is_deleting
from sim.api.selectors import labels_match


def owner_reference(owner: dict, api_version: str, kind: str) -> dict:
    """metav1.NewControllerRef: the controlling, deletion-blocking reference to `owner`."""
    return {"apiVersion": api_version, "kind": kind, "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


class OwnedIndex:
    """The objects of one informer, by controlling owner uid; orphans by namespace."""

    def __init__(self):
        self.by_owner: dict[str, dict[tuple[str, str], dict]] = {}
        self.orphans: dict[str, dict[str, dict]] = {}
        self._owner_of: dict[tuple[str, str], str | None] = {}

    def set(self, obj: dict, remove: bool = False) -> None:
        ns, name = obj["metadata"].get("namespace") or "", obj["metadata"]["name"]
        key = (ns, name)
        if key in self._owner_of:
            old = self._owner_of.pop(key)
            if old is None:
                self.orphans.get(ns, {}).pop(name, None)
            else:
                self.by_owner.get(old, {}).pop(key, None)
        if remove:
            return
        ref = controller_ref(obj)
        owner = ref.get("uid") if ref else None
        self._owner_of[key] = owner
        if owner is None:
            self.orphans.setdefault(ns, {})[name] = obj
        else:
            self.by_owner.setdefault(owner, {})[key] = obj

    def candidates(self, owner: dict) -> list[dict]:
        """What `owner` may claim: the objects it controls and its namespace's orphans."""
        md = owner["metadata"]
        return list(self.by_owner.get(md["uid"], {}).values()) + \
            list(self.orphans.get(md.get("namespace") or "", {}).values())


class ControllerRefManager:
    """ClaimObjects for one controller object: adopt, release, and return what it owns."""

    def __init__(self, controller: dict, api_version: str, kind: str, selector: list,
                 patch: Callable[[dict, dict], None]):
        self.controller = controller
        self.ref = owner_reference(controller, api_version, kind)
        self.selector = selector
        self.patch = patch  # patch(obj, {"metadata": {...}}): the client's patch of one object

    def claim(self, candidates: list[dict], match: Callable[[dict], bool] | None = None) -> list[dict]:
        """The objects the controller owns after adopting and releasing (ClaimPods).  `match`:
        ClaimPods' filters, a further condition besides the selector (the StatefulSet
        controller's isMemberOf: the pod's name is "<set>-<ordinal>")."""
        uid = self.ref["uid"]
        owned = []
        for obj in candidates:
            ref = controller_ref(obj)
            matches = labels_match(self.selector, obj["metadata"].get("labels")) and (match is None or match(obj))
            if ref and ref.get("uid") == uid:
                if matches:
                    owned.append(obj)
                elif not is_deleting(obj):
                    self.release(obj)
            elif ref is None and matches and not is_deleting(obj) and not is_deleting(self.controller):
                self.adopt(obj)
                owned.append(obj)
        return owned

    def adopt(self, obj: dict) -> None:
        md = obj["metadata"]
        refs = list(md.get("ownerReferences") or []) + [self.ref]
        self.patch(obj, {"metadata": {"ownerReferences": refs, "uid": md["uid"]}})

    def release(self, obj: dict) -> None:
        md = obj["metadata"]
        refs = [r for r in md.get("ownerReferences") or [] if r.get("uid") != self.ref["uid"]]
        self.patch(obj, {"metadata": {"ownerReferences": refs or None}})
