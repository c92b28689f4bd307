"""The garbage collector (pkg/controller/garbagecollector) over every ownerReference.

As upstream's GraphBuilder, it watches every served kind that can be listed, watched and
deleted (events excepted, as upstream ignores them) and keeps a dependency graph: uid -> the
object, and owner uid -> its dependents' uids. A change to an object queues it (and, when it is
being deleted or gone, its dependents and owners), and processing an object does what
upstream's attemptToDeleteItem / attemptToOrphan / processDeletingDependentsItem do:

- an object being deleted with the `orphan` finalizer: its dependents lose their
  ownerReferences to it, then the finalizer is removed (the object goes);
- an object being deleted with the `foregroundDeletion` finalizer: its dependents are deleted;
  once none that has `blockOwnerDeletion` remains, the finalizer is removed;
- a dependent: owners that exist and are not deleting their dependents in the foreground are
  "solid"; absent ones (confirmed by a live GET, as upstream's isDangling) are "dangling";
  foreground-deleting ones are "waiting". With a solid owner left, references to the others
  are removed; with none, the dependent is deleted (Foreground when an owner waits for it and it
  has dependents of its own, else as its own finalizers ask).
"""
from __future__ import annotations

from sim.discovery import APIResource as Resource
from sim.registry.strategy import FINALIZER_FOREGROUND, FINALIZER_ORPHAN

# garbagecollector.go's ignoredResources (the events, which are never owners worth a watch).
IGNORED = {("", "events"), ("events.k8s.io", "events")}
RETRY = 1.0
# How often discovery is read again for kinds added or removed (GarbageCollector.Sync's period,
# kube-controller-manager's 30 s resync of its monitors).
DISCOVERY_RESYNC = 30.0


def _group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in (api_version or "") else ""


class GarbageCollector:
    name = "garbage-collector-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.objs: dict[str, tuple[Resource, dict]] = {}   # uid -> (resource, object)
        self.dependents: dict[str, set[str]] = {}          # owner uid -> dependent uids
        self.absent: set[str] = set()                      # owner uids known to be gone
        self.checking: set[str] = set()                    # owner uids with a live GET in flight
        self.queue: set[str] = set()
        self.scheduled = False

    @staticmethod
    def monitored(served: list[Resource]) -> list[Resource]:
        """Every served kind the collector watches (GetDeletableResources: the deletable,
        listable, watchable resources from discovery, minus the ignored ones)."""
        return [r for r in served if (r.group, r.name) not in IGNORED
                and {"list", "watch", "delete"} <= set(r.verbs)]

    def start(self) -> None:
        self.kinds: dict[tuple[str, str], Resource] = {}    # (group, kind) -> the served kind
        self.monitors: dict[tuple[str, str], Resource] = {}  # (group, resource) watched
        self.unmapped: set[str] = set()  # dependents whose owner's kind discovery did not list
        self.rediscovered: set[tuple[str, str]] = set()  # unknown owner kinds already looked up
        self._sync()

    def _sync(self) -> None:
        """Read discovery, watch kinds that appeared, stop watching kinds that went away."""
        self.api.discover(self._discovered)
        self.cm.call_later(DISCOVERY_RESYNC, self._sync)

    def _rediscover_soon(self, ref: dict) -> None:
        """An ownerReference names a kind discovery did not list (a CRD established since the
        last sync): read discovery again now - the deferred RESTMapper's Reset() on a kind it
        cannot map - once per unknown kind; the periodic sync covers the rest."""
        kind = (_group_of(ref.get("apiVersion", "")), ref.get("kind"))
        if kind not in self.rediscovered:
            self.rediscovered.add(kind)
            self.api.discover(self._discovered)

    def _discovered(self, served: list[Resource] | None) -> None:
        if served is None:
            return  # discovery failed: the next sync tries again
        self.kinds = {(r.group, r.kind): r for r in served}
        waiting, self.unmapped = self.unmapped, set()
        for uid in sorted(waiting):  # their owners' kinds may be known now
            self._enqueue(uid)
        wanted = {(r.group, r.name): r for r in self.monitored(served)}
        for key in [k for k in self.monitors if k not in wanted]:
            del self.monitors[key]
            self.cm.stop_informer(key[1], group=key[0])
        for key, res in wanted.items():
            if key in self.monitors:
                continue
            self.monitors[key] = res
            inf = self.cm.shared_informer(res.name, group=res.group)
            inf.handlers(add=lambda o, res=res: self._upsert(res, o),
                         update=lambda old, new, res=res: self._upsert(res, new, old),
                         delete=lambda o, res=res: self._removed(o))

    # The graph ------------------------------------------------------------------------
    def _upsert(self, res: Resource, obj: dict, old: dict | None = None) -> None:
        md = obj["metadata"]
        uid = md["uid"]
        prev = self.objs.get(uid)
        prev_refs = {r.get("uid") for r in (prev[1]["metadata"].get("ownerReferences") or [])} if prev else set()
        refs = {r.get("uid") for r in (md.get("ownerReferences") or [])}
        for o in prev_refs - refs:
            self._unlink(o, uid)
            self._enqueue(o)  # a foreground owner may be unblocked
        for o in refs:
            self.dependents.setdefault(o, set()).add(uid)
        self.objs[uid] = (res, obj)
        self._enqueue(uid)
        if md.get("deletionTimestamp"):
            for d in self.dependents.get(uid, ()):
                self._enqueue(d)

    def _removed(self, obj: dict) -> None:
        md = obj["metadata"]
        uid = md["uid"]
        self.objs.pop(uid, None)
        if self.dependents.get(uid):
            self.absent.add(uid)
            for d in self.dependents[uid]:
                self._enqueue(d)
        else:
            self.dependents.pop(uid, None)
        for r in md.get("ownerReferences") or []:
            self._unlink(r.get("uid"), uid)
            self._enqueue(r.get("uid"))

    def _unlink(self, owner: str | None, dependent: str) -> None:
        """Forget an edge; an absent owner no one refers to any more is forgotten too (upstream
        keeps a bounded absentOwnerCache), so the graph does not grow with the cluster's churn."""
        deps = self.dependents.get(owner)
        if deps is None:
            return
        deps.discard(dependent)
        if not deps and owner not in self.objs:
            self.dependents.pop(owner, None)
            self.absent.discard(owner)

    def _enqueue(self, uid: str | None) -> None:
        if uid is None:
            return
        self.queue.add(uid)
        if not self.scheduled:
            self.scheduled = True
            self.cm.call_later(0.0, self._drain)

    def _drain(self) -> None:
        self.scheduled = False
        batch, self.queue = self.queue, set()
        for uid in sorted(batch):  # sorted: the same seed gives the same trace
            if uid in self.objs:
                self._process(uid)

    def _live_dependents(self, uid: str) -> list[dict]:
        return [self.objs[d][1] for d in sorted(self.dependents.get(uid, ())) if d in self.objs]

    # Processing -----------------------------------------------------------------------
    def _process(self, uid: str) -> None:
        res, obj = self.objs[uid]
        md = obj["metadata"]
        fins = md.get("finalizers") or []
        if md.get("deletionTimestamp"):
            if FINALIZER_ORPHAN in fins:
                self._orphan(res, obj)
            elif FINALIZER_FOREGROUND in fins:
                self._deleting_dependents(res, obj)
            return
        refs = md.get("ownerReferences") or []
        if refs:
            self._attempt_to_delete(res, obj, refs)

    def _orphan(self, res: Resource, owner: dict) -> None:
        """attemptToOrphan: remove the owner from its dependents' ownerReferences, then the
        `orphan` finalizer."""
        uid = owner["metadata"]["uid"]
        deps = self._live_dependents(uid)
        for d in deps:
            self._remove_refs(d, {uid})
        if not deps:
            self._remove_finalizer(res, owner, FINALIZER_ORPHAN)

    def _deleting_dependents(self, res: Resource, owner: dict) -> None:
        """processDeletingDependentsItem: the finalizer goes once no blocking dependent is left;
        the dependents themselves are deleted as they are processed (their owner waits)."""
        uid = owner["metadata"]["uid"]
        deps = self._live_dependents(uid)
        blocking = [d for d in deps if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                           for r in d["metadata"].get("ownerReferences") or [])]
        if not blocking:
            self._remove_finalizer(res, owner, FINALIZER_FOREGROUND)
            return
        for d in deps:
            if not d["metadata"].get("deletionTimestamp"):
                self._enqueue(d["metadata"]["uid"])

    def _owner_resource(self, ref: dict) -> Resource | None:
        return self.kinds.get((_group_of(ref.get("apiVersion", "")), ref.get("kind")))

    def _attempt_to_delete(self, res: Resource, obj: dict, refs: list[dict]) -> None:
        md = obj["metadata"]
        solid, dangling, waiting = [], [], []
        for ref in refs:
            ouid = ref.get("uid")
            owner = self.objs.get(ouid)
            if owner is not None:
                omd = owner[1]["metadata"]
                if omd.get("deletionTimestamp") and FINALIZER_FOREGROUND in (omd.get("finalizers") or []):
                    waiting.append(ref)
                else:
                    solid.append(ref)
            elif ouid in self.absent:
                dangling.append(ref)
            else:
                if not self._verify_absent(res, obj, ref):
                    solid.append(ref)  # unknown kind: not collected on its account (yet)
                    self.unmapped.add(md["uid"])
                    self._rediscover_soon(ref)
                else:
                    return  # a live lookup is in flight; processed again when it answers
        if solid:
            if dangling or waiting:
                self._remove_refs(obj, {r.get("uid") for r in dangling + waiting})
            return
        if waiting and self.dependents.get(md["uid"]):
            policy = "Foreground"
        elif FINALIZER_ORPHAN in (md.get("finalizers") or []):
            policy = "Orphan"
        elif FINALIZER_FOREGROUND in (md.get("finalizers") or []):
            policy = "Foreground"
        else:
            policy = "Background"
        self._delete(res, obj, policy)

    def _verify_absent(self, res: Resource, obj: dict, ref: dict) -> bool:
        """isDangling: the owner is looked up live (by name, compared by uid), as the cache may
        not yet hold an owner just created. False when the owner's kind is not served."""
        ores = self._owner_resource(ref)
        if ores is None:
            return False
        ouid = ref.get("uid")
        if ouid in self.checking:
            return True
        self.checking.add(ouid)
        ns = obj["metadata"].get("namespace") if ores.namespaced else None
        uid = obj["metadata"]["uid"]

        def got(resp: dict) -> None:
            self.checking.discard(ouid)
            code = resp.get("code")
            if code == 404 or (code == 200 and resp["body"]["metadata"].get("uid") != ouid):
                self.absent.add(ouid)
                self._enqueue(uid)
            elif code != 200:
                self.cm.call_later(RETRY, lambda: self._enqueue(uid))
            else:
                self._enqueue(uid)  # it exists: the informer will bring it

        self.api.request({"verb": "get", "group": ores.group, "resource": ores.name, "namespace": ns,
                          "name": ref.get("name", "")}, got)
        return True

    # Writes -----------------------------------------------------------------------------
    def _retry_on_error(self, uid: str):
        def done(resp: dict) -> None:
            if resp.get("code", 500) >= 400 and resp.get("code") != 404:
                self.cm.call_later(RETRY, lambda: self._enqueue(uid))
        return done

    def _delete(self, res: Resource, obj: dict, policy: str) -> None:
        md = obj["metadata"]
        where = f"{md['namespace']}/{md['name']}" if md.get("namespace") else md["name"]
        self.cm.action(f"garbage-collector deleting {res.name} {where} (owner gone, propagation {policy})")
        self.api.request({"verb": "delete", "group": res.group, "resource": res.name,
                          "namespace": md.get("namespace"), "name": md["name"], "query": {},
                          "body": {"preconditions": {"uid": md["uid"]}, "propagationPolicy": policy}},
                         self._retry_on_error(md["uid"]))

    def _patch_metadata(self, obj: dict, patch: dict) -> None:
        res = self.objs.get(obj["metadata"]["uid"], (None,))[0]
        if res is None:
            return
        md = obj["metadata"]
        patch = {"metadata": dict(patch, uid=md["uid"], resourceVersion=md.get("resourceVersion"))}
        self.api.patch(res.name, md.get("namespace"), md["name"], patch, self._retry_on_error(md["uid"]),
                       group=res.group)

    def _remove_refs(self, obj: dict, owner_uids: set[str]) -> None:
        refs = obj["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") not in owner_uids]
        if len(kept) != len(refs):
            self._patch_metadata(obj, {"ownerReferences": kept or None})

    def _remove_finalizer(self, res: Resource, obj: dict, finalizer: str) -> None:
        fins = obj["metadata"].get("finalizers") or []
        self._patch_metadata(obj, {"finalizers": [f for f in fins if f != finalizer] or None})
