"""kube-scheduler in the simulator control API: its queue, its profiles and, per pod, the
explanation of its latest scheduling attempt.

    GET /clusters/<name>/sim/v1/scheduler
        -> {"leader": "kube-scheduler@cp-2" | null,
            "active": [{"pod": "ns/name", "priority", "attempts"}],
            "backoff": [{..., "until": virtual seconds}],
            "unschedulable": [{..., "since", "message"}],
            "profiles": [{"schedulerName", "percentageOfNodesToScore", "queueSort", "preFilter",
                          "filter", ..., "score": [{"name", "weight"}], "bind"}]}
    GET /clusters/<name>/sim/v1/scheduler/pods/<namespace>/<pod>
        -> the pod's latest attempt record (sim/scheduler/explain.py, AttemptRecord.to_json):
           {"pod", "time", "attempt", "profile", "result", "node", "nominatedNode", "message",
            "why", "numAllNodes", "numEvaluated", "numFeasible", "filterPlugins",
            "scorePlugins", "nodes": [{"name", "filter", "scores", "total", "chosen"}],
            "truncated"}
           or a 404 Status when no scheduler has tried that pod.

Errors are Kubernetes Status objects (with the control API's "error" object beside them), as
kube-apiserver answers: 404 NotFound for an unknown cluster or a pod without an attempt.
The views stay thin: cluster/services.py asks the simulation worker.
"""
from __future__ import annotations

from django.http import JsonResponse

from cluster import services
from cluster.api.simcontrol import control
from cluster.api.status import status as k8s_status


@control("GET")
async def scheduler(request, cluster: str):
    return JsonResponse(await services.scheduler_queue(cluster))


@control("GET")
async def pod_explanation(request, cluster: str, namespace: str, name: str):
    record = await services.scheduling_explanation(cluster, namespace, name)
    if record is None:
        message = (f'no scheduling attempt recorded for pod "{namespace}/{name}": the scheduler has not '
                   f"tried it yet, it was bound by spec.nodeName, or it does not exist")
        # Status details name the object as kube-apiserver's NotFound errors do.
        body = k8s_status(404, "NotFound", message, {"name": name, "kind": "pods"})
        body["error"] = {"code": 404, "reason": "NotFound", "message": message}
        return JsonResponse(body, status=404)
    return JsonResponse(record)
