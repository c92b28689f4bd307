"""What server-side apply needs to know of a kind's schema: which lists are atomic, sets or
associative (and by which keys), which maps are atomic, which map keys are struct fields, the
zero object a create starts from, and the fields a subresource resets.

Upstream reads these from the OpenAPI models (k8s.io/kube-openapi/pkg/schemaconv: a list is what
`x-kubernetes-list-type` says, else associative by `x-kubernetes-patch-merge-key` when the patch
strategy is merge, else a set when merge without a key, else atomic; a struct is atomic with
`x-kubernetes-map-type: atomic`).  The built-in kinds' Go types live in sim/api/schema.py;
their list types (the `+listType` / `+patchMergeKey` markers of k8s.io/api) are the table below.
A CRD passes its own callbacks, from `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
`x-kubernetes-map-type`.
"""
from __future__ import annotations

from typing import Any, Callable

from sim.api import schema as s
from sim.api.gotypes import Map, Slice, Struct

ListType = Any          # "atomic" | "set" | ("map", ("key", ...))

_MAP = lambda *keys: ("map", keys)  # noqa: E731

# "<Go struct>.<json field>" -> list type, from k8s.io/api core/v1, apps/v1, meta/v1 types.go.
# Lists not named here are atomic (no marker, or +listType=atomic).
LIST_TYPES: dict[str, ListType] = {
    "v1.ObjectMeta.ownerReferences": _MAP("uid"), "v1.ObjectMeta.finalizers": "set",
    "v1.PodSpec.volumes": _MAP("name"), "v1.PodSpec.initContainers": _MAP("name"),
    "v1.PodSpec.containers": _MAP("name"), "v1.PodSpec.ephemeralContainers": _MAP("name"),
    "v1.PodSpec.imagePullSecrets": _MAP("name"), "v1.PodSpec.hostAliases": _MAP("ip"),
    "v1.PodSpec.topologySpreadConstraints": _MAP("topologyKey", "whenUnsatisfiable"),
    "v1.PodSpec.schedulingGates": _MAP("name"), "v1.PodSpec.resourceClaims": _MAP("name"),
    "v1.Container.ports": _MAP("containerPort", "protocol"), "v1.Container.env": _MAP("name"),
    "v1.Container.volumeMounts": _MAP("mountPath"), "v1.Container.volumeDevices": _MAP("devicePath"),
    "v1.EphemeralContainer.ports": _MAP("containerPort", "protocol"), "v1.EphemeralContainer.env": _MAP("name"),
    "v1.EphemeralContainer.volumeMounts": _MAP("mountPath"),
    "v1.EphemeralContainer.volumeDevices": _MAP("devicePath"),
    "v1.PodStatus.conditions": _MAP("type"), "v1.PodStatus.podIPs": _MAP("ip"),
    "v1.PodStatus.resourceClaimStatuses": _MAP("name"),
    "v1.ReplicaSetStatus.conditions": _MAP("type"),
    "v1.NodeSpec.podCIDRs": "set", "v1.NodeStatus.conditions": _MAP("type"),
    "v1.NodeStatus.addresses": _MAP("type"), "v1.NamespaceStatus.conditions": _MAP("type"),
    "v1.PodDisruptionBudgetStatus.conditions": _MAP("type"),
}
# Key fields with an OpenAPI default (ContainerPort.protocol defaults to TCP): an item that
# omits them is keyed by the default (listItemToPathElement).
KEY_DEFAULTS: dict[str, dict] = {"v1.Container.ports": {"protocol": "TCP"},
                                 "v1.EphemeralContainer.ports": {"protocol": "TCP"}}
# Structs marked +structType=atomic: owned and replaced whole.
ATOMIC_STRUCTS = {"v1.LabelSelector", "v1.NodeSelector", "v1.NodeSelectorTerm", "v1.LocalObjectReference",
                  "v1.ObjectReference", "v1.ConfigMapKeySelector", "v1.SecretKeySelector",
                  "v1.ObjectFieldSelector", "v1.ResourceFieldSelector"}

# json.Marshal of each kind's zero Go value (what `scope.Creater.New(kind)` is): a create is
# compared against it, so a non-pointer struct (spec, status, template) or a field without
# omitempty (containers) already exists and is not "added" itself.
ZERO_OBJECTS: dict[str, dict] = {
    "Pod": {"metadata": {"creationTimestamp": None}, "spec": {"containers": None}, "status": {}},
    "ReplicaSet": {"metadata": {"creationTimestamp": None},
                   "spec": {"template": {"metadata": {"creationTimestamp": None}, "spec": {"containers": None}}},
                   "status": {"replicas": 0}},
    "Node": {"metadata": {"creationTimestamp": None}, "spec": {},
             "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
                        "nodeInfo": {k: "" for k in ("machineID", "systemUUID", "bootID", "kernelVersion",
                                                     "osImage", "containerRuntimeVersion", "kubeletVersion",
                                                     "kubeProxyVersion", "operatingSystem", "architecture")}}},
    "Namespace": {"metadata": {"creationTimestamp": None}, "spec": {}, "status": {}},
    "Event": {"metadata": {"creationTimestamp": None}, "involvedObject": {}, "source": {},
              "firstTimestamp": None, "lastTimestamp": None, "eventTime": None,
              "reportingComponent": "", "reportingInstance": ""},
    "Lease": {"metadata": {"creationTimestamp": None}, "spec": {}},
    "PriorityClass": {"metadata": {"creationTimestamp": None}, "value": 0},
    "PodDisruptionBudget": {"metadata": {"creationTimestamp": None}, "spec": {},
                            "status": {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                                       "expectedPods": 0}},
    "ResourceQuota": {"metadata": {"creationTimestamp": None}, "spec": {}, "status": {}},
    "LimitRange": {"metadata": {"creationTimestamp": None}, "spec": {"limits": None}},
}

# The strategies' GetResetFields (pkg/registry/core/pod/strategy.go and friends): fields a write
# to the main resource or to /status resets, so nobody owns them through it.
_STATUS_RESOURCE = {"": [("status",)], "status": [("spec",)]}
RESET_FIELDS: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "Pod": {"": [("status",)],
            "status": [("spec",), ("metadata", "deletionTimestamp"), ("metadata", "ownerReferences")]},
    "ReplicaSet": _STATUS_RESOURCE, "Node": _STATUS_RESOURCE, "Namespace": _STATUS_RESOURCE,
    "PodDisruptionBudget": _STATUS_RESOURCE, "ResourceQuota": _STATUS_RESOURCE,
}


class TypeInfo:
    """The schema answers for one kind.  `path` is a tuple of field names (and map keys) from the
    object's root, list items left out: ("spec", "containers", "ports").

    `root` is a Go struct from sim/api/schema.py; without one every map is granular, every list
    atomic and no key a struct field (structured-merge-diff's deduced schema, what an
    x-kubernetes-preserve-unknown-fields object gets).  The callbacks, when given and not None
    for a path, take precedence: list_type(path) -> "atomic" | "set" | ("map", keys);
    map_type(path) -> "atomic" | "granular"; is_field(path) -> bool (a CRD's `properties`)."""

    def __init__(self, root: Struct | None = None, *, kind: str = "",
                 list_type: Callable[[tuple], ListType | None] | None = None,
                 map_type: Callable[[tuple], str | None] | None = None,
                 is_field: Callable[[tuple], bool | None] | None = None,
                 zero: dict | None = None, reset_fields: dict | None = None):
        self.root = root
        self._list_type, self._map_type, self._is_field = list_type, map_type, is_field
        self.zero = zero if zero is not None else ZERO_OBJECTS.get(kind, {})
        self._reset = reset_fields if reset_fields is not None else RESET_FIELDS.get(kind, {})
        # _resolve's answers by path: every write walks the same paths again.
        self._resolved: dict[tuple, tuple[Any, str, bool]] = {}

    def reset_fields(self, subresource: str = "") -> list[tuple[str, ...]]:
        return list(self._reset.get(subresource, []))

    def _resolve(self, path: tuple) -> tuple[Any, str, bool]:
        """(the Go type at path, "<parent struct>.<field>", whether the last step was a struct field)."""
        hit = self._resolved.get(path)
        if hit is None:
            if len(self._resolved) > 20000:  # map keys (labels, annotations) are unbounded
                self._resolved.clear()
            hit = self._resolved[path] = self._resolve_uncached(path)
        return hit

    def _resolve_uncached(self, path: tuple) -> tuple[Any, str, bool]:
        t: Any = self.root
        where, named = "", False
        for name in path:
            while isinstance(t, Slice):
                t = t.item
            if isinstance(t, Struct) and not t.opaque:
                where, named, t = f"{t.name}.{name}", name in t.fields, t.fields.get(name)
            elif isinstance(t, Map):
                where, named, t = "", False, t.value
            else:
                return None, "", False
        return t, where, named

    def list_type(self, path: tuple) -> ListType:
        if self._list_type is not None and (answer := self._list_type(path)) is not None:
            return answer
        t, where, _ = self._resolve(path)
        return LIST_TYPES.get(where, "atomic") if isinstance(t, Slice) else "atomic"

    def key_defaults(self, path: tuple) -> dict:
        return KEY_DEFAULTS.get(self._resolve(path)[1], {}) if self.root is not None else {}

    def map_type(self, path: tuple) -> str:
        if self._map_type is not None and (answer := self._map_type(path)) is not None:
            return answer
        t, _, _ = self._resolve(path)
        return "atomic" if isinstance(t, Struct) and t.name in ATOMIC_STRUCTS else "granular"

    def is_field(self, path: tuple) -> bool:
        if self._is_field is not None and (answer := self._is_field(path)) is not None:
            return answer
        if self.root is None:
            return False
        return self._resolve(path)[2]


def type_info_for(kind: str) -> TypeInfo:
    """The TypeInfo of a built-in kind (a deduced one for a kind without Go types here)."""
    return TypeInfo(s.BY_KIND.get(kind), kind=kind)


def type_info_from_openapi(schema: dict | None, *, reset_fields: dict | None = None) -> TypeInfo:
    """A custom resource's TypeInfo from its structural schema (a CRD version's openAPIV3Schema),
    as schemaconv reads one: `x-kubernetes-list-type` (atomic, set, map with
    `x-kubernetes-list-map-keys`), `x-kubernetes-map-type: atomic`, `properties` as struct fields;
    under x-kubernetes-preserve-unknown-fields (or no schema) every list is atomic and every map
    granular.  metadata is ObjectMeta's, as for every kind.  Its zero object is empty (an
    Unstructured)."""
    def node(path: tuple) -> tuple[dict | None, bool]:
        s, named = schema if isinstance(schema, dict) else None, False
        for name in path:
            if s is None:
                return None, False
            while s.get("type") == "array" and isinstance(s.get("items"), dict):
                s = s["items"]
            props = s.get("properties")
            if isinstance(props, dict) and isinstance(props.get(name), dict):
                s, named = props[name], True
            elif isinstance(s.get("additionalProperties"), dict):
                s, named = s["additionalProperties"], False
            else:
                return None, False
        return s, named

    def list_type(path: tuple):
        if path[:1] == ("metadata",):
            return None
        s, _ = node(path)
        lt = (s or {}).get("x-kubernetes-list-type")
        if lt == "map":
            return ("map", tuple((s or {}).get("x-kubernetes-list-map-keys") or ()))
        return "set" if lt == "set" else "atomic"

    def map_type(path: tuple):
        if path[:1] == ("metadata",):
            return None
        s, _ = node(path)
        return "atomic" if (s or {}).get("x-kubernetes-map-type") == "atomic" else "granular"

    def is_field(path: tuple):
        if path[:1] == ("metadata",) and len(path) > 1:
            return None
        return node(path)[1] or path in (("apiVersion",), ("kind",), ("metadata",))

    return TypeInfo(Struct("unstructured.Unstructured", {"metadata": s.OBJECT_META}), list_type=list_type,
                    map_type=map_type, is_field=is_field, zero={}, reset_fields=reset_fields or {})
