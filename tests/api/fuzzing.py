"""A hypothesis-driven fuzz of every write endpoint of the Kubernetes API, importable by the
test suite (tests/api/test_fuzz.py) and the benchmark (bench/robustness.py):

    result = run_fuzz("http://127.0.0.1:8000/clusters/fuzz", examples=200)
    result.cases, result.server_errors, result.non_status, result.changed

Each case is one request: create, update, status update, patch (merge, strategic merge, JSON
patch), delete with DeleteOptions, binding, eviction, scale, for each kind, with a body generated
from the kinds' Go types (sim/api/schema.py): a valid object with one field replaced by a value of another
JSON type, a null, a number no Go integer holds, a float for an integer, a deep or big value; or
random JSON; or raw text that is not JSON (NaN, deep nesting, truncation, a body over the
limit).  What is checked:
- no answer is a 5xx;
- every error is a Kubernetes `Status` (JSON, kind Status, its code the HTTP status);
- a refused write changes nothing stored (the identity, spec, labels and annotations of every
  pod, ReplicaSet, PriorityClass and namespace, and the nodes' labels).
Writes that are accepted are allowed: the cluster then moves on, and the next comparison starts
from what it stores then.  Generated integers stay small or out of range, so an accepted write
never asks the cluster for a huge amount of work.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import schema
from sim.registry.apps import deployments
from sim.registry.core import limitranges, persistentvolumeclaims, persistentvolumes, resourcequotas
from sim.registry.storage import storageclasses
from sim.registry.policy import poddisruptionbudgets
from sim.apiserver.eviction import EVICTION
from sim.api.gotypes import INT_OR_STRING, QUANTITY, TIME, Map, Scalar, Slice, Struct

EXAMPLES_ENV = "PILOTHOUSE_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 150
FIXTURE_NS = "default"


def examples_from_env(default: int = DEFAULT_EXAMPLES) -> int:
    try:
        return max(1, int(os.environ.get(EXAMPLES_ENV, default)))
    except ValueError:
        return default


@dataclass
class FuzzResult:
    cases: int = 0
    server_errors: int = 0          # 5xx answers
    non_status: int = 0             # error answers that are not a Kubernetes Status
    changed: int = 0                # refused writes after which something stored had changed
    accepted: int = 0
    failures: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)


# -- the kinds' endpoints -------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    kind: str
    api_version: str
    collection: str          # path under the cluster URL
    fixture: str             # an object the fixture creates, target of updates and patches
    go_type: Struct
    has_status: bool = True


def _collection(api_version: str, plural: str, namespaced: bool) -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/namespaces/{FIXTURE_NS}/{plural}" if namespaced else f"{prefix}/{plural}"


KINDS = [
    Kind("Pod", "v1", _collection("v1", "pods", True), "fuzz-pod", schema.POD),
    Kind("ReplicaSet", "apps/v1", _collection("apps/v1", "replicasets", True), "fuzz-rs", schema.REPLICA_SET),
    Kind("Deployment", "apps/v1", _collection("apps/v1", "deployments", True), "fuzz-deploy", deployments.DEPLOYMENT),
    Kind("Node", "v1", _collection("v1", "nodes", False), "worker-1", schema.NODE),
    Kind("Namespace", "v1", _collection("v1", "namespaces", False), "fuzz-ns", schema.NAMESPACE),
    Kind("Event", "v1", _collection("v1", "events", True), "fuzz-event", schema.EVENT, has_status=False),
    Kind("Lease", "coordination.k8s.io/v1", _collection("coordination.k8s.io/v1", "leases", True), "fuzz-lease",
         schema.LEASE, has_status=False),
    Kind("PriorityClass", "scheduling.k8s.io/v1", _collection("scheduling.k8s.io/v1", "priorityclasses", False),
         "fuzz-pc", schema.PRIORITY_CLASS, has_status=False),
    Kind("PodDisruptionBudget", "policy/v1", _collection("policy/v1", "poddisruptionbudgets", True), "fuzz-pdb",
         poddisruptionbudgets.POD_DISRUPTION_BUDGET),
    Kind("ResourceQuota", "v1", _collection("v1", "resourcequotas", True), "fuzz-quota",
         resourcequotas.RESOURCE_QUOTA),
    Kind("LimitRange", "v1", _collection("v1", "limitranges", True), "fuzz-limits", limitranges.LIMIT_RANGE,
         has_status=False),
    Kind("PersistentVolume", "v1", _collection("v1", "persistentvolumes", False), "fuzz-pv",
         persistentvolumes.PERSISTENT_VOLUME),
    Kind("PersistentVolumeClaim", "v1", _collection("v1", "persistentvolumeclaims", True), "fuzz-pvc",
         persistentvolumeclaims.PERSISTENT_VOLUME_CLAIM),
    Kind("StorageClass", "storage.k8s.io/v1", _collection("storage.k8s.io/v1", "storageclasses", False), "fuzz-sc",
         storageclasses.STORAGE_CLASS, has_status=False),
]


def valid_object(kind: Kind, name: str) -> dict:
    base = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": name}}
    if kind.kind == "Pod":
        base["spec"] = {"containers": [{"name": "c", "image": "nginx"}]}
    elif kind.kind in ("ReplicaSet", "Deployment"):
        base["spec"] = {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    elif kind.kind == "Event":
        base.update(involvedObject={"kind": "Pod", "name": "fuzz-pod", "namespace": FIXTURE_NS}, reason="Fuzz",
                    message="fuzz", type="Normal")
    elif kind.kind == "Lease":
        base["spec"] = {"holderIdentity": "fuzz", "leaseDurationSeconds": 15}
    elif kind.kind == "PriorityClass":
        base["value"] = 1000
    elif kind.kind == "PodDisruptionBudget":
        base["spec"] = {"minAvailable": 1, "selector": {"matchLabels": {"app": "fuzz"}}}
    elif kind.kind == "ResourceQuota":
        base["spec"] = {"hard": {"count/leases.coordination.k8s.io": "100"}}
    elif kind.kind == "PersistentVolume":
        base["spec"] = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                        "hostPath": {"path": "/mnt/fuzz"}, "storageClassName": "fuzz"}
    elif kind.kind == "PersistentVolumeClaim":
        base["spec"] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                        "storageClassName": "fuzz"}
    elif kind.kind == "StorageClass":
        base["provisioner"] = "example.com/fuzz"
    elif kind.kind == "LimitRange":
        base["spec"] = {"limits": [{"type": "PersistentVolumeClaim", "max": {"storage": "1Ti"}}]}
    return base


def create_fixtures(base_url: str) -> None:
    """The objects updates and patches aim at (Node: the cluster's worker-1)."""
    for kind in KINDS:
        if kind.kind == "Node":
            continue
        r = requests.post(base_url + kind.collection, json=valid_object(kind, kind.fixture), timeout=60)
        if r.status_code not in (201, 409):
            raise RuntimeError(f"fixture {kind.kind}: {r.status_code} {r.text[:300]}")


# -- values from the Go types ---------------------------------------------------------------
INT_OUT_OF_RANGE = [2 ** 31, -(2 ** 31) - 1, 2 ** 63, 10 ** 30, 1e30, 1.5, -0.5, 1e308]
WRONG_VALUES = st.one_of(
    st.sampled_from([None, True, "str", "", 1, -1, 0, 1.5, [], {}, [1], {"a": 1}, "1e309", " 1", "NaN", "<b>bold</b>",
                     "x" * 300]),
    st.sampled_from(INT_OUT_OF_RANGE),
    st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=8),
)


def valid_value(t) -> st.SearchStrategy:
    """A small, valid value of Go type `t` (structs only as an empty object or one field deep)."""
    if isinstance(t, Struct):
        if t.opaque or not t.fields:
            return st.just({})
        return st.sampled_from(sorted(t.fields)).flatmap(
            lambda f: st.one_of(st.just({}), valid_value(t.fields[f]).map(lambda v, f=f: {f: v})))
    if isinstance(t, Slice):
        return st.lists(valid_value(t.item), max_size=2)
    if isinstance(t, Map):
        return st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), valid_value(t.value), max_size=2)
    if isinstance(t, Scalar):
        return {"string": st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True), "int": st.integers(0, 3),
                "bool": st.booleans(), "float": st.floats(0, 10)}[t.json]
    if t is QUANTITY:
        return st.sampled_from(["1", "100m", "1Gi", "0.5", 2, "1e3"])
    if t is INT_OR_STRING:
        return st.sampled_from([80, "http"])
    if t is TIME:
        return st.just("2026-01-01T00:00:00Z")
    return st.just({})


def wrong_value(t) -> st.SearchStrategy:
    """A value decoding into `t` should refuse (or, for a null, take as the zero value)."""
    if isinstance(t, Scalar) and t.json == "int":
        return st.one_of(st.sampled_from(INT_OUT_OF_RANGE), WRONG_VALUES)
    return WRONG_VALUES


@st.composite
def field_path(draw, t: Struct, max_depth: int = 7) -> tuple[list[str], Any]:
    """A path of field names into `t` (through lists at index 0 and maps at key "k"), and the
    Go type at its end."""
    path: list[Any] = []
    while len(path) < max_depth:
        if isinstance(t, Struct) and t.fields and not t.opaque:
            name = draw(st.sampled_from(sorted(t.fields)))
            path.append(name)
            t = t.fields[name]
        elif isinstance(t, Slice):
            path.append(0)
            t = t.item
        elif isinstance(t, Map):
            path.append("k")
            t = t.value
        else:
            break
        if draw(st.integers(0, 3)) == 0:
            break
    return path, t


def set_path(obj: Any, path: list, value: Any) -> Any:
    """`obj` with `value` at `path`, creating objects and one-item lists on the way."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(obj) if isinstance(obj, list) and obj else [{}]
        items[0] = set_path(items[0], rest, value)
        return items
    out = dict(obj) if isinstance(obj, dict) else {}
    out[head] = set_path(out.get(head), rest, value)
    return out


def json_pointer(path: list) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


RAW_BODIES = [
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": NaN}',
    '{"metadata": {"name": "x", "generation": Infinity}}',
    '{"metadata": {"name": "x"}, "spec": -Infinity}',
    "[" * 2000,
    '{"metadata": ' + "[" * 600 + "]" * 600 + "}",
    '{"metadata": {"name": "x"',
    "not json at all",
    '{"a": 1}{"b": 2}',
    "\x00\x01\x02",
    '{"metadata": {"name": "\\ud800"}}',
    "1e999999999",
    '"just a string"',
]
BIG_BODY = '{"metadata": {"name": "big", "annotations": {"a": "' + "x" * (3 * 1024 * 1024) + '"}}}'


@st.composite
def cases(draw) -> dict:
    """One request: {"method", "path", "body" | "raw", "content_type"}."""
    kind = draw(st.sampled_from(KINDS))
    op = draw(st.sampled_from(["create", "update", "status", "merge", "strategic", "json-patch", "delete",
                               "binding", "eviction", "scale", "scale-patch", "random", "raw"]))
    item = f"{kind.collection}/{kind.fixture}"
    path, t = draw(field_path(kind.go_type))
    value = draw(st.one_of(wrong_value(t), valid_value(t)))
    if op == "raw":
        raw = draw(st.sampled_from(RAW_BODIES + [BIG_BODY]))
        method, target = draw(st.sampled_from([("POST", kind.collection), ("PUT", item), ("PATCH", item),
                                               ("DELETE", f"{kind.collection}/fuzz-absent")]))
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
        return {"method": method, "path": target, "raw": raw, "content_type": ctype}
    if op == "random":
        body = draw(st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
            max_leaves=20))
        method = draw(st.sampled_from(["POST", "PUT"]))
        return {"method": method, "path": kind.collection if method == "POST" else item, "body": body,
                "content_type": "application/json"}
    name = f"fuzz-{draw(st.integers(0, 10 ** 6))}"
    if op == "create":
        return {"method": "POST", "path": kind.collection, "body": set_path(valid_object(kind, name), path, value),
                "content_type": "application/json"}
    if op in ("update", "status"):
        target = item + "/status" if op == "status" and kind.has_status else item
        body = set_path(valid_object(kind, kind.fixture), path, value)
        return {"method": "PUT", "path": target, "body": body, "content_type": "application/json"}
    if op in ("merge", "strategic"):
        return {"method": "PATCH", "path": item, "body": set_path({}, path, value),
                "content_type": f"application/{op}-merge-patch+json" if op == "strategic"
                else "application/merge-patch+json"}
    if op == "json-patch":
        patch = [{"op": draw(st.sampled_from(["add", "replace", "test"])), "path": json_pointer(path), "value": value}]
        for _ in range(draw(st.integers(0, 3))):
            other, _t = draw(field_path(kind.go_type))
            patch.append({"op": draw(st.sampled_from(["remove", "copy", "move", "add"])), "path": json_pointer(other),
                          "from": json_pointer(path), "value": value})
        if draw(st.integers(0, 9)) == 0:  # a copy that doubles the document, many times over
            patch = [{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}] + [
                {"op": "copy", "from": "/metadata", "path": f"/metadata/x{i}"} for i in range(40)]
        return {"method": "PATCH", "path": item, "body": patch, "content_type": "application/json-patch+json"}
    if op == "delete":
        dpath, dt = draw(field_path(schema.DELETE_OPTIONS))
        body = set_path({}, dpath, draw(st.one_of(wrong_value(dt), valid_value(dt))))
        return {"method": "DELETE", "path": f"{kind.collection}/fuzz-absent", "body": body,
                "content_type": "application/json"}
    if op == "binding":
        bpath, bt = draw(field_path(schema.BINDING))
        body = set_path({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "fuzz-absent"},
                         "target": {"name": "worker-1"}}, bpath, draw(st.one_of(wrong_value(bt), valid_value(bt))))
        return {"method": "POST", "path": f"{KINDS[0].collection}/fuzz-absent/binding", "body": body,
                "content_type": "application/json"}
    if op == "eviction":
        epath, et = draw(field_path(EVICTION))
        body = set_path({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "fuzz-absent"}},
                        epath, draw(st.one_of(wrong_value(et), valid_value(et))))
        return {"method": "POST", "path": f"{KINDS[0].collection}/fuzz-absent/eviction", "body": body,
                "content_type": "application/json"}
    spath, stype = draw(field_path(schema.SCALE))
    svalue = draw(wrong_value(stype))
    scale_item = f"{KINDS[1].collection}/{KINDS[1].fixture}/scale"
    if op == "scale":
        body = set_path({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": KINDS[1].fixture},
                         "spec": {"replicas": 1}}, spath, svalue)
        return {"method": "PUT", "path": scale_item, "body": body, "content_type": "application/json"}
    return {"method": "PATCH", "path": scale_item, "body": set_path({}, spath, svalue),
            "content_type": "application/merge-patch+json"}


# -- what must not change -------------------------------------------------------------------
SNAPSHOT_PATHS = ("/api/v1/pods", "/apis/apps/v1/replicasets", "/apis/scheduling.k8s.io/v1/priorityclasses",
                  "/api/v1/namespaces", "/api/v1/nodes")


def stored(base_url: str) -> dict:
    out = {}
    for path in SNAPSHOT_PATHS:
        r = requests.get(base_url + path, timeout=60)
        r.raise_for_status()
        for obj in r.json()["items"]:
            md = obj["metadata"]
            spec = {k: v for k, v in (obj.get("spec") or {}).items() if k not in ("nodeName", "taints")} \
                if isinstance(obj.get("spec"), dict) else obj.get("spec")
            out[(path, md.get("namespace"), md["name"])] = (
                md.get("uid"), md.get("labels"), None if path.endswith("nodes") else
                (md.get("generation"), spec, md.get("annotations"), md.get("ownerReferences")))
    return out


def _controlled(entry) -> bool:
    """Is this stored entry (see stored()) an object a controller owns (a ReplicaSet's pod)?"""
    extra = entry[2] if entry else None
    refs = extra[3] if extra else None
    return any(isinstance(r, dict) and r.get("controller") for r in refs or [])


def differences(before: dict, after: dict) -> list:
    """The keys whose stored entry changed.  A controller's own objects appearing or going (the
    ReplicaSet controller still filling or trimming the fixture's ReplicaSet, the garbage
    collector removing a pod whose owner an accepted write deleted) are the cluster moving on,
    not the refused write; a change to one that stays is counted."""
    return sorted(k for k in set(before) | set(after)
                  if before.get(k) != after.get(k)
                  and not ((k not in before or k not in after) and _controlled(before.get(k) or after.get(k))))


def send(base_url: str, case: dict) -> requests.Response:
    data = case["raw"] if "raw" in case else json.dumps(case["body"], allow_nan=False)
    return requests.request(case["method"], base_url + case["path"], data=data.encode("utf-8", "surrogatepass"),
                            headers={"Content-Type": case["content_type"]}, timeout=120)


def check(base_url: str, case: dict, result: FuzzResult, before: dict) -> dict:
    """Send one case and account for it; returns what is stored afterwards."""
    result.cases += 1
    try:
        r = send(base_url, case)
    except ValueError:  # a body json cannot even write (hypothesis' floats are finite; kept for safety)
        return before
    what = f"{case['method']} {case['path']} {(case.get('raw') or json.dumps(case.get('body')))[:200]}"
    if r.status_code >= 500:
        result.server_errors += 1
        result.note(f"{r.status_code} for {what}: {r.text[:300]}")
    if r.status_code >= 400:
        try:
            body = r.json()
            is_status = body.get("kind") == "Status" and body.get("code") == r.status_code
        except ValueError:
            is_status = False
        if not is_status or not r.headers.get("Content-Type", "").startswith("application/json"):
            result.non_status += 1
            result.note(f"not a Status ({r.status_code}) for {what}: {r.text[:300]}")
        after = stored(base_url)
        changed = differences(before, after)
        if changed:
            result.changed += 1
            result.note(f"refused ({r.status_code}) but {changed[:3]} changed, for {what}")
        return after
    result.accepted += 1
    return settled(base_url)


def settled(base_url: str, quiet: float = 0.3, bound: float = 10.0) -> dict:
    """What is stored once the controllers have acted on an accepted write (a ReplicaSet's new
    pods): the first snapshot that stays the same for `quiet` seconds, within `bound`."""
    deadline = time.monotonic() + bound
    last, since = stored(base_url), time.monotonic()
    while time.monotonic() < deadline:
        now = stored(base_url)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def run_fuzz(base_url: str, examples: int | None = None, seed: int | None = None) -> FuzzResult:
    """Fuzz the cluster at `base_url` (http://host:port/clusters/<name>) with `examples` cases."""
    examples = examples or examples_from_env()
    create_fixtures(base_url)
    result = FuzzResult()
    state = {"before": stored(base_url)}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases())
    def one(case):
        state["before"] = check(base_url, case, result, state["before"])

    if seed is not None:
        from hypothesis import seed as hypothesis_seed
        one = hypothesis_seed(seed)(one)
    one()
    return result
