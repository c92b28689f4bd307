"""The create-only review kinds kubectl's `auth can-i` and `auth whoami` post:
authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview
(pkg/registry/authorization/selfsubject*/rest.go) and authentication.k8s.io/v1 SelfSubjectReview
(pkg/registry/authentication/selfsubjectreview/rest.go).  Nothing is stored: the request's object
comes back with its status filled in.

Who asks, and what they may do, is the cluster's authentication and authorization today:
Pilothouse authenticates nobody, so every request is anonymous - kube-apiserver names such a
user `system:anonymous` in the group `system:unauthenticated` - and authorizes everything, as
kube-apiserver's AlwaysAllow authorizer does (`--authorization-mode=AlwaysAllow`): it allows
with an empty reason, and its rules are `*` for every verb, group, resource and URL.
"""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api.meta import deep_copy
from sim.registry.resource import Resource

# The user every request is made as (k8s.io/apiserver/pkg/authentication/request/anonymous).
ANONYMOUS_USER = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}

AUTHORIZATION = "authorization.k8s.io"
AUTHENTICATION = "authentication.k8s.io"


def _review(name: str, group: str, kind: str) -> Resource:
    # Cluster-scoped, create only, no status subresource: as upstream's discovery lists them.
    return Resource(name, group, "v1", kind, False, "", (), kind.lower(), (), verbs=("create",), stored=False)


REVIEWS: dict[tuple[str, str], Resource] = {
    (r.group, r.name): r for r in (
        _review("selfsubjectaccessreviews", AUTHORIZATION, "SelfSubjectAccessReview"),
        _review("selfsubjectrulesreviews", AUTHORIZATION, "SelfSubjectRulesReview"),
        _review("selfsubjectreviews", AUTHENTICATION, "SelfSubjectReview"),
    )
}


def lookup(group: str, resource: str) -> Resource | None:
    return REVIEWS.get((group, resource))


def _invalid(res: Resource, field: str, value: Any, detail: str, quoted: bool = True) -> dict:
    shown = "null" if value is None else str(value)
    if quoted:
        shown = f'"{shown}"'
    return st.status(422, "Invalid",
                     f'{res.kind}.{res.group} "" is invalid: {field}: Invalid value: {shown}: {detail}',
                     {"name": "", "group": res.group, "kind": res.kind,
                      "causes": [{"reason": "FieldValueInvalid",
                                  "message": f'Invalid value: {shown}: {detail}', "field": field}]})


def create(res: Resource, req: dict, now: str | None = None) -> dict:
    """The reply (code, body) to a POST of one review; `now` is the server's clock (a
    SelfSubjectReview carries it as its creationTimestamp)."""
    body = req.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
        return {"code": 400, "body": st.bad_request("the body of the request must be a JSON object")}
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    obj = deep_copy(body)
    obj["kind"], obj["apiVersion"] = res.kind, res.api_version
    md = obj.setdefault("metadata", {})
    md.setdefault("creationTimestamp", None)
    if res.name == "selfsubjectaccessreviews":
        # ValidateSelfSubjectAccessReviewSpec: exactly one of the two attribute sets.
        has_res, has_non = spec.get("resourceAttributes") is not None, spec.get("nonResourceAttributes") is not None
        if has_res and has_non:
            non = spec["nonResourceAttributes"] if isinstance(spec["nonResourceAttributes"], dict) else {}
            # field.Invalid's fallback prints the internal struct with %#v.
            shown = (f'authorization.NonResourceAttributes{{Path:"{non.get("path", "")}", '
                     f'Verb:"{non.get("verb", "")}"}}')
            return {"code": 422, "body": _invalid(res, "spec.nonResourceAttributes", shown,
                                                  "cannot be specified in combination with resourceAttributes",
                                                  quoted=False)}
        if not has_res and not has_non:
            # Upstream passes the (nil) nonResourceAttributes as the value: "null".
            return {"code": 422, "body": _invalid(res, "spec.resourceAttributes", None,
                                                  "exactly one of nonResourceAttributes or resourceAttributes "
                                                  "must be specified")}
        obj["spec"] = spec
        obj["status"] = {"allowed": True}
    elif res.name == "selfsubjectrulesreviews":
        # selfsubjectrulesreview/rest.go: a namespace is required, and the answer is a new object
        # holding only the rules - the AlwaysAllow authorizer's RulesFor: everything, complete.
        if not spec.get("namespace"):
            return {"code": 400, "body": st.bad_request("no namespace on request")}
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"creationTimestamp": None},
               "spec": {}}
        obj["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    else:
        # selfsubjectreview/rest.go: a new object, created now, with the requester's UserInfo.
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"creationTimestamp": now},
               "status": {"userInfo": deep_copy(ANONYMOUS_USER)}}
    return {"code": 201, "body": obj}
