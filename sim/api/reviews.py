"""The create-only review kinds kubectl's `auth can-i` and `auth whoami` post:
authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview
(pkg/registry/authorization/selfsubject*/rest.go) and authentication.k8s.io/v1 SelfSubjectReview
(pkg/registry/authentication/selfsubjectreview/rest.go).  Nothing is stored: the request's object
comes back with its status filled in.

Who asks is the request's authenticated user (sim/apiserver/authfilter.py: a bearer token's
user, or `system:anonymous` in `system:unauthenticated`); what they may do is answered by the
RBAC authorizer (sim/auth/rbac.py).  The anonymous user of an open cluster, and a request with
no user at all (the engine's own, in tests), are answered as kube-apiserver's AlwaysAllow
authorizer answers: allowed with an empty reason, rules `*` for every verb, group, resource and
URL.

Also served: authentication.k8s.io/v1 TokenReview (pkg/registry/authentication/tokenreview) and
authorization.k8s.io/v1 SubjectAccessReview (pkg/registry/authorization/subjectaccessreview),
which ask the same questions about a token or a user given in the spec.
"""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api.meta import deep_copy
from sim.auth import rbac
from sim.auth.user import anonymous
from sim.registry.resource import Resource

# The user a request without one is answered as (k8s.io/apiserver/pkg/authentication/request/anonymous).
ANONYMOUS_USER = anonymous()

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
        _review("subjectaccessreviews", AUTHORIZATION, "SubjectAccessReview"),
        _review("tokenreviews", AUTHENTICATION, "TokenReview"),
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


def _always_allow(req: dict) -> bool:
    return req.get("_authorizer", "AlwaysAllow") == "AlwaysAllow"


def _decide(api, user: dict, spec: dict) -> dict:
    """The SubjectAccessReviewStatus of one question (spec's resourceAttributes or
    nonResourceAttributes) asked of the RBAC authorizer."""
    if spec.get("resourceAttributes") is not None:
        a = spec["resourceAttributes"] if isinstance(spec["resourceAttributes"], dict) else {}
        attrs = rbac.resource_attributes(user, a.get("verb", ""), a.get("group", ""), a.get("resource", ""),
                                         a.get("subresource", ""), a.get("namespace", ""), a.get("name", ""))
    else:
        a = spec["nonResourceAttributes"] if isinstance(spec["nonResourceAttributes"], dict) else {}
        attrs = rbac.non_resource_attributes(user, a.get("verb", ""), a.get("path", ""))
    allowed, reason = rbac.authorize(rbac.RuleResolver(api.cache.objects), attrs)
    status: dict = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


def _rules_review(api, user: dict, namespace: str) -> dict:
    """RulesFor as a SubjectRulesReviewStatus (authorizer.ResourceRuleInfo / NonResourceRuleInfo)."""
    rules, errors = rbac.RuleResolver(api.cache.objects).rules_for(user, namespace)
    resource_rules, non_resource_rules = [], []
    if rbac.is_privileged(user):
        resource_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        non_resource_rules.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
    for r in rules:
        if r.get("nonResourceURLs"):
            non_resource_rules.append({"verbs": list(r.get("verbs") or []), "nonResourceURLs": list(r["nonResourceURLs"])})
        else:
            entry = {"verbs": list(r.get("verbs") or []), "apiGroups": list(r.get("apiGroups") or []),
                     "resources": list(r.get("resources") or [])}
            if r.get("resourceNames"):
                entry["resourceNames"] = list(r["resourceNames"])
            resource_rules.append(entry)
    status = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": bool(errors)}
    if errors:
        status["evaluationError"] = "[" + ", ".join(errors) + "]"
    return status


def _access_review_invalid(res: Resource, spec: dict) -> dict | None:
    """ValidateSelfSubjectAccessReviewSpec / ValidateSubjectAccessReviewSpec: exactly one of the
    two attribute sets."""
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
    return None


def create(res: Resource, req: dict, now: str | None = None, api=None) -> dict:
    """The reply (code, body) to a POST of one review; `now` is the server's clock (a
    SelfSubjectReview carries it as its creationTimestamp), `api` the kube-apiserver whose
    watch cache holds the RBAC objects."""
    user = req.get("_user") or ANONYMOUS_USER
    always_allow = _always_allow(req) or api is None
    body = req.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
        return {"code": 400, "body": st.bad_request("the body of the request must be a JSON object")}
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    obj = deep_copy(body)
    obj["kind"], obj["apiVersion"] = res.kind, res.api_version
    md = obj.setdefault("metadata", {})
    md.setdefault("creationTimestamp", None)
    if res.name in ("selfsubjectaccessreviews", "subjectaccessreviews"):
        invalid = _access_review_invalid(res, spec)
        if invalid:
            return invalid
        obj["spec"] = spec
        if res.name == "subjectaccessreviews":
            # ValidateSubjectAccessReviewSpec: someone to ask about; the answer is RBAC's.
            if not spec.get("user") and not spec.get("groups") and not spec.get("uid"):
                return {"code": 422, "body": _invalid(res, "spec.user", "",
                                                      "at least one of user or group must be specified")}
            asked = {"username": spec.get("user") or "", "groups": list(spec.get("groups") or [])}
            obj["status"] = _decide(api, asked, spec) if api is not None else {"allowed": True}
        else:
            obj["status"] = {"allowed": True} if always_allow else _decide(api, user, spec)
    elif res.name == "selfsubjectrulesreviews":
        # selfsubjectrulesreview/rest.go: a namespace is required, and the answer is a new object
        # holding only the rules - the AlwaysAllow authorizer's RulesFor: everything, complete.
        if not spec.get("namespace"):
            return {"code": 400, "body": st.bad_request("no namespace on request")}
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"creationTimestamp": None},
               "spec": {}}
        if always_allow:
            obj["status"] = {
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": False,
            }
        else:
            obj["status"] = _rules_review(api, user, spec["namespace"])
    elif res.name == "tokenreviews":
        # tokenreview/storage.go: authenticate spec.token as a request bearing it would be.
        from sim.apiserver.authfilter import authenticate_token
        token = spec.get("token")
        if not token:
            return {"code": 422, "body": _invalid(res, "spec.token", "", "token is required", quoted=True)}
        found = authenticate_token(api, token) if api is not None else None
        obj["spec"] = spec
        obj["status"] = {"authenticated": True, "user": found,
                         "audiences": ["https://kubernetes.default.svc.cluster.local"]} if found else \
            {"user": {}, "error": "[invalid bearer token, service account token has been invalidated]"}
    else:
        # selfsubjectreview/rest.go: a new object, created now, with the requester's UserInfo.
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"creationTimestamp": now},
               "status": {"userInfo": deep_copy(user)}}
    return {"code": 201, "body": obj}
