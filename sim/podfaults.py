"""The simulator command behind POST /clusters/<c>/sim/v1/pods/<namespace>/<pod>/fault: find
the pod (the serving kube-apiserver's watch cache), check the container, and hand the fault to
the container runtime of the pod's node (sim/runtime/faults.py says what each fault does).

Not a Kubernetes API: a lesson's lever on the application inside a container, as a chaos tool
would pull it.  Faults live in the runtime's memory, so a restart of Pilothouse clears them.
"""
from __future__ import annotations

from typing import Any

from sim.runtime.faults import FaultError, parse_fault


class PodFaultError(Exception):
    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.code = code


def _pod(cluster, namespace: str, name: str) -> dict:
    resp = cluster.request({"verb": "get", "resource": "pods", "namespace": namespace, "name": name,
                            "query": {"resourceVersion": "0"}})
    if resp["code"] != 200:
        raise PodFaultError(resp["body"].get("message", "") if isinstance(resp.get("body"), dict) else "",
                            resp["code"])
    return resp["body"]


def _runtime_of(cluster, pod: dict):
    """(node, its container runtime) for a bound pod on a running node; PodFaultError (409) else."""
    name = pod["metadata"]["name"]
    node = pod["spec"].get("nodeName")
    if not node:
        raise PodFaultError(f"pod {name} does not have a host assigned", 409)
    spec = cluster.specs.get(node)
    if spec is None or not spec.alive:
        raise PodFaultError(f'node "{node}" of pod {name} is down', 409)
    return node, cluster.node_components[node][0]


def pod_cri_calls(cluster, namespace: str, name: str) -> dict:
    """The CRI calls the pod's kubelet made to its node's runtime for it (sandbox, pulls,
    containers created, started, stopped), oldest first: {"node", "runtime", "calls"}."""
    pod = _pod(cluster, namespace, name)
    node, runtime = _runtime_of(cluster, pod)
    return {"namespace": namespace, "pod": name, "node": node, "runtime": runtime.kind,
            "calls": runtime.journal_of(pod["metadata"]["uid"])}


def inject_pod_fault(cluster, namespace: str, name: str, body: Any) -> dict:
    if not isinstance(body, dict):
        raise PodFaultError("the body must be a JSON object")
    try:
        fault = parse_fault(body)
    except FaultError as e:
        raise PodFaultError(str(e)) from None
    container = body.get("container")
    if container is not None and not isinstance(container, str):
        raise PodFaultError("container must be a string")
    pod = _pod(cluster, namespace, name)
    names = [c.get("name") for c in pod["spec"].get("containers") or []] + \
        [c.get("name") for c in pod["spec"].get("initContainers") or []]
    if not container:
        if len(pod["spec"].get("containers") or []) != 1:
            raise PodFaultError(f"a container name must be specified for pod {name}, choose one of: "
                                f"[{' '.join(names)}]")
        container = names[0]
    if container not in names:
        raise PodFaultError(f"container {container} is not valid for pod {name}")
    node, runtime = _runtime_of(cluster, pod)
    runtime.inject_fault(pod["metadata"]["uid"], container, fault)
    active = sorted(runtime.faults.get((pod["metadata"]["uid"], container), {}))
    return {"namespace": namespace, "pod": name, "container": container, "node": node,
            "fault": fault["fault"], "faults": active}
