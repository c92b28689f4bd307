"""The NamespaceLifecycle admission plugin (plugin/pkg/admission/namespace/lifecycle):
nothing is created in a namespace that does not exist (404) or is being terminated (403)."""
from __future__ import annotations

from sim.api import status as st
from sim.apiserver.admission import CREATE, Attributes, Lister, Rejected

PLUGIN_NAME = "NamespaceLifecycle"


class NamespaceLifecycle:
    name = PLUGIN_NAME

    def __init__(self, lister_for):
        self.namespaces: Lister = lister_for("namespaces")

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def admit(self, a: Attributes) -> None:
        if not a.namespace or a.subresource:
            return  # cluster-scoped kinds (namespaces among them) live in no namespace
        ns = self.namespaces.get(a.namespace)
        if ns is None:
            raise Rejected(st.not_found("namespaces", a.namespace))
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            md = (a.obj or {}).get("metadata") or {}
            raise Rejected(st.forbidden(a.resource, md.get("name") or md.get("generateName", ""),
                                        f"unable to create new content in namespace {a.namespace} "
                                        f"because it is being terminated"))
