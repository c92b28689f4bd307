"""user.Info (k8s.io/apiserver/pkg/authentication/user): a request's identity, as the JSON shape
authentication.k8s.io/v1 UserInfo has ({"username", "uid", "groups", "extra"}), and the
well-known names of user/user.go."""
from __future__ import annotations

SYSTEM_PRIVILEGED_GROUP = "system:masters"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
# The static user every cluster knows (--token-auth-file's one line, kubeadm's kubernetes-admin).
CLUSTER_ADMIN = "kubernetes-admin"


def user_info(name: str, groups: list[str] | tuple[str, ...] = (), uid: str = "",
              extra: dict[str, list[str]] | None = None) -> dict:
    info: dict = {"username": name}
    if uid:
        info["uid"] = uid
    info["groups"] = list(groups)
    if extra:
        info["extra"] = {k: list(v) for k, v in extra.items()}
    return info


def anonymous() -> dict:
    """The anonymous authenticator's user (request/anonymous/anonymous.go)."""
    return user_info(ANONYMOUS, [ALL_UNAUTHENTICATED])


def with_authenticated_group(info: dict) -> dict:
    """group.AuthenticatedGroupAdder: every authenticated user but anonymous is in
    system:authenticated."""
    groups = info.get("groups") or []
    if info.get("username") == ANONYMOUS or ALL_AUTHENTICATED in groups:
        return info
    return dict(info, groups=[*groups, ALL_AUTHENTICATED])


def is_privileged(info: dict) -> bool:
    """authorizerfactory.NewPrivilegedGroups(system:masters): allowed before any authorizer runs."""
    return SYSTEM_PRIVILEGED_GROUP in (info.get("groups") or [])
