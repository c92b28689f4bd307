"""The protobuf descriptors of PodSpec and the workload kinds (cluster/api/protobuf_core.py,
protobuf_workloads.py), checked two ways that do not share a mistake:

- against the compiled generated.proto that kubectl 1.33 carries (client-go registers every
  k8s.io/api file descriptor, gzipped, in the binary): every field number, name, repetition,
  type and pointer-ness of every message a kind reaches, and against the binary's Go struct tags
  for omitempty;
- by a round trip: whole objects as kube-apiserver stores them (tests/api/protobuf_objects.py),
  encoded as gogo-protobuf would (a test-only encoder, below, writing every non-pointer field)
  and decoded back to the same JSON.

tests/kubectl/test_kubectl_protobuf_workloads.py compares what the real kubectl sends."""
from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import zlib
from pathlib import Path

import pytest

from cluster.api import protobuf, requestinfo
from cluster.api.protobuf import INLINE, INT_OR_STRING, POINTER, QUANTITY, RAW_JSON, STRING_LIST, TIME
from tests.api import protobuf_objects as objects
from tests.conftest import kubectl_binaries, kubectl_minor, require_service


# -- a test-only encoder: gogo-protobuf's proto2 marshalling of the Go struct a JSON object fills --
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int32/int64 is its 64-bit two's complement, ten bytes
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | int | bool) -> bytes:
    if isinstance(payload, (bool, int)):
        return _varint(number << 3) + _varint(int(payload))
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _special(kind: str, value) -> bytes:
    if kind == TIME:
        if value is None:
            return b""  # metav1.Time's Marshal of the zero time
        t = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        return _field(1, int(t.timestamp())) + _field(2, 0)
    if kind == QUANTITY:
        return _field(1, value.encode())
    if kind == INT_OR_STRING:
        if isinstance(value, str):
            return _field(1, 1) + _field(2, 0) + _field(3, value.encode())
        return _field(1, 0) + _field(2, value) + _field(3, b"")
    assert kind == RAW_JSON
    return b"" if value is None else _field(1, json.dumps(value).encode())


def _zero(kind):
    if isinstance(kind, dict):
        return {}
    return {"string": "", "bytes": "", "bool": False, "int32": 0, "int64": 0, QUANTITY: "0", INT_OR_STRING: 0}.get(kind)


def _one(number: int, kind, value) -> bytes:
    if isinstance(kind, dict):
        return _field(number, encode(value, kind))
    if kind in (TIME, QUANTITY, INT_OR_STRING, RAW_JSON):
        return _field(number, _special(kind, value))
    if kind == "string":
        return _field(number, value.encode())
    if kind == "bytes":
        return _field(number, base64.b64decode(value))
    return _field(number, value)


def encode(obj: dict, descriptor: dict) -> bytes:
    """Every field in number order; a non-pointer one even when zero or absent, as gogo writes
    a Go struct's fields (pointers only when set, slices and maps element by element)."""
    out = b""
    for number in sorted(descriptor):
        name, kind, omitempty = descriptor[number]
        if omitempty == INLINE:
            out += _field(number, encode(obj, kind))
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            out += b"".join(_one(number, kind[1], item) for item in obj.get(name) or [])
        elif isinstance(kind, tuple):
            entries = obj.get(name) or {}
            out += b"".join(_field(number, _one(1, kind[1], key) + _one(2, kind[2], entries[key]))
                            for key in sorted(entries))
        elif name in obj:
            out += _one(number, kind, obj[name])
        elif omitempty != POINTER:
            out += _one(number, kind, _zero(kind))
    return out


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return protobuf.MAGIC + _field(1, _field(1, api_version.encode()) + _field(2, kind.encode())) + _field(2, raw)


WHOLE_OBJECTS = {name: getattr(objects, name) for name in (
    "DEPLOYMENT", "REPLICA_SET", "DAEMON_SET", "STATEFUL_SET", "CONTROLLER_REVISION", "JOB", "CRON_JOB", "HPA_V2",
    "HPA_V1", "SCALE", "REPLICATION_CONTROLLER", "POD")}


@pytest.mark.parametrize("name", sorted(WHOLE_OBJECTS))
def test_a_whole_stored_object_reads_back_from_protobuf(name):
    obj = WHOLE_OBJECTS[name]
    descriptor = protobuf.KINDS[(obj["apiVersion"], obj["kind"])]
    content = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    assert protobuf.decode(envelope(obj["apiVersion"], obj["kind"], encode(content, descriptor))) == obj


def test_pointers_keep_their_zero_and_omitempty_values_drop_theirs():
    pod = protobuf.decode(envelope("v1", "Pod", encode(objects.POD, protobuf.KINDS[("v1", "Pod")])))
    spec = pod["spec"]
    # *int64 / *bool at zero: sent, so kept ("delete at once", "no token", "no service links")
    assert (spec["terminationGracePeriodSeconds"], spec["automountServiceAccountToken"],
            spec["enableServiceLinks"], spec["hostUsers"], spec["shareProcessNamespace"]) == (0, False, False, False,
                                                                                              False)
    assert spec["containers"][0]["securityContext"]["runAsUser"] == 0
    # plain bool/string at zero: gogo writes them, encoding/json leaves them out
    assert "hostNetwork" not in spec and "nodeName" in spec and "hostname" in spec
    assert {"name": "EMPTY"} in spec["containers"][0]["env"]
    # a struct that is not a pointer stays, even empty, as encoding/json writes it
    assert spec["initContainers"][0]["resources"] == {} and pod["status"]["containerStatuses"][0]["lastState"] == {}


def test_a_template_of_a_deployment_reads_as_kubectl_1_31_sends_it():
    """The body `kubectl create deployment web --image=nginx --replicas=3 --port=80` sends from
    1.32 on, byte for byte (captured from kubectl 1.33; the JSON is what 1.31 sends)."""
    raw = bytes.fromhex(
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b8010a1f0a0377656212001a0022002a0032003800"
        "42005a0a0a0361707012037765621286010803120c0a0a0a0361707012037765621a6c0a1c0a0012001a0022002a003200"
        "380042005a0a0a036170701203776562124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042"
        "006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00"
        "280038001a0c0800100018002000280038001a002200")
    assert protobuf.decode(raw) == {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                       "ports": [{"containerPort": 80}], "resources": {}}]}},
                 "strategy": {}},
        "status": {}}


def test_packed_repeated_varints_read_as_one_per_field():
    rule = _field(1, b"FailJob") + _field(2, _field(2, b"In") + _field(3, _varint(42) + _varint(43)))
    job = _field(2, _field(11, _field(1, rule)))
    assert protobuf.decode(envelope("batch/v1", "Job", job))["spec"]["podFailurePolicy"] == {
        "rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42, 43]}}]}


def test_a_controller_revision_whose_data_is_not_json_is_refused():
    with pytest.raises(protobuf.ProtobufError, match="not JSON"):
        protobuf.decode(envelope("apps/v1", "ControllerRevision", _field(2, _field(1, b"\x00\x01"))))


def test_a_corrupted_body_is_a_protobuf_error_never_a_crash():
    """Random bytes changed in encoded objects: each body decodes or raises ProtobufError (a 415
    for the client), whatever wire type lands where a message was expected."""
    rng = random.Random(11)
    for obj in (objects.POD, objects.CRON_JOB, objects.HPA_V2, objects.STATEFUL_SET, objects.CONTROLLER_REVISION):
        content = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        raw = envelope(obj["apiVersion"], obj["kind"], encode(content, protobuf.KINDS[(obj["apiVersion"],
                                                                                        obj["kind"])]))
        for _ in range(200):
            corrupted = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                corrupted[rng.randrange(len(protobuf.MAGIC), len(raw))] = rng.randrange(256)
            try:
                protobuf.decode(bytes(corrupted))
            except protobuf.ProtobufError:
                pass


def test_the_api_reads_protobuf_bodies_of_the_workload_kinds():
    class Res:
        def __init__(self, api_version, kind):
            self.api_version, self.kind = api_version, kind
    for api_version, kind in (("apps/v1", "Deployment"), ("batch/v1", "CronJob"), ("autoscaling/v2",
                                                                                    "HorizontalPodAutoscaler")):
        assert protobuf.CONTENT_TYPE in requestinfo.body_types(Res(api_version, kind), "create", None)
    assert protobuf.CONTENT_TYPE in requestinfo.body_types(Res("apps/v1", "Deployment"), "update", "scale")


# -- the descriptors against kubectl's compiled generated.proto -----------------------------------
COMPILED_IN = "1.33"  # the newest kubectl that still registers its gogo file descriptors
# Fields newer than 1.33, described from k8s.io/api's generated.proto of 1.34+.
NEWER = {(".k8s.io.api.core.v1.EnvVarSource", 5), (".k8s.io.api.core.v1.Container", 25),
         (".k8s.io.api.core.v1.EphemeralContainerCommon", 25), (".k8s.io.api.core.v1.PodSpec", 41)}
# Left out on purpose: a review's status is the server's answer, which no client sends
# (cluster/api/reviewproto.py describes what kubectl auth can-i / whoami post).
UNDESCRIBED = {(".k8s.io.api.authentication.v1.SelfSubjectReview", 2),
               (".k8s.io.api.authorization.v1.SelfSubjectAccessReview", 3),
               (".k8s.io.api.authorization.v1.SelfSubjectRulesReview", 3)}
SPECIAL = {TIME: {".k8s.io.apimachinery.pkg.apis.meta.v1.Time"},
           QUANTITY: {".k8s.io.apimachinery.pkg.api.resource.Quantity"},
           INT_OR_STRING: {".k8s.io.apimachinery.pkg.util.intstr.IntOrString"},
           RAW_JSON: {".k8s.io.apimachinery.pkg.runtime.RawExtension",
                      ".k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"},
           # A user's extra values: a message whose only field is `repeated string items = 1`.
           STRING_LIST: {".k8s.io.api.certificates.v1.ExtraValue"}}
SCALARS = {9: "string", 5: "int32", 3: "int64", 8: "bool", 12: "bytes"}
NULLABLE_FALSE = (65001, 0)  # (gogoproto.nullable) = false: a Go field that is not a pointer


def _kubectl(minor: str) -> Path:
    found = [Path(b) for b in kubectl_binaries() if kubectl_minor(b) == minor]
    require_service("kubectl", bool(found), f"kubectl {minor} is missing")
    return found[0]


def _message(data: bytes, prefix: str, into: dict) -> None:
    name, fields, nested, map_entry = "", {}, [], False
    for number, _, value in protobuf.fields(data):
        if number == 1:
            name = value.decode()
        elif number == 2:
            field = {"options": set()}
            for n, _, v in protobuf.fields(value):
                if n == 1:
                    field["name"] = v.decode()
                elif n in (3, 4, 5):
                    field[{3: "number", 4: "label", 5: "type"}[n]] = v
                elif n == 6:
                    field["type_name"] = v.decode()
                elif n == 8:
                    field["options"] = {(o, ov) for o, w, ov in protobuf.fields(v) if w == 0}
            fields[field["number"]] = field
        elif number == 3:
            nested.append(value)
        elif number == 7:
            map_entry = any(n == 7 and v for n, _, v in protobuf.fields(value))
    full = f"{prefix}.{name}"
    into[full] = {"fields": fields, "map_entry": map_entry}
    for n in nested:
        _message(n, full, into)


@pytest.fixture(scope="module")
def kubectl_binary() -> bytes:
    return _kubectl(COMPILED_IN).read_bytes()


@pytest.fixture(scope="module")
def compiled(kubectl_binary) -> dict:
    """{".k8s.io.api.apps.v1.DeploymentSpec": {"fields": {number: field}, "map_entry": bool}}, from
    every gzipped FileDescriptorProto of a k8s.io generated.proto in the binary."""
    messages: dict = {}
    for match in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00", kubectl_binary):
        try:
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(kubectl_binary[match.start():
                                                                                     match.start() + (1 << 21)])
            parsed = protobuf.fields(data)
        except (zlib.error, protobuf.ProtobufError):
            continue
        names = [v for n, _, v in parsed if n == 1]
        if not names or not re.fullmatch(rb"k8s\.io/[\w/.-]+/generated\.proto", names[0]):
            continue
        package = next(v.decode() for n, _, v in parsed if n == 2)
        for n, _, v in parsed:
            if n == 4:
                _message(v, f".{package}", messages)
    assert ".k8s.io.api.core.v1.PodSpec" in messages
    return messages


def _message_of(api_version: str, kind: str) -> str:
    if kind == "DeleteOptions":
        return ".k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"
    group, _, version = api_version.rpartition("/")
    return f".k8s.io.api.{(group.split('.')[0] or 'core')}.{version}.{kind}"


# Where generated.proto names a field otherwise than its JSON name (the descriptors use the
# JSON name): k8s.io/api/networking/v1 IngressClassParametersReference's `aPIGroup = 1`
# is `json:"apiGroup"`; authentication/v1 BoundObjectReference's `uID = 4` is `json:"uid"`.
PROTO_FIELD_NAMES = {"apiGroup": "aPIGroup", "uid": "uID"}


def _walk(compiled: dict, ours: dict, message: str, path: str, problems: list, seen: set, scalars: list) -> None:
    if (id(ours), message) in seen:
        return
    seen.add((id(ours), message))
    proto = compiled[message]["fields"]
    for number, field in sorted(proto.items()):
        where = f"{path}.{field['name']} ({message[1:]} = {number})"
        if number not in ours:
            if (message, number) not in UNDESCRIBED:
                problems.append(f"{where}: not described")
            continue
        name, kind, omitempty = ours[number]
        if name != field["name"] and PROTO_FIELD_NAMES.get(name) != field["name"]:
            problems.append(f"{where}: described as {name!r}")
        if field["label"] == 3:
            entry = compiled.get(field.get("type_name", ""), {})
            if entry.get("map_entry"):
                if not (isinstance(kind, tuple) and kind[0] == "map"):
                    problems.append(f"{where}: a map, described as {kind!r}")
                    continue
                for i, part in ((1, kind[1]), (2, kind[2])):
                    _type(compiled, part, entry["fields"][i], where, problems, seen, scalars)
            elif not (isinstance(kind, tuple) and kind[0] == "repeated"):
                problems.append(f"{where}: repeated, described as {kind!r}")
            else:
                _type(compiled, kind[1], field, where, problems, seen, scalars)
            continue
        if isinstance(kind, tuple):
            problems.append(f"{where}: one value, described as {kind[0]}")
            continue
        pointer = NULLABLE_FALSE not in field["options"]
        if pointer != (omitempty == POINTER):
            problems.append(f"{where}: {'a' if pointer else 'not a'} pointer, described with {omitempty!r}")
        elif not pointer and field["type"] != 11:
            scalars.append((message, name, number, omitempty))  # the JSON name, as the tags have it
        _type(compiled, kind, field, where, problems, seen, scalars)
    for number in sorted(set(ours) - set(proto)):
        if (message, number) not in NEWER:
            problems.append(f"{path}.{ours[number][0]} ({message[1:]} = {number}): not in generated.proto")


def _type(compiled, kind, field, where, problems, seen, scalars) -> None:
    if field["type"] == 11:
        type_name = field["type_name"]
        if isinstance(kind, dict):
            _walk(compiled, kind, type_name, where.split(" (")[0], problems, seen, scalars)
        elif type_name not in SPECIAL.get(kind, ()):
            problems.append(f"{where}: a {type_name[1:]}, described as {kind!r}")
    elif SCALARS.get(field["type"]) != kind:
        problems.append(f"{where}: a {SCALARS.get(field['type'], field['type'])}, described as {kind!r}")


def test_every_descriptor_matches_kubectls_compiled_generated_proto(compiled, kubectl_binary):
    problems: list[str] = []
    seen: set = set()
    scalars: list = []
    kinds = {**protobuf.KINDS, **{("v1", kind): d for kind, d in protobuf.ANY_VERSION_KINDS.items()}}
    for (api_version, kind), descriptor in sorted(kinds.items()):
        message = _message_of(api_version, kind)
        if message not in compiled:
            problems.append(f"{api_version} {kind}: no {message[1:]} in kubectl {COMPILED_IN}")
            continue
        _walk(compiled, descriptor, message, f"{kind}", problems, seen, scalars)
    assert not problems, "\n".join(problems)
    assert len(seen) > 150  # PodSpec and everything under it were walked

    # omitempty, from the Go struct tags the binary keeps for encoding/json: a described
    # omitempty (True) or not (False) must be one some struct declares for that name and number.
    tag = rb'json:"(\w*)(,omitempty)?[,\w]*"(?: \w+:"[^"]*")* protobuf:"\w+,(\d+),(?:opt,|req,|rep,)?name=\w+'
    tags = {(m.group(1).decode(), int(m.group(3)), bool(m.group(2))) for m in re.finditer(tag, kubectl_binary)}
    wrong = [f"{message[1:]}.{name} = {number}: omitempty {omitempty}" for message, name, number, omitempty in scalars
             if (name, number, omitempty) not in tags]
    assert not wrong, "\n".join(wrong)
