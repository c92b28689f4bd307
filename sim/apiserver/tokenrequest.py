"""The ServiceAccount `token` subresource (authentication.k8s.io/v1 TokenRequest): POST
.../serviceaccounts/<name>/token, what `kubectl create token` calls.

Mirrors pkg/registry/core/serviceaccount/storage/token.go TokenREST.Create: the TokenRequest is
defaulted (expirationSeconds 3600, audiences the API server's) and validated (at least 10
minutes, at most 2^32 seconds); the ServiceAccount must exist; a bound object (Pod, Secret or
Node) must exist, and a Pod must run as that ServiceAccount; then a JWT is signed
(sim/auth/serviceaccount.py) and answered in status.token with its expirationTimestamp.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from sim.api import status as st
from sim.api import validation as v
from sim.api.gotypes import INT64, STRING, Slice, struct
from sim.api.meta import EPOCH, deep_copy, new_uid, timestamp
from sim.api.schema import OBJECT_META, TYPE_META
from sim.auth import serviceaccount
from sim.registry.resource import Resource

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

GROUP, VERSION, KIND = "authentication.k8s.io", "v1", "TokenRequest"
TOKEN_REQUEST = struct(
    "v1.TokenRequest", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.TokenRequestSpec", audiences=Slice(STRING), expirationSeconds=INT64,
                boundObjectRef=struct("v1.BoundObjectReference", kind=STRING, apiVersion=STRING, name=STRING,
                                      uid=STRING)))
# The kinds a token may be bound to, and where they live (token.go's switch on boundObjectRef.kind).
BOUND_KINDS = {"Pod": ("pods", "v1"), "Secret": ("secrets", "v1"), "Node": ("nodes", "v1")}


def _invalid(name: str, errs: list) -> dict:
    body = st.invalid(KIND, name, errs, GROUP)
    body["message"] = f"{KIND}.{GROUP}{body['message'][len(KIND):]}"
    return {"code": 422, "body": body}


def serve(api: "KubeAPIServer", res: Resource, req: dict, reply: Callable[[dict], None]) -> None:
    from sim.api.gotypes import decode
    name, ns = req.get("name") or "", req.get("namespace") or ""
    body = req.get("body")
    if not isinstance(body, dict):
        return reply({"code": 400, "body": st.bad_request("the body of the request must be a JSON object")})
    decoded = decode(body, TOKEN_REQUEST)
    if decoded.error:
        return reply({"code": 400, "body": st.bad_request(decoded.error)})
    tr = deep_copy(decoded.value)
    spec = tr.setdefault("spec", {})
    # SetDefaults_TokenRequestSpec, then the API server's audiences when none are asked for.
    if spec.get("expirationSeconds") is None:
        spec["expirationSeconds"] = serviceaccount.DEFAULT_EXPIRATION_SECONDS
    if not spec.get("audiences"):
        spec["audiences"] = list(serviceaccount.API_AUDIENCES)
    seconds = spec["expirationSeconds"]
    errs = []
    if seconds < serviceaccount.MIN_EXPIRATION_SECONDS:
        errs.append(v.invalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"))
    if seconds > serviceaccount.MAX_EXPIRATION_SECONDS:
        errs.append(v.invalid("spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds"))
    if errs:
        return reply(_invalid(name, errs))
    sa = api.cache.objects("serviceaccounts").get((ns, name))
    if sa is None:
        return reply({"code": 404, "body": st.not_found("serviceaccounts", name)})
    bound = None
    ref = spec.get("boundObjectRef")
    if ref:
        kind = ref.get("kind", "")
        if kind not in BOUND_KINDS:
            return reply(_invalid(name, [v.not_supported("spec.boundObjectRef.kind", kind, list(BOUND_KINDS))]))
        resource, _ = BOUND_KINDS[kind]
        obj = api.cache.objects(resource).get(("" if kind == "Node" else ns, ref.get("name", "")))
        if obj is None:
            return reply({"code": 404, "body": st.not_found(resource, ref.get("name", ""))})
        uid = obj["metadata"].get("uid", "")
        if ref.get("uid") and ref["uid"] != uid:
            return reply({"code": 409, "body": st.conflict(resource, ref.get("name", ""), why=(
                f"the UID in the bound object reference ({ref['uid']}) does not match the UID in record. "
                "The object might have been deleted and then recreated"))})
        if kind == "Pod" and (obj.get("spec") or {}).get("serviceAccountName") != name:
            return reply({"code": 400, "body": st.bad_request(
                f'cannot bind token for serviceaccount "{name}" to pod running with different serviceaccount '
                f'name.')})
        bound = {"kind": kind, "name": ref.get("name", ""), "uid": uid}
        ref["uid"] = uid
    now = int(api.api_now + EPOCH.timestamp())
    claims = serviceaccount.claims(sa, spec["audiences"], now, seconds, new_uid(api.rng), bound)
    token = serviceaccount.sign(api.authentication.service_account_key, claims)
    tr["apiVersion"], tr["kind"] = f"{GROUP}/{VERSION}", KIND
    md = tr.setdefault("metadata", {})
    md.update({"name": name, "namespace": ns, "creationTimestamp": api.timestamp()})
    tr["status"] = {"token": token, "expirationTimestamp": timestamp(api.api_now + seconds)}
    reply({"code": 201, "body": tr})
