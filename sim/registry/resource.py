"""What the API server knows of one kind: its names, its scope, where it lives in etcd, its
strategy, its printer, its selectable fields, its subresources (k8s.io/apiserver's
genericregistry.Store as each pkg/registry/<group>/<resource>/storage/storage.go fills it in).

A `Resource` is data; the behaviour particular to a kind is its `strategy`
(sim/registry/strategy.py).  Kinds are keyed by (group, resource) - `gr` - so `events` in the
core group and in `events.k8s.io` are two kinds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sim.api.gotypes import Decoded, Struct, decode, type_error as go_type_error
from sim.registry.printers import Printer
from sim.registry.strategy import Strategy

# Fields every kind can be selected by (generic.ObjectMetaFieldsSet).
COMMON_FIELDS = ("metadata.name", "metadata.namespace")
DEFAULT_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ScaleSubresource:
    """The /scale subresource's mapping onto the object (autoscaling/v1 Scale): where the
    desired and observed replica counts live and how the selector reads, as a CRD's
    `subresources.scale` declares (specReplicasPath, statusReplicasPath, labelSelectorPath)."""
    spec_replicas_path: str = ".spec.replicas"
    status_replicas_path: str = ".status.replicas"
    selector: Callable[[dict], str] = lambda obj: ""


@dataclass(frozen=True)
class Conversion:
    """How a built-in kind served at more than one version converts between them (upstream's
    pkg/apis/<group>/<version>/conversion.go, through the internal version): the Go type of each
    served version other than the storage one (`schemas`: (version, Struct) pairs, for decoding
    and pruning a body written in it), `to_version(obj, version)` from the storage version and
    `from_version(obj, version)` back to it.  Both get and return whole objects, apiVersion
    included, and never change what they are handed."""
    schemas: tuple[tuple[str, Struct], ...]
    to_version: Callable[[dict, str], dict]
    from_version: Callable[[dict, str], dict]


@dataclass(frozen=True)
class Resource:
    name: str             # plural: "pods"
    group: str            # "" for the core group
    version: str
    kind: str
    namespaced: bool
    etcd_prefix: str      # "/registry/pods/" (nodes live under "/registry/minions/", as upstream)
    short_names: tuple[str, ...] = ()
    singular: str = ""
    subresources: tuple[str, ...] = ()
    strategy: Strategy = field(default_factory=Strategy)
    # Its Go type (k8s.io/api), for decoding, pruning and fieldValidation; None: not decoded
    # (a custom resource's structural schema does that in its strategy).
    schema: Struct | None = None
    categories: tuple[str, ...] = ()
    # rest.GarbageCollectionDeletionStrategy.DefaultGarbageCollectionPolicy: what a delete with
    # no propagationPolicy does: "DeleteDependents" (background, the generic store's default and
    # apps/v1 ReplicaSets'), "OrphanDependents" or "Unsupported".
    gc_policy: str = "DeleteDependents"
    verbs: tuple[str, ...] = DEFAULT_VERBS
    # The fields a fieldSelector may name (<kind>ToSelectableFields), and getters for the ones
    # that are not a plain path into the object.
    selectable_fields: tuple[str, ...] = COMMON_FIELDS
    field_getters: tuple[tuple[str, Callable[[dict], Any]], ...] = ()
    # Fields whose exact value a watcher may select on, indexed by the watch cache (the
    # cacher's IndexerFuncs / triggers): one event does not visit every kubelet's watch.
    indexed_fields: tuple[str, ...] = ()
    # A census the watch cache keeps current with every event of the kind (its `set(key,
    # obj)` is called; None: none), e.g. the pods per node and phase the dashboard shows.
    cache_observer: Callable[[], Any] | None = None
    printer: Printer | None = None
    scale: ScaleSubresource | None = None
    # Server-side Table, strategic merge patch: built-in kinds know their Go struct tags.
    strategic_merge_patch: bool = True
    # Objects expire this many seconds after they were created (events: --event-ttl, which
    # upstream sets as an etcd lease on each write); None: never.  A callable of the server.
    ttl: Callable[[Any], float] | None = None
    # The OpenAPI v3 schema of the kind, when it is not a built-in one (a CRD's openAPIV3Schema).
    openapi_schema: dict | None = None
    # The served versions, the preferred first (`version` is the one written to etcd); an object
    # is converted between them by `conversion` (None: only its apiVersion changes, as a CRD's
    # conversion strategy None does).
    versions: tuple[str, ...] = ()
    # Where it came from: "builtin", or the CRD that defines it ("crontabs.stable.example.com").
    source: str = "builtin"
    additional_printer_columns: tuple[dict, ...] = ()
    stored: bool = True   # False: create-only, never stored (the review kinds)
    conversion: Conversion | None = None

    @property
    def gr(self) -> str:
        """schema.GroupResource.String(): "pods", "replicasets.apps"."""
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def go_type(self) -> Struct | None:
        return self.schema

    def decode(self, obj: Any) -> Decoded:
        """The request body decoded into the kind's Go type (sim.api.gotypes.decode); a kind
        without one (a custom resource) is decoded by its strategy."""
        if self.schema is None:
            return self.strategy.decode(self, obj)
        return decode(obj, self.schema)

    def decode_as(self, obj: Any, version: str) -> Decoded:
        """The body decoded as written at `version` (one of the served versions)."""
        schema = self.schema_for(version)
        if schema is None or schema is self.schema:
            return self.decode(obj)
        return decode(obj, schema)

    def schema_for(self, version: str) -> Struct | None:
        if self.conversion is not None and version != self.version:
            for v, schema in self.conversion.schemas:
                if v == version:
                    return schema
        return self.schema

    def api_version_of(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def to_version(self, obj: dict, version: str) -> dict:
        """A stored object as served at `version` (a new dict; `obj` is left alone)."""
        if version == self.version:
            return obj
        if self.conversion is not None:
            return self.conversion.to_version(obj, version)
        return dict(obj, apiVersion=self.api_version_of(version))

    def from_version(self, obj: dict, version: str) -> dict:
        """An object written at `version` as it is stored (a new dict; `obj` is left alone)."""
        if version == self.version:
            return obj
        if self.conversion is not None:
            return self.conversion.from_version(obj, version)
        return dict(obj, apiVersion=self.api_version)

    def type_error(self, obj: Any) -> str | None:
        """Decoding into the Go type: a field of the wrong JSON type is a 400, not a 422.  (The
        error alone: a Go type is walked without building the decoded copy.)"""
        if self.schema is None:
            return self.strategy.decode(self, obj).error
        return go_type_error(obj, self.schema)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def served_versions(self) -> tuple[str, ...]:
        return self.versions or (self.version,)

    def key(self, namespace: str | None, name: str) -> str:
        return f"{self.etcd_prefix}{namespace}/{name}" if self.namespaced else f"{self.etcd_prefix}{name}"

    def list_prefix(self, namespace: str | None) -> str:
        return f"{self.etcd_prefix}{namespace}/" if self.namespaced and namespace else self.etcd_prefix

    def field_getter(self, name: str) -> Callable[[dict], Any] | None:
        for f, getter in self.field_getters:
            if f == name:
                return getter
        return None

    @classmethod
    def from_description(cls, d: dict) -> "Resource":
        """A kind as describe() gave it (the HTTP front end's view of a custom kind)."""
        return cls(d["name"], d["group"], d["version"], d["kind"], bool(d["namespaced"]), "",
                   tuple(d.get("shortNames") or ()), d.get("singular") or "", tuple(d.get("subresources") or ()),
                   categories=tuple(d.get("categories") or ()), verbs=tuple(d.get("verbs") or DEFAULT_VERBS),
                   versions=tuple(d.get("versions") or ()), source=d.get("source") or "",
                   additional_printer_columns=tuple(d.get("additionalPrinterColumns") or ()),
                   openapi_schema=d.get("openapi"), strategic_merge_patch=False)

    def describe(self) -> dict:
        """What a client needs to know of the kind (discovery's APIResource plus the printer
        columns of a custom one): plain data, sent from the worker to the HTTP front end."""
        return {"name": self.name, "group": self.group, "version": self.version, "versions": list(self.served_versions),
                "kind": self.kind, "namespaced": self.namespaced, "shortNames": list(self.short_names),
                "singular": self.singular, "subresources": list(self.subresources), "categories": list(self.categories),
                "verbs": list(self.verbs), "source": self.source,
                "additionalPrinterColumns": [dict(c) for c in self.additional_printer_columns],
                "openapi": self.openapi_schema}
