"""What a request to the Kubernetes API brings to authenticate with: a bearer token
(`Authorization: Bearer <token>`, as kubectl sends a kubeconfig's `token` or `--token`) and the
impersonation headers (`Impersonate-User`, `Impersonate-Group` (repeated), `Impersonate-Uid`,
`Impersonate-Extra-<key>`, as `kubectl --as / --as-group / --as-uid` send them).

The engine's kube-apiserver checks them (sim/apiserver/authfilter.py): every request from
outside carries a "credentials" entry, even an empty one, which is what tells it apart from the
in-cluster components' requests.  Nothing here decides anything, and the token is never
logged or sent anywhere but to the engine."""
from __future__ import annotations

from typing import Iterable
from urllib.parse import unquote


def from_headers(headers: Iterable[tuple[str, str]]) -> dict:
    """{"token"?: str, "impersonate"?: {"user", "groups", "uid", "extra"}} from (name, value)
    pairs (a repeated header may come once per value or joined with commas)."""
    creds: dict = {}
    groups: list[str] = []
    user = uid = ""
    extra: dict[str, list[str]] = {}
    for name, value in headers:
        key = name.lower()
        if key == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                creds["token"] = token.strip()
        elif key == "impersonate-user":
            user = value.strip()
        elif key == "impersonate-group":
            groups += [g.strip() for g in value.split(",") if g.strip()]
        elif key == "impersonate-uid":
            uid = value.strip()
        elif key.startswith("impersonate-extra-"):
            # The key is percent-encoded in the header name (impersonation.go unescapeExtraKey).
            extra.setdefault(unquote(key[len("impersonate-extra-"):]), []).extend(
                v.strip() for v in value.split(",") if v.strip())
    if user or groups or uid or extra:
        creds["impersonate"] = {"user": user, "groups": groups, "uid": uid, "extra": extra}
    return creds


def of_request(request) -> dict:
    """A Django request's credentials."""
    return from_headers(request.headers.items())


def of_scope(scope: dict) -> dict:
    """An ASGI (WebSocket) scope's credentials."""
    return from_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or [])
