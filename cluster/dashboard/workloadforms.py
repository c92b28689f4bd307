"""The Workloads view's "Create" form -> a Deployment, DaemonSet, StatefulSet, Job, CronJob or
HorizontalPodAutoscaler, shaped as the kubectl command that makes one builds it:

    Deployment   kubectl create deployment NAME --image=I --replicas=N   (labels app=NAME)
    DaemonSet    the same pod template, no replicas
    StatefulSet  the same, with serviceName NAME
    Job          kubectl create job NAME --image=I -- COMMAND            (restartPolicy Never)
    CronJob      kubectl create cronjob NAME --image=I --schedule=S -- COMMAND (OnFailure)
    HPA          kubectl autoscale KIND/TARGET --min --max --cpu-percent  (autoscaling/v2)

As in forms.py, only what cannot be expressed as an object is refused here (a number that is
not one, a command that does not split); the API server validates the rest and its Status is
what the user sees.
"""
from __future__ import annotations

import shlex
from typing import Any, Mapping

from cluster.dashboard.forms import DEFAULT_IMAGE, FormError, _field, _int, container_name, namespace_of, requests_of

CREATABLE = ("Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "HorizontalPodAutoscaler")


def _container(data: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    image = _field(data, "image") or DEFAULT_IMAGE
    c: dict[str, Any] = {"name": name or container_name(image), "image": image}
    command = _field(data, "command")
    if command:
        try:
            c["command"] = shlex.split(command)
        except ValueError as e:
            raise FormError(f"command: {e}") from None
    reqs = requests_of(data)
    if reqs:
        c["resources"] = {"requests": reqs}
    return c


def _template(name: str, data: Mapping[str, Any], restart_policy: str | None = None,
              container_named: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [_container(data, container_named)]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    md: dict[str, Any] = {"labels": {"app": name}} if name and not restart_policy else {}
    return {"metadata": md, "spec": spec}


def workload_from(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, manifest) from the Create form."""
    kind = _field(data, "kind") or "Deployment"
    if kind not in CREATABLE:
        raise FormError(f'kind: "{kind}" is not one of {", ".join(CREATABLE)}')
    name, ns = _field(data, "name"), namespace_of(data)
    md = {"name": name, "namespace": ns}
    labels = {"app": name} if name else {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        spec: dict[str, Any] = {"selector": {"matchLabels": dict(labels)}, "template": _template(name, data)}
        if kind != "DaemonSet":
            spec["replicas"] = _int(_field(data, "replicas"), "replicas", 1)
        if kind == "StatefulSet":
            spec["serviceName"] = name
        return kind, {"apiVersion": "apps/v1", "kind": kind, "metadata": dict(md, labels=dict(labels)), "spec": spec}
    if kind == "Job":
        spec = {"template": _template(name, data, "Never", container_named=name or None)}
        for field in ("completions", "parallelism", "backoffLimit"):
            value = _int(_field(data, field), field)
            if value is not None:
                spec[field] = value
        return kind, {"apiVersion": "batch/v1", "kind": kind, "metadata": md, "spec": spec}
    if kind == "CronJob":
        job_spec = {"template": _template(name, data, "OnFailure", container_named=name or None)}
        spec = {"schedule": _field(data, "schedule"), "jobTemplate": {"metadata": {"name": name}, "spec": job_spec}}
        policy = _field(data, "concurrency_policy")
        if policy:
            spec["concurrencyPolicy"] = policy
        return kind, {"apiVersion": "batch/v1", "kind": kind, "metadata": md, "spec": spec}
    # HorizontalPodAutoscaler: kubectl autoscale's object, in autoscaling/v2.
    target_kind = _field(data, "target_kind") or "Deployment"
    target = _field(data, "target") or name
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target},
            "maxReplicas": _int(_field(data, "max"), "max replicas", 0)}
    low = _int(_field(data, "min"), "min replicas")
    if low is not None:
        spec["minReplicas"] = low
    cpu = _int(_field(data, "cpu_percent"), "cpu percent")
    if cpu is not None:
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": cpu}}}]
    return kind, {"apiVersion": "autoscaling/v2", "kind": kind, "metadata": {"name": name or target, "namespace": ns},
                  "spec": spec}
