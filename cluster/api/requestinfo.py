"""Turn an HTTP request on the Kubernetes API into the engine's ApiRequest dict.

Mirrors kube-apiserver's RequestInfoFactory (k8s.io/apiserver/pkg/endpoints/request/
requestinfo.go): /api/v1/... and /apis/<group>/<version>/..., an optional
namespaces/<namespace>/ segment, then resource[/name[/subresource]]; the verb comes from the
method plus whether a name is present (GET collection = list, ?watch=true = watch, DELETE
collection = deletecollection).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cluster.api import discovery, protobuf

# Subresources of a namespace that are not a resource inside it (requestinfo.go).
_NAMESPACE_SUBRESOURCES = {"status", "finalize"}

_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


class RequestError(Exception):
    """Raised for a request the API cannot route or read; carries a Status code/reason."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


@dataclass
class ResourceRequest:
    group: str
    version: str
    resource: str
    namespace: str | None
    name: str | None
    subresource: str | None
    verb: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    patch_type: str | None = None
    namespaced: bool = True
    kind: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def as_api_request(self) -> dict[str, Any]:
        """The ApiRequest dict of sim/cluster.py."""
        return {
            "verb": self.verb,
            "group": self.group,
            "version": self.version,
            "resource": self.resource,
            "namespace": self.namespace,
            "name": self.name,
            "subresource": self.subresource,
            "body": self.body,
            "patch_type": self.patch_type,
            "query": dict(self.query),
        }


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in {"1", "true"}


def parse(method: str, parts: list[str], query: dict[str, str], content_type: str, raw_body: bytes) -> ResourceRequest:
    """`parts`: the path after /clusters/<name>/, split on "/", e.g. ["api","v1","pods"]."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise RequestError(404, "NotFound", "the server could not find the requested resource")

    watch = _truthy(query.get("watch"))
    # Legacy /api/v1/watch/... paths (still served upstream, used by old clients).
    if rest[:1] == ["watch"]:
        watch, rest = True, rest[1:]
    if not rest:
        raise RequestError(404, "NotFound", "the server could not find the requested resource")

    namespace = None
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) >= 3 else None
    if len(rest) > 3 or name == "" or subresource == "":
        raise RequestError(404, "NotFound", "the server could not find the requested resource")

    res = discovery.lookup(group, version, resource)
    if res is None or (subresource is not None and subresource not in res.subresources):
        raise RequestError(404, "NotFound", "the server could not find the requested resource")
    if not res.namespaced:
        # /api/v1/namespaces/foo is the Namespace foo: "foo" is its name, not a namespace.
        namespace = None

    if method in ("GET", "HEAD"):
        if watch:
            verb = "watch"
        else:
            verb = "get" if name else "list"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    elif method in _METHOD_VERBS:
        verb = _METHOD_VERBS[method]
        if verb == "create" and name and subresource is None:
            # POST to a named object is not a thing, except subresources like binding.
            raise RequestError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    else:
        raise RequestError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    if verb == "watch" and name:
        # GET .../pods/web?watch=1 is a watch of that one object (requestinfo.go does the same).
        selector = f"metadata.name={name}"
        existing = query.get("fieldSelector")
        query = {**query, "fieldSelector": f"{existing},{selector}" if existing else selector}
        name = None

    allowed = set(res.verbs) if subresource is None else _subresource_verbs(subresource)
    if verb not in allowed:
        raise RequestError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    patch_type = None
    body = None
    if verb == "patch":
        patch_type = content_type.split(";")[0].strip().lower()
        if patch_type not in PATCH_TYPES:
            raise RequestError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: {', '.join(PATCH_TYPES)}",
            )
    if verb in ("create", "update", "patch", "delete", "deletecollection") and raw_body:
        if content_type.split(";")[0].strip().lower() == protobuf.CONTENT_TYPE:
            # kubectl >= 1.32's `create <kind>` generators send protobuf (cluster/api/protobuf.py).
            try:
                body = protobuf.decode(raw_body)
            except protobuf.ProtobufError as e:
                raise RequestError(415, "UnsupportedMediaType",
                                   f"the body of the request could not be decoded as protobuf: {e}") from None
        else:
            try:
                body = json.loads(raw_body)
            except (ValueError, UnicodeDecodeError) as e:
                raise RequestError(400, "BadRequest", f"the body of the request could not be decoded as JSON: {e}") from None
    if verb in ("create", "update") and not isinstance(body, dict):
        raise RequestError(400, "BadRequest", "the body of the request was empty or not a JSON object")
    if verb in ("delete", "deletecollection") and isinstance(body, dict):
        # DeleteOptions may come as a body (kubectl) or as query parameters; the body wins.
        for key in ("gracePeriodSeconds", "propagationPolicy", "dryRun"):
            if key in body and body[key] is not None:
                value = body[key]
                query = {**query, key: ",".join(value) if isinstance(value, list) else str(value)}

    return ResourceRequest(
        group=group,
        version=version,
        resource=resource,
        namespace=namespace,
        name=name,
        subresource=subresource,
        verb=verb,
        query=query,
        body=body,
        patch_type=patch_type,
        namespaced=res.namespaced,
        kind=res.kind,
    )


def _subresource_verbs(sub: str) -> set[str]:
    return set(discovery._SUBRESOURCE_VERBS.get(sub, ("get",)))
