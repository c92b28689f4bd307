"""A kind's strategy: what the generic store asks of each kind (k8s.io/apiserver
pkg/registry/rest: RESTCreateStrategy, RESTUpdateStrategy, RESTDeleteStrategy,
RESTGracefulDeleteStrategy, as each pkg/registry/<group>/<resource>/strategy.go implements
them).  The generic request path (sim/apiserver/server.py) calls these hooks and holds no
branch on a kind's name; a kind overrides what is particular to it.

Invariants the generic flow relies on:
- hooks get the server as `ctx` for its clock, random generator and flags, and never write;
- `prepare_for_*` and `delete_action` work on copies they are handed or make, never on an
  object from the watch cache (controller-runtime's rule: never mutate a cached object).
"""
from __future__ import annotations

from typing import Any

from sim.api.gotypes import Decoded
from sim.api.meta import deep_copy

# metav1.FinalizerOrphanDependents / FinalizerDeleteDependents
FINALIZER_ORPHAN, FINALIZER_FOREGROUND = "orphan", "foregroundDeletion"


def bump_generation_on_deletion(obj: dict) -> None:
    """rest.BeforeDelete (a first graceful deletion) and the store's markAsDeleting (deletion
    held by finalizers): a set generation goes up by one when deletionTimestamp is first set."""
    md = obj["metadata"]
    if md.get("generation", 0) > 0:
        md["generation"] += 1


# Metadata a client may not change on update (rest.BeforeUpdate / ObjectMetaUpdateValidation
# and the store's own bookkeeping): taken from the stored object.
KEPT_ON_UPDATE = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation")


def keep_stored_metadata(new: dict, old: dict, copy: bool = True) -> dict:
    """A copy of `new` with the metadata a client may not change taken from `old`: a deep one,
    or (copy=False, for a caller that copies it whole next) new top and metadata dicts."""
    if copy:
        new = deep_copy(new)
    else:
        new = dict(new)
        new["metadata"] = dict(new["metadata"])
    md, cmd = new["metadata"], old["metadata"]
    for k in KEPT_ON_UPDATE:
        if k in cmd:
            md[k] = cmd[k]
        else:
            md.pop(k, None)
    return new


class Strategy:
    # metadata.generation: set to 1 on create and bumped when the spec changes (the kinds
    # whose strategies do so: workloads, PriorityClasses, custom resources).
    tracks_generation = False
    # ReturnDeletedObject (pods, namespaces): the delete answers the deleted object; every
    # other kind answers a Status of success (genericregistry.Store.finalizeDelete).
    returns_deleted_object = False
    # default() starts with a deep copy of what it is handed and leaves that alone (the kinds
    # whose defaulting in sim.api.defaults does): prepare_for_update then does not deep-copy the
    # candidate first as well - one copy of the whole object per write instead of two.
    default_copies = False
    # rest.NamespaceScopedStrategy's "AllowCreateOnUpdate": PUT creates when absent (leases,
    # events do upstream); no built-in kind here relies on it.
    allow_create_on_update = False

    # -- decoding (kinds without a Go type) -----------------------------------------------
    def decode(self, res, obj: Any) -> Decoded:
        return Decoded(obj, [], None)

    # -- managedFields and server-side apply --------------------------------------------
    def field_type_info(self, res):
        """What server-side apply needs of the kind's schema (sim/api/fieldtypes.TypeInfo: list
        and map types, the zero object, the fields a subresource resets), by default from its Go
        type (res.schema).  A kind without one (a custom resource) answers from its own schema
        (a CRD's x-kubernetes-list-type, -list-map-keys, -map-type); without an answer every list
        is atomic and every map granular, as structured-merge-diff's deduced schema."""
        from sim.api.fieldtypes import TypeInfo
        return TypeInfo(res.schema, kind=res.kind)

    # -- create ------------------------------------------------------------------------
    def default(self, obj: dict, ctx) -> dict:
        """Scheme defaulting (SetObjectDefaults_<Kind>); returns the defaulted object."""
        return obj

    def prepare_for_create(self, res, obj: dict, ctx) -> None:
        """PrepareForCreate, in place on the request's own copy: a kind with a status
        subresource starts with an empty status (what users send there is dropped)."""
        if res.has_status:
            obj["status"] = self.initial_status(obj)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    def initial_status(self, obj: dict) -> dict:
        return {}

    def record_requester(self, obj: dict, user: dict | None) -> None:
        """The part of PrepareForCreate that reads the request's user (genericapirequest.UserFrom):
        a kind that records who asked (a CertificateSigningRequest's spec.username, uid, groups,
        extra) does it here, in place.  `user` is the authenticated user; None for the in-cluster
        components' requests, which carry no credentials here."""

    def begin(self, res, obj: dict, old: dict | None, ctx) -> list:
        """BeginCreate / BeginUpdate of a kind's REST storage: what it works out from the cluster's
        configuration before validation (a Service's IP families), in place; field errors
        (422) or []."""
        return []

    def validate(self, obj: dict) -> list:
        return []

    def validate_update(self, new: dict, old: dict) -> list:
        return self.validate(new)

    def validate_status_update(self, new: dict, old: dict) -> list:
        return self.validate_update(new, old)

    def warnings_on_create(self, obj: dict) -> list[str]:
        """WarningsOnCreate: warnings a valid new object answers with (none by default)."""
        return []

    def check_create(self, res, obj: dict, ctx) -> dict | None:
        """A Status refusing a create outright (a custom kind whose CRD is terminating), or None."""
        return None

    def after_create(self, obj: dict, ctx) -> None:
        """Once the write has committed (nothing by default)."""

    def allocate(self, res, obj: dict, old: dict | None, ctx, dry_run: bool, done) -> None:
        """What the object needs allocated before it is written (pkg/registry/core/service/
        storage's ClusterIP and NodePort allocators): fills it into `obj` (the request's own copy)
        and reserves it; `old` is the stored object on an update (None on a create), and a dry
        run reserves nothing.  Then done(None), or done(errors): a list of field errors (422
        Invalid) or a Status.  May answer later (a reservation is an etcd write)."""
        done(None)

    def release(self, res, obj: dict, keep: dict | None, ctx) -> None:
        """Frees what `obj` holds that `keep` (the object still stored, or None) does not: after
        a delete or an update commits, or when the write of an allocated object failed."""

    def post_start(self, res, ctx) -> None:
        """Once a starting API server has loaded its watch cache (a post-start hook of the kind:
        the Service repair controllers and the `kubernetes` Service)."""

    def observe(self, ctx, key: tuple[str, str], obj: dict | None) -> None:
        """Every change the API server's watch cache sees of this kind (None: deleted), after it
        is applied: how the apiextensions controllers inside kube-apiserver learn of CRDs."""

    # -- update ------------------------------------------------------------------------
    def prepare_for_update(self, res, new: dict, old: dict, ctx) -> dict:
        """PrepareForUpdate on a candidate the client sent: what the client may not change is
        the stored object's (metadata bookkeeping; the status, when it has a subresource of its
        own), and the generation moves when the spec changed (apiequality.Semantic.DeepEqual)."""
        new = self.default(keep_stored_metadata(new, old, copy=not self.default_copies), ctx)
        cmd = old["metadata"]
        if res.has_status:
            self.keep_status(new, old)
        if self.tracks_generation and self.spec_changed(new, old):
            new["metadata"]["generation"] = cmd.get("generation", 1) + 1
        return new

    def keep_status(self, new: dict, old: dict) -> None:
        new["status"] = deep_copy(old.get("status") or {})

    def spec_changed(self, new: dict, old: dict) -> bool:
        return new.get("spec") != old.get("spec")

    # Subresources written through the kind's update path (PUT and PATCH), each with a
    # strategy of its own upstream (podStatusStrategy, podEphemeralContainersStrategy, ...).
    update_subresources: tuple[str, ...] = ("status",)

    def prepare_for_subresource_update(self, res, sub: str, candidate: dict, old: dict, ctx) -> dict:
        return self.prepare_for_status_update(res, candidate, old, ctx)

    def validate_subresource_update(self, sub: str, new: dict, old: dict) -> list:
        return self.validate_status_update(new, old)

    def prepare_for_status_update(self, res, candidate: dict, old: dict, ctx) -> dict:
        """The status subresource's PrepareForUpdate: only the status changes."""
        # The old object but its status (not copied only to be replaced: for a pod or a node the
        # status is most of it), keeping the keys' order.
        new = {k: None if k == "status" else deep_copy(v) for k, v in old.items()}
        new["status"] = deep_copy(candidate.get("status") or {})
        return new

    # -- delete ------------------------------------------------------------------------
    def authorize_write(self, res, obj: dict, old: dict | None, user: dict | None, ctx,
                        sub: str | None = None) -> dict | None:
        """A check of the requesting user's right to write this object beyond RBAC's verb on
        it (upstream's policy-based storage of the RBAC kinds: escalation prevention; the
        CertificateApproval and CertificateSigning admission plugins); `user` None is allowed
        everything; `sub` is the subresource written (None: the object itself).  A Status
        refuses."""
        return None

    def check_delete(self, res, name: str, req: dict, ctx) -> dict | None:
        """A Status refusing the deletion before anything is read (a protected object), or None."""
        return None

    def delete_warnings(self, res, orphan_opt, policy) -> list[str]:
        """Warnings a delete with these options answers with (a batch/v1 Job orphaning its pods
        by default says so), whatever its outcome."""
        return []

    def gc_finalizers(self, res, md: dict, orphan_opt, policy) -> list[str]:
        """registry/generic/registry/store.go deletionFinalizersForGarbageCollection: the
        object's finalizers with `orphan` / `foregroundDeletion` as the options ask (or as
        already present, or the kind's DefaultGarbageCollectionPolicy)."""
        fins = list(md.get("finalizers") or [])
        if res.gc_policy == "Unsupported":
            return fins
        if orphan_opt is not None:
            orphan = bool(orphan_opt)
        elif policy is not None:
            orphan = policy == "Orphan"
        else:
            orphan = FINALIZER_ORPHAN in fins or res.gc_policy == "OrphanDependents"
        if orphan_opt:
            foreground = False
        elif policy is not None:
            foreground = policy == "Foreground"
        else:
            foreground = FINALIZER_FOREGROUND in fins
        out = [f for f in fins if f not in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)]
        if orphan:
            out.append(FINALIZER_ORPHAN)
        if foreground:
            out.append(FINALIZER_FOREGROUND)
        return out if (set(out) != set(fins) or len(out) != len(fins)) else fins

    def delete_action(self, res, cur: dict, fins: list[str], grace: int | None, ctx) -> tuple[str, dict]:
        """The store's Delete once the object is read: ("delete", cur) to remove it now,
        ("update", new) to mark it deleting (finalizers hold it), ("noop", cur).  `fins` are
        the finalizers it would carry (gc_finalizers), `grace` the requested grace period."""
        md = cur["metadata"]
        fins_changed = fins != (md.get("finalizers") or [])
        if not fins:
            return "delete", cur
        if md.get("deletionTimestamp") and not fins_changed:
            return "noop", cur
        new = deep_copy(cur)
        if fins_changed:
            new["metadata"]["finalizers"] = fins
        if md.get("deletionTimestamp"):
            return "update", new
        bump_generation_on_deletion(new)
        new["metadata"]["deletionTimestamp"] = ctx.timestamp()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        return "update", new

    def deletes_on_update(self, new: dict) -> bool:
        """The last finalizer removed from an object being deleted: it goes (store.go
        shouldDeleteDuringUpdate)."""
        md = new["metadata"]
        return bool(md.get("deletionTimestamp")) and not md.get("finalizers")
