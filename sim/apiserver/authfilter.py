"""kube-apiserver's handler chain for a request that comes from outside the cluster
(k8s.io/apiserver/pkg/endpoints/filters: WithAuthentication, WithImpersonation,
WithAuthorization), run before the request is served.

Who: the bearer token's user - the cluster's static admin token (--token-auth-file), a
bootstrap token (--enable-bootstrap-token-auth, sim/auth/bootstraptoken.py: a joining kubelet's
`system:bootstrap:<id>`), or a ServiceAccount token from the TokenRequest API
(sim/auth/serviceaccount.py, checked against the ServiceAccount and the object it is bound to
still existing with the same uid) - and without a token the anonymous user.  A token that does not authenticate is a 401.  On an *open* cluster
(ClusterConfig.access "open", the `demo` one) the anonymous user is allowed everything, as
kube-apiserver's AlwaysAllow authorizer would allow it; a request that brings a token, or
impersonates someone, is held to RBAC.  On an *owned* cluster everyone is held to RBAC
(sim/auth/rbac.py).

The in-cluster components' requests carry no "credentials" key and do not pass here: they talk
to kube-apiserver in-process (upstream they would be system:kube-scheduler, system:node:<n> ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.api import status as st
from sim.api.meta import EPOCH
from sim.auth import bootstraptoken, rbac, serviceaccount
from sim.auth.user import (ALL_AUTHENTICATED, ANONYMOUS, CLUSTER_ADMIN, SYSTEM_PRIVILEGED_GROUP, anonymous, user_info,
                           with_authenticated_group)

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

ALWAYS_ALLOW, RBAC = "AlwaysAllow", "RBAC"
NON_RESOURCE_VERBS = ("discovery", "nonresource")


@dataclass
class Authentication:
    """The flags: --token-auth-file (token -> user), --service-account-signing-key-file, and
    whether the anonymous user is an administrator (an open cluster)."""
    open: bool = True
    static_tokens: dict[str, dict] = field(default_factory=dict)
    service_account_key: str = ""

    @classmethod
    def for_cluster(cls, access: str, admin_token: str, service_account_key: str) -> "Authentication":
        admin = user_info(CLUSTER_ADMIN, [SYSTEM_PRIVILEGED_GROUP, ALL_AUTHENTICATED])
        return cls(open=access != "owned", static_tokens={admin_token: admin} if admin_token else {},
                   service_account_key=service_account_key)


def unix_now(api: "KubeAPIServer") -> float:
    return api.api_now + EPOCH.timestamp()


def authenticate_token(api: "KubeAPIServer", token: str) -> dict | None:
    """The union of the token authenticators: static tokens, bootstrap tokens, then
    ServiceAccount JWTs."""
    auth = api.authentication
    if token in auth.static_tokens:
        return dict(auth.static_tokens[token])
    bootstrap = bootstraptoken.authenticate(api.cache.objects("secrets"), token, api.api_now)
    if bootstrap is not None:
        return with_authenticated_group(bootstrap)
    if not auth.service_account_key:
        return None
    try:
        payload = serviceaccount.verify(auth.service_account_key, token, unix_now(api))
    except serviceaccount.InvalidToken:
        return None
    # validator.Validate: the ServiceAccount (and a bound object) must still exist, same uid.
    private = payload["kubernetes.io"]
    ns, sa_ref = private.get("namespace", ""), private["serviceaccount"]
    sa = api.cache.objects("serviceaccounts").get((ns, sa_ref.get("name", "")))
    if sa is None or (sa.get("metadata") or {}).get("uid") != sa_ref.get("uid") \
            or (sa.get("metadata") or {}).get("deletionTimestamp"):
        return None
    for kind, gr in (("pod", "pods"), ("secret", "secrets")):
        ref = private.get(kind)
        if isinstance(ref, dict):
            obj = api.cache.objects(gr).get((ns, ref.get("name", "")))
            if obj is None or (obj.get("metadata") or {}).get("uid") != ref.get("uid"):
                return None
    return serviceaccount.user_of(payload)


def attributes_of(user: dict, req: dict) -> rbac.Attributes:
    """The authorizer.Attributes of a request (RequestInfoFactory's verb, group, resource,
    subresource, namespace and name; a list or watch of one name by fieldSelector names it)."""
    verb = req.get("verb", "")
    if verb in NON_RESOURCE_VERBS:
        return rbac.non_resource_attributes(user, (req.get("method") or "get").lower(), req.get("path") or "/")
    name = req.get("name") or ""
    if verb in ("list", "watch") and not name:
        selector = (req.get("query") or {}).get("fieldSelector")
        for part in (selector or "").split(","):
            key, eq, value = part.partition("==") if "==" in part else part.partition("=")
            if eq and key.strip() == "metadata.name" and not key.endswith("!"):
                name = value.strip()
    return rbac.resource_attributes(user, verb, req.get("group") or "", req.get("resource") or "",
                                    req.get("subresource") or "", req.get("namespace") or "", name)


def impersonate(api: "KubeAPIServer", user: dict, always_allow: bool, wanted: dict) -> tuple[dict | None, dict | None]:
    """WithImpersonation: the impersonated user, if the requester may `impersonate` every part
    of it (users or serviceaccounts, groups, uids, userextras); else a 403/400 Status."""
    name, groups, uid = wanted.get("user") or "", list(wanted.get("groups") or []), wanted.get("uid") or ""
    extra = wanted.get("extra") or {}
    if not name:
        if groups or uid or extra:
            return None, st.bad_request(f"requested {_described(wanted)} without impersonating a user")
        return user, None
    resolver = rbac.RuleResolver(api.cache.objects)
    checks = []
    sa = serviceaccount.split_username(name)
    if sa:
        checks.append(rbac.resource_attributes(user, "impersonate", "", "serviceaccounts", "", sa[0], sa[1]))
    else:
        checks.append(rbac.resource_attributes(user, "impersonate", "", "users", "", "", name))
    checks += [rbac.resource_attributes(user, "impersonate", "", "groups", "", "", g) for g in groups]
    if uid:
        checks.append(rbac.resource_attributes(user, "impersonate", "authentication.k8s.io", "uids", "", "", uid))
    for key, values in extra.items():
        checks += [rbac.resource_attributes(user, "impersonate", "authentication.k8s.io", "userextras", key, "", v)
                   for v in values]
    if not always_allow:
        for attrs in checks:
            allowed, reason = rbac.authorize(resolver, attrs)
            if not allowed:
                return None, rbac.forbidden(attrs, reason)
    if sa and not groups:
        groups = serviceaccount.make_group_names(sa[0])
    if name != ANONYMOUS and ALL_AUTHENTICATED not in groups:
        groups.append(ALL_AUTHENTICATED)
    return user_info(name, groups, uid=uid, extra=extra), None


def _described(wanted: dict) -> str:
    parts = [f"{{Group {g}}}" for g in wanted.get("groups") or []]
    if wanted.get("uid"):
        parts.append(f"{{UID {wanted['uid']}}}")
    return "[" + " ".join(parts) + "]"


def filter_request(api: "KubeAPIServer", req: dict) -> tuple[dict | None, dict | None]:
    """(the request to serve, with "_user" and "_authorizer" set; None) or (None, the Status
    that answers it)."""
    creds: Any = req.get("credentials") or {}
    req = {k: v for k, v in req.items() if k != "credentials"}
    token = creds.get("token") if isinstance(creds, dict) else None
    if token:
        user = authenticate_token(api, token) if isinstance(token, str) else None
        if user is None:
            return None, rbac.unauthorized()
        always_allow = False
    else:
        user, always_allow = anonymous(), api.authentication.open
    wanted = creds.get("impersonate") if isinstance(creds, dict) else None
    if wanted and not isinstance(wanted, dict):
        return None, st.bad_request("malformed impersonation")
    if wanted:
        user, refused = impersonate(api, user, always_allow, wanted)
        if refused is not None:
            return None, refused
        always_allow = False  # the impersonated user is held to their roles
    if not always_allow:
        attrs = attributes_of(user, req)
        allowed, reason = rbac.authorize(rbac.RuleResolver(api.cache.objects), attrs)
        if not allowed:
            return None, rbac.forbidden(attrs, reason)
    return dict(req, _user=user, _authorizer=ALWAYS_ALLOW if always_allow else RBAC), None


def acting_user(req: dict) -> dict | None:
    """The user a write is checked against by the RBAC kinds' escalation check: None (allowed
    everything) for the in-cluster components and the anonymous user of an open cluster."""
    if req.get("_authorizer") != RBAC:
        return None
    return req.get("_user")
