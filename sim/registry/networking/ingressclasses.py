"""IngressClasses (pkg/registry/networking/ingressclass, pkg/apis/networking/validation):
networking.k8s.io/v1, cluster-scoped, no short name.  An IngressClass names the controller that
implements it (`spec.controller`, a domain-prefixed path, immutable) and optionally a parameters
object; the annotation ingressclass.kubernetes.io/is-default-class: "true" makes it the class the
DefaultIngressClass admission plugin gives new Ingresses that name none
(sim/apiserver/admission/defaultingressclass.py).

Defaulting is SetDefaults_IngressClass (pkg/apis/networking/v1/defaults.go): parameters.scope
Cluster.  Validation is ValidateIngressClass / ValidateIngressClassUpdate.
"""
from __future__ import annotations

import re
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import STRING, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "networking.k8s.io"
# networkingv1.AnnotationIsDefaultIngressClass
ANN_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
MAX_LEN_CONTROLLER = 250                      # maxLenIngressClassController
SCOPE_NAMESPACE, SCOPE_CLUSTER = "Namespace", "Cluster"
SCOPES = (SCOPE_CLUSTER, SCOPE_NAMESPACE)     # sets.List: sorted

# k8s.io/api/networking/v1/types.go: IngressClass, IngressClassSpec, IngressClassParametersReference
INGRESS_CLASS = struct(
    "v1.IngressClass", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.IngressClassSpec", controller=STRING,
                parameters=struct("v1.IngressClassParametersReference", apiGroup=STRING, kind=STRING, name=STRING,
                                  scope=STRING, namespace=STRING)))

# validation.IsDomainPrefixedPath's httpPathFmt
_HTTP_PATH_FMT = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
_HTTP_PATH_RE = re.compile(_HTTP_PATH_FMT)


def is_default_class(ic: dict) -> bool:
    """IngressClass annotated ingressclass.kubernetes.io/is-default-class: "true"."""
    return ((ic.get("metadata") or {}).get("annotations") or {}).get(ANN_DEFAULT_INGRESS_CLASS) == "true"


def path_segment_errors(name: str) -> list[str]:
    """content.IsPathSegmentName (apimachinery/pkg/api/validation/path)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def domain_prefixed_path_errors(value: str, field: str) -> list:
    """validation.IsDomainPrefixedPath: "acme.io/foo"."""
    if not value:
        return [v.required(field, "")]
    host, sep, path = value.partition("/")
    if not sep or not host or not path:
        return [v.invalid(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    errs = [v.invalid(field, host, m) for m in v.dns1123_subdomain_errors(host)]
    if not _HTTP_PATH_RE.fullmatch(path):
        errs.append(v.invalid(field, path, f"Invalid path (regex used for validation is '{_HTTP_PATH_FMT}')"))
    return errs


def validate_typed_reference(ref: dict, field: str) -> list:
    """validateIngressTypedLocalObjectReference (an Ingress's resource backend), also the start
    of validateIngressClassParametersReference: apiGroup a DNS subdomain, kind and name path
    segments."""
    errs = []
    if ref.get("apiGroup"):
        errs += [v.invalid(f"{field}.apiGroup", ref["apiGroup"], m) for m in v.dns1123_subdomain_errors(ref["apiGroup"])]
    for key in ("kind", "name"):
        value = ref.get(key) or ""
        if not value:
            errs.append(v.required(f"{field}.{key}", ""))
        else:
            errs += [v.invalid(f"{field}.{key}", value, m) for m in path_segment_errors(value)]
    return errs


def validate_parameters(params: Any, field: str) -> list:
    """validateIngressClassParametersReference."""
    if not isinstance(params, dict):
        return []
    errs = validate_typed_reference(params, field)
    scope = params.get("scope")
    if scope is None:
        return errs + [v.required(f"{field}.scope", "")]
    if scope not in SCOPES:
        errs.append(v.not_supported(f"{field}.scope", scope, SCOPES))
    elif scope == SCOPE_NAMESPACE:
        ns = params.get("namespace")
        if ns is None:
            errs.append(v.required(f"{field}.namespace", "`parameters.scope` is set to 'Namespace'"))
        else:
            errs += [v.invalid(f"{field}.namespace", ns, m) for m in v.dns1123_label_errors(ns)]
    elif params.get("namespace") is not None:
        errs.append(v.forbidden(f"{field}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def validate(ic: dict) -> list:
    """ValidateIngressClass."""
    errs = v.validate_object_meta(ic, namespaced=False)
    spec = ic.get("spec") if isinstance(ic.get("spec"), dict) else {}
    controller = spec.get("controller") or ""
    if not controller:
        errs.append(v.required("spec.controller", ""))
    else:
        if len(controller) > MAX_LEN_CONTROLLER:
            errs.append(v.too_long("spec.controller", MAX_LEN_CONTROLLER))
        errs += domain_prefixed_path_errors(controller, "spec.controller")
    return errs + validate_parameters(spec.get("parameters"), "spec.parameters")


def validate_update(new: dict, old: dict) -> list:
    """ValidateIngressClassUpdate: the controller is immutable."""
    errs = v.validate_immutable_field(((new.get("spec") or {}).get("controller")),
                                      ((old.get("spec") or {}).get("controller")), "spec.controller")
    return errs + validate(new)


class IngressClassStrategy(Strategy):
    tracks_generation = True       # ingressClassStrategy.PrepareForCreate/Update
    default_copies = True

    def default(self, obj, ctx):
        obj = deep_copy(obj)
        params = (obj.get("spec") or {}).get("parameters")
        if isinstance(params, dict) and not params.get("scope"):
            params["scope"] = SCOPE_CLUSTER       # SetDefaults_IngressClass
        return obj

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)


def parameters_cell(ic: dict) -> str:
    """printIngressClass's PARAMETERS: Kind[.apiGroup]/name, or <none>."""
    params = (ic.get("spec") or {}).get("parameters")
    if not isinstance(params, dict):
        return "<none>"
    text = params.get("kind", "")
    if params.get("apiGroup"):
        text += "." + params["apiGroup"]
    return f"{text}/{params.get('name', '')}"


# pkg/printers/internalversion/printers.go ingressClassColumnDefinitions
INGRESS_CLASS_COLUMNS = [NAME, col("Controller", description="Controller that is responsible for handling this class"),
                         col("Parameters", description="A reference to a resource with additional parameters"), AGE]


def ingressclass_row(ic: dict, now: float) -> list[Any]:
    md = ic.get("metadata") or {}
    return [md.get("name", ""), (ic.get("spec") or {}).get("controller", ""), parameters_cell(ic),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("ingressclasses", GROUP, "v1", "IngressClass", False, "/registry/ingressclasses/", (),
                    "ingressclass", (), IngressClassStrategy(), INGRESS_CLASS,
                    printer=Printer(INGRESS_CLASS_COLUMNS, ingressclass_row))
