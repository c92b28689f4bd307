"""The apiextensions-apiserver's controllers, inside each kube-apiserver (they run in the same
process upstream): level-triggered over the CRDs in the watch cache.

- naming (controller/status/naming_controller.go) and establishing (controller/establish):
  accept the names no other CRD of the group holds, then mark the CRD Established;
- serving (apiserver/customresource_handler.go's crdHandler): an Established CRD's kind is
  registered in this apiserver's registry (sim/registry) and its objects loaded into the watch
  cache; a CRD gone from storage takes its kind away again;
- finalizer (controller/finalizer/crd_finalizer.go): a deleted CRD's objects are deleted, then
  its `customresourcecleanup.apiextensions.k8s.io` finalizer removed, which lets it go.

Writes go through the apiserver's own request path (the loopback client upstream), so they are
validated, stored through etcd, and seen by every apiserver's watch; HA apiservers race
harmlessly (a conflict is retried on the next change, as a requeue would)."""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.apiextensions import status as crdstatus
from sim.apiserver import storage
from sim.apiserver.watchcache import with_rv
from sim.registry.apiextensions.customresourcedefinitions import CLEANUP_FINALIZER, GROUP
from sim.registry.customresource import resource_for

CRDS = f"customresourcedefinitions.{GROUP}"
RECHECK = 1.0  # a CRD whose objects are still being deleted is looked at again after this


class CRDController:
    def __init__(self, server):
        self.server = server
        self.dirty: set[str] = set()
        self.scheduled = False
        self.served: dict[str, str] = {}  # CRD name -> the GroupResource it serves

    def reset(self) -> None:
        """A new process: nothing served beyond the built-in kinds, nothing pending."""
        self.dirty.clear()
        self.scheduled = False
        self.served.clear()

    def changed(self, name: str, crd: dict | None) -> None:
        """A CRD was written or deleted (the watch cache's observe hook): sync it soon."""
        self.dirty.add(name)
        if not self.scheduled:
            self.scheduled = True
            self.server.call_later(0.0, self._drain)

    def _drain(self) -> None:
        self.scheduled = False
        batch, self.dirty = sorted(self.dirty), set()
        for name in batch:
            self.server._within(None, lambda n=name: self.sync(n))

    def sync(self, name: str) -> None:
        crd = self.server.cache.objects(CRDS).get(("", name))
        self._serve(name, crd)
        if crd is None:
            return
        if crd["metadata"].get("deletionTimestamp"):
            self._finalize(crd)
        else:
            self._name_and_establish(crd)

    # -- serving -------------------------------------------------------------------------
    def _serve(self, name: str, crd: dict | None) -> None:
        res = resource_for(crd) if crd is not None else None
        registry, cache = self.server.registry, self.server.cache
        old_gr = self.served.get(name)
        if res is None:
            if old_gr is not None and crd is None:
                old = registry.by_gr(old_gr)
                registry.unregister(old.group, old.name)
                self.server.close_watches(cache.remove_kind(old_gr))
                del self.served[name]
                self.server.action(f"kube-apiserver stops serving {old_gr}")
            return
        if old_gr is not None and old_gr != res.gr:
            return  # names never change once established (validation refuses it)
        registry.register(res)
        self.served[name] = res.gr
        if old_gr is None:
            cache.add_kind(res)
            self.server.action(f"kube-apiserver serves {res.gr} ({res.kind}, {', '.join(res.served_versions)})")
            self._load(res)

    def _load(self, res) -> None:
        """The kind's objects already in etcd (written before this apiserver knew the kind, or
        before it restarted): the initial list skipped their keys."""
        def got(reply: dict) -> None:
            if reply.get("type") == "timeout" or "error" in reply:
                self.server.call_later(RECHECK, lambda: self._load(res))
                return
            if self.server.registry.lookup(res.group, res.name) is None:
                return
            objects = self.server.cache.objects(res.gr)
            for key, value, mod_rev in reply.get("kvs", []):
                ckey = storage.object_key(res, key)
                if ckey is None:
                    continue
                have = objects.get(ckey)
                if have is not None and int(have["metadata"]["resourceVersion"]) >= mod_rev:
                    continue  # the watch brought a newer one meanwhile
                obj, error = storage.decode(res, ckey, value)
                if error:
                    self.server._corrupt_found(res, ckey, storage.CorruptObject(key, mod_rev, error), initial=True)
                else:
                    self.server.cache.replace(res.gr, ckey, with_rv(obj, mod_rev))

        self.server.etcd_call({"type": "etcd.range", "prefix": res.etcd_prefix}, got)

    # -- naming and establishing ---------------------------------------------------------
    def _name_and_establish(self, crd: dict) -> None:
        others = [o for o in self.server.cache.objects(CRDS).values()]
        want = crdstatus.apply_naming(crd, others, self.server.timestamp())
        if _conditions(want) == _conditions(crd) and \
                (want.get("status") or {}).get("acceptedNames") == (crd.get("status") or {}).get("acceptedNames"):
            return
        self._write_status(want)

    # -- finalizing ----------------------------------------------------------------------
    def _finalize(self, crd: dict) -> None:
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return
        gr = self.served.get(crd["metadata"]["name"])
        res = self.server.registry.by_gr(gr) if gr else None
        objects = self.server.cache.objects(gr) if gr else {}
        reason = (crdstatus.find_condition(crd, "Terminating") or {}).get("reason")
        if reason in (None, "InstanceDeletionPending"):
            self._write_terminating(crd, "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress")
            return
        if res is not None and objects:
            for (ns, name), obj in sorted(objects.items()):
                if not obj["metadata"].get("deletionTimestamp"):
                    self.server.serve({"verb": "delete", "group": res.group, "resource": res.name,
                                       "namespace": ns or None, "name": name}, lambda r: None)
            self.server.call_later(RECHECK, lambda: self.changed(crd["metadata"]["name"], crd))
            return
        if reason != "InstanceDeletionCompleted":
            self._write_terminating(crd, "False", "InstanceDeletionCompleted", "removed all instances")
            return
        # All instances gone, and the condition says so: the finalizer goes, and the CRD with it.
        latest = deep_copy(crd)
        latest["metadata"]["finalizers"] = [f for f in latest["metadata"].get("finalizers") or []
                                            if f != CLEANUP_FINALIZER]
        self.server.serve({"verb": "update", "group": GROUP, "resource": "customresourcedefinitions",
                           "name": latest["metadata"]["name"], "body": latest}, lambda r: None)

    def _write_terminating(self, crd: dict, status: str, reason: str, message: str) -> None:
        new = deep_copy(crd)
        crdstatus.set_condition(new, crdstatus.condition("Terminating", status, reason, message), self.server.timestamp())
        self._write_status(new)

    def _write_status(self, crd: dict) -> None:
        self.server.serve({"verb": "update", "group": GROUP, "resource": "customresourcedefinitions",
                           "subresource": "status", "name": crd["metadata"]["name"], "body": crd}, lambda r: None)


def _conditions(crd: dict) -> list:
    return [{k: c.get(k) for k in ("type", "status", "reason", "message")}
            for c in (crd.get("status") or {}).get("conditions") or []]
