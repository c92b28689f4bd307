"""List continue tokens, as k8s.io/apiserver/pkg/storage/continue.go encodes them.

A token is unpadded URL-safe base64 of {"v": "meta.k8s.io/v1", "rv": <the first page's
resourceVersion>, "start": "/<key after the resource prefix>\\x00"}: the next page starts just
after the last key served (the NUL byte sorts right after it), so objects created or deleted
between pages neither shift the pages nor make one skip an object.
"""
from __future__ import annotations

import base64
import binascii
import json
import posixpath

VERSION = "meta.k8s.io/v1"
INVALID_START_RV = "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
EMPTY_START_KEY = "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"


class InvalidContinue(ValueError):
    pass


def encode(key: tuple[str, str], rv: int) -> str:
    """The token of a page that ended at object key (namespace or "", name)."""
    namespace, name = key
    start = f"/{namespace}/{name}\x00" if namespace else f"/{name}\x00"
    raw = json.dumps({"v": VERSION, "rv": rv, "start": start}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(token: str, namespaced: bool) -> tuple[tuple[str, str], bool, int]:
    """(key, after, rv): the page starts at `key`, or just after it when `after` (the token's
    key ends in NUL); rv is the first page's resourceVersion.  InvalidContinue with upstream's
    message for anything else."""
    try:
        data = base64.urlsafe_b64decode(token.rstrip("=") + "=" * (-len(token.rstrip("=")) % 4))
        c = json.loads(data)
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise InvalidContinue(f"{INVALID_START_RV}: {e}") from None
    if not isinstance(c, dict):
        raise InvalidContinue(INVALID_START_RV)
    if c.get("v") != VERSION:
        raise InvalidContinue(f"continue key is not valid: server does not recognize this encoded version {json.dumps(c.get('v'))}")
    rv, start = c.get("rv"), c.get("start")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv <= 0:
        raise InvalidContinue(INVALID_START_RV)
    if not isinstance(start, str) or not start:
        raise InvalidContinue(EMPTY_START_KEY)
    # path.Clean must leave it as it is: no "..", no "//" - a client cannot step out of the prefix.
    if not start.startswith("/") or posixpath.normpath(start) != start or start.startswith("//"):
        raise InvalidContinue(f"continue key is not valid: {start}")
    after = start.endswith("\x00")
    rest = start[1:-1] if after else start[1:]
    if namespaced and "/" in rest:
        namespace, _, name = rest.partition("/")
    else:
        namespace, name = "", rest
    return (namespace, name), after, rv
