"""CustomResourceDefinitions (apiextensions-apiserver pkg/registry/customresourcedefinition):
cluster-scoped, status written by the naming and establishing controllers
(sim/apiserver/crdcontroller.py); a delete marks the CRD Terminating and holds it with the
`customresourcecleanup.apiextensions.k8s.io` finalizer until its objects are gone (etcd.go
REST.Delete)."""
from __future__ import annotations

from typing import Any

from sim.api.gotypes import Decoded
from sim.api.meta import deep_copy
from sim.api import validation as metavalidation
from sim.apiextensions import defaults, status as crdstatus, strategy as crdstrategy, validation
from sim.registry.printers import NAME, Printer, col
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "apiextensions.k8s.io"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


class CustomResourceDefinitionStrategy(Strategy):
    tracks_generation = True

    def decode(self, res, obj: Any) -> Decoded:
        # The CRD's own schema (JSONSchemaProps) is recursive and open: taken as sent; its
        # validation says what is wrong with it.
        return Decoded(obj, [], None)

    def default(self, obj, ctx):
        obj = defaults.set_defaults(obj)
        obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "CustomResourceDefinition"
        return obj

    def prepare_for_create(self, res, obj, ctx):
        prepared = crdstrategy.prepare_for_create(obj)
        obj.clear()
        obj.update(prepared)

    def prepare_for_update(self, res, new, old, ctx):
        new = super().prepare_for_update(res, new, old, ctx)  # metadata kept, defaulted
        return crdstrategy.prepare_for_update(new, old)

    def prepare_for_status_update(self, res, candidate, old, ctx):
        return crdstrategy.prepare_for_status_update(candidate, old)

    def validate(self, obj):
        return metavalidation.validate_object_meta(obj, False) + validation.validate_crd(obj)

    def validate_update(self, new, old):
        return metavalidation.validate_object_meta(new, False) + validation.validate_crd_update(new, old)

    def validate_status_update(self, new, old):
        return validation.validate_crd_status_update(new, old)

    def delete_action(self, res, cur, fins, grace, ctx):
        """REST.Delete: the first delete sets deletionTimestamp, the Terminating condition and
        the cleanup finalizer; the finalizer controller deletes the objects, then the finalizer."""
        md = cur["metadata"]
        if md.get("deletionTimestamp"):
            return super().delete_action(res, cur, fins, grace, ctx)
        new = deep_copy(cur)
        new["metadata"]["deletionTimestamp"] = ctx.timestamp()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        finalizers = list(fins or [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
        new["metadata"]["finalizers"] = finalizers
        crdstatus.set_condition(new, crdstatus.condition(
            "Terminating", "True", "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"), ctx.timestamp())
        return "update", new

    def observe(self, ctx, key, obj):
        ctx.crd_controller.changed(key[1], obj)


# printers.go has no CRD printer: the default table's Name and Created At.
CREATED_AT = col("Created At", "date", description="CreationTimestamp is a timestamp representing the server time "
                                                   "when this object was created.")


def crd_row(crd: dict, now: float) -> list:
    md = crd.get("metadata") or {}
    return [md.get("name", ""), md.get("creationTimestamp") or "<unknown>"]


RESOURCE = Resource("customresourcedefinitions", GROUP, "v1", "CustomResourceDefinition", False,
                    f"/registry/{GROUP}/customresourcedefinitions/", ("crd", "crds"), "customresourcedefinition",
                    ("status",), CustomResourceDefinitionStrategy(), None, categories=("api-extensions",),
                    printer=Printer([NAME, CREATED_AT], crd_row), strategic_merge_patch=False)
