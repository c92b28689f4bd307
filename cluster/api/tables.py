"""Content negotiation for server-side printing: does the client's Accept header ask for a
meta.k8s.io Table (kubectl sends `application/json;as=Table;v=v1;g=meta.k8s.io,application/json`)?

The conversion itself is the apiserver's (sim/registry/tables.py): a get or list is answered
with the Table already built, as kube-apiserver does.
"""
from __future__ import annotations

import json

from cluster.api.requestinfo import RequestError
from sim.registry.tables import INCLUDE_OBJECT, TableRequest


def wants_table(accept: str) -> str | None:
    """The meta.k8s.io apiVersion of the Table the client accepts ("meta.k8s.io/v1", or
    "meta.k8s.io/v1beta1" for old clients), or None when it did not ask for a Table."""
    offered = set()
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if "as=Table" in params and "g=meta.k8s.io" in params:
            offered |= {p[2:] for p in params if p.startswith("v=")}
    if "v1" in offered:
        return "meta.k8s.io/v1"
    if "v1beta1" in offered:
        return "meta.k8s.io/v1beta1"
    return None


def table_request(accept: str, query: dict[str, str]) -> TableRequest | None:
    """The Table the request asks for (its version and ?includeObject=), or None.  RequestError
    for an includeObject upstream does not know (handlers/response.go asTable)."""
    version = wants_table(accept)
    if version is None:
        return None
    include = query.get("includeObject") or "Metadata"
    if include not in INCLUDE_OBJECT:
        raise RequestError(400, "BadRequest", f"unrecognized includeObject value: {json.dumps(include)}")
    return TableRequest(version, include)
