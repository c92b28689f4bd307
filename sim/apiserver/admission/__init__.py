"""Admission control: the plugins kube-apiserver runs on every write
(k8s.io/apiserver/pkg/admission).

A write is decoded and defaulted, then the MUTATING plugins may change the object (Admit),
then the resource strategy validates it, then the VALIDATING plugins may still refuse it
(Validate), and only then is it written to etcd.  A plugin refuses with a Status (usually
403 Forbidden, worded by `forbidden` as admission.NewForbidden words it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sim.api import status as st

CREATE, UPDATE, DELETE = "CREATE", "UPDATE", "DELETE"


class Rejected(Exception):
    """A plugin refused the request; `status` is the Status the client gets."""

    def __init__(self, status: dict):
        super().__init__(status.get("message"))
        self.status = status


class Wait(Exception):
    """A mutating plugin cannot decide yet and blocks the request while it looks again (the
    ServiceAccount plugin's retried lookup of a `default` ServiceAccount not yet made): the
    request is admitted again from the start after `delay` seconds, with `attempt` one higher."""

    def __init__(self, delay: float):
        super().__init__(f"admission waits {delay}s")
        self.delay = delay


@dataclass
class Attributes:
    """admission.Attributes: what is being written, and the object as it stands (mutable)."""
    operation: str           # CREATE / UPDATE / DELETE
    group: str
    resource: str            # plural: "pods"
    subresource: str | None
    namespace: str | None
    name: str                # "" on a create with generateName, as upstream
    obj: dict | None         # the new object (mutating plugins change it in place)
    old: dict | None = None  # the stored object on UPDATE
    dry_run: bool = False    # ?dryRun=All: plugins with side effects (quota charges) skip them
    attempt: int = 0         # how many times a plugin's Wait has sent this request back


def forbidden(a: Attributes, why: str) -> Rejected:
    """admission.NewForbidden: 403 naming the group-qualified resource and the object (its name,
    else its generateName, else "Unknown" - a created object has no generated name yet)."""
    name = a.name
    if not name and a.obj is not None:
        md = a.obj.get("metadata") or {}
        name = md.get("name") or md.get("generateName") or "Unknown"
    qualified = f"{a.resource}.{a.group}" if a.group else a.resource
    details = {"name": name, "group": a.group, "kind": a.resource} if a.group else {"name": name, "kind": a.resource}
    return Rejected(st.status(403, "Forbidden", f'{qualified} "{name}" is forbidden: {why}', details))


class Lister:
    """A read-only view of one resource in the API server's watch cache, as plugins get an
    informer's lister upstream.  `objects` is called on every read: the cache is replaced when
    the apiserver relists."""

    def __init__(self, objects: Callable[[], dict]):
        self._objects = objects

    def get(self, name: str, namespace: str = "") -> dict | None:
        return self._objects().get((namespace, name))

    def list(self) -> list[dict]:
        objs = self._objects()
        return [objs[k] for k in sorted(objs)]


class Chain:
    """The enabled plugins, in kube-apiserver's order."""

    def __init__(self, plugins: list):
        self.plugins = plugins

    def admit(self, a: Attributes) -> dict | None:
        """Run the mutating plugins; the refusing plugin's Status, or None (a plugin's Wait
        propagates to the caller, which admits the request again later)."""
        return self._run("admit", a)

    def validate(self, a: Attributes) -> dict | None:
        """Run the validating plugins; the refusing plugin's Status, or None."""
        return self._run("validate", a)

    def _run(self, phase: str, a: Attributes) -> dict | None:
        for plugin in self.plugins:
            fn = getattr(plugin, phase, None)
            if fn is None or not plugin.handles(a.operation):
                continue
            try:
                fn(a)
            except Rejected as e:
                return e.status
        return None
