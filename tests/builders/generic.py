"""The builder every kind's builder is: an object as a plain dict in Kubernetes' shape, set
field by field, in the style of upstream's kube-scheduler test wrappers
(k8s.io/kubernetes/pkg/scheduler/testing/wrappers.go: `st.MakePod().Name("p").Obj()`).

A builder adds only the fields it is told to, so an object is exactly what the chain says:
`MakeObject("example.com/v1", "Widget").name("w").namespace("ns").set("spec", {"size": 3}).manifest()`.

    obj()       the object as built (upstream's Obj(): no apiVersion/kind, as the scheduler's
                plugins and caches see it)
    manifest()  the same with apiVersion and kind first, as it is sent to an API server
"""
from __future__ import annotations

import copy


class Builder:
    API_VERSION = ""
    KIND = ""

    def __init__(self, api_version: str | None = None, kind: str | None = None, **top):
        self._api_version = api_version if api_version is not None else self.API_VERSION
        self._kind = kind if kind is not None else self.KIND
        self._o: dict = {"metadata": {}, **top}

    # -- the result ------------------------------------------------------------------------------
    def obj(self) -> dict:
        return self._o

    def manifest(self) -> dict:
        return {"apiVersion": self._api_version, "kind": self._kind, **self._o}

    # -- helpers for the kinds' builders ----------------------------------------------------------
    def _section(self, key: str) -> dict:
        """The top-level `key` (spec, status, ...), created empty if absent."""
        return self._o.setdefault(key, {})

    @property
    def _md(self) -> dict:
        return self._o["metadata"]

    def set(self, key: str, value) -> "Builder":
        """A top-level field as given (spec, status, data, value, ...)."""
        self._o[key] = value
        return self

    def fields(self, **top) -> "Builder":
        """Top-level fields as given (a PriorityClass's globalDefault=True, an Event's count=2)."""
        self._o.update(top)
        return self

    # -- ObjectMeta -------------------------------------------------------------------------------
    def name(self, name: str) -> "Builder":
        self._md["name"] = name
        return self

    def generate_name(self, prefix: str) -> "Builder":
        self._md["generateName"] = prefix
        return self

    def namespace(self, namespace: str) -> "Builder":
        self._md["namespace"] = namespace
        return self

    def uid(self, uid: str) -> "Builder":
        self._md["uid"] = uid
        return self

    def labels(self, labels: dict | None) -> "Builder":
        """metadata.labels is exactly `labels` ({} for None)."""
        self._md["labels"] = dict(labels or {})
        return self

    def label(self, key: str, value: str) -> "Builder":
        self._md.setdefault("labels", {})[key] = value
        return self

    def annotations(self, annotations: dict | None) -> "Builder":
        self._md["annotations"] = dict(annotations or {})
        return self

    def annotation(self, key: str, value: str) -> "Builder":
        self._md.setdefault("annotations", {})[key] = value
        return self

    def finalizers(self, *finalizers: str) -> "Builder":
        self._md["finalizers"] = list(finalizers)
        return self

    def creation_timestamp(self, ts: str) -> "Builder":
        self._md["creationTimestamp"] = ts
        return self

    def deletion_timestamp(self, ts: str) -> "Builder":
        self._md["deletionTimestamp"] = ts
        return self

    def owner_reference(self, name: str, kind: str = "ReplicaSet", api_version: str = "apps/v1",
                        uid: str | None = None, controller: bool | None = True) -> "Builder":
        """Upstream's OwnerReference(name, gvk): the object's one controller reference."""
        ref = {"apiVersion": api_version, "kind": kind, "name": name}
        if uid is not None:
            ref["uid"] = uid
        if controller is not None:
            ref["controller"] = controller
        self._md["ownerReferences"] = [ref]
        return self

    def metadata(self, **fields) -> "Builder":
        """Any other ObjectMeta field, as given."""
        self._md.update(fields)
        return self

    def copy(self) -> "Builder":
        """An independent builder to go on from (a template for several objects)."""
        return copy.deepcopy(self)


class MakeObject(Builder):
    """Any kind, custom ones included: MakeObject("stable.example.com/v1", "CronTab")."""

    def __init__(self, api_version: str, kind: str):
        super().__init__(api_version, kind)

    def spec(self, **fields) -> "MakeObject":
        self._section("spec").update(fields)
        return self

    def status(self, **fields) -> "MakeObject":
        self._section("status").update(fields)
        return self
