"""Which fields each kind declares, for pruning and field validation.

kube-apiserver decodes a request into Go structs: a field the struct does not declare is
dropped, and with `fieldValidation=Strict` the request fails ("strict decoding error: unknown
field ..."), with `Warn` (the default since v1.27) it is dropped with a warning, with `Ignore`
silently.  These schemas mirror k8s.io/api's types for the kinds served here; ANY marks a
field whose contents are not checked (its own type is not modelled yet).
"""
from __future__ import annotations

from typing import Any

ANY = None


def _fields(*names: str, **typed) -> dict:
    out: dict[str, Any] = {n: ANY for n in names}
    out.update(typed)
    return out


class ListOf:
    def __init__(self, item):
        self.item = item


class MapOf:
    """A map with free keys whose values are not checked (labels, resource lists)."""


MAP = MapOf()

OWNER_REFERENCE = _fields("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")
OBJECT_META = _fields("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers",
                      "managedFields", labels=MAP, annotations=MAP, ownerReferences=ListOf(OWNER_REFERENCE))
RESOURCES = _fields("claims", limits=MAP, requests=MAP)
CONTAINER_PORT = _fields("name", "hostPort", "containerPort", "protocol", "hostIP")
CONTAINER = _fields("name", "image", "command", "args", "workingDir", "envFrom", "env", "resizePolicy",
                    "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
                    "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy",
                    "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty",
                    ports=ListOf(CONTAINER_PORT), resources=RESOURCES)
TOLERATION = _fields("key", "operator", "value", "effect", "tolerationSeconds")
POD_SPEC = _fields("volumes", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
                   "activeDeadlineSeconds", "dnsPolicy", "serviceAccountName", "serviceAccount",
                   "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
                   "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain",
                   "affinity", "schedulerName", "hostAliases", "priorityClassName", "priority", "dnsConfig",
                   "readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "overhead",
                   "topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates",
                   "resourceClaims", "resources",
                   containers=ListOf(CONTAINER), initContainers=ListOf(CONTAINER), nodeSelector=MAP,
                   tolerations=ListOf(TOLERATION))
TYPE_META = ("apiVersion", "kind")
POD = _fields(*TYPE_META, "status", metadata=OBJECT_META, spec=POD_SPEC)
POD_TEMPLATE = _fields(metadata=OBJECT_META, spec=POD_SPEC)
REPLICA_SET = _fields(*TYPE_META, "status", metadata=OBJECT_META,
                      spec=_fields("replicas", "minReadySeconds", "selector", template=POD_TEMPLATE))
TAINT = _fields("key", "value", "effect", "timeAdded")
NODE = _fields(*TYPE_META, "status", metadata=OBJECT_META,
               spec=_fields("podCIDR", "podCIDRs", "providerID", "unschedulable", "configSource", "externalID",
                            taints=ListOf(TAINT)))
NAMESPACE = _fields(*TYPE_META, "status", metadata=OBJECT_META, spec=_fields("finalizers"))
EVENT = _fields(*TYPE_META, "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp",
                "count", "type", "eventTime", "series", "action", "related", "reportingComponent",
                "reportingInstance", metadata=OBJECT_META)
LEASE = _fields(*TYPE_META, metadata=OBJECT_META,
                spec=_fields("holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime",
                             "leaseTransitions", "strategy", "preferredHolder"))

BY_KIND = {"Pod": POD, "ReplicaSet": REPLICA_SET, "Node": NODE, "Namespace": NAMESPACE, "Event": EVENT,
           "Lease": LEASE}


def prune(obj: Any, schema: Any, path: str = "") -> tuple[Any, list[str]]:
    """Return `obj` without the fields `schema` does not declare, and their paths."""
    if schema is ANY or isinstance(schema, MapOf):
        return obj, []
    if isinstance(schema, ListOf):
        if not isinstance(obj, list):
            return obj, []
        out, unknown = [], []
        for i, item in enumerate(obj):
            kept, u = prune(item, schema.item, f"{path}[{i}]")
            out.append(kept)
            unknown += u
        return out, unknown
    if not isinstance(obj, dict):
        return obj, []
    out, unknown = {}, []
    for key, value in obj.items():
        sub = f"{path}.{key}" if path else key
        if key not in schema:
            unknown.append(sub)
            continue
        out[key], u = prune(value, schema[key], sub)
        unknown += u
    return out, unknown


FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


def strict_error_message(kind: str, version: str, unknown: list[str]) -> str:
    """The BadRequest message of a Strict request with unknown fields (apimachinery's
    strict decoding errors, as kube-apiserver wraps them)."""
    fields = ", ".join(f'unknown field "{u}"' for u in unknown)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {fields}'
