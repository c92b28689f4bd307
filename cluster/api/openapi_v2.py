"""/openapi/v2: the served kinds' Swagger 2.0 definitions, in gnostic's protobuf encoding.

kubectl 1.27 and 1.28 read it for `apply` (strategic merge patch metadata) and refuse to apply
manifests without one; `kubectl explain --output=plaintext-openapiv2` prints from it.  The
definitions are upstream's (openapi_schemas.py) for built-in kinds; a custom resource's comes
from its CRD, made v2-compatible as apiextensions-apiserver does
(pkg/controller/openapi/v2/conversion.go: ToStructuralOpenAPIV2 drops what Swagger 2.0 cannot
say).  Documents are cached by the served resources' identities, or a `key` the caller passes.
"""
from __future__ import annotations

from typing import Any, Hashable, Iterable

from cluster.api import gnostic, openapi_schemas as schemas
from cluster.api.openapi_cache import cached, resources_key
from cluster.api.discovery import KUBERNETES_VERSION

# Clients ask for "...spec.v2@v1.0+protobuf"; servers answer with this form (kube-openapi's
# handler): Go's mime parser rejects the "@" in a Content-Type.
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

_NOT_IN_V2 = ("nullable", "oneOf", "anyOf", "not", "x-kubernetes-validations")


def crd_schema_to_v2(node: Any) -> Any:
    """A CRD's OpenAPI v3 schema as upstream publishes it in v2: no nullable/oneOf/anyOf/not, and
    an int-or-string field without a type (Swagger 2.0 has no way to say "either")."""
    if isinstance(node, list):
        return [crd_schema_to_v2(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _NOT_IN_V2:
            continue
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: crd_schema_to_v2(v) for name, v in value.items()}
        else:
            out[key] = crd_schema_to_v2(value)
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
    return out


def v2_document(resources: Iterable) -> dict:
    """The Swagger 2.0 document (JSON form) for the served resources."""
    resources = list(resources)
    custom = set()
    for r in resources:
        if getattr(r, "openapi_schema", None) is not None:
            name = schemas.crd_definition_name(r.group, r.version, r.kind)
            custom |= {name, f"{name}List"}
    definitions = {name: crd_schema_to_v2(s) if name in custom else s
                   for name, s in schemas.definitions_for(resources).items()}
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": {},
        "definitions": definitions,
    }


def v2_document_protobuf(resources: Iterable, key: Hashable | None = None) -> bytes:
    """GET /openapi/v2 as gnostic's openapi_v2.Document."""
    resources = list(resources)
    cache_key = ("v2", key if key is not None else resources_key(resources))
    return cached(cache_key, lambda: gnostic.document(v2_document(resources)))
