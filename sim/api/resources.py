"""The resources the API server serves: their group/version/kind, scope, etcd prefix, and the
strategy (defaulting + validation) that applies to them (pkg/registry/*/strategy.go)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sim.api import defaults, scheduling, validation
from sim.api.gotypes import Decoded, Struct, decode
from sim.api.schema import BY_KIND as GO_TYPES


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
    default: Callable[[dict], dict] = lambda o: o
    validate: Callable[[dict], list] = lambda o: []
    validate_update: Callable[[dict, dict], list] | None = None
    # The status subresource's own validation (pods: ValidatePodStatusUpdate); None: validate.
    validate_status_update: Callable[[dict, dict], list] | None = None
    # Its Go type (k8s.io/api), for decoding, pruning and fieldValidation; None:
    # sim.api.schema.BY_KIND[kind].
    schema: Struct | None = None
    has_status: bool = True
    categories: tuple[str, ...] = ()
    # rest.GarbageCollectionDeletionStrategy.DefaultGarbageCollectionPolicy: what a delete with
    # no propagationPolicy does: "DeleteDependents" (background, the generic store's default and
    # apps/v1 ReplicaSets'), "OrphanDependents" or "Unsupported".
    gc_policy: str = "DeleteDependents"
    verbs: tuple[str, ...] = field(default=("create", "delete", "deletecollection", "get", "list",
                                            "patch", "update", "watch"))

    @property
    def go_type(self) -> Struct:
        return self.schema if self.schema is not None else GO_TYPES[self.kind]

    def decode(self, obj: Any) -> Decoded:
        """The request body decoded into the kind's Go type (sim.api.gotypes.decode)."""
        return decode(obj, self.go_type)

    def type_error(self, obj: Any) -> str | None:
        """Decoding into the Go type: a field of the wrong JSON type is a 400, not a 422."""
        return self.decode(obj).error

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def key(self, namespace: str | None, name: str) -> str:
        return f"{self.etcd_prefix}{namespace}/{name}" if self.namespaced else f"{self.etcd_prefix}{name}"

    def list_prefix(self, namespace: str | None) -> str:
        return f"{self.etcd_prefix}{namespace}/" if self.namespaced and namespace else self.etcd_prefix


RESOURCES: dict[tuple[str, str], Resource] = {}


def _register(r: Resource) -> None:
    RESOURCES[(r.group, r.name)] = r


_register(Resource("namespaces", "", "v1", "Namespace", False, "/registry/namespaces/", ("ns",), "namespace",
                   ("status",), defaults.default_namespace, validation.validate_namespace,
                   verbs=("create", "delete", "get", "list", "patch", "update", "watch")))
_register(Resource("nodes", "", "v1", "Node", False, "/registry/minions/", ("no",), "node",
                   ("status",), defaults.default_node, validation.validate_node))
_register(Resource("pods", "", "v1", "Pod", True, "/registry/pods/", ("po",), "pod",
                   ("status", "binding", "eviction"), defaults.default_pod, validation.validate_pod,
                   validation.validate_pod_update, validation.validate_pod_status_update, categories=("all",)))
_register(Resource("events", "", "v1", "Event", True, "/registry/events/", ("ev",), "event",
                   (), defaults.default_event, validation.validate_event, has_status=False))
_register(Resource("replicasets", "apps", "v1", "ReplicaSet", True, "/registry/replicasets/", ("rs",),
                   "replicaset", ("status", "scale"), defaults.default_replicaset,
                   validation.validate_replicaset, validation.validate_replicaset_update, categories=("all",)))
_register(Resource("leases", "coordination.k8s.io", "v1", "Lease", True, "/registry/leases/", (), "lease",
                   (), defaults.default_lease, validation.validate_lease, has_status=False))
# pkg/registry/scheduling/priorityclass: cluster-scoped, short name "pc", no status.
_register(Resource("priorityclasses", scheduling.GROUP, "v1", "PriorityClass", False, "/registry/priorityclasses/",
                   ("pc",), "priorityclass", (), defaults.default_priority_class, validation.validate_priority_class,
                   validation.validate_priority_class_update, has_status=False))

BY_KIND = {r.kind: r for r in RESOURCES.values()}


def lookup(group: str, resource: str) -> Resource | None:
    return RESOURCES.get((group, resource))
