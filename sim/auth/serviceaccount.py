"""ServiceAccount tokens: the JWTs kube-apiserver issues for the TokenRequest API and accepts as
bearer tokens (pkg/serviceaccount/jwt.go, claims.go; k8s.io/apiserver/pkg/authentication/
serviceaccount/util.go for the names).

Upstream signs with the cluster's service-account key (kubeadm's /etc/kubernetes/pki/sa.key, RS256);
here the key is a secret of the cluster (ClusterConfig.credentials) and the signature HS256 over
it (RFC 7519 with RFC 7518's HMAC-SHA256, from the standard library): only the cluster's own API
server ever verifies these tokens, so a symmetric key loses nothing.  The claims are upstream's:
iss, sub, aud, exp, iat, nbf, jti and the private "kubernetes.io" claim naming the namespace, the
ServiceAccount (name, uid) and the object the token is bound to.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from sim.auth.user import ALL_AUTHENTICATED, SERVICE_ACCOUNT_PREFIX, SERVICE_ACCOUNTS_GROUP, user_info

# kube-apiserver --service-account-issuer as kubeadm sets it, which is also the API server's
# default audience (--api-audiences defaults to the issuer).
ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCES = (ISSUER,)
# TokenRequestSpec defaults and limits (pkg/apis/authentication/v1/defaults.go,
# pkg/apis/authentication/validation: "may not specify a duration less than 10 minutes").
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32


def make_username(namespace: str, name: str) -> str:
    """serviceaccount.MakeUsername."""
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def split_username(username: str) -> tuple[str, str] | None:
    """serviceaccount.SplitUsername: (namespace, name), or None for a name that is not one."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def make_group_names(namespace: str) -> list[str]:
    """serviceaccount.MakeGroupNames: system:serviceaccounts, system:serviceaccounts:<ns>."""
    return [SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: str, signing_input: str) -> str:
    return _b64(hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest())


def claims(sa: dict, audiences: list[str], now: int, expiration_seconds: int, jti: str,
           bound: dict | None = None) -> dict:
    """serviceaccount.Claims: the public and the private claims of a token for `sa`."""
    md = sa.get("metadata") or {}
    ns, name = md.get("namespace", ""), md.get("name", "")
    private: dict[str, Any] = {"namespace": ns, "serviceaccount": {"name": name, "uid": md.get("uid", "")}}
    if bound:
        # kind "Pod" -> "pod", "Secret" -> "secret", "Node" -> "node"
        private[bound["kind"].lower()] = {"name": bound["name"], "uid": bound.get("uid", "")}
    return {"aud": list(audiences), "exp": now + expiration_seconds, "iat": now, "iss": ISSUER, "jti": jti,
            "kubernetes.io": private, "nbf": now, "sub": make_username(ns, name)}


def sign(key: str, payload: dict) -> str:
    """A compact JWS: header.payload.signature."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{header}.{body}.{_sign(key, f'{header}.{body}')}"


class InvalidToken(Exception):
    """Why a token does not authenticate (logged upstream; the client sees only 401)."""


def verify(key: str, token: str, now: float, audiences: tuple[str, ...] = API_AUDIENCES) -> dict:
    """jwtTokenAuthenticator.AuthenticateToken's checks that need no lookup: the signature, the
    issuer, the times (jwt.Expected with a leeway of 0 here) and an audience in common.  Answers
    the payload; raises InvalidToken."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeError, TypeError) as e:
        raise InvalidToken(f"malformed token: {e}") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(payload, dict):
        raise InvalidToken("unexpected signing algorithm")
    if not hmac.compare_digest(_sign(key, f"{parts[0]}.{parts[1]}").encode(), parts[2].encode("utf-8", "replace")):
        raise InvalidToken("invalid signature")
    if payload.get("iss") != ISSUER:
        raise InvalidToken("token issuer not recognised")
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if not isinstance(exp, int) or now >= exp:
        raise InvalidToken("service account token has expired")
    if isinstance(nbf, int) and now < nbf:
        raise InvalidToken("service account token is not valid yet")
    aud = payload.get("aud")
    if not isinstance(aud, list) or not set(aud) & set(audiences):
        raise InvalidToken("token audiences is invalid for the target audiences")
    private = payload.get("kubernetes.io")
    if not isinstance(private, dict) or not isinstance(private.get("serviceaccount"), dict):
        raise InvalidToken("not a service account token")
    return payload


def user_of(payload: dict) -> dict:
    """The authenticated user of a verified token (serviceaccount.ServiceAccountInfo.UserInfo)."""
    private = payload["kubernetes.io"]
    ns, sa = private.get("namespace", ""), private["serviceaccount"]
    extra: dict[str, list[str]] = {}
    if payload.get("jti"):
        extra["authentication.kubernetes.io/credential-id"] = [f"JTI={payload['jti']}"]
    for kind in ("pod", "node"):
        ref = private.get(kind)
        if isinstance(ref, dict):
            extra[f"authentication.kubernetes.io/{kind}-name"] = [ref.get("name", "")]
            extra[f"authentication.kubernetes.io/{kind}-uid"] = [ref.get("uid", "")]
    return user_info(make_username(ns, sa.get("name", "")), [*make_group_names(ns), ALL_AUTHENTICATED],
                     uid=sa.get("uid", ""), extra=extra)
