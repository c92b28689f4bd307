"""controller.GetPodFromTemplate (pkg/controller/controller_utils.go): the pod a workload
controller creates from its pod template - the template's labels, annotations, finalizers and
spec, owned by the controller.  Shared by every controller that makes pods (ReplicaSet,
ReplicationController, DaemonSet, StatefulSet, Job)."""
from __future__ import annotations

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
