"""The DefaultIngressClass admission plugin (plugin/pkg/admission/network/defaultingressclass):
a new Ingress that names no class (no spec.ingressClassName and no deprecated
kubernetes.io/ingress.class annotation) gets the default IngressClass's name - the one annotated
ingressclass.kubernetes.io/is-default-class: "true", the newest when there are several
(getDefaultClass, since 1.28).  With no default class it stays without one, and only a
controller that watches class-less Ingresses (ingress-nginx with --watch-ingress-without-class)
takes it."""
from __future__ import annotations

from sim.api.storage import default_class
from sim.apiserver.admission import CREATE, Attributes, Lister
from sim.registry.networking.ingressclasses import GROUP, is_default_class
from sim.registry.networking.ingresses import ANN_INGRESS_CLASS

PLUGIN_NAME = "DefaultIngressClass"


class DefaultIngressClass:
    name = PLUGIN_NAME

    def __init__(self, lister_for):
        self.classes: Lister = lister_for(f"ingressclasses.{GROUP}")

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def admit(self, a: Attributes) -> None:
        if a.group != GROUP or a.resource != "ingresses" or a.subresource or a.obj is None:
            return
        spec = a.obj.get("spec")
        if isinstance(spec, dict) and spec.get("ingressClassName") is not None:
            return                      # don't overwrite the class if it's already set
        if ANN_INGRESS_CLASS in ((a.obj.get("metadata") or {}).get("annotations") or {}):
            return                      # nor set one when the deprecated annotation is there
        ic = default_class(self.classes.list(), is_default_class)  # getDefaultClass
        if ic is not None:
            a.obj.setdefault("spec", {})["ingressClassName"] = ic["metadata"]["name"]
