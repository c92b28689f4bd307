"""Ingresses (pkg/registry/networking/ingress, pkg/apis/networking/validation):
networking.k8s.io/v1, namespaced, short name `ing`, a status subresource (the load balancer's
addresses, which the ingress controller writes), generation tracked.

An Ingress maps HTTP requests to Services: rules by host (precise `foo.bar.com` or wildcard
`*.foo.com`, one label deep) and path (`pathType` Exact, Prefix or ImplementationSpecific), a
`defaultBackend` for what no rule matches, TLS hosts and their Secrets, and the IngressClass
(`spec.ingressClassName`, or the deprecated annotation kubernetes.io/ingress.class) whose
controller implements it.  What a request reaches is the controller's business; ingress-nginx's
matching is in sim/ingressnginx.py.

There is no scheme defaulting for networking/v1 Ingresses (pathType has no default in v1).
Validation is ValidateIngressCreate / ValidateIngressUpdate / ValidateIngressStatusUpdate; the
strategy warns about the deprecated class annotation (ingressStrategy.WarningsOnCreate).
"""
from __future__ import annotations

import re
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, STRING, Slice, struct
from sim.api.schema import OBJECT_META, STRINGS, TYPE_META
from sim.registry.core.services import _valid_ip as is_ip, dns1035_label_errors, port_name_errors
from sim.registry.networking.ingressclasses import GROUP, validate_typed_reference
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# networkingv1beta1.AnnotationIngressClass: the class before spec.ingressClassName (deprecated)
ANN_INGRESS_CLASS = "kubernetes.io/ingress.class"
EXACT, PREFIX, IMPLEMENTATION_SPECIFIC = "Exact", "Prefix", "ImplementationSpecific"
PATH_TYPES = (EXACT, IMPLEMENTATION_SPECIFIC, PREFIX)           # supportedPathTypes.List(): sorted
INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")    # invalidPathSequences
INVALID_PATH_SUFFIXES = ("/..", "/.")                           # invalidPathSuffixes
LOAD_BALANCER_WIDTH = 16                                        # printers.go loadBalancerWidth

# k8s.io/api/networking/v1/types.go
TYPED_LOCAL_OBJECT_REFERENCE = struct("v1.TypedLocalObjectReference", apiGroup=STRING, kind=STRING, name=STRING)
INGRESS_BACKEND = struct(
    "v1.IngressBackend",
    service=struct("v1.IngressServiceBackend", name=STRING,
                   port=struct("v1.ServiceBackendPort", name=STRING, number=INT32)),
    resource=TYPED_LOCAL_OBJECT_REFERENCE)
HTTP_INGRESS_PATH = struct("v1.HTTPIngressPath", path=STRING, pathType=STRING, backend=INGRESS_BACKEND)
INGRESS_RULE = struct("v1.IngressRule", host=STRING,
                      http=struct("v1.HTTPIngressRuleValue", paths=Slice(HTTP_INGRESS_PATH)))
INGRESS_PORT_STATUS = struct("v1.IngressPortStatus", port=INT32, protocol=STRING, error=STRING)
INGRESS = struct(
    "v1.Ingress", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.IngressSpec", ingressClassName=STRING, defaultBackend=INGRESS_BACKEND,
                tls=Slice(struct("v1.IngressTLS", hosts=STRINGS, secretName=STRING)), rules=Slice(INGRESS_RULE)),
    status=struct("v1.IngressStatus", loadBalancer=struct(
        "v1.IngressLoadBalancerStatus", ingress=Slice(struct(
            "v1.IngressLoadBalancerIngress", ip=STRING, hostname=STRING, ports=Slice(INGRESS_PORT_STATUS))))))


def ingress_class_of(ing: dict) -> str | None:
    """The class an Ingress asks for: spec.ingressClassName, else the deprecated annotation."""
    name = (ing.get("spec") or {}).get("ingressClassName")
    if name:
        return name
    return ((ing.get("metadata") or {}).get("annotations") or {}).get(ANN_INGRESS_CLASS)


# -- validation ------------------------------------------------------------------------------
_WILDCARD_FMT = r"\*\." + v.DNS1123_SUBDOMAIN_FMT
_WILDCARD_RE = re.compile(_WILDCARD_FMT)
WILDCARD_MSG = ("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
                "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character "
                f"(e.g. '*.example.com', regex used for validation is '{_WILDCARD_FMT}')")


def wildcard_subdomain_errors(value: str) -> list[str]:
    """validation.IsWildcardDNS1123Subdomain."""
    return v._length_and_pattern_errors(value, 253, _WILDCARD_RE, WILDCARD_MSG)


def _host_errors(host: str, field: str) -> list:
    if "*" in host:
        return [v.invalid(field, host, m) for m in wildcard_subdomain_errors(host)]
    return [v.invalid(field, host, m) for m in v.dns1123_subdomain_errors(host)]


def validate_backend(backend: Any, field: str) -> list:
    """validateIngressBackend: exactly one of service and resource; a service's name (a
    DNS-1035 label, ValidateServiceName) and its port's name or number."""
    backend = backend if isinstance(backend, dict) else {}
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [v.invalid(field, "", "cannot set both resource and service backends")]
    if isinstance(resource, dict):
        return validate_typed_reference(resource, f"{field}.resource")
    if not isinstance(service, dict):
        return [v.invalid(field, "", "resource or service backend is required")]
    errs = []
    name = service.get("name") or ""
    if not name:
        errs.append(v.required(f"{field}.service.name", ""))
    else:
        errs += [v.invalid(f"{field}.service.name", name, m) for m in dns1035_label_errors(name)]
    port = service.get("port") if isinstance(service.get("port"), dict) else {}
    port_name, number = port.get("name") or "", port.get("number") or 0
    if port_name and number:
        errs.append(v.invalid(field, "", "cannot set both port name & port number"))
    elif port_name:
        errs += [v.invalid(f"{field}.service.port.name", port_name, m) for m in port_name_errors(port_name)]
    elif number:
        if not isinstance(number, int) or not 1 <= number <= 65535:
            errs.append(v.invalid(f"{field}.service.port.number", number, v.PORT_RANGE_MSG))
    else:
        errs.append(v.required(field, "port name or number is required"))
    return errs


def validate_path(p: dict, field: str) -> list:
    """validateHTTPIngressPath: pathType required; Exact and Prefix paths absolute and free of
    directory traversal; an ImplementationSpecific path absolute when given."""
    path_type = p.get("pathType")
    if not path_type:
        return [v.required(f"{field}.pathType", "pathType must be specified")]
    path = p.get("path") or ""
    errs = []
    if path_type in (EXACT, PREFIX):
        if not path.startswith("/"):
            errs.append(v.invalid(f"{field}.path", path, "must be an absolute path"))
        if path:
            errs += [v.invalid(f"{field}.path", path, f"must not contain '{seq}'")
                     for seq in INVALID_PATH_SEQUENCES if seq in path]
            errs += [v.invalid(f"{field}.path", path, f"cannot end with '{suffix}'")
                     for suffix in INVALID_PATH_SUFFIXES if path.endswith(suffix)]
    elif path_type == IMPLEMENTATION_SPECIFIC:
        if path and not path.startswith("/"):
            errs.append(v.invalid(f"{field}.path", path, "must be an absolute path"))
    else:
        errs.append(v.not_supported(f"{field}.pathType", path_type, PATH_TYPES))
    return errs + validate_backend(p.get("backend"), f"{field}.backend")


def validate_rules(rules: list, field: str) -> list:
    """validateIngressRules: hosts are DNS names (not IPs), a wildcard only as the first label."""
    errs = []
    for i, rule in enumerate(rules):
        rule = rule if isinstance(rule, dict) else {}
        host = rule.get("host") or ""
        if host:
            if is_ip(host):
                errs.append(v.invalid(f"{field}[{i}].host", host, "must be a DNS name, not an IP address"))
            errs += _host_errors(host, f"{field}[{i}].host")
        http = rule.get("http")
        if isinstance(http, dict):
            paths = http.get("paths") or []
            if not paths:
                errs.append(v.required(f"{field}[{i}].http.paths", ""))
            for j, p in enumerate(paths):
                errs += validate_path(p if isinstance(p, dict) else {}, f"{field}[{i}].http.paths[{j}]")
    return errs


def validate_tls(tls: list, field: str) -> list:
    """validateIngressTLS: each host a (wildcard) DNS subdomain, the Secret's name a subdomain."""
    errs = []
    for i, entry in enumerate(tls):
        entry = entry if isinstance(entry, dict) else {}
        for j, host in enumerate(entry.get("hosts") or []):
            errs += _host_errors(str(host), f"{field}[{i}].hosts[{j}]")
        secret = entry.get("secretName") or ""
        if secret:
            errs += [v.invalid(f"{field}[{i}].secretName", secret, m) for m in v.dns1123_subdomain_errors(secret)]
    return errs


def validate_spec(spec: dict) -> list:
    """ValidateIngressSpec."""
    errs = []
    rules = spec.get("rules") or []
    if not rules and spec.get("defaultBackend") is None:
        errs.append(v.invalid("spec", v.GoSyntax("[]networking.IngressRule(nil)"),
                              "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        errs += validate_backend(spec["defaultBackend"], "spec.defaultBackend")
    if rules:
        errs += validate_rules(rules, "spec.rules")
    if spec.get("tls"):
        errs += validate_tls(spec["tls"], "spec.tls")
    if spec.get("ingressClassName") is not None:
        name = spec["ingressClassName"]
        errs += [v.invalid("spec.ingressClassName", name, m) for m in v.dns1123_subdomain_errors(str(name))]
    return errs


def validate(ing: dict) -> list:
    errs = v.validate_object_meta(ing, namespaced=True)
    spec = ing.get("spec") if isinstance(ing.get("spec"), dict) else {}
    return errs + validate_spec(spec)


def validate_create(ing: dict) -> list:
    """ValidateIngressCreate: also, the deprecated annotation must agree with ingressClassName."""
    errs = validate(ing)
    annotation = ((ing.get("metadata") or {}).get("annotations") or {}).get(ANN_INGRESS_CLASS)
    name = (ing.get("spec") or {}).get("ingressClassName")
    if annotation is not None and name is not None and annotation != name:
        errs.append(v.invalid(f"annotations.{ANN_INGRESS_CLASS}", annotation,
                              "must match `ingressClassName` when both are specified"))
    return errs


def validate_status(ing: dict) -> list:
    """ValidateIngressLoadBalancerStatus."""
    errs = []
    lb = ((ing.get("status") or {}).get("loadBalancer") or {})
    for i, point in enumerate(lb.get("ingress") or []):
        point = point if isinstance(point, dict) else {}
        field = f"status.loadBalancer.ingress[{i}]"
        if point.get("ip") and not is_ip(point["ip"]):
            errs.append(v.invalid(f"{field}.ip", point["ip"], "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        if point.get("hostname"):
            host = point["hostname"]
            errs += [v.invalid(f"{field}.hostname", host, m) for m in v.dns1123_subdomain_errors(host)]
            if is_ip(host):
                errs.append(v.invalid(f"{field}.hostname", host, "must be a DNS name, not an IP address"))
    return errs


class IngressStrategy(Strategy):
    tracks_generation = True      # ingressStrategy.PrepareForCreate / PrepareForUpdate

    def validate(self, obj):
        return validate_create(obj)

    def validate_update(self, new, old):
        return validate(new)

    def validate_status_update(self, new, old):
        return validate_status(new)

    def warnings_on_create(self, obj):
        if ANN_INGRESS_CLASS in ((obj.get("metadata") or {}).get("annotations") or {}):
            return [f'annotation "{ANN_INGRESS_CLASS}" is deprecated, please use \'spec.ingressClassName\' instead']
        return []


# -- printing (pkg/printers/internalversion/printers.go printIngress) -------------------------
def format_hosts(rules: list) -> str:
    """formatHosts: the first three hosts, "+ N more..." past them, "*" when none."""
    hosts, more = [], False
    for rule in rules or []:
        if len(hosts) == 3:
            more = True
        if not more and (rule or {}).get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    return ",".join(hosts) + (f" + {len(rules) - 3} more..." if more else "")


def load_balancer_cell(ing: dict, wide: bool = False) -> str:
    """ingressLoadBalancerStatusStringer: the sorted IPs (or hostnames), cut to 16 characters."""
    points = (((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
    seen = sorted({p.get("ip") or p.get("hostname") for p in points if isinstance(p, dict)
                   and (p.get("ip") or p.get("hostname"))})
    text = ",".join(seen)
    if not wide and len(text) > LOAD_BALANCER_WIDTH:
        text = text[:LOAD_BALANCER_WIDTH - 3] + "..."
    return text


INGRESS_COLUMNS = [
    NAME,
    col("Class", description="The name of the IngressClass resource that should be used for additional configuration"),
    col("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
    col("Address", description="Address is a list containing ingress points for the load-balancer"),
    col("Ports", description="Ports of TLS configurations that open"),
    AGE,
]


def ingress_row(ing: dict, now: float) -> list[Any]:
    md, spec = ing.get("metadata") or {}, ing.get("spec") or {}
    return [md.get("name", ""), spec.get("ingressClassName") or "<none>", format_hosts(spec.get("rules") or []),
            load_balancer_cell(ing), "80, 443" if spec.get("tls") else "80", since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("ingresses", GROUP, "v1", "Ingress", True, "/registry/ingress/", ("ing",), "ingress",
                    ("status",), IngressStrategy(), INGRESS, printer=Printer(INGRESS_COLUMNS, ingress_row))
