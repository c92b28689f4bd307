"""The registry: every kind the API server serves, keyed by (group, resource).

The built-in kinds are the modules under sim/registry/<group>/ (each exports `RESOURCE`): adding
a kind is adding one module there (`builtin_kinds` finds it).  Each kube-apiserver keeps a
`Registry` of its own over them, to which CustomResourceDefinitions add kinds at run time and
from which they are removed again: the same door for every kind, so nothing downstream (the
request path, discovery, OpenAPI, tables, watch, the garbage collector, namespace deletion, the
dashboard) names a kind.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Iterable

from sim.registry.resource import Resource

@lru_cache(maxsize=1)
def builtin_kinds() -> tuple[Resource, ...]:
    """Every module under sim/registry/<group>/ that exports RESOURCE: the core group first,
    then the other groups' packages by name (discovery's order)."""
    import sim.registry as root
    packages = sorted((m.name for m in pkgutil.iter_modules(root.__path__) if m.ispkg),
                      key=lambda name: (name != "core", name))
    found: list[Resource] = []
    for pkg_name in packages:
        pkg = importlib.import_module(f"sim.registry.{pkg_name}")
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            res = getattr(module, "RESOURCE", None)
            if isinstance(res, Resource):
                found.append(res)
    return tuple(found)


_UNKNOWN = object()
OF_KEY_REMEMBERED = 100_000  # keys whose kind of_key remembers (objects come and go)


class Registry:
    """The kinds one API server serves: the built-in ones, then the ones added at run time."""

    def __init__(self, kinds: Iterable[Resource] | None = None):
        self._kinds: dict[tuple[str, str], Resource] = {}
        self.revision = 0  # bumped whenever the set of kinds changes
        for r in (builtin_kinds() if kinds is None else kinds):
            self._kinds[(r.group, r.name)] = r
        self._reindex()

    def _reindex(self) -> None:
        self._prefixes = sorted(((r.etcd_prefix, r) for r in self._kinds.values() if r.stored),
                                key=lambda p: -len(p[0]))
        self._by_kind = {(r.group, r.kind): r for r in self._kinds.values()}
        self._of_key: dict[str, Resource | None] = {}

    # -- change --------------------------------------------------------------------------
    def register(self, res: Resource) -> None:
        if self._kinds.get((res.group, res.name)) == res:
            return
        self._kinds[(res.group, res.name)] = res
        self.revision += 1
        self._reindex()

    def unregister(self, group: str, name: str) -> Resource | None:
        res = self._kinds.pop((group, name), None)
        if res is not None:
            self.revision += 1
            self._reindex()
        return res

    # -- lookups -------------------------------------------------------------------------
    def lookup(self, group: str, name: str) -> Resource | None:
        return self._kinds.get((group, name))

    def by_kind(self, group: str, kind: str) -> Resource | None:
        return self._by_kind.get((group, kind))

    def by_gr(self, gr: str) -> Resource | None:
        name, _, group = gr.partition(".")
        return self._kinds.get((group, name))

    def of_key(self, etcd_key: str) -> Resource | None:
        """The kind whose etcd prefix holds `etcd_key` (the longest prefix wins).  Asked twice
        of every write (its etcd request, its watch event) about the same few thousand keys:
        the answers are remembered until the kinds change."""
        hit = self._of_key.get(etcd_key, _UNKNOWN)
        if hit is not _UNKNOWN:
            return hit
        found = None
        for prefix, res in self._prefixes:
            if etcd_key.startswith(prefix):
                found = res
                break
        if len(self._of_key) >= OF_KEY_REMEMBERED:
            self._of_key.clear()
        self._of_key[etcd_key] = found
        return found

    def resolve(self, word: str) -> Resource | None:
        """The kind a user's word names, as kubectl's RESTMapper reads it: the plural, the
        singular, a short name or the kind, optionally qualified by its group
        ("replicasets", "rs", "ReplicaSet", "crontabs.stable.example.com", "ct")."""
        name, _, group = word.partition(".")
        lowered = name.lower()
        for res in self._kinds.values():
            if group and res.group != group:
                continue
            if lowered in (res.name, res.singular, res.kind.lower()) or lowered in res.short_names:
                return res
        return None

    def served(self) -> list[Resource]:
        return list(self._kinds.values())

    def stored(self) -> list[Resource]:
        return [r for r in self._kinds.values() if r.stored]

    def __contains__(self, res: Resource) -> bool:
        return self._kinds.get((res.group, res.name)) is res


BUILTIN = Registry()
