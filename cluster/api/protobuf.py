"""Request bodies in Kubernetes' protobuf encoding, read into their JSON form.

Since 1.32, kubectl's `create <kind>` generators (`kubectl create priorityclass`, `kubectl create
namespace`, ...) write through client-go's typed clients, which send
`Content-Type: application/vnd.kubernetes.protobuf` (and accept JSON back).  The encoding
(k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic "k8s\\x00", then a
runtime.Unknown {typeMeta: {apiVersion, kind}, raw: the object's own message, contentEncoding,
contentType}.  The object's message follows the kind's generated.proto; gogo-protobuf writes
every non-pointer field, zero or not, so zero strings/ints are read back as absent wherever the
JSON tag says omitempty - the JSON kube-apiserver would have decoded.

Only the kinds kubectl sends as protobuf are described: here the generators' small kinds
(namespace, priorityclass, pdb, quota, configmap, secret - generic, tls, docker-registry -,
serviceaccount), DeleteOptions (client-go's typed deletes: `kubectl drain --disable-eviction`
from 1.32) and policy/v1 Eviction (typed-client evictions; kubectl 1.27-1.33's drain sends it as
JSON); in protobuf_core.py the whole PodSpec with Pod, PodTemplate, ReplicationController and
PersistentVolumeClaim; in protobuf_workloads.py Deployment, ReplicaSet, DaemonSet, StatefulSet,
ControllerRevision, Job, CronJob (`create deployment|job|cronjob`, `create job --from=cronjob/x`),
HorizontalPodAutoscaler v1 and v2 (`autoscale`: v1 in 1.32, v2 from 1.33) and Scale; in
protobuf_networking.py Ingress and IngressClass (`create ingress`); in protobuf_certificates.py
CertificateSigningRequest (`kubectl certificate approve|deny`, typed UpdateApproval); in
reviewproto.py the reviews `auth can-i|whoami` post.  Others raise NoDecoding (a 415 naming
JSON and YAML).  Responses stay JSON: the clients accept it.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    pass


class NoDecoding(ProtobufError):
    """A well-formed envelope around a kind this API reads as JSON or YAML only."""


# -- wire format -------------------------------------------------------------------------------
def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(data):
            raise ProtobufError("truncated varint")
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field of one message, in order."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(data, i)
            if i + n > len(data):
                raise ProtobufError("truncated length-delimited field")
            value, i = data[i:i + n], i + n
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


# -- message descriptors ----------------------------------------------------------------------
# {field number: (JSON name, type, omitempty)}; a type is a scalar name, a nested descriptor
# (dict), ("repeated", type) or ("map", key type, value type).  omitempty POINTER marks a Go
# pointer field (*int64, *bool, *PodSecurityContext, ...): kept when on the wire, even zero
# (gracePeriodSeconds: 0 is "delete now"), absent when not.  omitempty False on a nested message
# (a Go struct that is not a pointer: `spec`, `status`, a container's `resources`) keeps it even
# empty, as encoding/json writes `"resources": {}`.  INLINE marks an embedded Go struct
# (`json:",inline"`: a Volume's VolumeSource, a Probe's ProbeHandler): its fields are the
# parent's.
POINTER = "pointer"
INLINE = "inline"
TIME = "time"  # metav1.Time: {seconds int64 = 1, nanos int32 = 2}; the zero time is JSON null
QUANTITY = "quantity"  # resource.Quantity: {string = 1}, its text
INT_OR_STRING = "intorstring"  # intstr.IntOrString: {type int64 = 1, intVal int32 = 2, strVal string = 3}
# runtime.RawExtension {raw bytes = 1} (a ControllerRevision's data) and metav1.FieldsV1
# {raw bytes = 1} (managedFields): the raw bytes are the JSON value itself.
RAW_JSON = "rawjson"
# A message {repeated string items = 1} whose JSON is the bare list (a CertificateSigningRequest's
# ExtraValue, authentication's UserInfo extra).
STRING_LIST = "stringlist"
_MESSAGES = (TIME, QUANTITY, INT_OR_STRING, RAW_JSON, STRING_LIST)  # the special types that are messages on the wire

OWNER_REFERENCE = {1: ("kind", "string", False), 3: ("name", "string", False), 4: ("uid", "string", False),
                   5: ("apiVersion", "string", False), 6: ("controller", "bool", POINTER),
                   7: ("blockOwnerDeletion", "bool", POINTER)}
MANAGED_FIELDS_ENTRY = {1: ("manager", "string", True), 2: ("operation", "string", True),
                        3: ("apiVersion", "string", True), 4: ("time", TIME, POINTER),
                        6: ("fieldsType", "string", True), 7: ("fieldsV1", RAW_JSON, POINTER),
                        8: ("subresource", "string", True)}
OBJECT_META = {1: ("name", "string", True), 2: ("generateName", "string", True), 3: ("namespace", "string", True),
               4: ("selfLink", "string", True), 5: ("uid", "string", True), 6: ("resourceVersion", "string", True),
               7: ("generation", "int64", True), 8: ("creationTimestamp", TIME, True),
               9: ("deletionTimestamp", TIME, POINTER), 10: ("deletionGracePeriodSeconds", "int64", POINTER),
               11: ("labels", ("map", "string", "string"), True),
               12: ("annotations", ("map", "string", "string"), True),
               13: ("ownerReferences", ("repeated", OWNER_REFERENCE), True),
               14: ("finalizers", ("repeated", "string"), True),
               17: ("managedFields", ("repeated", MANAGED_FIELDS_ENTRY), True)}
# k8s.io/api/scheduling/v1/generated.proto
PRIORITY_CLASS = {1: ("metadata", OBJECT_META, False), 2: ("value", "int32", False),
                  3: ("globalDefault", "bool", True), 4: ("description", "string", True),
                  5: ("preemptionPolicy", "string", POINTER)}
# k8s.io/api/core/v1/generated.proto
NAMESPACE_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                       4: ("lastTransitionTime", TIME, True), 5: ("reason", "string", True),
                       6: ("message", "string", True)}
NAMESPACE = {1: ("metadata", OBJECT_META, False),
             2: ("spec", {1: ("finalizers", ("repeated", "string"), True)}, True),
             3: ("status", {1: ("phase", "string", True),
                            2: ("conditions", ("repeated", NAMESPACE_CONDITION), True)}, True)}

# ConfigMap, Secret, ServiceAccount (`kubectl create configmap|secret|serviceaccount`); a bytes
# value is written as the base64 JSON carries; `immutable` and `automountServiceAccountToken`
# are *bool (kept when on the wire, even false).
CONFIG_MAP = {1: ("metadata", OBJECT_META, False), 2: ("data", ("map", "string", "string"), True),
              3: ("binaryData", ("map", "string", "bytes"), True), 4: ("immutable", "bool", POINTER)}
SECRET = {1: ("metadata", OBJECT_META, False), 2: ("data", ("map", "string", "bytes"), True),
          3: ("type", "string", True), 4: ("stringData", ("map", "string", "string"), True),
          5: ("immutable", "bool", POINTER)}
OBJECT_REFERENCE = {1: ("kind", "string", True), 2: ("namespace", "string", True), 3: ("name", "string", True),
                    4: ("uid", "string", True), 5: ("apiVersion", "string", True),
                    6: ("resourceVersion", "string", True), 7: ("fieldPath", "string", True)}
LOCAL_OBJECT_REFERENCE = {1: ("name", "string", True)}
SERVICE_ACCOUNT = {1: ("metadata", OBJECT_META, False), 2: ("secrets", ("repeated", OBJECT_REFERENCE), True),
                   3: ("imagePullSecrets", ("repeated", LOCAL_OBJECT_REFERENCE), True),
                   4: ("automountServiceAccountToken", "bool", POINTER)}
# k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto: DeleteOptions' fields are all pointers
# but propagationPolicy's (*DeletionPropagation too) and dryRun.
PRECONDITIONS = {1: ("uid", "string", POINTER), 2: ("resourceVersion", "string", POINTER)}
DELETE_OPTIONS = {1: ("gracePeriodSeconds", "int64", POINTER), 2: ("preconditions", PRECONDITIONS, POINTER),
                  3: ("orphanDependents", "bool", POINTER), 4: ("propagationPolicy", "string", POINTER),
                  5: ("dryRun", ("repeated", "string"), True),
                  6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool", POINTER)}
# k8s.io/api/policy/v1/generated.proto (policy/v1beta1's Eviction has the same numbers)
EVICTION = {1: ("metadata", OBJECT_META, False), 2: ("deleteOptions", DELETE_OPTIONS, POINTER)}

# apimachinery meta/v1: LabelSelector, Condition
LABEL_SELECTOR_REQUIREMENT = {1: ("key", "string", False), 2: ("operator", "string", False),
                              3: ("values", ("repeated", "string"), True)}
LABEL_SELECTOR = {1: ("matchLabels", ("map", "string", "string"), True),
                  2: ("matchExpressions", ("repeated", LABEL_SELECTOR_REQUIREMENT), True)}
CONDITION = {1: ("type", "string", False), 2: ("status", "string", False), 3: ("observedGeneration", "int64", True),
             4: ("lastTransitionTime", TIME, False), 5: ("reason", "string", False), 6: ("message", "string", False)}
# k8s.io/api/policy/v1/generated.proto: `kubectl create pdb`
POD_DISRUPTION_BUDGET = {
    1: ("metadata", OBJECT_META, False),
    2: ("spec", {1: ("minAvailable", INT_OR_STRING, POINTER), 2: ("selector", LABEL_SELECTOR, POINTER),
                 3: ("maxUnavailable", INT_OR_STRING, POINTER), 4: ("unhealthyPodEvictionPolicy", "string", POINTER)},
        False),
    3: ("status", {1: ("observedGeneration", "int64", True), 2: ("disruptedPods", ("map", "string", TIME), True),
                   3: ("disruptionsAllowed", "int32", False), 4: ("currentHealthy", "int32", False),
                   5: ("desiredHealthy", "int32", False), 6: ("expectedPods", "int32", False),
                   7: ("conditions", ("repeated", CONDITION), True)}, True)}
# k8s.io/api/core/v1/generated.proto: `kubectl create quota`
SCOPED_RESOURCE_SELECTOR_REQUIREMENT = {1: ("scopeName", "string", False), 2: ("operator", "string", False),
                                        3: ("values", ("repeated", "string"), True)}
RESOURCE_QUOTA = {
    1: ("metadata", OBJECT_META, False),
    2: ("spec", {1: ("hard", ("map", "string", QUANTITY), True), 2: ("scopes", ("repeated", "string"), True),
                 3: ("scopeSelector", {1: ("matchExpressions", ("repeated", SCOPED_RESOURCE_SELECTOR_REQUIREMENT),
                                           True)}, POINTER)}, True),
    3: ("status", {1: ("hard", ("map", "string", QUANTITY), True), 2: ("used", ("map", "string", QUANTITY), True)},
        True)}

KINDS: dict[tuple[str, str], dict] = {
    ("policy/v1", "PodDisruptionBudget"): POD_DISRUPTION_BUDGET,
    ("v1", "ResourceQuota"): RESOURCE_QUOTA,
    ("scheduling.k8s.io/v1", "PriorityClass"): PRIORITY_CLASS,
    ("v1", "Namespace"): NAMESPACE,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("v1", "Secret"): SECRET,
    ("v1", "ServiceAccount"): SERVICE_ACCOUNT,
    ("policy/v1", "Eviction"): EVICTION,
    ("policy/v1beta1", "Eviction"): EVICTION,
}
# DeleteOptions is registered in every group version (metav1.AddToGroupVersion): client-go
# encodes it with the group version of the resource being deleted ("v1", "apps/v1", ...).
ANY_VERSION_KINDS = {"DeleteOptions": DELETE_OPTIONS}


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if kind == "bytes":
        if wire != 2:
            raise ProtobufError("expected bytes")
        return base64.b64encode(value).decode("ascii")  # []byte's JSON form
    if kind == "string":
        if wire != 2:
            raise ProtobufError("expected a string")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtobufError(f"invalid UTF-8 in a string field: {e}") from None
    if wire != 0:
        raise ProtobufError(f"expected a varint for a {kind}")
    if kind == "bool":
        return bool(value)
    if kind == "int32":
        return _signed(value & 0xFFFFFFFF, 32)
    if kind == "int64":
        return _signed(value, 64)
    raise ProtobufError(f"unknown scalar type {kind}")


def _quantity(data: bytes) -> str:
    for number, wire, value in fields(data):
        if number == 1:
            return _scalar("string", wire, value)
    return "0"


def _int_or_string(data: bytes) -> int | str:
    kind, int_val, str_val = 0, 0, ""
    for number, wire, value in fields(data):
        if number == 1:
            kind = _scalar("int64", wire, value)
        elif number == 2:
            int_val = _scalar("int32", wire, value)
        elif number == 3:
            str_val = _scalar("string", wire, value)
    return str_val if kind == 1 else int_val


def _raw_json(data: bytes) -> Any:
    for number, wire, value in fields(data):
        if number == 1 and wire == 2 and value:
            try:
                return json.loads(value)
            except (ValueError, RecursionError) as e:
                raise ProtobufError(f"a raw extension that is not JSON: {e}") from None
    return None  # an empty RawExtension marshals as JSON null


def _packed(kind: str, data: bytes) -> list:
    """A packed repeated varint field (proto3's form; gogo's proto2 writes one field per
    element, which message() reads too)."""
    out, i = [], 0
    while i < len(data):
        value, i = _varint(data, i)
        out.append(_scalar(kind, 0, value))
    return out


def _value(kind: Any, wire: int, value: Any) -> Any:
    """One field's value: a nested message, a special type or a scalar."""
    if (isinstance(kind, dict) or kind in _MESSAGES) and wire != 2:
        raise ProtobufError("expected a length-delimited message")
    if isinstance(kind, dict):
        return message(value, kind)
    if kind == RAW_JSON:
        return _raw_json(value)
    if kind == STRING_LIST:
        return [_scalar("string", w, v) for n, w, v in fields(value) if n == 1]
    if kind == TIME:
        return _time(value)
    if kind == QUANTITY:
        return _quantity(value)
    if kind == INT_OR_STRING:
        return _int_or_string(value)
    return _scalar(kind, wire, value)


def _time(data: bytes) -> str | None:
    seconds = nanos = 0
    for number, wire, value in fields(data):
        if number == 1:
            seconds = _scalar("int64", wire, value)
        elif number == 2:
            nanos = _scalar("int32", wire, value)
    if seconds == 0 and nanos == 0:
        return None  # Go's zero time marshals as JSON null
    t = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or value is False or value == 0 or value == [] or value == {}


def message(data: bytes, descriptor: dict) -> dict:
    """One message as its JSON object (unknown field numbers are skipped, as proto does)."""
    out: dict[str, Any] = {}
    for number, wire, value in fields(data):
        spec = descriptor.get(number)
        if spec is None:
            continue
        name, kind, omitempty = spec
        if omitempty == INLINE:
            out.update(_value(kind, wire, value))
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            if wire == 2 and kind[1] in ("int32", "int64", "bool"):
                out.setdefault(name, []).extend(_packed(kind[1], value))
            else:
                out.setdefault(name, []).append(_value(kind[1], wire, value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            if wire != 2:
                raise ProtobufError("expected a length-delimited map entry")
            entry = {n: _value(kind[1] if n == 1 else kind[2], w, v) for n, w, v in fields(value) if n in (1, 2)}
            out.setdefault(name, {})[entry.get(1, "")] = entry.get(2, "")
        else:
            out[name] = _value(kind, wire, value)
    for number, (name, kind, omitempty) in descriptor.items():
        if omitempty == INLINE:
            continue
        if name in out and omitempty is True and _is_zero(out[name]):
            del out[name]
        elif name not in out and not omitempty and kind in ("int32", "int64"):
            out[name] = 0  # a zero varint may be left out on the wire
    return out


def decode(raw: bytes) -> dict:
    """A protobuf request body as the JSON object it encodes."""
    if not raw.startswith(MAGIC):
        raise ProtobufError("the body does not start with the protobuf magic number")
    type_meta, content = {}, b""
    for number, wire, value in fields(raw[len(MAGIC):]):
        if number == 1 and wire == 2:
            type_meta = message(value, {1: ("apiVersion", "string", True), 2: ("kind", "string", True)})
        elif number == 2 and wire == 2:
            content = value
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    descriptor = KINDS.get((api_version, kind)) or ANY_VERSION_KINDS.get(kind)
    if descriptor is None:
        raise NoDecoding(f"no protobuf decoding for {kind} in {api_version or 'an unknown version'}")
    return {"apiVersion": api_version, "kind": kind, **message(content, descriptor)}

# PodSpec and the workload kinds (Deployment, Job, CronJob, HPA, ...) register themselves into
# KINDS: protobuf_core imports the names above, then protobuf_workloads (built on it) at its own
# end, so any of the three modules may be imported first.
from cluster.api import protobuf_core  # noqa: E402,F401
from cluster.api import protobuf_networking  # noqa: E402,F401  (Ingress, IngressClass)
from cluster.api import protobuf_rbac  # noqa: E402,F401  (the RBAC kinds, TokenRequest)
from cluster.api import protobuf_certificates  # noqa: E402,F401  (CertificateSigningRequest)
