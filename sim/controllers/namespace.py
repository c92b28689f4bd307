"""The namespace controller (pkg/controller/namespace, deletion/namespaced_resources_deleter.go).

A Terminating namespace is emptied of every namespaced kind that discovery lists - built-in or
custom - and its status conditions say how the draining goes (deletion/
status_condition_utils.go); once nothing is left, the `kubernetes` finalizer is removed, which
lets the API server delete the namespace.  Pods go first (OrderedNamespaceDeletion, on by
default since 1.33): nothing else is deleted while a pod remains, so a pod never outlives the
ConfigMaps, Secrets or policies it runs with."""
from __future__ import annotations

from sim.discovery import APIResource
from sim.workqueue import WorkQueue

# The kind deleted before all others (deletion/namespaced_resources_deleter.go deleteAllContent).
FIRST = ("", "pods")
# How soon a namespace with content left is looked at again (the deleter's estimate: upstream
# waits the longest remaining grace period; a short fixed wait keeps it visible and bounded).
RECHECK = 2.0

# status_condition_utils.go: the conditions, and their reason and message when all is well.
CONDITION_TYPES = ("NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                   "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining")
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}


def deletable(served: list[APIResource]) -> list[APIResource]:
    """The namespaced kinds the deleter empties (those it can list and delete)."""
    return [r for r in served if r.namespaced and {"list", "delete"} <= set(r.verbs)]


def conditions(remaining: dict[str, int], finalizers: dict[str, int], failures: list[str],
               discovery_failed: bool) -> dict[str, tuple[str, str, str]]:
    """{type: (status, reason, message)} for one pass (namespaceConditionUpdater)."""
    out = {t: ("False", *OK_REASONS[t]) for t in CONDITION_TYPES}
    if discovery_failed:
        out["NamespaceDeletionDiscoveryFailure"] = ("True", "DiscoveryFailed", "Discovery failed for some groups")
    if failures:
        out["NamespaceDeletionContentFailure"] = ("True", "ContentDeletionFailed",
                                                  "Failed to delete all resource types, " + ", ".join(sorted(failures)))
    left = sorted(f"{gr_dotted} has {n} resource instances" for gr_dotted, n in remaining.items() if n)
    if left:
        out["NamespaceContentRemaining"] = ("True", "SomeResourcesRemain",
                                            "Some resources are remaining: " + ", ".join(left))
    held = sorted(f"{fin} in {n} resource instances" for fin, n in finalizers.items() if n)
    if held:
        out["NamespaceFinalizersRemaining"] = ("True", "SomeFinalizersRemain",
                                               "Some content in the namespace has finalizers remaining: " + ", ".join(held))
    return out


class NamespaceController:
    name = "namespace-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.queue = WorkQueue(cm, self.reconcile)

    def start(self) -> None:
        self.cm.namespaces.handlers(add=self._changed, update=lambda o, n: self._changed(n))

    def _changed(self, ns: dict) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.queue.add(ns["metadata"]["name"])

    def reconcile(self, name: str) -> None:
        ns = self.cm.namespaces.get(None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        self.api.discover(lambda served: self._delete_content(name, served))

    def _delete_content(self, name: str, served: list[APIResource] | None) -> None:
        if served is None:
            self._set_conditions(name, conditions({}, {}, [], discovery_failed=True))
            self.queue.add_after(name, RECHECK)
            return
        kinds = deletable(served)
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        failures: list[str] = []
        pending = [len(kinds)]

        listed_items: dict[APIResource, list[dict]] = {}

        def delete_listed() -> None:
            pods_left = any(items for res, items in listed_items.items() if (res.group, res.name) == FIRST)
            for res, items in listed_items.items():
                if pods_left and (res.group, res.name) != FIRST:
                    continue  # OrderedNamespaceDeletion: the rest once the pods are gone
                for obj in items:
                    if not obj["metadata"].get("deletionTimestamp"):
                        self.api.delete(res.name, name, obj["metadata"]["name"], group=res.group)

        def listed(resp: dict, res: APIResource) -> None:
            if resp["code"] == 200:
                items = resp.get("body", {}).get("items", [])
                listed_items[res] = items
                for obj in items:
                    md = obj["metadata"]
                    for fin in md.get("finalizers") or []:
                        finalizers[fin] = finalizers.get(fin, 0) + 1
                # upstream names a kind "<resource>.<group>", the core group's as "pods."
                remaining[f"{res.name}.{res.group}"] = len(items)
            elif resp["code"] != 404:  # a kind gone since discovery is not a failure
                failures.append(f"{res.gr}: {resp.get('body', {}).get('message', resp['code'])}")
            pending[0] -= 1
            if pending[0] == 0:
                delete_listed()
                self._drained(name, remaining, finalizers, failures)

        if not kinds:
            return self._drained(name, remaining, finalizers, failures)
        for res in kinds:
            self.api.request({"verb": "list", "group": res.group, "resource": res.name, "namespace": name},
                             lambda resp, r=res: listed(resp, r))

    def _drained(self, name: str, remaining: dict, finalizers: dict, failures: list[str]) -> None:
        self._set_conditions(name, conditions(remaining, finalizers, failures, discovery_failed=False))
        if any(remaining.values()) or failures:
            self.queue.add_after(name, RECHECK)
            return
        ns = self.cm.namespaces.get(None, name)
        if ns is None:
            return
        spec = dict(ns.get("spec") or {})
        spec["finalizers"] = []
        self.api.update("namespaces", dict(ns, spec=spec), lambda r: self.api.delete("namespaces", None, name))

    def _set_conditions(self, name: str, conds: dict[str, tuple[str, str, str]]) -> None:
        """updateNamespaceStatusFunc: the conditions on namespaces/<name>/status, each
        transition time kept while its status stays the same."""
        ns = self.cm.namespaces.get(None, name)
        if ns is None:
            return
        old = {c.get("type"): c for c in (ns.get("status") or {}).get("conditions") or []}
        new = []
        for ctype in CONDITION_TYPES:
            status, reason, message = conds[ctype]
            prev = old.get(ctype)
            since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else self.cm.timestamp()
            new.append({"type": ctype, "status": status, "lastTransitionTime": since, "reason": reason,
                        "message": message})
        if [old.get(c["type"]) for c in new] == new:
            return  # nothing changed: no write
        status = dict(ns.get("status") or {}, conditions=new)
        self.api.patch("namespaces", None, name, {"status": status}, subresource="status")
