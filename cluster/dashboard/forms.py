"""Form fields -> Kubernetes objects.

Validation is the API server's job: a bad name, a negative CPU request or a duplicate name is
passed through as typed so the user sees the API's own error (its Status message).  Only what
cannot even be expressed as an object is refused here (replicas that are not a whole number, a
nodeSelector that is not key=value).
"""
from __future__ import annotations

import re
from typing import Any, Mapping


class FormError(ValueError):
    """Input that cannot be turned into an object at all."""


DEFAULT_IMAGE = "nginx:1.27"


def _field(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    return str(value if value is not None else default).strip()


def container_name(image: str) -> str:
    """A DNS-1123 container name from an image reference: "docker.io/library/nginx:1.27" -> "nginx"."""
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()
    base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")[:63].strip("-")
    return base or "app"


def requests_of(data: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in ("cpu", "memory"):
        value = _field(data, key)
        if value:
            out[key] = value
    return out


def node_selector(text: str) -> dict[str, str]:
    """"disktype=ssd" or "a=b, c=d" -> {"disktype": "ssd"}; empty -> {}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise FormError(f'nodeSelector: "{part}" is not key=value')
        out[key.strip()] = value.strip()
    return out


def pod_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    image = _field(data, "image") or DEFAULT_IMAGE
    container: dict[str, Any] = {"name": container_name(image), "image": image}
    reqs = requests_of(data)
    if reqs:
        container["resources"] = {"requests": reqs}
    spec: dict[str, Any] = {"containers": [container]}
    selector = node_selector(_field(data, "node_selector"))
    if selector:
        spec["nodeSelector"] = selector
    return spec


def namespace_of(data: Mapping[str, Any]) -> str:
    return _field(data, "namespace") or "default"


def pod_from(data: Mapping[str, Any]) -> dict[str, Any]:
    name = _field(data, "name")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace_of(data)},
        "spec": pod_spec(data),
    }


def replicaset_from(data: Mapping[str, Any]) -> dict[str, Any]:
    name = _field(data, "name")
    raw = _field(data, "replicas", "1") or "1"
    try:
        replicas = int(raw)
    except ValueError:
        raise FormError(f'replicas: "{raw}" is not a whole number') from None
    labels = {"app": name} if name else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": namespace_of(data), "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec(data)},
        },
    }


def api_request(verb: str, resource: str, namespace: str | None, *, name: str | None = None,
                body: dict | None = None, group: str = "", version: str = "v1") -> dict[str, Any]:
    """An ApiRequest dict (see sim/cluster.py)."""
    return {"verb": verb, "group": group, "version": version, "resource": resource,
            "namespace": namespace, "name": name, "subresource": None, "body": body,
            "patch_type": None, "query": {}}
