"""controller.GetPodFromTemplate (pkg/controller/controller_utils.go): the pod a workload
controller creates from its pod template - the template's labels, annotations, finalizers and
spec, owned by the controller.  Shared by every controller that makes pods (ReplicaSet,
ReplicationController, DaemonSet, StatefulSet, Job)."""
from __future__ import annotations

from sim.api.hashing import fnv32a, go_json, safe_encode_string
from sim.api.meta import deep_copy
from sim.controllers.controllerref import owner_reference


def pod_from_template(template: dict, namespace: str, owner: dict | None, api_version: str = "",
                      kind: str = "", generate_name: str | None = None) -> dict:
    """The pod for `template` in `namespace`, controlled by `owner` (apiVersion/kind its
    controller reference names), named by `generate_name` (upstream: "<owner name>-").
    Nothing in the template is shared with the result."""
    tmd = template.get("metadata") or {}
    md: dict = {"namespace": namespace, "labels": deep_copy(tmd.get("labels") or {})}
    if generate_name is not None:
        md["generateName"] = generate_name
    if tmd.get("annotations"):
        md["annotations"] = deep_copy(tmd["annotations"])
    if tmd.get("finalizers"):
        md["finalizers"] = list(tmd["finalizers"])
    if owner is not None:
        md["ownerReferences"] = [owner_reference(owner, api_version, kind)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": deep_copy(template.get("spec") or {})}


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """controller.ComputeHash: the hash a workload names its template by (the Deployment's
    `pod-template-hash`, the DaemonSet's `controller-revision-hash`): FNV-1a over the template,
    then the collision count as 8 little-endian bytes (a uint32 in the first four), encoded by
    rand.SafeEncodeString.  Upstream hashes spew's dump of the Go struct (DeepHashObject); the
    dump of a Go struct is not reproducible here, so the template's Go JSON stands for it: the
    same template always gives the same hash, a different one (almost always) another."""
    h = fnv32a(go_json(template))
    if collision_count is not None:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), h)
    return safe_encode_string(str(h))
