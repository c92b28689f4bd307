"""Decoding what etcd holds, as the apiserver's etcd3 storage does (k8s.io/apiserver/pkg/storage/
etcd3/store.go, decode; storage/errors.go, NewCorruptObjError).

A value that does not decode into its kind's Go type - not JSON, not an object, a field of the
wrong type, no name, a name that is not its key's - is a *corrupt object*: the watch cache keeps
it aside (WatchCache.mark_corrupt) instead of failing, a get of it answers 500 with the storage
error naming its key, a list serves the others with a warning naming it, and a delete with the
DeleteOptions field `ignoreStoreReadErrorWithClusterBreakingPotential` (the
AllowUnsafeMalformedObjectDeletion feature, Kubernetes 1.32+) removes it from etcd unread, so a
user can repair the cluster through the API.  Nothing else in the cluster stops for it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sim.registry.resource import Resource

# storage.ErrCodeCorruptObj
ERR_CODE_CORRUPT_OBJ = 7
# metav1.DeleteOptions.IgnoreStoreReadErrorWithClusterBreakingPotential (query and body)
UNSAFE_DELETE_OPTION = "ignoreStoreReadErrorWithClusterBreakingPotential"


@dataclass(frozen=True)
class CorruptObject:
    key: str        # the etcd key
    revision: int   # the revision that wrote the value
    error: str      # why it does not decode

    def storage_error(self) -> str:
        """StorageError.Error() for NewCorruptObjError(key, err)."""
        return (f"StorageError: corrupt object, Code: {ERR_CODE_CORRUPT_OBJ}, Key: {self.key}, "
                f"ResourceVersion: 0, AdditionalErrorMsg: {self.error}")

    def warning(self) -> str:
        return (f'corrupt object in storage: key "{self.key}" (revision {self.revision}): {self.error}; '
                f'delete it with DeleteOptions {UNSAFE_DELETE_OPTION}=true')


def object_key(res: Resource, etcd_key: str) -> tuple[str, str] | None:
    """The (namespace, name) an etcd key of `res` names, or None for a key no object can have
    (registry.NamespaceKeyFunc's shape: <prefix><namespace>/<name>, or <prefix><name>)."""
    rest = etcd_key[len(res.etcd_prefix):]
    if res.namespaced:
        ns, sep, name = rest.partition("/")
        if not sep or not ns:
            return None
    else:
        ns, name = "", rest
    if not name or "/" in name:
        return None
    return ns, name


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}.get(
        type(value), "number")


def decode(res: Resource, key: tuple[str, str], value) -> tuple[dict | None, str | None]:
    """(object, None) for a value that decodes into `res`'s kind at `key`; (None, why) if not."""
    if not isinstance(value, str):
        return None, f"value of type {type(value).__name__} is not bytes"
    try:
        obj = json.loads(value)
    except (ValueError, RecursionError) as e:
        return None, f"couldn't get version/kind; json parse error: {e}"
    if not isinstance(obj, dict):
        return None, (f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                      f"{_json_type(obj)} into Go value of type struct {{ APIVersion string; Kind string }}")
    md = obj.get("metadata")
    if not isinstance(md, dict):
        return None, f"object has no meta: metadata is {_json_type(md)}"
    type_error = _type_error(res, value, obj)
    if type_error:
        return None, type_error
    ns, name = key
    if md.get("name") != name or (res.namespaced and md.get("namespace") != ns):
        return None, (f"object {md.get('namespace') or ''}/{md.get('name')} "
                      f"is stored at the key of {ns}/{name}" if res.namespaced else
                      f"object {md.get('name')} is stored at the key of {name}")
    return obj, None


# Every kube-apiserver of a cluster decodes every value etcd's watch sends it: with three, the
# same string is type-checked three times (measured: the Go type check was 30% of the engine's
# time under 20 pod creates a second).  The check is a pure function of the kind's Go type and
# the value, so its answer is remembered for the most recent values.  Only built-in kinds: their
# Go type is a module constant, while a custom kind's schema changes with its CRD.
TYPE_CHECKS_REMEMBERED = 4096
_type_checks: dict[tuple[int, str], str | None] = {}


def _type_error(res: Resource, value: str, obj: dict) -> str | None:
    memo_key = (id(res.schema), value) if res.schema is not None else None
    if memo_key is not None and memo_key in _type_checks:
        return _type_checks[memo_key]
    try:
        type_error = res.type_error(obj)
    except Exception as e:  # noqa: BLE001 - a value no checker foresaw is still just corrupt
        type_error = f"{type(e).__name__}: {e}"
    if memo_key is not None:
        if len(_type_checks) >= TYPE_CHECKS_REMEMBERED:
            del _type_checks[next(iter(_type_checks))]  # the oldest
        _type_checks[memo_key] = type_error
    return type_error


def same_json(a, b) -> bool:
    """a and b are the same JSON value, with the same types and the same key order (== alone
    takes 1 for 1.0, a tuple for no list, and ignores order)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)
