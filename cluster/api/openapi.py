"""OpenAPI v3 per group-version (/openapi/v3, /openapi/v3/api/v1, ...) with the kinds' full
schemas, and the entry to OpenAPI v2 (openapi_v2.py).

What it is for:
- `kubectl explain` (1.27+ reads v3 by default) finds the resource's path, takes the GVK from
  its operation's `x-kubernetes-group-version-kind`, then the schema in components/schemas
  carrying that GVK, and prints its descriptions (k8s.io/kubectl/pkg/explain/v2/templates).
- `kubectl apply/create -f` (1.27+) validate on the server (`fieldValidation=Strict`) once the
  resource's PATCH operation takes a `fieldValidation` query parameter
  (k8s.io/cli-runtime resource.QueryParamVerifierV3).

The schemas come from upstream (openapi_schemas.py); this module shapes them as kube-openapi's
v3 builder does (k8s.io/kube-openapi/pkg/builder3): refs to #/components/schemas/, a $ref with
siblings (a field's description) wrapped in `allOf`, IntOrString and Quantity as `oneOf`.

The builders take the served resources as an argument (objects with name, group, version,
kind, namespaced, verbs, subresources and an optional `openapi_schema`: a custom resource's
schema from its CRD), so a cluster with custom resources gets its own documents.  Documents are
cached by the resources' identities (or a `key` the caller passes).

The root document's serverRelativeURLs carry the /clusters/<name> prefix: client-go fetches them
with RequestURI, which replaces the kubeconfig server's path.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from typing import Any, Hashable, Iterable

from cluster.api import discovery, openapi_schemas as schemas
from cluster.api.openapi_cache import cached, resources_key
from cluster.api.discovery import KUBERNETES_VERSION
from cluster.api.openapi_v2 import OPENAPI_V2_PROTOBUF, v2_document, v2_document_protobuf  # noqa: F401

COMPONENTS = "#/components/schemas/"

_WRITE_PARAMS = [
    {"name": "dryRun", "in": "query", "description": "When present, indicates that modifications should not be persisted.", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldManager", "in": "query", "description": "fieldManager is a name associated with the actor or entity that is making these changes.", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldValidation", "in": "query", "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.", "schema": {"type": "string", "uniqueItems": True}},
]
_LIST_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": typ, "uniqueItems": True}}
    for name, typ in (("allowWatchBookmarks", "boolean"), ("continue", "string"), ("fieldSelector", "string"),
                      ("labelSelector", "string"), ("limit", "integer"), ("resourceVersion", "string"),
                      ("resourceVersionMatch", "string"), ("sendInitialEvents", "boolean"),
                      ("timeoutSeconds", "integer"), ("watch", "boolean"))
]
_DELETE_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": typ, "uniqueItems": True}}
    for name, typ in (("dryRun", "string"), ("gracePeriodSeconds", "integer"), ("propagationPolicy", "string"))
]
_MEDIA = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


# -- schemas: v2 definitions -> v3 components -------------------------------------------------
def to_v3(node: Any) -> Any:
    """A v2 definition as kube-openapi's v3 builder writes it."""
    if isinstance(node, list):
        return [to_v3(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = COMPONENTS + value.rsplit("/", 1)[-1]
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: to_v3(v) for name, v in value.items()}
        else:
            out[key] = to_v3(value)
    if "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores a $ref's siblings: kube-openapi wraps the reference in allOf.
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _v3_components(resources: list) -> dict[str, dict]:
    components = {name: to_v3(schema) for name, schema in schemas.definitions_for(resources).items()}
    # kube-openapi's v3 forms of the two types whose v2 form is a plain string
    # (OpenAPIV3OneOfTypes in apimachinery's intstr and resource packages).
    if schemas.INT_OR_STRING in components:
        components[schemas.INT_OR_STRING] = {"format": "int-or-string",
                                             "oneOf": [{"type": "integer"}, {"type": "string"}]}
    if schemas.QUANTITY in components:
        components[schemas.QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    return components


# -- paths ------------------------------------------------------------------------------------
def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "uniqueItems": True}}


def _content(definition: str | None) -> dict:
    return {media: {"schema": {"$ref": COMPONENTS + definition}} for media in _MEDIA} if definition else {}


def _op(action: str, gvk: dict, op_id: str, params: list[dict], answer: str | None,
        body: str | None = None) -> dict:
    ok = {"description": "OK"}
    if answer:
        ok["content"] = _content(answer)
    op = {"operationId": op_id, "parameters": params,
          "responses": {"200": ok, "401": {"description": "Unauthorized"}}}
    if body:
        op["requestBody"] = {"content": _content(body), "required": True}
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = gvk
    return op


def _paths(r, prefix: str) -> dict[str, dict]:
    group, version = r.group, r.version
    gvk = {"group": group, "version": version, "kind": r.kind}
    kind_def, list_def = schemas.kind_definition(r), schemas.list_definition(r)
    status_def = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    base = f"{prefix}/namespaces/{{namespace}}/{r.name}" if r.namespaced else f"{prefix}/{r.name}"
    scope = [_path_param("namespace")] if r.namespaced else []
    verbs = set(r.verbs)
    paths: dict[str, dict] = {}
    collection: dict = {}
    if "list" in verbs:
        collection["get"] = _op("list", gvk, f"list{r.kind}", scope + _LIST_PARAMS, list_def)
    if "create" in verbs:
        collection["post"] = _op("post", gvk, f"create{r.kind}", scope + _WRITE_PARAMS, kind_def, kind_def)
    if "deletecollection" in verbs:
        collection["delete"] = _op("deletecollection", gvk, f"deleteCollection{r.kind}",
                                   scope + _DELETE_PARAMS + _LIST_PARAMS, status_def)
    paths[base] = collection
    item_params = scope + [_path_param("name")]
    item: dict = {}
    if "get" in verbs:
        item["get"] = _op("get", gvk, f"read{r.kind}", item_params, kind_def)
    if "update" in verbs:
        item["put"] = _op("put", gvk, f"replace{r.kind}", item_params + _WRITE_PARAMS, kind_def, kind_def)
    if "patch" in verbs:
        item["patch"] = _op("patch", gvk, f"patch{r.kind}", item_params + _WRITE_PARAMS + [
            {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}}],
            kind_def, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch")
    if "delete" in verbs:
        item["delete"] = _op("delete", gvk, f"delete{r.kind}", item_params + _DELETE_PARAMS, status_def)
    paths[f"{base}/{{name}}"] = item
    for sub in r.subresources:
        sub_verbs = set(discovery._SUBRESOURCE_VERBS.get(sub, ("get",)))
        kind, sub_group, sub_version = discovery._SUBRESOURCE_KIND.get(sub, (r.kind, None, None))
        sub_gvk = {"group": sub_group if sub_group is not None else group,
                   "version": sub_version or version, "kind": kind}
        sub_def = schemas.subresource_definition(r, sub)
        name = f"{r.kind}{sub.title()}"
        ops: dict = {}
        if "get" in sub_verbs:
            ops["get"] = _op("get", sub_gvk, f"read{name}", item_params, sub_def)
        if "update" in sub_verbs:
            ops["put"] = _op("put", sub_gvk, f"replace{name}", item_params + _WRITE_PARAMS, sub_def, sub_def)
        if "patch" in sub_verbs:
            ops["patch"] = _op("patch", sub_gvk, f"patch{name}", item_params + _WRITE_PARAMS, sub_def,
                               "io.k8s.apimachinery.pkg.apis.meta.v1.Patch")
        if "create" in sub_verbs:
            ops["post"] = _op("post", sub_gvk, f"create{name}", item_params + _WRITE_PARAMS, sub_def, sub_def)
        paths[f"{base}/{{name}}/{sub}"] = ops
    return paths


# -- documents --------------------------------------------------------------------------------
def _for_gv(resources: Iterable, group: str, version: str) -> list:
    return [r for r in resources if r.group == group and r.version == version]


def _build_gv(served: list, group: str, version: str) -> tuple[dict, str]:
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths: dict[str, dict] = {}
    for r in served:
        paths.update(_paths(r, prefix))
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": _v3_components(served)},
    }
    # kube-openapi's handler3: the hash in serverRelativeURL is the document's SHA-512.
    digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
    return doc, digest


def _gv(resources: Iterable, group: str, version: str, key: Hashable | None) -> tuple[dict, str] | None:
    """(document, hash) for one group-version; `key` (the caller's name for `resources`, e.g.
    a registry generation) or else the group-version's resources' identities key the cache."""
    served = _for_gv(resources, group, version)
    if not served:
        return None  # not cached: unknown group-versions must not push real documents out
    cache_key = ("v3", group, version, key if key is not None else resources_key(served))
    return cached(cache_key, lambda: _build_gv(served, group, version))


def per_version(resources: Iterable) -> list:
    """One entry per served version: a custom kind served at several versions (conversion
    None) is documented at each, with its storage version's schema."""
    out = []
    for r in resources:
        versions = getattr(r, "served_versions", None) or (r.version,)
        out.extend(r if v == r.version else dataclasses.replace(r, version=v) for v in versions)
    return out


def gv_document(resources: Iterable, group: str, version: str, key: Hashable | None = None) -> dict | None:
    """GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>: None if nothing is served."""
    built = _gv(per_version(resources), group, version, key)
    return built[0] if built else None


def _group_versions(resources: Iterable) -> "OrderedDict[tuple[str, str], None]":
    out: OrderedDict = OrderedDict()
    for r in resources:
        out.setdefault((r.group, r.version), None)
    return out


def root_document(resources: Iterable, cluster_prefix: str, key: Hashable | None = None) -> dict:
    """GET /openapi/v3: one entry per group-version, each with its document's address."""
    resources = per_version(resources)
    paths = {}
    for group, version in _group_versions(resources):
        _, digest = _gv(resources, group, version, key)
        path = f"apis/{group}/{version}" if group else f"api/{version}"
        paths[path] = {"serverRelativeURL": f"{cluster_prefix}/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def document_for_path(resources: Iterable, parts: list[str], key: Hashable | None = None) -> dict | None:
    """GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>; None if unknown."""
    if len(parts) == 2 and parts[0] == "api":
        return gv_document(resources, "", parts[1], key)
    if len(parts) == 3 and parts[0] == "apis":
        return gv_document(resources, parts[1], parts[2], key)
    return None
