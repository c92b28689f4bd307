"""One small cache for the OpenAPI documents (openapi.py, openapi_v2.py): building one walks
hundreds of upstream definitions, and kubectl asks for them on every explain and apply.  Keys
are the served resources' identities (or whatever key the caller passes), so a cluster whose
custom resources change gets new documents, and a new hash in its /openapi/v3 URLs."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any, Hashable, Iterable


def resources_key(resources: Iterable) -> tuple:
    """What identifies a set of served resources for the documents built from it."""
    key = []
    for r in resources:
        schema = getattr(r, "openapi_schema", None)
        digest = None if schema is None else hashlib.sha256(
            json.dumps(schema, sort_keys=True).encode()).hexdigest()
        key.append((r.group, r.version, r.name, r.kind, r.namespaced, tuple(r.verbs),
                    tuple(r.subresources), digest))
    return tuple(key)


_CACHE: "OrderedDict[Hashable, Any]" = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()  # the sync test client and Daphne's threads may share it


def cached(key: Hashable, build):
    """build() once per key; the newest _CACHE_SIZE values are kept."""
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = build()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


