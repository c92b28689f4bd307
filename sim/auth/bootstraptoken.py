"""The bootstrap token authenticator (plugin/pkg/auth/authenticator/token/bootstrap, enabled by
kube-apiserver's --enable-bootstrap-token-auth, which kubeadm sets): a bearer token
`<id>.<secret>` is checked against the Secret `bootstrap-token-<id>` in kube-system (type
bootstrap.kubernetes.io/token, its token-secret, not expired, usage-bootstrap-authentication
"true"), and authenticates as `system:bootstrap:<id>` in the groups system:bootstrappers and its
auth-extra-groups (k8s.io/cluster-bootstrap/token/util and secret/util).  Anything else is not
this authenticator's token: None, and the next one is asked."""
from __future__ import annotations

import base64
import hmac
import re

from sim.api.meta import parse_timestamp
from sim.auth.user import user_info

TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")     # BootstrapTokenPattern
SECRET_PREFIX = "bootstrap-token-"                          # BootstrapTokenSecretPrefix
SECRET_TYPE = "bootstrap.kubernetes.io/token"
USER_PREFIX = "system:bootstrap:"                           # BootstrapUserPrefix
DEFAULT_GROUP = "system:bootstrappers"                      # BootstrapDefaultGroup
GROUP_PATTERN = re.compile(r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")


def _data(secret: dict, key: str) -> str:
    raw = (secret.get("data") or {}).get(key)
    try:
        return base64.b64decode(raw).decode() if isinstance(raw, str) else ""
    except ValueError:
        return ""


def groups(secret: dict) -> list[str] | None:
    """GetGroups: system:bootstrappers, then auth-extra-groups (comma-separated, each
    system:bootstrappers:<...>), deduplicated; None when one is not such a group."""
    out = [DEFAULT_GROUP]
    for g in _data(secret, "auth-extra-groups").split(","):
        g = g.strip()
        if not g:
            continue
        if not GROUP_PATTERN.match(g):
            return None
        if g not in out:
            out.append(g)
    return out


def authenticate(secrets: dict, token: str, api_now: float) -> dict | None:
    """TokenAuthenticator.AuthenticateToken over the kube-system Secrets (`secrets`: the watch
    cache's {(namespace, name): Secret}); `api_now` is the API clock (expiration is compared with
    it).  The user, or None."""
    m = TOKEN.match(token)
    if not m:
        return None  # "Token isn't of the correct form, ignore it."
    token_id, token_secret = m.groups()
    secret = secrets.get(("kube-system", SECRET_PREFIX + token_id))
    if secret is None or (secret.get("metadata") or {}).get("deletionTimestamp"):
        return None
    if secret.get("type") != SECRET_TYPE or not secret.get("data"):
        return None
    if not hmac.compare_digest(_data(secret, "token-secret"), token_secret):
        return None
    if _data(secret, "token-id") != token_id:
        return None
    expiration = _data(secret, "expiration")
    if expiration:
        expires = parse_timestamp(expiration)
        if expires is None or api_now >= expires:
            return None   # HasExpired (an unparsable expiration counts as expired)
    if _data(secret, "usage-bootstrap-authentication") != "true":
        return None
    found = groups(secret)
    if found is None:
        return None
    return user_info(USER_PREFIX + token_id, found)
