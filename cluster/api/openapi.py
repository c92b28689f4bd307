"""A minimal OpenAPI v3 document per group-version (/openapi/v3, /openapi/v3/api/v1, ...).

What it is for: kubectl (1.27+) validates manifests on the server (`fieldValidation=Strict`)
once the OpenAPI v3 document says that the resource's PATCH operation takes a `fieldValidation`
query parameter (k8s.io/cli-runtime resource.QueryParamVerifierV3); without it `kubectl apply -f`
and `kubectl create -f` stop with "failed to download openapi".  So every operation is listed,
tagged with `x-kubernetes-group-version-kind` and `x-kubernetes-action` as upstream tags them,
with the write parameters.  Schemas are not served yet (`kubectl explain` needs them: a later
issue).  /openapi/v2 is an empty Swagger 2.0 document in gnostic's protobuf encoding (the only
form kubectl accepts): kubectl 1.27 and 1.28 refuse to apply manifests without one, and with no
definitions they fall back to their compiled-in types.

The root document's serverRelativeURLs carry the /clusters/<name> prefix: client-go fetches them
with RequestURI, which replaces the kubeconfig server's path.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from cluster.api import discovery
from cluster.api.discovery import KUBERNETES_VERSION

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
_OK = {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}}


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "uniqueItems": True}}


def _op(action: str, gvk: dict, op_id: str, params: list[dict]) -> dict:
    return {
        "operationId": op_id,
        "parameters": params,
        "responses": _OK,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }


def gv_document(group: str, version: str) -> dict | None:
    resources = discovery.Served.builtin().resources_for(group, version)
    if not resources:
        return None
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths: dict[str, dict] = {}
    for r in resources:
        gvk = {"group": group, "version": version, "kind": r.kind}
        base = f"{prefix}/namespaces/{{namespace}}/{r.name}" if r.namespaced else f"{prefix}/{r.name}"
        scope = [_path_param("namespace")] if r.namespaced else []
        verbs = set(r.verbs)
        collection: dict = {}
        if "list" in verbs:
            collection["get"] = _op("list", gvk, f"list{r.kind}", scope + _LIST_PARAMS)
        if "create" in verbs:
            collection["post"] = _op("post", gvk, f"create{r.kind}", scope + _WRITE_PARAMS)
        if "deletecollection" in verbs:
            collection["delete"] = _op("deletecollection", gvk, f"deleteCollection{r.kind}", scope + _DELETE_PARAMS + _LIST_PARAMS)
        paths[base] = collection
        item_params = scope + [_path_param("name")]
        item: dict = {}
        if "get" in verbs:
            item["get"] = _op("get", gvk, f"read{r.kind}", item_params)
        if "update" in verbs:
            item["put"] = _op("put", gvk, f"replace{r.kind}", item_params + _WRITE_PARAMS)
        if "patch" in verbs:
            item["patch"] = _op("patch", gvk, f"patch{r.kind}", item_params + _WRITE_PARAMS + [
                {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}}])
        if "delete" in verbs:
            item["delete"] = _op("delete", gvk, f"delete{r.kind}", item_params + _DELETE_PARAMS)
        paths[f"{base}/{{name}}"] = item
        for sub in r.subresources:
            sub_verbs = set(discovery._SUBRESOURCE_VERBS.get(sub, ("get",)))
            kind, sub_group, sub_version = discovery._SUBRESOURCE_KIND.get(sub, (r.kind, None, None))
            sub_gvk = {"group": sub_group if sub_group is not None else group,
                       "version": sub_version or version, "kind": kind}
            ops: dict = {}
            if "get" in sub_verbs:
                ops["get"] = _op("get", sub_gvk, f"read{r.kind}{sub.title()}", item_params)
            if "update" in sub_verbs:
                ops["put"] = _op("put", sub_gvk, f"replace{r.kind}{sub.title()}", item_params + _WRITE_PARAMS)
            if "patch" in sub_verbs:
                ops["patch"] = _op("patch", sub_gvk, f"patch{r.kind}{sub.title()}", item_params + _WRITE_PARAMS)
            if "create" in sub_verbs:
                ops["post"] = _op("post", sub_gvk, f"create{r.kind}{sub.title()}", item_params + _WRITE_PARAMS)
            paths[f"{base}/{{name}}/{sub}"] = ops
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }


@lru_cache(maxsize=None)
def _hash(group: str, version: str) -> str:
    doc = gv_document(group, version)
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()


def root_document(cluster_prefix: str) -> dict:
    """GET /openapi/v3: one entry per group-version, each with its document's address."""
    paths = {}
    for group, versions in discovery.Served.builtin().group_versions().items():
        for version in versions:
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            paths[key] = {"serverRelativeURL": f"{cluster_prefix}/openapi/v3/{key}?hash={_hash(group, version)}"}
    return {"paths": paths}


def document_for_path(parts: list[str]) -> dict | None:
    """GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>; None if unknown."""
    if len(parts) == 2 and parts[0] == "api":
        return gv_document("", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return gv_document(parts[1], parts[2])
    return None


# -- OpenAPI v2 (protobuf) -------------------------------------------------------------------
# Clients ask for "...spec.v2@v1.0+protobuf"; servers answer with this form (kube-openapi's
# handler): Go's mime parser rejects the "@" in a Content-Type.
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _pb_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def v2_document_protobuf() -> bytes:
    """openapi_v2.Document{swagger: "2.0", info: {title, version}, paths: {}} (gnostic's
    openapiv2.proto: Document.swagger=1, info=2, paths=8; Info.title=1, version=2)."""
    info = _pb_field(1, b"Kubernetes") + _pb_field(2, KUBERNETES_VERSION["gitVersion"].encode())
    return _pb_field(1, b"2.0") + _pb_field(2, info) + _pb_field(8, b"")
