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

import yaml

from cluster.api import discovery, protobuf
from sim.api import gojson
from sim.api.gofmt import go_strings
from sim.api.gotypes import decode as go_decode
from sim.api.queryparams import is_true, query_error
from sim.api.schema import DELETE_OPTIONS

# Subresources of a namespace that are not a resource inside it (requestinfo.go).
_NAMESPACE_SUBRESOURCES = {"status", "finalize"}

_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
# The options a write's query parameters decode into.
_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                 "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
# The serializers a create/update/delete body may come in (NegotiateInputSerializer); an empty
# Content-Type means the first, JSON.
BODY_TYPES = ("application/json", "application/yaml", protobuf.CONTENT_TYPE)
# kube-apiserver's --max-request-body-bytes default (staging/src/k8s.io/apiserver/pkg/server/config.go:
# MaxRequestBodyBytes = 3 MiB); a larger body is a 413.
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024


def unsupported_media_type(accepted: tuple[str, ...]) -> "RequestError":
    """NewUnsupportedMediaTypeError."""
    return RequestError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                                                     f"accepted media types include: {', '.join(accepted)}")


def too_large() -> "RequestError":
    """The 413 of MaxBytesReader / the request body limit (handlers/rest.go limitedReadBody)."""
    return RequestError(413, "RequestEntityTooLarge",
                        f"Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}")


class RequestError(Exception):
    """Raised for a request the API cannot route or read; carries a Status code/reason."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class UnknownResource(RequestError):
    """The path names no kind that the `served` list knows: a 404, unless the cluster serves
    it by now (a CustomResourceDefinition just established) - the caller may look again."""

    def __init__(self):
        super().__init__(404, "NotFound", "the server could not find the requested resource")


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
    # The kind it addresses (sim.registry Resource): its printer, for a Table.
    res: Any = field(default=None, compare=False, repr=False)
    # The client's User-Agent: a write without ?fieldManager= is recorded in managedFields
    # under its prefix ("kubectl", "python-requests", "OpenAPI-Generator").
    user_agent: str = ""
    # The bearer token and impersonation the request brings (cluster/api/credentials.py).
    credentials: dict = field(default_factory=dict, repr=False)

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
            "user_agent": self.user_agent,
            "credentials": dict(self.credentials),
        }


def parse(method: str, parts: list[str], query: dict[str, str], content_type: str, raw_body: bytes,
          served: "discovery.Served | None" = None) -> ResourceRequest:
    """`parts`: the path after /clusters/<name>/, split on "/", e.g. ["api","v1","pods"];
    `served`: the cluster's kinds (default: the built-in ones)."""
    served = served or discovery.Served.builtin()
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise RequestError(404, "NotFound", "the server could not find the requested resource")

    watch = is_true(query.get("watch"))
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

    res = served.lookup(group, version, resource)
    if res is None or (subresource is not None and subresource not in res.subresources):
        raise UnknownResource()
    if not res.namespaced:
        # /api/v1/namespaces/foo is the Namespace foo: "foo" is its name, not a namespace.
        namespace = None
    elif namespace is None and name is not None:
        # /api/v1/pods/web: a namespaced object has no path outside its namespace.
        raise RequestError(404, "NotFound", "the server could not find the requested resource")

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
    if res.namespaced and namespace is None:
        # The all-namespaces collection (/api/v1/pods) is served for list and watch only: a
        # POST or DELETE there has no route (go-restful answers 405).
        allowed &= {"list", "watch"}
    if verb not in allowed:
        raise RequestError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    problem = query_error(query)
    if problem:
        raise RequestError(400, "BadRequest", problem)
    if verb in _OPTIONS_KIND and query.get("dryRun", "All") != "All":
        # ValidateDryRun (apimachinery/pkg/apis/meta/v1/validation): only "All" is a dry run.
        raise RequestError(422, "Invalid", f'{_OPTIONS_KIND[verb]}.meta.k8s.io "" is invalid: dryRun: Unsupported '
                                           f'value: {go_strings([query["dryRun"]])}: supported values: "All"')
    if len(raw_body) > MAX_REQUEST_BODY_BYTES:
        raise too_large()

    patch_type = None
    body = None
    media_type = content_type.split(";")[0].strip().lower()
    if verb == "patch":
        patch_type = media_type
        if patch_type not in PATCH_TYPES:
            raise unsupported_media_type(PATCH_TYPES)
    elif raw_body and media_type and media_type not in BODY_TYPES:
        raise unsupported_media_type(body_types(res, verb, subresource))
    if verb in ("create", "update", "patch", "delete", "deletecollection") and raw_body:
        body = read_body(media_type, raw_body, kind=res.kind if verb in ("create", "update") and not subresource
                         else None)
    if verb in ("create", "update") and not isinstance(body, dict):
        raise RequestError(400, "BadRequest", "the body of the request was empty or not a JSON object")
    if verb in ("delete", "deletecollection") and body is not None:
        decoded = go_decode(body, DELETE_OPTIONS)
        if decoded.error:
            raise RequestError(400, "BadRequest", decoded.error)
        body = decoded.value
        problem = query_error({k: str(v) for k, v in body.items() if k == "gracePeriodSeconds"})
        if problem:
            raise RequestError(400, "BadRequest", problem)
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
        res=res,
    )


def body_types(res, verb: str, subresource: str | None) -> tuple[str, ...]:
    """The media types a body of this request is really read from: JSON and YAML always,
    protobuf when the body's kind has a protobuf decoding (cluster/api/protobuf.py)."""
    if verb in ("delete", "deletecollection"):
        api_version, kind = res.api_version, "DeleteOptions"
    elif subresource in discovery._SUBRESOURCE_KIND:
        kind, group, version = discovery._SUBRESOURCE_KIND[subresource]
        api_version = f"{group}/{version}" if group else "v1"
    else:
        api_version, kind = res.api_version, res.kind
    if (api_version, kind) in protobuf.KINDS or kind in protobuf.ANY_VERSION_KINDS:
        return BODY_TYPES
    return tuple(t for t in BODY_TYPES if t != protobuf.CONTENT_TYPE)


def read_body(media_type: str, raw_body: bytes, kind: str | None = None) -> Any:
    """The body as the serializer for its media type reads it.  A body that is not JSON is
    refused as transformDecodeError words it: "the object provided is unrecognized (must be of
    type Pod): couldn't get version/kind; json parse error: ..." (or the bare syntax error for
    bodies that are not objects of a kind: patches, DeleteOptions, subresources)."""
    if media_type == protobuf.CONTENT_TYPE:
        # kubectl >= 1.32's `create <kind>` generators send protobuf (cluster/api/protobuf.py).
        try:
            return protobuf.decode(raw_body)
        except protobuf.ProtobufError as e:
            # Name what is really accepted: for a kind without a protobuf decoding, JSON and YAML.
            accepted = [t for t in BODY_TYPES if t != protobuf.CONTENT_TYPE or not isinstance(e, protobuf.NoDecoding)]
            raise RequestError(415, "UnsupportedMediaType",
                               f"the body of the request could not be decoded as protobuf: {e} - "
                               f"accepted media types include: {', '.join(accepted)}") from None
    try:
        if media_type in ("application/yaml", "application/apply-patch+yaml"):
            return gojson.loads(_yaml_to_json(raw_body))
        return gojson.loads(raw_body)
    except gojson.JSONSyntaxError as e:
        if kind is None:
            raise RequestError(400, "BadRequest", e.message) from None
        summary = raw_body[:30].decode("utf-8", "replace") + (" ..." if len(raw_body) > 30 else "")
        raise RequestError(400, "BadRequest", f"the object provided is unrecognized (must be of type {kind}): "
                                              f"couldn't get version/kind; json parse error: {e.message} "
                                              f"({summary})") from None


MAX_YAML_ALIASES = 100  # go-yaml refuses "excessive aliasing"; a billion laughs never expands here


def _yaml_to_json(raw_body: bytes) -> str:
    """sigs.k8s.io/yaml's YAMLToJSON, for a body sent as application/yaml."""
    try:
        aliases = sum(isinstance(t, yaml.AliasToken) for t in yaml.scan(raw_body))
        if aliases > MAX_YAML_ALIASES:
            raise gojson.JSONSyntaxError("error converting YAML to JSON: yaml: document contains excessive aliasing")
        return json.dumps(yaml.safe_load(raw_body), default=str, allow_nan=False)
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        if isinstance(e, gojson.JSONSyntaxError):
            raise
        raise gojson.JSONSyntaxError(f"error converting YAML to JSON: {e}") from None


def _subresource_verbs(sub: str) -> set[str]:
    return set(discovery._SUBRESOURCE_VERBS.get(sub, ("get",)))
