"""Defaulting of a CustomResourceDefinition as apiextensions.k8s.io/v1 does it
(k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/defaults.go)."""
from __future__ import annotations

import copy


def set_defaults(crd: dict) -> dict:
    """SetDefaults_CustomResourceDefinition: a defaulted copy.  names.singular is the kind in
    lower case, names.listKind is kind+"List", conversion is {strategy: None}, and a webhook
    service's port is 443."""
    crd = copy.deepcopy(crd)
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return crd
    names = spec.get("names")
    if isinstance(names, dict):
        kind = names.get("kind") or ""
        if not names.get("singular"):
            names["singular"] = kind.lower()
        if not names.get("listKind") and kind:
            names["listKind"] = kind + "List"
    conv = spec.get("conversion")
    if conv is None:
        spec["conversion"] = {"strategy": "None"}
    elif isinstance(conv, dict):
        if not conv.get("strategy"):
            conv["strategy"] = "None"
        service = ((conv.get("webhook") or {}).get("clientConfig") or {}).get("service")
        if isinstance(service, dict) and service.get("port") is None:
            service["port"] = 443    # SetDefaults_ServiceReference
    return crd
