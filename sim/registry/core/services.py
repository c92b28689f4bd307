"""Services (pkg/registry/core/service): a stable virtual IP and ports in front of the pods a
selector picks.  Short name `svc`, category `all`, a status subresource (the load balancer's
ingress, written by a cloud-controller-manager).

Defaulting is SetDefaults_Service (pkg/apis/core/v1/defaults.go): type ClusterIP,
sessionAffinity None, each port's protocol TCP and targetPort its port, externalTrafficPolicy
Cluster for NodePort and LoadBalancer, internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts
true for LoadBalancer.  The REST storage then fills in what depends on the cluster
(pkg/registry/core/service/storage/alloc.go): ipFamilyPolicy and ipFamilies, the ClusterIP
from the service CIDR and the node ports from --service-node-port-range, through the
allocators in sim/registry/core/serviceallocator.py.  Validation is ValidateService and
ValidateServiceUpdate (pkg/apis/core/validation/validation.go).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import BOOL, INT32, INT_OR_STRING, STRING, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRING_MAP, STRINGS, TYPE_META
from sim.ipfamily import FAMILIES, IPV4, IPV6, family_of, other_family
from sim.registry.policy.poddisruptionbudgets import CONDITION
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1/types.go: Service, ServiceSpec, ServicePort, ServiceStatus
SERVICE_PORT = struct("v1.ServicePort", name=STRING, protocol=enum("v1.Protocol"), appProtocol=STRING, port=INT32,
                      targetPort=INT_OR_STRING, nodePort=INT32)
SERVICE = struct(
    "v1.Service", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.ServiceSpec", ports=Slice(SERVICE_PORT), selector=STRING_MAP, clusterIP=STRING,
                clusterIPs=STRINGS, type=enum("v1.ServiceType"), externalIPs=STRINGS,
                sessionAffinity=enum("v1.ServiceAffinity"), loadBalancerIP=STRING, loadBalancerSourceRanges=STRINGS,
                externalName=STRING, externalTrafficPolicy=enum("v1.ServiceExternalTrafficPolicy"),
                healthCheckNodePort=INT32, publishNotReadyAddresses=BOOL,
                sessionAffinityConfig=struct("v1.SessionAffinityConfig",
                                             clientIP=struct("v1.ClientIPConfig", timeoutSeconds=INT32)),
                ipFamilies=Slice(enum("v1.IPFamily")), ipFamilyPolicy=enum("v1.IPFamilyPolicy"),
                allocateLoadBalancerNodePorts=BOOL, loadBalancerClass=STRING,
                internalTrafficPolicy=enum("v1.ServiceInternalTrafficPolicy"), trafficDistribution=STRING),
    status=struct("v1.ServiceStatus",
                  loadBalancer=struct("v1.LoadBalancerStatus", ingress=Slice(struct(
                      "v1.LoadBalancerIngress", ip=STRING, hostname=STRING, ipMode=enum("v1.LoadBalancerIPMode"),
                      ports=Slice(struct("v1.PortStatus", port=INT32, protocol=enum("v1.Protocol"), error=STRING))))),
                  conditions=Slice(CONDITION)))

CLUSTER_IP, NODE_PORT, LOAD_BALANCER, EXTERNAL_NAME = "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"
SERVICE_TYPES = (CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT)   # sets.List: sorted
AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")   # sets.List: sorted
PREFER_DUAL_STACK, REQUIRE_DUAL_STACK, SINGLE_STACK = IP_FAMILY_POLICIES
IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
NONE = "None"   # api.ClusterIPNone: a headless Service
DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800   # v1.DefaultClientIPServiceAffinitySeconds
MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 86400


def is_headless(svc: dict) -> bool:
    return (svc.get("spec") or {}).get("clusterIP") == NONE


def needs_cluster_ip(svc: dict) -> bool:
    return (svc.get("spec") or {}).get("type", CLUSTER_IP) != EXTERNAL_NAME


def needs_node_ports(svc: dict) -> bool:
    """NodePort Services, and LoadBalancer ones unless allocateLoadBalancerNodePorts is false."""
    spec = svc.get("spec") or {}
    t = spec.get("type")
    return t == NODE_PORT or (t == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts", True) is not False)


# -- defaulting --------------------------------------------------------------------------
def default_service(svc: dict) -> dict:
    """SetDefaults_Service (pkg/apis/core/v1/defaults.go), on a copy."""
    svc = deep_copy(svc)
    spec = svc.get("spec")
    if spec is None:
        spec = svc["spec"] = {}
    if not isinstance(spec, dict):
        return svc
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig") or {}
        if not (cfg.get("clientIP") or {}).get("timeoutSeconds"):
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS}}
    if not spec.get("type"):
        spec["type"] = CLUSTER_IP
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port", 0)
    if spec["type"] in (NODE_PORT, LOAD_BALANCER) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec["type"] in (NODE_PORT, LOAD_BALANCER, CLUSTER_IP) and not spec.get("internalTrafficPolicy"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if spec["type"] == LOAD_BALANCER:
        for ing in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if isinstance(ing, dict) and ing.get("ip") and not ing.get("ipMode"):
                ing["ipMode"] = "VIP"   # LoadBalancerIPMode (GA in 1.32)
    return svc


def normalize_cluster_ips(svc: dict, old: dict | None) -> None:
    """storage.go normalizeClusterIPs, in place: what a client meant with the linked clusterIP /
    clusterIPs fields (an old client sends only the singular one; a PUT may leave both out).
    ExternalName Services hold none of the ClusterIP fields (the type-dependent fields dropped,
    as dropTypeDependentFields does on a change of type)."""
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("type") == EXTERNAL_NAME:
        for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            spec.pop(k, None)
        return
    os_ = (old or {}).get("spec") or {}
    if old is None or not os_.get("clusterIPs"):
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        elif spec.get("clusterIPs") and not spec.get("clusterIP"):
            spec["clusterIP"] = spec["clusterIPs"][0]
        return
    if not spec.get("clusterIPs") and spec.get("clusterIP") == os_.get("clusterIP"):
        spec["clusterIPs"] = list(os_["clusterIPs"])     # an old client patching something else
    if spec.get("clusterIP") != os_.get("clusterIP"):
        if os_.get("clusterIP") and not spec.get("clusterIP"):
            if spec.get("clusterIPs") == os_.get("clusterIPs"):
                spec.pop("clusterIPs", None)
        elif spec.get("clusterIPs") == os_.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]


def _same(a: dict, b: dict, field: str) -> bool:
    return list((a.get("spec") or {}).get(field) or []) == list((b.get("spec") or {}).get(field) or [])


def matching_prefer_dual_stack(svc: dict, old: dict | None) -> bool:
    """alloc.go isMatchingPreferDualStackClusterIPFields: an update of a PreferDualStack Service
    that keeps its policy, ClusterIPs and families is never upgraded or downgraded, whatever
    the cluster's families are now."""
    if old is None:
        return False
    spec, os_ = svc.get("spec") or {}, old.get("spec") or {}
    if not spec.get("ipFamilyPolicy") or spec.get("type") != os_.get("type"):
        return False
    if spec.get("type") not in (CLUSTER_IP, NODE_PORT, LOAD_BALANCER):
        return False
    if spec["ipFamilyPolicy"] != PREFER_DUAL_STACK or os_.get("ipFamilyPolicy", PREFER_DUAL_STACK) != PREFER_DUAL_STACK:
        return False
    return _same(svc, old, "clusterIPs") and _same(svc, old, "ipFamilies")


def init_ip_family_fields(svc: dict, old: dict | None, families: list[str]) -> list:
    """alloc.go initIPFamilyFields, in place: ipFamilyPolicy and ipFamilies defaulted from what
    the request says and the cluster's families (`families`, --service-cluster-ip-range's, the
    primary first), the upgrade / downgrade rules of an update; the field errors upstream
    answers (422), or [].  Runs before validation, as the REST storage's BeginCreate does."""
    spec = svc.get("spec")
    if not isinstance(spec, dict) or spec.get("type") == EXTERNAL_NAME:
        return []
    if matching_prefer_dual_stack(svc, old):
        return []
    os_ = (old or {}).get("spec") or {}
    if not spec.get("ipFamilyPolicy"):
        if old is not None and os_.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = os_["ipFamilyPolicy"]
        elif spec.get("clusterIP") == NONE and not spec.get("selector"):
            spec["ipFamilyPolicy"] = REQUIRE_DUAL_STACK   # headless and selectorless: dual
        else:
            spec["ipFamilyPolicy"] = SINGLE_STACK
    errs = cluster_ips_related_errors(svc)
    if errs:
        return errs
    policy = spec["ipFamilyPolicy"]
    policy_field = "spec.ipFamilyPolicy"
    if old is not None:
        if policy == SINGLE_STACK:
            # Setting the policy to SingleStack while keeping the fields is clear intent.
            if _same(svc, old, "clusterIPs") and len(spec.get("clusterIPs") or []) > 1:
                spec["clusterIPs"] = spec["clusterIPs"][:1]
            if _same(svc, old, "ipFamilies") and len(spec.get("ipFamilies") or []) > 1:
                spec["ipFamilies"] = spec["ipFamilies"][:1]
        else:
            if spec.get("clusterIPs") and len(spec["clusterIPs"]) < len(os_.get("clusterIPs") or []):
                errs.append(v.invalid(policy_field, policy, "must be 'SingleStack' to release the secondary cluster IP"))
            if spec.get("ipFamilies") and len(spec["ipFamilies"]) < len(os_.get("ipFamilies") or []):
                errs.append(v.invalid(policy_field, policy, "must be 'SingleStack' to release the secondary IP family"))
    ips = list(spec.get("clusterIPs") or [])
    fams = spec["ipFamilies"] = list(spec.get("ipFamilies") or [])
    if policy == SINGLE_STACK:
        if len(ips) == 2:
            errs.append(v.invalid(policy_field, policy, "must be 'RequireDualStack' or 'PreferDualStack' when "
                                                        "multiple cluster IPs are specified"))
        if len(fams) == 2:
            errs.append(v.invalid(policy_field, policy, "must be 'RequireDualStack' or 'PreferDualStack' when "
                                                        "multiple IP families are specified"))
    # ipFamilies inferred from the requested clusterIPs.
    for i, ip in enumerate(ips):
        if ip == NONE:
            break
        fam = family_of(ip)
        if i >= len(fams):
            if fam not in families:
                errs.append(v.invalid(f"spec.clusterIPs[{i}]", v.GoSyntax(_go_strings(ips)),
                                      f"{fam} is not configured on this cluster"))
            else:
                fams.append(fam)
    if errs:
        return errs
    if spec.get("clusterIP") == NONE and not spec.get("selector"):
        # Headless and selectorless: may hold families the cluster does not have.
        if not fams:
            fams.append(families[0])
        if len(fams) < 2 and policy != SINGLE_STACK:
            fams.append(other_family(fams[0]))
        return []
    if policy == REQUIRE_DUAL_STACK and len(families) < 2:
        errs.append(v.invalid(policy_field, policy, "this cluster is not configured for dual-stack services"))
    for i, fam in enumerate(fams):
        if fam not in families:
            errs.append(v.invalid(f"spec.ipFamilies[{i}]", fam, "not configured on this cluster"))
    if errs:
        return errs
    if not fams:
        fams.append(families[0])
    if policy != SINGLE_STACK and len(fams) == 1 and len(families) == 2:
        fams.append(other_family(fams[0]))
    return []


def cluster_ips_related_errors(svc: dict) -> list:
    """validation.go ValidateServiceClusterIPsRelatedFields: clusterIP and clusterIPs in step,
    ipFamilies and ipFamilyPolicy well-formed, at most one address per family, each address of
    the family its ipFamilies entry names."""
    spec = svc.get("spec") or {}
    if spec.get("type") == EXTERNAL_NAME:
        return []
    errs: list = []
    ips = list(spec.get("clusterIPs") or [])
    fams = list(spec.get("ipFamilies") or [])
    go_ips = v.GoSyntax(_go_strings(ips))
    if spec.get("clusterIP"):
        if not ips:
            errs.append(v.required("spec.clusterIPs", ""))
        elif ips[0] != spec["clusterIP"]:
            errs.append(v.invalid("spec.clusterIPs", go_ips, "first value must match `clusterIP`"))
    elif ips:
        errs.append(v.invalid("spec.clusterIPs", go_ips, "must be empty when `clusterIP` is not specified"))
    seen: set = set()
    for i, fam in enumerate(fams):
        if fam not in FAMILIES:
            errs.append(v.not_supported(f"spec.ipFamilies[{i}]", fam, FAMILIES))
        if fam in seen:
            errs.append(v.duplicate(f"spec.ipFamilies[{i}]", fam))
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy and policy not in IP_FAMILY_POLICIES:
        errs.append(v.not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    bad_ips = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == NONE:
            if len(ips) > 1:
                bad_ips = True
                errs.append(v.invalid("spec.clusterIPs", go_ips, "'None' must be the first and only value"))
            continue
        if not _valid_ip(ip):
            bad_ips = True
            errs.append(v.invalid(f"spec.clusterIPs[{i}]", ip, IP_MSG))
    if len(ips) > 2:
        errs.append(v.invalid("spec.clusterIPs", go_ips, "may only hold up to 2 values"))
    if bad_ips:
        return errs
    if len(ips) > 1 and len({family_of(ip) for ip in ips}) != len(ips):
        errs.append(v.invalid("spec.clusterIPs", go_ips, "may specify no more than one IP for each IP family"))
    if ips and ips != [NONE]:
        for i, ip in enumerate(ips[:len(fams)]):
            if fams[i] == IPV4 and family_of(ip) == IPV6:
                errs.append(v.invalid(f"spec.clusterIPs[{i}]", ip, f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if fams[i] == IPV6 and family_of(ip) != IPV6:
                errs.append(v.invalid(f"spec.clusterIPs[{i}]", ip, f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errs


def _upgrade_downgrade_errors(new: dict, old: dict) -> list:
    """validation.go validateUpgradeDowngradeClusterIPs and validateUpgradeDowngradeIPFamilies:
    the primary address and family never change; releasing the secondary takes SingleStack."""
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    if EXTERNAL_NAME in (ns.get("type"), os_.get("type")):
        return []
    errs: list = []
    new_ips, old_ips = list(ns.get("clusterIPs") or []), list(os_.get("clusterIPs") or [])
    go_ips = v.GoSyntax(_go_strings(new_ips))
    new_headless, old_headless = new_ips == [NONE], old_ips == [NONE]
    policy = ns.get("ipFamilyPolicy")
    policy_value = policy if policy else v.GoSyntax("null")
    if not (old_headless and new_headless):
        if len(old_ips) == len(new_ips):
            for i, ip in enumerate(old_ips):
                if ip != new_ips[i]:
                    errs.append(v.invalid(f"spec.clusterIPs[{i}]", go_ips, "may not change once set"))
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                errs.append(v.invalid("spec.clusterIPs[0]", go_ips, "primary clusterIP can not be unset"))
            elif old_ips[0] != new_ips[0]:
                errs.append(v.invalid("spec.clusterIPs[0]", go_ips, "may not change once set"))
            if len(new_ips) == 1 and policy != SINGLE_STACK:
                errs.append(v.invalid("spec.ipFamilyPolicy", policy_value,
                                      "must be set to 'SingleStack' when releasing the secondary clusterIP"))
        elif old_ips and new_ips[0] != old_ips[0]:
            errs.append(v.invalid("spec.clusterIPs[0]", go_ips, "may not change once set"))
    if new_headless != old_headless or new_headless:
        return errs
    new_fams, old_fams = list(ns.get("ipFamilies") or []), list(os_.get("ipFamilies") or [])
    go_fams = v.GoSyntax("[]core.IPFamily{" + ", ".join(f'"{f}"' for f in new_fams) + "}")
    if len(old_fams) == len(new_fams):
        for i, fam in enumerate(old_fams):
            if fam != new_fams[i]:
                errs.append(v.invalid("spec.ipFamilies[0]", go_fams, "may not change once set"))
    elif len(old_fams) > len(new_fams):
        if not new_ips:
            errs.append(v.invalid("spec.ipFamilies[0]", go_fams, "primary ipFamily can not be unset"))
        if new_fams and new_fams[0] != old_fams[0]:
            errs.append(v.invalid("spec.ipFamilies[0]", go_ips, "may not change once set"))
        if len(new_fams) == 1 and policy != SINGLE_STACK:
            errs.append(v.invalid("spec.ipFamilyPolicy", policy_value,
                                  "must be set to 'SingleStack' when releasing the secondary ipFamily"))
    elif old_fams and new_fams and new_fams[0] != old_fams[0]:
        errs.append(v.invalid("spec.ipFamilies[0]", go_ips, "may not change once set"))
    return errs


# -- validation --------------------------------------------------------------------------
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_RE = re.compile("^" + DNS1035_LABEL_FMT + "$")
DNS1035_LABEL_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                     "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                     f"regex used for validation is '{DNS1035_LABEL_FMT}')")
_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_PORT_NAME_LETTER = re.compile("[a-z]")


def dns1035_label_errors(value: str) -> list[str]:
    """validation.IsDNS1035Label."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(value):
        errs.append(DNS1035_LABEL_MSG)
    return errs


def port_name_errors(name: str) -> list[str]:
    """validation.IsValidPortName (an IANA_SVC_NAME)."""
    errs = []
    if len(name) < 1 or len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if not _PORT_NAME_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _valid_ip(text: Any) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _validate_port(port: dict, require_name: bool, all_names: set, i: int, svc_type: str) -> list:
    path = f"spec.ports[{i}]"
    errs = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(v.required(f"{path}.name", ""))
    elif name:
        errs += [v.invalid(f"{path}.name", name, m) for m in v.dns1123_label_errors(name)]
        if name in all_names:
            errs.append(v.duplicate(f"{path}.name", name))
        all_names.add(name)
    number = port.get("port")
    if not isinstance(number, int) or not 1 <= number <= 65535:
        errs.append(v.invalid(f"{path}.port", number, v.PORT_RANGE_MSG))
    protocol = port.get("protocol")
    if not protocol:
        errs.append(v.required(f"{path}.protocol", ""))
    elif protocol not in v.PROTOCOLS:
        errs.append(v.not_supported(f"{path}.protocol", protocol, v.PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, int):
        if not 1 <= target <= 65535:
            errs.append(v.invalid(f"{path}.targetPort", target, v.PORT_RANGE_MSG))
    elif isinstance(target, str):
        errs += [v.invalid(f"{path}.targetPort", target, m) for m in port_name_errors(target)]
    node_port = port.get("nodePort") or 0
    if node_port and not 1 <= node_port <= 65535:
        errs.append(v.invalid(f"{path}.nodePort", node_port, v.PORT_RANGE_MSG))
    if node_port and svc_type == CLUSTER_IP:
        errs.append(v.forbidden(f"{path}.nodePort", "may not be used when `type` is 'ClusterIP'"))
    return errs


def validate_service(svc: dict) -> list:
    """ValidateService on a single-stack IPv4 cluster."""
    errs = v.validate_object_meta(svc, namespaced=True, name_is_label=True)
    name = (svc.get("metadata") or {}).get("name")
    if isinstance(name, str) and name and not any(e.field == "metadata.name" for e in errs):
        errs += [v.invalid("metadata.name", name, m) for m in dns1035_label_errors(name)]
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return errs + [v.required("spec")]
    svc_type = spec.get("type") or ""
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    headless = spec.get("clusterIP") == NONE
    if svc_type == EXTERNAL_NAME:
        if spec.get("clusterIPs") or spec.get("clusterIP"):
            errs.append(v.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        cname = (spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs += [v.invalid("spec.externalName", cname, m) for m in v.dns1123_subdomain_errors(cname)]
        else:
            errs.append(v.required("spec.externalName", ""))
    elif not ports and not headless:
        errs.append(v.required("spec.ports", ""))
    if svc_type and svc_type not in SERVICE_TYPES:
        errs.append(v.not_supported("spec.type", svc_type, SERVICE_TYPES))
    elif not svc_type:
        errs.append(v.required("spec.type", ""))
    names: set = set()
    for i, port in enumerate(ports):
        errs += _validate_port(port, len(ports) > 1, names, i, svc_type)
    seen: set = set()
    for i, port in enumerate(ports):
        key = (port.get("port"), port.get("protocol"))
        if key in seen:
            errs.append(v.duplicate(f"spec.ports[{i}]", {"port": key[0], "protocol": key[1]}))
        seen.add(key)
    if spec.get("selector") is not None:
        errs += v.validate_labels(spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    if not affinity:
        errs.append(v.required("spec.sessionAffinity", ""))
    elif affinity not in AFFINITIES:
        errs.append(v.not_supported("spec.sessionAffinity", affinity, AFFINITIES))
    elif affinity == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
        if not isinstance(timeout, int) or not 0 < timeout <= MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS:
            errs.append(v.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                                  f"must be greater than 0 and less than {MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS}"))
    elif spec.get("sessionAffinityConfig"):
        errs.append(v.invalid("spec.sessionAffinityConfig", v.GoSyntax("{}"),
                              "must not be set when session affinity is None"))
    ips = spec.get("clusterIPs") or []
    if svc_type not in (EXTERNAL_NAME, CLUSTER_IP) and ips[:1] == [NONE]:
        errs.append(v.invalid("spec.clusterIPs[0]", NONE, f"may not be set to 'None' for {svc_type} services"))
    errs += cluster_ips_related_errors(svc)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not _valid_ip(ip):
            errs.append(v.invalid(f"spec.externalIPs[{i}]", ip, IP_MSG))
    for field in ("externalTrafficPolicy", "internalTrafficPolicy"):
        value = spec.get(field)
        if value and value not in TRAFFIC_POLICIES:
            errs.append(v.not_supported(f"spec.{field}", value, TRAFFIC_POLICIES))
    if svc_type in (NODE_PORT, LOAD_BALANCER) and not spec.get("externalTrafficPolicy"):
        errs.append(v.required("spec.externalTrafficPolicy", ""))
    elif svc_type not in (NODE_PORT, LOAD_BALANCER) and spec.get("externalTrafficPolicy"):
        errs.append(v.invalid("spec.externalTrafficPolicy", spec["externalTrafficPolicy"],
                              "may only be set for externally-accessible services"))
    return errs


def _go_strings(values: list) -> str:
    """Go's %#v of a []string."""
    return "[]string{" + ", ".join(f'"{x}"' for x in values) + "}"


def validate_service_update(new: dict, old: dict) -> list:
    """ValidateServiceUpdate: the ClusterIP may not change once set (except to or from an
    ExternalName Service), the dual-stack upgrade / downgrade rules, then ValidateService."""
    errs: list = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    if os_.get("type") != EXTERNAL_NAME and ns.get("type") != EXTERNAL_NAME:
        if os_.get("clusterIP") and ns.get("clusterIP", "") != os_.get("clusterIP"):
            errs += v.validate_immutable_field(ns.get("clusterIP", ""), os_.get("clusterIP"), "spec.clusterIPs[0]")
    return errs + _upgrade_downgrade_errors(new, old) + validate_service(new)


# -- printing (pkg/printers/internalversion/printers.go printService) --------------------
def port_string(ports: list) -> str:
    """makePortString: 80/TCP, 80:31234/TCP, joined by commas."""
    out = []
    for p in ports or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            out.append(f"{p.get('port', 0)}:{p['nodePort']}/{proto}")
        else:
            out.append(f"{p.get('port', 0)}/{proto}")
    return ",".join(out)


def external_ip(svc: dict) -> str:
    """getServiceExternalIP."""
    spec = svc.get("spec") or {}
    t = spec.get("type")
    external = spec.get("externalIPs") or []
    if t in (CLUSTER_IP, NODE_PORT):
        return ",".join(external) if external else "<none>"
    if t == LOAD_BALANCER:
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        lb = ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname"))
        if external:
            return ",".join(([lb] if lb else []) + external)
        return lb or "<pending>"
    if t == EXTERNAL_NAME:
        return spec.get("externalName") or ""
    return "<unknown>"


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: sorted k=v pairs, <none> when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


SERVICE_COLUMNS = [
    NAME,
    col("Type", description="type determines how the Service is exposed. Defaults to ClusterIP."),
    col("Cluster-IP", description="clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", description="externalIPs is a list of IP addresses for which nodes in the cluster will "
                                   "also accept traffic for this service."),
    col("Port(s)", description="The list of ports that are exposed by this service."),
    AGE,
    col("Selector", priority=1, description="Route service traffic to pods with label keys and values matching "
                                            "this selector."),
]


def service_row(svc: dict, now: float) -> list[Any]:
    md, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    return [md.get("name", ""), spec.get("type", ""), spec.get("clusterIP") or "<none>", external_ip(svc),
            port_string(spec.get("ports") or []) or "<none>", since(md.get("creationTimestamp"), now),
            format_labels(spec.get("selector"))]


# -- strategy ----------------------------------------------------------------------------
class ServiceStrategy(Strategy):
    default_copies = True

    def default(self, obj, ctx):
        return default_service(obj)

    def prepare_for_create(self, res, obj, ctx):
        super().prepare_for_create(res, obj, ctx)
        normalize_cluster_ips(obj, None)

    def prepare_for_update(self, res, new, old, ctx):
        new = super().prepare_for_update(res, new, old, ctx)
        # storage.go patchAllocatedValues: what was allocated carried over when the client left
        # it out (a PUT of a manifest without them), then normalizeClusterIPs.
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        if needs_cluster_ip(new) and needs_cluster_ip(old):
            if not ns.get("clusterIP") and os_.get("clusterIP"):
                ns["clusterIP"] = os_["clusterIP"]
            if not ns.get("clusterIPs") and os_.get("clusterIPs"):
                ns["clusterIPs"] = list(os_["clusterIPs"])
        if needs_node_ports(new) and needs_node_ports(old):
            old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in os_.get("ports") or []}
            for p in ns.get("ports") or []:
                if isinstance(p, dict) and not p.get("nodePort") and old_ports.get((p.get("port"), p.get("protocol"))):
                    p["nodePort"] = old_ports[(p.get("port"), p.get("protocol"))]
        normalize_cluster_ips(new, old)
        return new

    def begin(self, res, obj, old, ctx):
        """The REST storage's BeginCreate / BeginUpdate: allocateCreate / allocateUpdate start
        with initIPFamilyFields, before validation."""
        from sim.registry.core.serviceallocator import service_families
        return init_ip_family_fields(obj, old, service_families(ctx))

    def validate(self, obj):
        return validate_service(obj)

    def validate_update(self, new, old):
        return validate_service_update(new, old)

    def validate_status_update(self, new, old):
        return validate_service(new)

    def observe(self, ctx, key, obj):
        from sim.registry.core.serviceallocator import state_of
        state_of(ctx).observe(f"{key[0]}/{key[1]}", obj)

    def post_start(self, res, ctx):
        from sim.registry.core.serviceallocator import repair
        repair(ctx, [ctx.cache.objects(res.gr)[k] for k in sorted(ctx.cache.objects(res.gr))])

    # The ClusterIP and NodePort allocators (pkg/registry/core/service/storage/alloc.go), run
    # by the generic store around its writes.
    def allocate(self, res, obj, old, ctx, dry_run, done):
        from sim.registry.core.serviceallocator import allocate_service
        allocate_service(ctx, obj, old, dry_run, done)

    def release(self, res, obj, keep, ctx):
        from sim.registry.core.serviceallocator import release_service
        release_service(ctx, obj, keep)


RESOURCE = Resource("services", "", "v1", "Service", True, "/registry/services/specs/", ("svc",), "service",
                    ("status",), ServiceStrategy(), SERVICE, categories=("all",),
                    printer=Printer(SERVICE_COLUMNS, service_row))
